"""DueDatePicker, AssigneePicker and FilterBuilder, built headless: set values, click, assert."""
from __future__ import annotations

import datetime as _dt

import pytest

import dltasks as dl
from dltasks.widgets import AssigneePicker, DueDatePicker, FilterBuilder
from dltasks.widgets.widget_filters import parse_values

UTC = _dt.timezone.utc


# -- DueDatePicker -------------------------------------------------------------------------
def test_due_date_defaults_to_a_week_ahead_at_18h_and_is_timezone_aware() -> None:
    picker = DueDatePicker(tz="UTC")
    assert picker.value.tzinfo is not None
    assert picker.value.time() == _dt.time(18, 0)
    days = (picker.value - _dt.datetime.now(UTC)).total_seconds() / 86400
    assert 6 < days < 8
    assert "UTC" in picker.zone.value and "in " in picker.hint.value


def test_due_date_inputs_and_value_follow_each_other() -> None:
    picker = DueDatePicker(tz="Europe/Paris")
    picker.date.value = _dt.date(2031, 1, 15)
    picker.time.value = _dt.time(9, 30)
    assert picker.value == _dt.datetime(2031, 1, 15, 8, 30, tzinfo=UTC)
    assert picker.timestamp == _dt.datetime(2031, 1, 15, 8, 30, tzinfo=UTC).timestamp()
    assert "Europe/Paris (UTC+01:00)" in picker.zone.value

    picker.value = _dt.datetime(2031, 7, 1, 22, 0, tzinfo=UTC)   # summer: UTC+2
    assert (picker.date.value, picker.time.value) == (_dt.date(2031, 7, 2), _dt.time(0, 0))


def test_due_date_naive_values_are_read_in_the_picker_zone_and_past_dates_are_flagged() -> None:
    picker = DueDatePicker(value=_dt.datetime(2020, 3, 1, 12, 0), tz="UTC")
    assert picker.value == _dt.datetime(2020, 3, 1, 12, 0, tzinfo=UTC)
    assert "in the past" in picker.hint.value
    picker.date.value = None
    assert picker.value is None and picker.timestamp is None


# -- AssigneePicker ------------------------------------------------------------------------
def test_assignee_picker_offers_known_users_and_adds_typed_ids(store: dl.Store) -> None:
    before = store.users.to_df()["id"].tolist()  # a server lists its admin token's user
    store.users.create("ann@x.org")
    store.users.create("bob@x.org")
    picker = AssigneePicker(store)
    assert [u for u in picker.entry.options if u not in before] == ["ann@x.org", "bob@x.org"]
    picker.entry.value = "ann@x.org"            # picking a suggestion adds it
    picker.entry.value = "  new@x.org "         # so does typing a new id
    assert picker.value == ["ann@x.org", "new@x.org"]
    assert picker.entry.value == ""
    assert picker.weights == {"ann@x.org": 1.0, "new@x.org": 1.0}
    assert [row.children[0].value for row in picker.rows.children] == ["ann@x.org", "new@x.org"]


def test_assignee_picker_refuses_blank_and_repeated_ids() -> None:
    picker = AssigneePicker(known=[], value=["ann"])
    assert picker.add("   ") is False
    assert "non-empty" in picker.error.text
    assert picker.add("ann") is False
    assert "already" in picker.error.text
    assert picker.add("bob") is True and picker.error.text == ""
    assert picker.value == ["ann", "bob"]


def test_assignee_picker_weights_and_remove() -> None:
    picker = AssigneePicker(known=[], value=["ann", "bob"], weights={"ann": 3})
    assert picker.weights == {"ann": 3.0, "bob": 1.0}
    picker.set_weight("bob", 2.5)
    assert picker.weights == {"ann": 3.0, "bob": 2.5}
    picker.rows.children[0].children[2].click()       # the remove button of 'ann'
    assert picker.value == ["bob"] and picker.weights == {"bob": 2.5}
    picker.weighted = False
    assert picker.rows.children[0].children[1].layout.display == "none"


def test_assignee_picker_shows_an_error_at_one_weight_and_whole_e_mails() -> None:
    long = "firstname.lastname.department@example-company.com"
    picker = AssigneePicker(known=[], value=[long, "bob"])
    name = picker.rows.children[0].children[0]
    assert name.value == long and name.tooltip == long                    # the whole e-mail, also on hover
    assert name.layout.width == "auto"                                    # the box grows with the text
    picker.weight_error("bob").show("must not be negative")
    assert picker.weight_error("bob").text == "must not be negative"
    assert picker.weight_error(long).text == "" and picker.error.text == ""
    picker.clear_errors()
    assert picker.weight_error("bob").text == ""


