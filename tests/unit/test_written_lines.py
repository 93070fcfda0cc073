"""A batch's lines as a database takes them (infra/db/written_lines.py): only lines already in the table's
plain form are used as they are, and MariaDB's VALUES say exactly what the lines say."""
from __future__ import annotations

import sqlalchemy as sa

from infra.db.schema import departments, hired_employees
from infra.db.written_lines import as_mysql_values, plain_text


def test_plain_lines_are_joined_as_they_are_and_any_other_line_refuses_the_whole_batch():
    lines = ["1,Ana,2021-07-27T16:02:08Z,1,2", "0002,Bea,2021-07-27 16:02:08.5,3,4"]
    assert plain_text(hired_employees, lines) == "\n".join(lines)
    for other in ('3,"Cy, Jr.",2021-07-27T16:02:08Z,1,1', "4, Dee,2021-07-27T16:02:08Z,1,1",
                  "5,Eve,2021-07-27T16:02:08+02:00,1,1", "6,Fay,2021-07-27T16:02:08Z,1"):
        assert plain_text(hired_employees, [*lines, other]) is None
    assert plain_text(hired_employees, []) is None


def test_mariadb_values_quote_every_field_escape_quotes_and_backslashes_and_drop_the_zulu():
    lines = ["1,O'Brien \\ Co,2021-07-27T16:02:08Z,1,2", "0002,Bea,2021-07-27T16:02:09Z,3,4"]
    assert as_mysql_values(hired_employees, lines, backslash_escapes=True) == (
        "('1','O\\'Brien \\\\ Co','2021-07-27T16:02:08','1','2'),('0002','Bea','2021-07-27T16:02:09','3','4')")
    assert as_mysql_values(hired_employees, lines, backslash_escapes=False) == (
        "('1','O''Brien \\ Co','2021-07-27T16:02:08','1','2'),('0002','Bea','2021-07-27T16:02:09','3','4')")
    assert as_mysql_values(departments, ["1,Sales", "2,R&D"], backslash_escapes=True) == "('1','Sales'),('2','R&D')"


def test_mariadb_values_cut_only_a_datetimes_z_wherever_the_datetime_stands():
    assert as_mysql_values(hired_employees, ["1,RUIZ,2021-07-27T16:02:08Z,1,2"], backslash_escapes=True) == (
        "('1','RUIZ','2021-07-27T16:02:08','1','2')")
    last = sa.Table("at_the_end", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("name", sa.Unicode(255)), sa.Column("at", sa.DateTime))
    assert as_mysql_values(last, ["1,RUIZ,2021-07-27T16:02:08Z", "2,Ana,2021-07-27T16:02:09Z"],
                           backslash_escapes=True) == (
        "('1','RUIZ','2021-07-27T16:02:08'),('2','Ana','2021-07-27T16:02:09')")


def test_mariadb_values_are_not_made_from_lines_whose_names_end_as_a_datetime_does_or_that_are_not_plain():
    # A name that ends as a datetime does would lose its Z with the datetime's: written from the typed values.
    assert as_mysql_values(hired_employees, ["1,AT12:34:56Z,2021-07-27T16:02:08Z,1,2"],
                           backslash_escapes=True) is None
    # Datetimes other than whole UTC seconds with a Z are written from the typed values.
    assert as_mysql_values(hired_employees, ["1,Ana,2021-07-27T16:02:08.5Z,1,2"], backslash_escapes=True) is None
    assert as_mysql_values(hired_employees, ['1,"Ana",2021-07-27T16:02:08Z,1,2'], backslash_escapes=True) is None
