"""A standing property of the rules on the real databases: whatever text or bytes a row holds, it is either stored
and read back identical, or rejected with its reasons and logged in a form that gives back what was sent."""
from __future__ import annotations

import io
import itertools
import json
import re
import uuid
from datetime import datetime

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core.batch_insert import BatchInsert
from core.ingestion import Ingestion
from domain.log_text import unescaped
from domain.tables import Table
from infra.db.load_store import SqlLoadStore
from infra.db.schema import departments, rejected_rows
from infra.storage.local import LocalBlobStore

D = Table.DEPARTMENTS
NOW = datetime(2026, 12, 2, 8, 0, 0)
EXAMPLES = 100
# The contract, written here apart from the rules: a name is text once trimmed, 1 to 255 characters, and holds no
# C0 control character, DEL or lone surrogate.
NOT_TEXT = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
UNDECODED = re.compile("[\udc80-\udcff]")  # a byte that is not UTF-8, as surrogateescape stands it in

any_character = st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF)
short_text = st.text(alphabet=any_character, max_size=300)
long_text = st.builds(lambda piece, times: piece * times, st.text(alphabet=any_character, min_size=1, max_size=3),
                      st.integers(80, 25_000))
names = st.one_of(short_text, short_text, long_text)
# Bytes of one field: anything but what ends a line or a field, or opens a quote, so each line is one row.
field_bytes = st.binary(max_size=300).map(lambda b: bytes(c for c in b if c not in b'\n\r,"'))


def is_a_name(text: str) -> bool:
    trimmed = text.strip()
    return 0 < len(trimmed) <= 255 and not NOT_TEXT.search(trimmed)


@pytest.fixture
def new_ids():
    return itertools.count(1)


def stored(engine: sa.Engine, id_: int) -> str | None:
    with engine.connect() as conn:
        return conn.execute(sa.select(departments.c.department).where(departments.c.id == id_)).scalar()


def logged(engine: sa.Engine, task_id: str) -> dict[int, tuple[str, list[str]]]:
    query = sa.select(rejected_rows.c.line_number, rejected_rows.c.raw_text, rejected_rows.c.reasons).where(
        rejected_rows.c.task_id == task_id)
    with engine.connect() as conn:
        return {line: (raw, reasons) for line, raw, reasons in conn.execute(query)}


SHORT = settings(max_examples=EXAMPLES, deadline=None, database=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@SHORT
@given(st.lists(names, min_size=1, max_size=8))
@example(["\uffff", "\U0010ffff", "🏢" * 255, "y" * 256, " \x1f pad \x1c", "a\\b", "\x00", "\ud800\udc00"])
def test_any_text_sent_as_json_is_stored_identical_or_rejected_and_logged(engine, new_ids, texts):
    batch = BatchInsert(SqlLoadStore(engine, lambda: NOW), lambda: NOW, lambda: f"prop-{uuid.uuid4().hex}")
    # As a JSON body brings them: a surrogate pair written as two escapes arrives as the one character it makes.
    rows = json.loads(json.dumps([{"id": next(new_ids), "department": text} for text in texts]))
    result = batch.insert_objects(D, rows)
    log = logged(engine, result["request_id"])
    for line, row in enumerate(rows, start=1):
        if is_a_name(row["department"]):
            assert stored(engine, row["id"]) == row["department"].strip()
            assert line not in log
        else:
            assert stored(engine, row["id"]) is None
            raw, reasons = log[line]
            assert reasons and all(reasons)
            if not any(reason.startswith("the log keeps the first") for reason in reasons):
                assert json.loads(unescaped(raw)) == row


@SHORT
@given(st.lists(field_bytes, min_size=1, max_size=8))
@example([b"\xef\xbb\xbfbom inside", b"Ma\x00rk", b"\xed\xa0\x80 encoded surrogate", b"\xf4\x90\x80\x80", b"\\x41"])
def test_any_bytes_in_a_file_are_stored_identical_or_rejected_and_logged(engine, new_ids, tmp_path_factory, fields):
    task_id = f"prop-{uuid.uuid4().hex}"
    ids = [next(new_ids) for _ in fields]
    lines = [b"%d," % id_ + field for id_, field in zip(ids, fields)]
    ingestion = Ingestion(SqlLoadStore(engine, lambda: NOW), LocalBlobStore(tmp_path_factory.mktemp("blobs")),
                          clock=lambda: NOW)
    summary = ingestion.load_stream(D, io.BytesIO(b"\n".join(lines) + b"\n"), source="prop.csv", task_id=task_id)
    log = logged(engine, task_id)
    for line, (id_, field) in enumerate(zip(ids, fields), start=1):
        text = field.decode("utf-8", "surrogateescape")
        if not UNDECODED.search(text) and is_a_name(text):
            assert stored(engine, id_) == text.strip()
            assert line not in log
        else:
            assert stored(engine, id_) is None
            raw, reasons = log[line]
            assert reasons and all(reasons)
            assert unescaped(raw).encode("utf-8", "surrogateescape") == lines[line - 1]
    assert summary.totals()["processed"] == len(lines)
