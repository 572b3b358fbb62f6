"""Annotation formats in and out: pure functions between the long answers frame and files.

Every function takes the long answers frame of issue 14 (``item_id, worker, kind, label, left,
top, right, bottom, geo, text``; ``author`` may stand for ``worker``) and an items frame
(``item_id`` or ``id``, ``name``, optional ``dir``/``filename``, ``path``, ``width``, ``height``),
and reads files back into the same frame, matching files to items by file name
(:func:`match_files`: the item's path, then its path in the dataset, then its base name).

=================  ==========================================  ===============================
format             out                                          in
=================  ==========================================  ===============================
COCO               :func:`to_coco` (a dict for json.dump)       :func:`from_coco`
YOLO               :func:`write_yolo` (a folder)                :func:`read_yolo`
Label Studio JSON  :func:`to_label_studio` (a task list)        :func:`from_label_studio`
CSV                :func:`to_csv` (text)                        :func:`from_csv`
=================  ==========================================  ===============================

>>> import pandas as pd
>>> import dltasks.formats as fmt
>>> answers = fmt.answers_from_rows([{"item_id": 1, "worker": "ann", "kind": "box", "label": "cat",
...                               "left": 1, "top": 2, "right": 5, "bottom": 6}])
>>> items = pd.DataFrame({"item_id": [1], "name": ["a.jpg"], "width": [8], "height": [8]})
>>> all(frame.equals(answers) for frame in [fmt.from_coco(fmt.to_coco(answers, items, ["cat"]), items),
...     fmt.from_label_studio(fmt.to_label_studio(answers, items), items), fmt.from_csv(fmt.to_csv(answers))])
True
"""
from dltasks.formats.coco import from_coco, to_coco
from dltasks.formats.csvfile import from_csv, to_csv
from dltasks.formats.frames import ANSWER_COLUMNS, answers_from_rows, answers_table, items_table, match_files
from dltasks.formats.label_studio import from_label_studio, label_studio_config, to_label_studio
from dltasks.formats.yolo import read_yolo, write_yolo

__all__ = ["ANSWER_COLUMNS", "answers_from_rows", "answers_table", "items_table", "match_files",
           "to_coco", "from_coco", "write_yolo", "read_yolo", "to_label_studio", "from_label_studio",
           "label_studio_config", "to_csv", "from_csv"]
