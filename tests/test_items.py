"""Items: upload, bulk import, paging, DataFrames, metadata updates and deep merge, bad input."""
from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pytest

import dltasks as dl
from dltasks.errors import ConflictError, NotFoundError, ValidationError


def test_upload_a_file_a_folder_and_a_list(store, tmp_path):
    ds = store.datasets.create("files")
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "sub").mkdir()
    for p in ["a/one.jpg", "a/sub/two.png", "three.txt"]:
        (tmp_path / p).write_bytes(b"12345")
    one = ds.items.upload(local_path=str(tmp_path / "three.txt"), remote_path="docs/",
                          item_metadata={"source": "scan"})
    assert isinstance(one, dl.Item)
    assert (one.filename, one.dir, one.mime, one.size) == ("/docs/three.txt", "/docs", "text/plain", 5)
    assert one.metadata["user"] == {"source": "scan"}
    folder = ds.items.upload(local_path=str(tmp_path / "a"))
    assert sorted(i.filename for i in folder) == ["/one.jpg", "/sub/two.png"]
    again = ds.items.upload(local_path=[str(tmp_path / "three.txt")], remote_path="/docs")
    assert again == [one] and ds.items.count() == 3


def test_item_repr_looks_like_the_seed(dataset):
    item = dataset.items.get_all_items()[0]
    item.annotations.create(label="Adult")
    text = repr(dataset.items.get(item_id=item.id))
    assert text.startswith("Item(dataset_id=") and "filename='/train/img00.jpg'" in text
    assert "name='img00.jpg'" in text and "annotations_count=1" in text


def test_get_accepts_string_ids_and_reports_missing(dataset, unchanged):
    first = dataset.items.get_all_items()[0]
    assert dataset.items.get(item_id=str(first.id)) == first
    check = unchanged()
    with pytest.raises(NotFoundError, match="9999"):
        dataset.items.get(item_id=9999)
    with pytest.raises(ValidationError) as info:
        dataset.items.get(item_id="abc")
    assert info.value.field == "item_id"
    check()


def test_paging(dataset):
    pages = dataset.items.list(page_size=4)
    assert (pages.items_count, pages.total_pages_count, pages.has_next_page) == (10, 3, True)
    sizes = [len(page) for page in pages]
    assert sizes == [4, 4, 2]
    assert not pages.has_next_page
    assert [i.name for i in dataset.items.list(page_size=4).all()] == [f"img{i:02d}.jpg" for i in range(10)]
    with pytest.raises(ValidationError) as info:
        dataset.items.list(page_size=0)
    assert info.value.field == "page_size"


def test_to_df_flat_dict_and_none(dataset):
    flat = dataset.items.to_df()
    assert list(flat["metadata.user.colour"][:3]) == ["red", "blue", "green"]
    assert flat["metadata.user.size"].sum() == 55
    assert str(flat["created_at"].dt.tz) == "UTC"
    d = dataset.items.to_df(metadata="dict")
    assert d["metadata"][0]["user"] == {"colour": "red", "size": 1}
    assert "metadata" not in dataset.items.to_df(metadata="none").columns


def test_item_update_persists_metadata_and_returns_fresh_item(dataset):
    item_1 = dataset.items.get(filepath="/train/img00.jpg")
    now = datetime.datetime.now().isoformat()
    item_1.metadata["user"] = dict()
    item_1.metadata["user"]["dateTime"] = now
    item_1 = item_1.update()
    assert item_1.metadata["user"] == {"dateTime": now}
    assert dataset.items.get(item_id=item_1.id).metadata["user"]["dateTime"] == now


def test_bulk_update_deep_merges_into_user_metadata(dataset):
    item = dataset.items.get(filepath="/train/img00.jpg")
    item.metadata["user"]["camera"] = {"model": "X100", "iso": 400}
    item.update()
    f = dl.Filters(field="metadata.user.colour", values="red")
    n = dataset.items.update(filters=f, update_values={"user": {"camera": {"iso": 800}, "checked": True, "size": None}})
    assert n == 5
    got = dataset.items.get(item_id=item.id).metadata["user"]
    assert got == {"colour": "red", "camera": {"model": "X100", "iso": 800}, "checked": True}
    blue = dataset.items.get(filepath="/train/img01.jpg").metadata["user"]
    assert blue == {"colour": "blue", "size": 2}


