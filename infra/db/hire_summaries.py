"""hire_summaries kept in step with hired_employees: counted by each batch in its own transaction, rebuilt
from the rows in one transaction (a restore, `flask rebuild-summaries`).

A batch adds the rows it inserted itself, not those already there, as one row of hire_summary_additions: the
key of each row, one array a column. fold() adds the additions up into hire_summaries many batches at a time
(at a load's end, before a report reads); what the summary counts is always both (kept_counts). Nearly every
row of a batch has a key of its own, so an upsert of each key a batch touches cost a load far more than one
append (Documentation/benchmarks.md has the figures).
- PostgreSQL's batch (infra.db.postgres_insert) has the server append the rows its insert returned, in the
  same statement, and fold with one statement.
- Every other path appends the rows it inserted from Python (write_counting_hires); SQLite and MariaDB fold
  in Python. The writers say how many they inserted, not which: on PostgreSQL (a batch that resolves
  rejections, or the fallback after a concurrent insert) the rows whose xmin is the transaction's are the
  ones it inserted; elsewhere the ids of the batch present before the write are looked up first, in its
  transaction, and the writer's count must then be exactly the rest. Another writer that inserted some of
  those ids in between breaks that equality: the batch fails as ConcurrentWrite and is run again.
- SQL Server (compiled here, not run) upserts each batch's counts into hire_summaries directly.
"""
from __future__ import annotations

from collections import Counter
from operator import itemgetter
from typing import Sequence

import sqlalchemy as sa

from core.line_form import LineRows, ids_of
from domain.quarters import years_and_quarters, years_and_quarters_as_texts
from infra.db.bulk import RowWriter, dense_range, present_ids
from infra.db.failures import unavailable_on_failure
from infra.db.inserts import ConcurrentWrite
from infra.db.schema import hire_summaries, hire_summary_additions, hired_employees

KEY = ("year", "department_id", "job_id", "quarter")  # the primary key's order: the order rows are taken in
COLUMNS = (*KEY, "hired")
_DATETIME, _DEPARTMENT, _JOB = (hired_employees.c.keys().index(name) for name in ("datetime", "department_id",
                                                                                 "job_id"))


def write_counting_hires(conn: sa.Connection, write_rows: RowWriter, table: sa.Table, rows: Sequence[tuple],
                         lines: Sequence[str] = ()) -> int:
    """write_rows(conn, table, rows, lines), and for hired_employees the summary of the rows it inserted
    added in the same transaction. Returns what write_rows returns: how many rows went in."""
    if table is not hired_employees or not rows:
        return write_rows(conn, table, rows, lines)
    inserted = _INSERTED_ROWS.get(conn.dialect.name, _absent_before)(conn, write_rows, rows, lines)
    if conn.dialect.name in _FOLDS:
        append(conn, inserted)
    else:
        add(conn, counts(inserted))
    return len(inserted)


def _own_after(conn: sa.Connection, write_rows: RowWriter, rows: Sequence[tuple], lines: Sequence[str]):
    """PostgreSQL: the rows the write inserted, asked of the table only when some were left out."""
    inserted = write_rows(conn, hired_employees, rows, lines)
    if inserted in (0, len(rows)):
        return rows[:inserted]
    # No savepoint is taken on the way (a subtransaction's rows would carry its own xid), so the rows this
    # transaction inserted are those whose xmin is its xid.
    ours = {row[0] for row in conn.exec_driver_sql(
        "SELECT id FROM hired_employees WHERE id = ANY(%s) AND xmin = pg_current_xact_id()::xid",
        ([row[0] for row in rows],))}
    if len(ours) != inserted:
        raise ConcurrentWrite(f"hired_employees holds {len(ours)} rows of this batch's transaction, its writer "
                              f"said {inserted}")
    return [row for row in rows if row[0] in ours]


