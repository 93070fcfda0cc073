"""The data rules of the contract, field by field, each failure a readable reason."""
from __future__ import annotations

from datetime import datetime

import pytest

from domain.errors import RuleBroken, UnknownTable
from domain.rules import RULES, check_fields, is_header, parse_datetime, parse_id, parse_text
from domain.tables import LOAD_ORDER, Table


def reason(parse, text: str, name: str = "id") -> str:
    with pytest.raises(RuleBroken) as broken:
        parse(name, text)
    return str(broken.value)


def test_id_written_as_an_integer_is_taken_trimmed():
    assert parse_id("id", " 7 ") == 7


def test_largest_sql_integer_is_a_valid_id():
    assert parse_id("id", "2147483647") == 2147483647


@pytest.mark.parametrize("text", ["7.0", "-1", "abc", "0", "+7", "1e3", "٣"])
def test_id_that_is_not_a_positive_integer_is_refused(text):
    assert reason(parse_id, text) == f"id '{text}' is not a positive integer"


def test_id_larger_than_the_sql_integer_is_refused():
    assert reason(parse_id, "2147483648") == "id 2147483648 is larger than the largest id 2147483647"


def test_id_with_thousands_of_digits_is_refused_not_crashing():
    huge = "9" * 5000  # int() refuses more than 4300 digits with a plain ValueError
    assert reason(parse_id, huge).endswith("is larger than the largest id 2147483647")


@pytest.mark.parametrize("text", ["", "   ", "\t"])
def test_id_empty_after_trimming_is_missing(text):
    assert reason(parse_id, text, "job_id") == "job_id is missing"


def test_strings_are_trimmed():
    assert parse_text("name", "  Ana Almeida \t") == "Ana Almeida"


def test_string_of_255_characters_fits_its_column():
    assert parse_text("name", "é" * 255) == "é" * 255


def test_string_longer_than_255_characters_is_refused():
    assert reason(parse_text, "x" * 256, "name") == "name is 256 characters long, longer than its column (255)"


def test_string_empty_after_trimming_is_missing():
    assert reason(parse_text, "  ", "department") == "department is missing"


@pytest.mark.parametrize("text, stored", [
    ("2021-07-27T16:02:08Z", datetime(2021, 7, 27, 16, 2, 8)),
    ("2021-07-27T16:02:08", datetime(2021, 7, 27, 16, 2, 8)),  # no offset: UTC already
    ("2021-07-27T16:02:08+02:00", datetime(2021, 7, 27, 14, 2, 8)),
    ("2021-12-31T23:30:00-01:00", datetime(2022, 1, 1, 0, 30)),  # another year once in UTC
    ("2021-03-31T23:30:00-02:00", datetime(2021, 4, 1, 1, 30)),  # another quarter once in UTC
])
def test_datetime_is_stored_as_naive_utc(text, stored):
    value = parse_datetime("datetime", text)
    assert value == stored and value.tzinfo is None


@pytest.mark.parametrize("text", ["2021-02-30T00:00:00Z", "2021-13-01T00:00:00Z", "yesterday",
                                  "2021-07-27T25:00:00Z"])
def test_datetime_that_is_not_iso_8601_is_refused(text):
    assert reason(parse_datetime, text, "datetime") == f"datetime '{text}' is not a valid ISO 8601 datetime"


def test_datetime_that_leaves_the_calendar_in_utc_is_refused():
    text = "9999-12-31T23:30:00-01:00"
    assert reason(parse_datetime, text, "datetime") == f"datetime '{text}' is not a valid ISO 8601 datetime"


def test_check_fields_gives_every_reason_of_a_row():
    values, reasons = check_fields(RULES[Table.HIRED_EMPLOYEES], ["x", "", "2021-02-30", "0", "5"])
    assert values == [None, None, None, None, 5]
    assert reasons == ["id 'x' is not a positive integer", "name is missing",
                       "datetime '2021-02-30' is not a valid ISO 8601 datetime",
                       "department_id '0' is not a positive integer"]


def test_check_fields_names_the_fields_when_their_number_is_wrong():
    assert check_fields(RULES[Table.JOBS], ["1", "Nurse", "extra"]) == (
        [], ["expected 2 fields (id, job), found 3"])


@pytest.mark.parametrize("fields", [["id", "department"], ["ID", "x"], [" abc ", "y"], ["inf", "z"]])
def test_first_row_with_a_text_id_is_a_header(fields):
    assert is_header(fields)


@pytest.mark.parametrize("fields", [["7.0", "x"], ["-1", "x"], ["1", "x"], ["1e3", "x"], ["", "x"], []])
def test_first_row_with_a_number_or_nothing_as_id_is_data(fields):
    assert not is_header(fields)


@pytest.mark.parametrize("name, table", [("departments", Table.DEPARTMENTS), ("jobs", Table.JOBS),
                                         ("hired_employees", Table.HIRED_EMPLOYEES),
                                         ("hired-employees", Table.HIRED_EMPLOYEES)])
def test_table_names_of_the_api(name, table):
    assert Table.from_name(name) is table


def test_unknown_table_name_is_refused_with_the_known_ones():
    with pytest.raises(UnknownTable, match="expected departments, jobs or hired_employees"):
        Table.from_name("employees")


def test_tables_load_parents_first_and_name_their_files():
    assert LOAD_ORDER == (Table.DEPARTMENTS, Table.JOBS, Table.HIRED_EMPLOYEES)
    assert Table.HIRED_EMPLOYEES.file_name == "hired_employees.csv"


@pytest.mark.parametrize("text, found", [
    ("Ma\x00rketing", "U+0000 at position 3"),
    ("A\ud800B", "U+D800 at position 2"),
    ("x\x01y\x7fz", "U+0001 at position 2, U+007F at position 4"),
    (" \tSales\x03\x0bOps ", "U+0003 at position 6, U+000B at position 7"),  # trimmed first, as str.strip does
    ("two\nlines", "U+000A at position 4"),
])
def test_a_control_character_or_lone_surrogate_in_a_field_is_named_with_its_position(text, found):
    assert reason(parse_text, text, "department") == (
        f"department holds a control character or lone surrogate: {found}")


@pytest.mark.parametrize("parse, text", [(parse_id, "1\x00"), (parse_datetime, "2021-01-01\x0000:00:00")])
def test_the_same_rule_holds_for_ids_and_datetimes(parse, text):
    assert "U+0000 at position" in reason(parse, text)


def test_a_reason_names_twenty_such_characters_and_counts_the_rest():
    assert reason(parse_text, "a" + "\x00" * 25).endswith("U+0000 at position 21 and 5 more")


@pytest.mark.parametrize("text", ["Zürich 🏢", "\u0085next line", "\U000f7b1f private", "tab\u00a0nbsp", "\ufeffbom"])
def test_any_other_valid_unicode_is_text(text):
    assert parse_text("name", text) == text.strip()