# -- FilterBuilder -------------------------------------------------------------------------
def test_filter_builder_offers_item_fields_and_metadata_keys(dataset) -> None:
    fb = FilterBuilder(dataset)
    assert {"name", "dir", "mime", "metadata.user.colour", "metadata.user.size"} <= set(fb.fields)
    assert fb.filters is None and fb.count == fb.total == 10
    assert "all 10 items" in fb.counter.value


def test_filter_builder_counts_live_as_rows_change(dataset) -> None:
    fb = FilterBuilder(dataset)
    row = fb.add_row("metadata.user.colour", "eq", "")
    assert fb.count == 10                        # an empty value does not filter yet
    row.children[2].value = "red"
    assert fb.count == 5 and "<b>5</b>" in fb.counter.value
    fb.add_row("metadata.user.size", "gt", "4")  # numbers compare as numbers
    assert fb.count == 3
    assert fb.value == [("metadata.user.colour", "eq", "red"), ("metadata.user.size", "gt", 4)]
    assert dataset.items.count(fb.filters) == 3
    fb.rows.children[0].children[3].click()      # remove the colour row
    assert fb.count == 6


def test_filter_builder_in_lists_and_globs(dataset) -> None:
    fb = FilterBuilder(dataset)
    fb.add_row("metadata.user.colour", "in", "green, blue")
    assert fb.count == 5
    fb.rows.children[0].children[0].value = "dir"
    fb.rows.children[0].children[1].value = "glob"
    fb.rows.children[0].children[2].value = "/te*"
    assert fb.count == 4


def test_filter_builder_shows_a_bad_condition_instead_of_raising(dataset) -> None:
    fb = FilterBuilder(dataset)
    fb.add_row("metadata.user.colour", "eq", "red")
    fb.add_row("metadata.user.colour", "exists", "maybe")
    assert fb.count == -1 and "? items match" in fb.counter.value
    assert "exists takes True or False" in fb.row_error_text(1)          # at the row, not under all rows
    assert fb.row_error_text(0) == "" and fb.error.text == ""
    with pytest.raises(dl.ValidationError) as raised:
        fb.filters
    assert raised.value.key == 1
    fb.rows.children[1].children[2].value = "yes"
    assert fb.count == 5 and fb.row_error_text(1) == ""


@pytest.mark.parametrize(("field", "op", "text", "words"), [
    ("metadata.user.size", "gt", "big", "metadata.user.size holds numbers, so text cannot apply (got 'big')"),
    ("metadata.user.size", "ne", "big", "holds numbers, so text cannot apply"),
    ("metadata.user.colour", "eq", "3", "metadata.user.colour holds text, so a number cannot apply (got 3)"),
    ("metadata.user.colour", "in", "red, 3", "so a number cannot apply (got 3)"),
    ("size", "lte", "small", "size holds numbers, so text cannot apply"),
], ids=["number-gt-text", "number-ne-text", "text-eq-number", "text-in-number", "item-size"])
def test_a_condition_that_cannot_apply_is_an_error_at_that_condition(dataset, field: str, op: str, text: str,
                                                                    words: str) -> None:
    fb = FilterBuilder(dataset)
    fb.add_row("dir", "eq", "/train")
    fb.add_row(field, op, text)
    assert words in fb.row_error_text(1) and fb.row_error_text(0) == ""
    assert fb.count == -1 and "? items match" in fb.counter.value      # not "0 of 10 items match"


def test_a_condition_that_can_apply_is_counted(dataset) -> None:
    fb = FilterBuilder(dataset)
    row = fb.add_row("metadata.user.colour", "eq", '"3"')           # quoted: text, as the field holds
    assert fb.count == 0 and fb.row_error_text(0) == "" and "<b>0</b>" in fb.counter.value
    row.children[2].value = "red"
    assert fb.count == 5
    fb.add_row("name", "gt", "img05.jpg")                            # text compares with text
    assert fb.row_error_text(1) == "" and fb.count == 2


@pytest.mark.parametrize(("text", "op", "field", "expected"), [
    ("3", "eq", "metadata.user.n", 3),
    ("2.5", "gte", "metadata.user.n", 2.5),
    ('"3"', "eq", "metadata.user.n", "3"),
    ("007", "eq", "name", "007"),
    ("true", "eq", "metadata.user.ok", True),
    ("a, b,", "nin", "metadata.user.c", ["a", "b"]),
    ("", "exists", "metadata.user.c", True),
    ("no", "exists", "metadata.user.c", False),
], ids=["int", "float", "quoted", "name-stays-text", "bool", "list", "exists-empty", "exists-no"])
def test_parse_values(text: str, op: str, field: str, expected: object) -> None:
    assert parse_values(text, op, field) == expected
