"""The column path and the rules row by row agree: a row the columns take breaks no rule and has the same
values, and a row the rules take, the columns take too. A line in the table's form (core.line_form) keeps
every rule, with the values its text shows."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from core.columns import ColumnRules
from core.line_form import LineForm
from domain.quarters import years_and_quarters, years_and_quarters_as_texts
from domain.rules import RULES, check_fields, parse_datetime
from domain.tables import Table

ids = st.one_of(st.integers(-5, 2**31 + 5).map(str), st.sampled_from(["", " 7 ", "7.0", "007", "٣", "1e3", "+4"]))
texts = st.one_of(st.text(max_size=8), st.text(min_size=250, max_size=260), st.sampled_from(["", "  ", " Sales "]))
moments = st.one_of(
    st.datetimes().map(lambda d: d.isoformat()),
    st.sampled_from(["2021-02-30T00:00:00Z", "2021-13-01", "2021-11-07T02:48:42Z", "2021-12-31T23:30:00-01:00",
                     "", "2021-11-07 02:48:42", "20211107T024842", "0001-01-01T00:00:00+01:00", "x"]),
)
FIELDS = {Table.DEPARTMENTS: [ids, texts], Table.JOBS: [ids, texts],
          Table.HIRED_EMPLOYEES: [ids, texts, moments, ids, ids]}


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(list(Table)).flatmap(
    lambda t: st.tuples(st.just(t), st.lists(st.tuples(*FIELDS[t]).map(list), min_size=1, max_size=5))))
def test_quick_and_full_rules_agree(case):
    table, rows = case
    rules = RULES[table]
    for row, quick in zip(rows, ColumnRules(rules)(rows)):
        values, reasons = check_fields(rules, row)
        assert (list(quick) if quick is not None else None) == (values if not reasons else None), row


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(list(Table)).flatmap(
    lambda t: st.tuples(st.just(t), st.lists(st.tuples(*FIELDS[t]).map(list), min_size=1, max_size=5))))
def test_the_reasons_of_a_row_are_the_same_from_what_its_columns_found(case):
    """A row the columns refuse is checked again for its reasons, from the values its other fields gave."""
    table, rows = case
    rules = RULES[table]
    parsed = ColumnRules(rules).parsed(rows)
    for index, row in enumerate(rows):
        assert check_fields(rules, row, parsed.values_of(index)) == check_fields(rules, row), row


plain_fields = st.text(alphabet=st.characters(blacklist_characters=',"\n\r'), max_size=6)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(list(Table)).flatmap(lambda t: st.tuples(st.just(t), st.lists(
    st.one_of(st.tuples(*FIELDS[t]), st.lists(plain_fields, min_size=1, max_size=6)).map(
        lambda row: ",".join(f.replace(",", "").replace('"', "").replace("\n", "") for f in row)),
    min_size=1, max_size=6))))
def test_plain_lines_cut_into_columns_read_as_their_fields_do(case):
    table, lines = case
    columns = ColumnRules(RULES[table])
    assert columns.of_lines(lines) == columns.parsed([line.split(",") for line in lines])


form_ids = st.one_of(ids, st.integers(1, 10**9).map(str), st.integers(2**31 - 3, 10**10).map(str),
                    st.sampled_from(["000000001", "0000000001", "00", "1_0"]))
form_texts = st.one_of(texts, st.text(alphabet=st.characters(blacklist_characters=',"\n\r'), min_size=1, max_size=8),
                       st.sampled_from(["\u00a0Ana", "Ana\u3000", "A\x1fB", "x" * 255, "x" * 256, "\ud800"]))
form_moments = st.one_of(moments, st.datetimes().map(lambda d: d.replace(microsecond=0).isoformat() + "Z"),
                         st.sampled_from(["2020-02-29T00:00:00Z", "2021-02-29T00:00:00Z", "2021-04-31T00:00:00Z",
                                          "0000-01-01T00:00:00Z", "2021-06-31T00:00:00Z",
                                          "2021-01-01T24:00:00Z", "2021-01-01T23:59:60Z", "2021-11-07T02:48:42z"]))
FORM_FIELDS = {Table.DEPARTMENTS: [form_ids, form_texts], Table.JOBS: [form_ids, form_texts],
               Table.HIRED_EMPLOYEES: [form_ids, form_texts, form_moments, form_ids, form_ids]}


USUAL = ["1", "Ana", "2021-07-27T16:02:08Z", "1", "2"]  # an employee line in the form, a field at a time varied


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 4).flatmap(lambda at: st.tuples(st.just(at), FORM_FIELDS[Table.HIRED_EMPLOYEES][at])))
def test_a_field_in_its_form_keeps_its_rule_with_the_value_its_text_shows(case):
    at, text = case
    fields = [*USUAL[:at], text, *USUAL[at + 1:]]
    check_line_form(Table.HIRED_EMPLOYEES, fields)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(list(Table)).flatmap(lambda t: st.tuples(st.just(t), st.tuples(*FORM_FIELDS[t]))))
def test_a_line_in_the_table_form_keeps_every_rule_with_the_values_its_text_shows(case):
    table, fields = case
    check_line_form(table, list(fields))


def check_line_form(table: Table, fields: list[str]) -> None:
    """The path from lines (core.line_form) never takes a line the rules refuse, and reads the same values."""
    rules = RULES[table]
    line = ",".join(fields)
    form = LineForm(rules)
    if form.out_of_form([line]):
        return
    values, reasons = check_fields(rules, line.split(","))
    assert not reasons, line
    rows = form.rows([line])
    assert list(rows) == [rules.entity(*values)]
    assert rows.keys.ids == [values[0]]
    assert rows.keys.parents == {ref.name: [values[ref.position]] for ref in rules.references}
    for at, parse in enumerate(parse for _, parse in rules.fields):
        if parse is parse_datetime:
            assert tuple(list(map(int, texts)) for texts in years_and_quarters_as_texts(rows.texts(at))) == \
                years_and_quarters([values[at]])


def test_the_usual_lines_are_in_the_form():
    form = LineForm(RULES[Table.HIRED_EMPLOYEES])
    assert form.out_of_form(["1,Ana Díaz,2021-07-27T16:02:08Z,1,2", "000000007,A,2020-02-28T23:59:59Z,12,183",
                             "2,Ana,2020-02-29T00:00:00Z,1,2", "3, Ana,2021-07-27T16:02:08Z,1,2"]) == [2, 3]
