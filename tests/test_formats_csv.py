"""CSV out and in: one row per annotation, read by pandas or by hand, and the same answers back."""
from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from dltasks.errors import ValidationError
from dltasks.formats import from_csv, to_csv
from test_formats_frames import all_answers, assert_same_answers, sample_items


def test_export_then_import_gives_the_same_answers_exactly() -> None:
    answers = all_answers()
    text = to_csv(answers, sample_items())
    back = from_csv(text)
    assert back.equals(answers)
    assert from_csv(text, sample_items()).equals(answers)  # matched by file name: the same items
    assert_same_answers(back, answers, rel=0)


def test_one_row_per_annotation_that_pandas_reads() -> None:
    frame = pd.read_csv(io.StringIO(to_csv(all_answers(), sample_items())))
    assert list(frame.columns) == ["item_id", "file_name", "worker", "kind", "label", "left", "top", "right",
                                   "bottom", "geo", "text"]
    assert len(frame) == len(all_answers())
    assert frame.loc[0, ["file_name", "kind", "label", "left", "bottom"]].tolist() == ["a.jpg", "box", "dog", 10, 60]
    assert json.loads(frame.loc[2, "geo"]) == [[0, 0], [50, 0], [50, 40], [10, 30]]
    assert frame.loc[6, "left"] == 100.123456789
    assert frame.loc[10, "text"] == 'a cat, "maybe"\nNA; ünïcode'


def test_a_hand_made_csv_by_file_name_and_without_workers() -> None:
    text = ("file_name,kind,label,left,top,right,bottom,geo,text\n"
            "train/a.jpg,box,cat,1,2,3,4,,\n"
            "b.png,polygon,dog,,,,,\"[[0,0],[4,0],[4,3]]\",\n"
            "/data/d.jpg,text,,,,,,,\n")
    got = from_csv(text, sample_items(), author="sheet")
    assert got[["item_id", "worker", "kind", "label", "text"]].values.tolist() == [
        [3, "sheet", "box", "cat", None], [2, "sheet", "polygon", "dog", None], [4, "sheet", "text", None, ""]]
    assert got["geo"].iloc[1] == [[0.0, 0.0], [4.0, 0.0], [4.0, 3.0]]
    classes = from_csv("item_id,author,label\n1,ann,cat\n")  # a class task's labels_df, saved
    assert classes[["item_id", "worker", "kind", "label"]].values.tolist() == [[1, "ann", "class", "cat"]]


@pytest.mark.parametrize("text, field", [
    ("kind,label\nclass,cat\n", "text"),
    ("item_id,worker,kind,label,left,top,right,bottom\n1,a,box,cat,1,2,x,4\n", "right"),
    ("item_id,worker,kind,label,left,top,right,bottom\n1,a,box,cat,1,2,1,4\n", "left, top, right, bottom"),
    ("item_id,worker,kind,label\n1,a,class,\n", "label"),
    ("item_id,worker,kind,label\n99,a,class,cat\n", "item_id"),
    ("file_name,worker,kind,label\nzebra.jpg,a,class,cat\n", "file_name"),
])
def test_bad_csv_is_refused_by_field(text: str, field: str) -> None:
    with pytest.raises(ValidationError) as err:
        from_csv(text, sample_items())
    assert err.value.field == field