def _absent_before(conn: sa.Connection, write_rows: RowWriter, rows: Sequence[tuple], lines: Sequence[str]):
    """Elsewhere: the rows whose id was absent just before the write, once the write's count confirms it."""
    present = _present(conn, rows)
    inserted = write_rows(conn, hired_employees, rows, lines)
    if inserted != len(rows) - len(present):
        raise ConcurrentWrite(f"{len(rows) - len(present) - inserted} rows of hired_employees this batch found "
                              "absent were inserted by another writer before it")
    return [row for row in rows if row[0] not in present] if present else rows


_INSERTED_ROWS = {"postgresql": _own_after}


def _present(conn: sa.Connection, rows: Sequence[tuple]) -> set[int]:
    ids = ids_of(rows)
    if span := dense_range(ids):  # the usual batch: one range scan, mostly empty
        found = conn.execute(_IN_RANGE, dict(zip(("low", "high"), span))).scalars()
        return set(found).intersection(ids)
    return present_ids(conn, hired_employees.c.id, ids)


_IN_RANGE = sa.select(hired_employees.c.id).where(
    hired_employees.c.id.between(sa.bindparam("low"), sa.bindparam("high")))


def counts(rows: Sequence[tuple]) -> Counter:
    """Hires per summary key (year, department, job, quarter) among employee rows in the table's column order."""
    return Counter(zip(*_keys(rows)))