@pytest.mark.parametrize("values,field", [
    ({"user": {"when": datetime.datetime(2024, 1, 1)}}, "update_values"),
    ({"user": {"x": float("nan")}}, "update_values"),
    ({"system": {"x": 1}}, "update_values"),
    ({"user": "red"}, "update_values"),
    (None, "update_values"),
], ids=["datetime", "nan", "system", "not-a-dict", "none"])
def test_bulk_update_bad_values_write_nothing(dataset, unchanged, values, field):
    check = unchanged()
    with pytest.raises(ValidationError) as info:
        dataset.items.update(filters=dl.Filters(), update_values=values)
    assert info.value.field == field
    check()


def test_item_update_refuses_non_json_metadata(dataset, unchanged):
    item = dataset.items.get(filepath="/train/img00.jpg")
    item.metadata["user"]["tags"] = {"a", "b"}
    check = unchanged()
    with pytest.raises(ValidationError) as info:
        item.update()
    assert info.value.field == "metadata" and "tags" in str(info.value)
    check()


def test_import_df_metadata_columns_and_mime(store):
    ds = store.datasets.create("bulk")
    n = ds.items.import_df(pd.DataFrame({"name": ["a.jpg", "b.png", "c"], "dir": ["x", "/x/", "/"],
                                         "user.score": [0.5, np.nan, 2.0], "metadata.user.tag": ["p", "q", None]}))
    assert n == 3
    df = ds.items.to_df()
    assert list(df["filename"]) == ["/x/a.jpg", "/x/b.png", "/c"]
    assert list(df["mime"][:2]) == ["image/jpeg", "image/png"] and pd.isna(df["mime"][2])
    assert df["metadata.user.score"].tolist()[0] == 0.5 and pd.isna(df["metadata.user.score"][1])
    assert ds.items.metadata_keys() == ["user.score", "user.tag"]


@pytest.mark.parametrize("frame,field", [
    (pd.DataFrame({"name": ["a"], "colour": ["red"]}), "df"),
    (pd.DataFrame({"dir": ["/"]}), "df"),
    (pd.DataFrame({"name": ["a", None]}), "name"),
    (pd.DataFrame({"name": [f"{i}.jpg" for i in range(1500)] + [42]}), "name"),
    (pd.DataFrame({"name": ["a/b"]}), "name"),
    (pd.DataFrame({"name": ["a", "a"]}), "name"),
    (pd.DataFrame({"name": ["a", "b"], "user.when": [object(), "x"]}), "metadata"),
    (pd.DataFrame({"name": ["a"], "user.x": [float("inf")]}), "metadata"),
], ids=["unknown-column", "no-name", "missing-name", "number-name-late", "slash", "duplicate", "object", "inf"])
def test_import_df_bad_input_writes_nothing(dataset, unchanged, frame, field):
    check = unchanged()
    with pytest.raises(ValidationError) as info:
        dataset.items.import_df(frame)
    assert info.value.field == field
    check()


def test_import_df_existing_filename_conflicts_and_writes_nothing(dataset, unchanged):
    check = unchanged()
    with pytest.raises(ConflictError):
        dataset.items.import_df(pd.DataFrame({"name": ["new.jpg", "img00.jpg"], "dir": ["/train", "/train"]}))
    check()


def test_delete_items_by_id_and_filter(dataset):
    first = dataset.items.get_all_items()[0]
    assert first.delete()
    assert dataset.items.delete(filters=dl.Filters(field="dir", values="/test")) == 4
    assert dataset.items.count() == 5
    with pytest.raises(NotFoundError):
        dataset.items.delete(item_id=first.id)


