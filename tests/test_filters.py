"""Filters: each operator, AND/OR mixing, joins on annotations, metadata paths, bad input."""
from __future__ import annotations

import pytest

import dltasks as dl
from dltasks.errors import ValidationError


def names(ds, f):
    return sorted(ds.items.to_df(filters=f)["name"])


@pytest.mark.parametrize("field,values,op,expected", [
    ("metadata.user.colour", "red", "eq", ["img00.jpg", "img03.jpg", "img05.jpg", "img07.jpg", "img09.jpg"]),
    ("metadata.user.colour", "red", "ne", ["img01.jpg", "img02.jpg", "img04.jpg", "img06.jpg", "img08.jpg"]),
    ("metadata.user.size", 8, "gt", ["img08.jpg", "img09.jpg"]),
    ("metadata.user.size", 3, "lt", ["img00.jpg", "img01.jpg"]),
    ("metadata.user.size", 9, "gte", ["img08.jpg", "img09.jpg"]),
    ("metadata.user.size", 2, "lte", ["img00.jpg", "img01.jpg"]),
    ("metadata.user.colour", ["green", "blue"], "in", ["img01.jpg", "img02.jpg", "img04.jpg", "img06.jpg", "img08.jpg"]),
    ("metadata.user.colour", ["red", "blue"], "nin", ["img02.jpg", "img06.jpg"]),
    ("metadata.user.size", True, "exists", [f"img{i:02d}.jpg" for i in range(10)]),
    ("metadata.user.nothing", True, "exists", []),
    ("metadata.user.nothing", False, "exists", [f"img{i:02d}.jpg" for i in range(10)]),
    ("filename", "/test/*", "glob", ["img06.jpg", "img07.jpg", "img08.jpg", "img09.jpg"]),
    ("dir", "/test", "eq", ["img06.jpg", "img07.jpg", "img08.jpg", "img09.jpg"]),
    ("name", "img0[12].jpg", "glob", ["img01.jpg", "img02.jpg"]),
], ids=["eq", "ne", "gt", "lt", "gte", "lte", "in", "nin", "exists", "exists-missing", "not-exists",
        "glob", "dir", "glob-class"])
def test_each_operator(dataset, field, values, op, expected):
    f = dl.Filters()
    f.add(field=field, values=values, operator=op)
    assert names(dataset, f) == expected


def test_operator_enums_and_dollar_names_are_accepted(dataset):
    a, b = dl.Filters(), dl.Filters()
    a.add("metadata.user.size", 8, operator=dl.FiltersOperations.GREATER_THAN)
    b.add("metadata.user.size", 8, operator="$gt")
    assert names(dataset, a) == names(dataset, b) == ["img08.jpg", "img09.jpg"]


def test_or_conditions_combine_with_and_conditions(dataset):
    # (colour == green OR size >= 9) AND dir == /test
    f = dl.Filters()
    f.add("metadata.user.colour", "green", method=dl.FiltersMethod.OR)
    f.add("metadata.user.size", 9, operator="gte", method="or")
    f.add("dir", "/test")
    assert names(dataset, f) == ["img06.jpg", "img08.jpg", "img09.jpg"]


def test_add_join_keeps_items_with_a_matching_annotation(dataset):
    items = {i.name: i for i in dataset.items.get_all_items()}
    items["img01.jpg"].annotations.create(label="Adult")
    items["img02.jpg"].annotations.create(label="Child")
    ann = items["img03.jpg"].annotations.create(label="Child")
    ann.label = "Adult"
    ann.update()
    f = dl.Filters()
    f.add_join(field="label", values="Adult")
    assert names(dataset, f) == ["img01.jpg", "img03.jpg"]
    f.add("metadata.user.colour", "red")
    assert names(dataset, f) == ["img03.jpg"]


def test_nested_metadata_paths(dataset):
    item = dataset.items.get(filepath="/train/img00.jpg")
    item.metadata["user"]["camera"] = {"model": "X100", "iso": 400}
    item.update()
    f = dl.Filters(field="metadata.user.camera.model", values="X100")
    assert names(dataset, f) == ["img00.jpg"]
    assert "user.camera.iso" in dataset.items.metadata_keys()


def test_sort_by_descending(dataset):
    f = dl.Filters()
    f.sort_by("metadata.user.size", dl.FiltersOrderByDirection.DESCENDING)
    assert list(dataset.items.to_df(filters=f)["name"])[:3] == ["img09.jpg", "img08.jpg", "img07.jpg"]


def test_filters_survive_json_round_trip():
    f = dl.Filters()
    f.add("metadata.user.colour", ["a", "b"], operator="in", method="or")
    f.add_join("label", "Adult")
    f.sort_by("name", "desc")
    assert dl.Filters.from_json(f.to_json()) == f


@pytest.mark.parametrize("call,field,bad", [
    (lambda f: f.add("colour", "red"), "field", "colour"),
    (lambda f: f.add("name", "x", operator="like"), "operator", "like"),
    (lambda f: f.add('metadata.user.a"drop', "x"), "field", 'metadata.user.a"drop'),
    (lambda f: f.add("metadata.user.x", {"a": 1}), "values", {"a": 1}),
    (lambda f: f.add("metadata.user.x", "yes", operator="exists"), "values", "yes"),
    (lambda f: f.add_join("colour", "x"), "field", "colour"),
    (lambda f: f.add("name", "x", method="xor"), "method", "xor"),
    (lambda f: f.sort_by("name", "sideways"), "value", "sideways"),
], ids=["unknown-field", "unknown-operator", "bad-path", "dict-value", "exists-non-bool", "join-field",
        "method", "sort-direction"])
def test_bad_filters_name_the_field(call, field, bad):
    with pytest.raises(ValidationError) as info:
        call(dl.Filters())
    assert info.value.field == field
    assert repr(bad) in str(info.value)


def test_values_are_bound_not_spliced(dataset):
    f = dl.Filters(field="name", values="x' OR '1'='1")
    assert names(dataset, f) == []
    assert dataset.items.count() == 10