def append(conn: sa.Connection, rows: Sequence[tuple]) -> None:
    """One row of hire_summary_additions: the key of each employee row (in the table's column order), a 1 each."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":  # int[] columns, bound as arrays
        conn.execute(hire_summary_additions.insert(), dict(zip(COLUMNS, (*_keys(rows), [1] * len(rows)))))
        return
    # JSON columns: each array is one text of the numbers' digits, which rows of lines in the form already
    # hold; SQLAlchemy's JSON type would take lists of ints, made from those digits, and encode them again.
    conn.execute(_APPEND_AS_JSON, dict(zip(COLUMNS, (*map(_json_numbers, _key_texts(rows)),
                                                      "[" + "1," * (len(rows) - 1) + "1]"))))


_APPEND_AS_JSON = sa.text(f"INSERT INTO {hire_summary_additions.name} ({', '.join(COLUMNS)}) "
                          f"VALUES ({', '.join(':' + name for name in COLUMNS)})")


def _key_texts(rows: Sequence[tuple]) -> tuple[list[str], list[str], list[str], list[str]]:
    """_keys as the digits of each number: off the lines' own text for rows of lines in the table's form."""
    if isinstance(rows, LineRows):
        years, quarters = years_and_quarters_as_texts(rows.texts(_DATETIME))
        return years, rows.texts(_DEPARTMENT), rows.texts(_JOB), quarters
    years, departments, jobs, quarters = _keys(rows)
    return list(map(str, years)), list(map(str, departments)), list(map(str, jobs)), list(map(str, quarters))


def _json_numbers(digits: list[str]) -> str:
    """Numbers written in digits as a JSON array; digits with leading zeros (`007`, which JSON refuses) are
    written again as the number they are."""
    text = ",".join(digits)
    if text.startswith("0") or ",0" in text:
        text = ",".join(map(str, map(int, digits)))
    return f"[{text}]"


def _keys(rows: Sequence[tuple]) -> tuple[list[int], list[int], list[int], list[int]]:
    """The summary key of each employee row, a column each: years, departments, jobs, quarters. Rows of lines in
    the table's form (core.line_form) are read off the lines' texts, none parsed."""
    if isinstance(rows, LineRows):
        return tuple(list(map(int, texts)) for texts in _key_texts(rows))
    years, quarters = years_and_quarters(list(map(itemgetter(_DATETIME), rows)))
    return years, list(map(itemgetter(_DEPARTMENT), rows)), list(map(itemgetter(_JOB), rows)), quarters


def add(conn: sa.Connection, found: Counter) -> None:
    """Adds the counts to the summary in one statement (or as few as the dialect's parameter limit allows),
    its rows in key order: two batches in flight lock the rows they share in the same order, so neither
    waits for a row the other holds while holding one it wants."""
    if found:
        _UPSERTS.get(conn.dialect.name, _merge)(conn, [(*key, n) for key, n in sorted(found.items())])


_COLUMNS = ", ".join(COLUMNS)
_CONFLICT = ", ".join(KEY)
# What PostgreSQL's fold and SQLite's upsert end with.
_ADD_ON_CONFLICT = f"ON CONFLICT ({_CONFLICT}) DO UPDATE SET hired = hire_summaries.hired + excluded.hired"


def summary_of_inserted(table: sa.Table) -> str | None:
    """For a PostgreSQL batch (infra.db.postgres_insert): the statement, part of the one that inserts the
    batch's rows (which it names `new`), that appends the rows inserted as one row of hire_summary_additions;
    None for another table. The key of each row, one array a column, and a 1 for each: a batch's rows nearly
    all have keys of their own, so grouping them would cost the server a hash table and save the fold next
    to nothing. No Python a row, and no summary row another batch in flight could be waiting on. date_part's
    quarter is domain.quarters' (the equality tests tie them)."""
    if table is not hired_employees:
        return None
    return ("INSERT INTO hire_summary_additions (year, department_id, job_id, quarter, hired) "
            "SELECT array_agg(date_part('year', datetime)::int), array_agg(department_id), array_agg(job_id), "
            "array_agg(date_part('quarter', datetime)::int), array_fill(1, ARRAY[count(*)::int]) "
            "FROM new HAVING count(*) > 0")


# The additions, taken out and added to hire_summaries in one statement, its rows in key order (as every
# writer of the summary takes them). Rows another transaction adds meanwhile are not in this statement's
# snapshot: they stay for the next fold. The arrays are unnested side by side in the select list, which the
# server steps through together without first copying each row's entries aside, as unnest(a, b, …) in FROM does.
_FOLD = (f"WITH moved AS (DELETE FROM hire_summary_additions RETURNING {_COLUMNS}), "
         f"entry AS (SELECT {', '.join(f'unnest({name}) AS {name}' for name in COLUMNS)} FROM moved) "
         f"INSERT INTO hire_summaries ({_COLUMNS}) SELECT {_CONFLICT}, sum(hired)::int FROM entry "
         f"GROUP BY {_CONFLICT} ORDER BY {_CONFLICT} {_ADD_ON_CONFLICT}")


def fold(conn: sa.Connection) -> None:
    """Adds the additions the batches appended to hire_summaries, in the caller's transaction (SQL Server's
    batches add theirs to the summary directly: nothing to fold)."""
    if folder := _FOLDS.get(conn.dialect.name):
        folder(conn)


def _fold_in_one_statement(conn: sa.Connection) -> None:
    for statement in _FOLD_STATEMENTS:
        conn.exec_driver_sql(statement)


def _fold_here(conn: sa.Connection) -> None:
    """The additions taken out a page at a time (so that a fold's memory does not grow with the load) and
    added up in Python, then added to the summary (add). They are taken with the lock a write holds, so two
    folds at once never both take the same row: SQLite's DELETE … RETURNING takes its one write lock first;
    MariaDB's locking read waits for a fold under way and then reads what it left."""
    if conn.dialect.name == "sqlite" and conn.execute(sa.select(hire_summary_additions.c.id).limit(1)).first() is None:
        return  # nothing to fold: no write lock taken (this read is not in a transaction yet: it holds nothing)
    found: Counter = Counter()
    while taken := _take_page(conn):
        _add_up(found, taken)
    add(conn, found)


def _add_up(found: Counter, additions) -> None:
    """Adds rows of hire_summary_additions (their five arrays, in COLUMNS' order) to the counts per key."""
    for *keys, hired in additions:
        if hired.count(1) == len(hired):  # a batch's own rows, one each: counted in C
            found.update(zip(*keys))
        else:
            for key, n in zip(zip(*keys), hired):
                found[key] += n


def _take_page(conn: sa.Connection) -> list[tuple]:
    """The next additions (their arrays), deleted in the caller's transaction."""
    first = sa.select(hire_summary_additions.c.id).order_by(hire_summary_additions.c.id).limit(_FOLD_PAGE)
    if conn.dialect.name == "sqlite":
        return list(conn.execute(hire_summary_additions.delete().where(
            hire_summary_additions.c.id.in_(first.scalar_subquery())).returning(*_ARRAYS)))
    # MariaDB takes no LIMIT in an IN subquery: the page is read, locked, then deleted by its ids.
    page = list(conn.execute(first.add_columns(*_ARRAYS).with_for_update()))
    if page:
        conn.execute(hire_summary_additions.delete().where(hire_summary_additions.c.id.in_(
            sa.bindparam("ids", expanding=True))), {"ids": [row[0] for row in page]})
    return [row[1:] for row in page]


_FOLD_PAGE = 50  # batches' additions a fold holds at once
_ARRAYS = [hire_summary_additions.c[name] for name in COLUMNS]
_FOLDS = {"postgresql": _fold_in_one_statement, "sqlite": _fold_here, "mysql": _fold_here, "mariadb": _fold_here}


def fold_on(cursor) -> None:
    """fold() on a driver's own cursor (PostgreSQL)."""
    for statement in _FOLD_STATEMENTS:
        cursor.execute(statement)


# The fold's own statement takes its tables in an order of the planner's (a prepared plan takes the summary
# first): the additions are locked first, as a rebuild locks them (lock()), so that neither waits on the other
# while holding what it wants.
_FOLD_STATEMENTS = ("LOCK TABLE hire_summary_additions IN ROW EXCLUSIVE MODE", _FOLD)


def kept_counts(conn: sa.Connection) -> dict[tuple, int]:
    """What the summary counts per key as of now: hire_summaries plus the additions not yet folded."""
    kept: Counter = Counter(_keyed(conn.execute(sa.select(hire_summaries))))
    _add_up(kept, conn.execute(sa.select(*_ARRAYS)))
    return dict(kept)


def _executemany(conn: sa.Connection, rows: list[tuple]) -> None:
    """SQLite: one executemany in C, in this process; the write lock is the database's already."""
    conn.exec_driver_sql(
        f"INSERT INTO hire_summaries ({_COLUMNS}) VALUES (?, ?, ?, ?, ?) {_ADD_ON_CONFLICT}", rows)


def _values(conn: sa.Connection, rows: list[tuple]) -> None:
    """MariaDB: multi-row INSERTs of VALUES_ROWS rows at most (a fold may add every key there is, and a
    statement must fit the server's max_allowed_packet); every value is an int this module counted, written as
    a literal."""
    with conn.connection.driver_connection.cursor() as cursor:  # no parameters: the text goes as it is
        for start in range(0, len(rows), VALUES_ROWS):
            values = ",".join(map("({:d},{:d},{:d},{:d},{:d})".format, *zip(*rows[start:start + VALUES_ROWS])))
            cursor.execute(f"INSERT INTO hire_summaries ({_COLUMNS}) VALUES {values} "
                           "ON DUPLICATE KEY UPDATE hired = hired + VALUES(hired)")


VALUES_ROWS = 10_000  # about 400 KB of text a statement


# SQL Server stops at 2100 parameters a statement: 400 rows of five.
MERGE_ROWS = 400


def merge(rows: list[tuple]) -> sa.TextClause:
    """SQL Server's upsert: one MERGE of the rows, HOLDLOCK so that two batches adding the same new key
    cannot both insert it. Built without a connection, so it can be compiled for a server that is not here."""
    values = ", ".join("(" + ", ".join(f":{name}_{n}" for name in COLUMNS) + ")" for n in range(len(rows)))
    matched = " AND ".join(f"target.{name} = incoming.{name}" for name in KEY)
    incoming = ", ".join(f"incoming.{name}" for name in COLUMNS)
    text = (f"MERGE hire_summaries WITH (HOLDLOCK) AS target USING (VALUES {values}) AS incoming ({_COLUMNS}) "
            f"ON {matched} WHEN MATCHED THEN UPDATE SET hired = target.hired + incoming.hired "
            f"WHEN NOT MATCHED THEN INSERT ({_COLUMNS}) VALUES ({incoming});")
    return sa.text(text).bindparams(**{f"{name}_{n}": value for n, row in enumerate(rows)
                                       for name, value in zip(COLUMNS, row)})


def _merge(conn: sa.Connection, rows: list[tuple]) -> None:
    for start in range(0, len(rows), MERGE_ROWS):
        conn.execute(merge(rows[start:start + MERGE_ROWS]))


_UPSERTS = {"sqlite": _executemany, "mysql": _values, "mariadb": _values}  # PostgreSQL folds in SQL


# --- rebuilt from the rows ---------------------------------------------------------------------------

def _quarter_of(moment: sa.ColumnElement) -> sa.ColumnElement:
    """The SQL form of domain.quarters.year_and_quarter's quarter (the equality tests tie the two)."""
    month = sa.extract("month", moment)
    return sa.case((month <= 3, 1), (month <= 6, 2), (month <= 9, 3), else_=4)


def _counted_from_rows() -> sa.Select:
    """hire_summaries' rows computed from hired_employees, in SQL: what the summary must equal."""
    e = hired_employees
    # Keyed in a subquery and grouped by its columns: SQL Server cannot match a GROUP BY expression that
    # holds bound parameters with the same expression in the select list.
    keyed = sa.select(sa.cast(sa.extract("year", e.c.datetime), sa.Integer).label("year"), e.c.department_id,
                      e.c.job_id, _quarter_of(e.c.datetime).label("quarter"))
    keyed = keyed.subquery("keyed")
    key = [keyed.c[name] for name in KEY]
    return sa.select(*key, sa.func.count().label("hired")).group_by(*key)


COUNTED_FROM_ROWS = _counted_from_rows()

# Held until the rebuild commits, so that no batch adds to the summary between its delete and its refill; a
# batch that inserted rows the rebuild cannot see yet adds them after it. The additions are taken before the
# summary, in the order a fold takes them, so that a fold and a rebuild never each hold what the other waits for.
_LOCKS = {
    "postgresql": ("LOCK TABLE hire_summary_additions, hire_summaries IN SHARE ROW EXCLUSIVE MODE",),
    "mysql": ("SELECT COUNT(*) FROM hire_summary_additions FOR UPDATE",
              "SELECT COUNT(*) FROM hire_summaries FOR UPDATE"),
    "mariadb": ("SELECT COUNT(*) FROM hire_summary_additions FOR UPDATE",
                "SELECT COUNT(*) FROM hire_summaries FOR UPDATE"),
    "mssql": ("SELECT COUNT(*) FROM hire_summaries WITH (TABLOCKX, HOLDLOCK)",),  # its batches do not append
}  # SQLite: the delete below takes the one write lock there is


def lock(conn: sa.Connection) -> None:
    """Holds the summary for the caller's transaction: no batch adds to it until that commits."""
    for statement in _LOCKS.get(conn.dialect.name, ()):
        conn.exec_driver_sql(statement)


def rebuild(conn: sa.Connection) -> int:
    """Replaces the summary with the counts of the rows, in the caller's transaction; returns its rows."""
    lock(conn)
    conn.execute(hire_summary_additions.delete())
    conn.execute(hire_summaries.delete())
    conn.execute(hire_summaries.insert().from_select(list(COLUMNS), COUNTED_FROM_ROWS))
    return conn.execute(sa.select(sa.func.count()).select_from(hire_summaries)).scalar_one()


class SqlHireSummary:
    """The HireSummary port: the rebuild `flask rebuild-summaries` asks for, in one transaction."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def rebuild(self) -> dict[str, int]:
        with unavailable_on_failure(), self._engine.begin() as conn:
            lock(conn)
            before = kept_counts(conn)
            rows = rebuild(conn)
            after = _keyed(conn.execute(sa.select(hire_summaries)))
        wrong = sum(1 for key in before.keys() | after.keys() if before.get(key) != after.get(key))
        return {"rows": rows, "corrected": wrong}


def _keyed(rows) -> dict[tuple, int]:
    return {tuple(row[:len(KEY)]): row.hired for row in rows}
