"""The column path and the rules row by row agree: a row the columns take breaks no rule and has the same
values, and a row the rules take, the columns take too."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from core.columns import ColumnRules
from domain.rules import RULES, check_fields
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