def test_annotations_import_list_and_frame(dataset, unchanged):
    ids = dataset.items.to_df()["id"].tolist()
    dataset.annotations.import_df(pd.DataFrame({"item_id": ids[:3], "label": ["Adult", "Child", "Adult"],
                                                "author": ["model", "model", "ann@x.io"]}))
    df = dataset.annotations.to_df()
    assert df[["item_id", "label", "author"]].values.tolist() == [[ids[0], "Adult", "model"],
                                                                 [ids[1], "Child", "model"],
                                                                 [ids[2], "Adult", "ann@x.io"]]
    assert [a.label for a in dataset.items.get(item_id=ids[0]).annotations.list()] == ["Adult"]
    check = unchanged()
    with pytest.raises(NotFoundError):
        dataset.annotations.import_df(pd.DataFrame({"item_id": [ids[0], 99999], "label": ["Adult", "Adult"]}))
    with pytest.raises(ValidationError) as info:
        dataset.annotations.import_df(pd.DataFrame({"item_id": [ids[0]], "label": [""]}))
    assert info.value.field == "label"
    check()


def test_import_df_nests_dotted_user_columns(store):
    ds = store.datasets.create("nested")
    ds.items.import_df(pd.DataFrame({"name": ["a.jpg", "b.jpg"], "user.camera.model": ["X100", "Q2"],
                                     "user.camera.iso": [100, 200], "user.colour": ["red", "blue"]}))
    item = ds.items.get(filepath="/a.jpg")
    assert item.metadata["user"] == {"camera": {"model": "X100", "iso": 100}, "colour": "red"}
    assert ds.items.to_df()["metadata.user.camera.model"].tolist() == ["X100", "Q2"]
    assert ds.items.count(dl.Filters(field="metadata.user.camera.model", values="Q2")) == 1


def test_import_df_refuses_a_key_that_is_also_a_group(store, unchanged):
    ds = store.datasets.create("clash")
    check = unchanged()
    with pytest.raises(ValidationError) as info:
        ds.items.import_df(pd.DataFrame({"name": ["a"], "user.camera": ["x"], "user.camera.model": ["y"]}))
    assert info.value.field == "df" and "user.camera" in str(info.value)
    check()


def test_flat_frame_gives_booleans_back(store):
    ds = store.datasets.create("flags")
    ds.items.import_df(pd.DataFrame({"name": ["a", "b", "c"], "user.checked": [True, False, None],
                                     "user.count": [1, 0, 1]}))
    df = ds.items.to_df()
    assert df["metadata.user.checked"].tolist()[:2] == [True, False] and pd.isna(df["metadata.user.checked"][2])
    assert df["metadata.user.count"].tolist() == [1, 0, 1]


def test_import_df_names_the_first_bad_name(store):
    ds = store.datasets.create("names")
    with pytest.raises(ValidationError) as info:
        ds.items.import_df(pd.DataFrame({"name": ["a.jpg", "b.jpg", 7]}))
    assert info.value.field == "name" and info.value.value == 7 and "row 2" in str(info.value)


def test_metadata_dict_keys_are_registered_under_user(store):
    ds = store.datasets.create("dicts")
    ds.items.import_df(pd.DataFrame({"name": ["a"], "metadata": [{"user": {"user": {"x": 1}, "y": 2}}]}))
    assert ds.items.metadata_keys() == ["user.user.x", "user.y"]
    assert ds.items.to_df()["metadata.user.user.x"].tolist() == [1]


def test_register_keeps_stored_rows_or_overwrites_them(store):
    ds = store.datasets.create("reg")
    first = ds.items.register(pd.DataFrame({"name": ["a.jpg"], "dir": ["x/"], "path": ["/old/a.jpg"]}))
    again = ds.items.register(pd.DataFrame({"name": ["a.jpg", "b.jpg"], "dir": ["/x", "/x"],
                                            "path": ["/new/a.jpg", "/new/b.jpg"]}))
    assert again[0] == first[0] and again[0].path == "/old/a.jpg" and again[1].filename == "/x/b.jpg"
    swapped = ds.items.register(pd.DataFrame({"name": ["a.jpg"], "dir": ["/x"], "path": ["/new/a.jpg"],
                                              "user.k": [1]}), overwrite=True)
    assert swapped[0].path == "/new/a.jpg" and swapped[0].metadata["user"] == {"k": 1}
    assert ds.items.count() == 2
