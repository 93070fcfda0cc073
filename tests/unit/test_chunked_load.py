"""A file loaded as chunks gives exactly what one load of it gives, whichever chunk commits first."""
from __future__ import annotations

import random
from datetime import datetime

import pytest

from core.chunked_load import CHUNK_BATCHES, ChunkedLoads, ChunkScan
from core.errors import InvalidRequest
from core.ingestion import Ingestion
from core.tasks import CONTINUES
from domain.tables import Table
from tests.unit.fakes import FakeBlobStore, FakeLoadStore

E = Table.HIRED_EMPLOYEES
NAME = E.file_name


class InlineFanOut:
    """Both rounds in this process, chunks committed last to first: their order must not matter."""

    def __init__(self) -> None:
        self.loads: ChunkedLoads | None = None
        self.results: dict[str, dict] = {}
        self.whole: list[str] = []  # loads that fell back to one piece
        self.before_commits = lambda: None

    def start(self, task_id: str, table: str, name: str, size: int, starts: list[int]) -> None:
        loads, table_ = self.loads, Table.from_name(table)
        # As through a broker: plain data between the rounds.
        scans = [ChunkScan.from_dict(loads.scan(table_, name, size, starts, k).as_dict()) for k in range(len(starts))]
        plans = loads.plan_commits(scans)
        self.before_commits()
        if plans is None:
            self.whole.append(task_id)
            self.results[task_id] = loads.load_whole(task_id, table_, name)
            return
        parts = [loads.commit(task_id, table_, name, size, starts, plan) for plan in reversed(plans)]
        self.results[task_id] = loads.combine(table_, name, task_id, parts[::-1])


def _store() -> FakeLoadStore:
    store = FakeLoadStore()
    store.add(Table.DEPARTMENTS, *[(i, f"D{i}") for i in range(1, 5)])
    store.add(Table.JOBS, *[(i, f"J{i}") for i in range(1, 5)])
    return store


def _chunked(body: bytes, chunk_bytes: int) -> tuple[ChunkedLoads, InlineFanOut, FakeLoadStore, FakeBlobStore]:
    store, blobs, fan_out = _store(), FakeBlobStore({NAME: body}), InlineFanOut()
    ingestion = Ingestion(store, blobs, batch_size=7, clock=lambda: datetime(2021, 1, 1))
    fan_out.loads = ChunkedLoads(ingestion, store, blobs, chunk_bytes, fan_out)
    return fan_out.loads, fan_out, store, blobs


def _single(body: bytes) -> tuple[dict, FakeLoadStore]:
    store = _store()
    ingestion = Ingestion(store, FakeBlobStore({NAME: body}), batch_size=7, clock=lambda: datetime(2021, 1, 1))
    return ingestion.run("single", table=E.value), store


def _messy_file(rows: int = 400, seed: int = 7) -> bytes:
    """Ids repeated near and far, orphans, broken dates and blank lines: every rule across chunk cuts."""
    rng = random.Random(seed)
    lines = ["id,name,datetime,department_id,job_id"]
    for n in range(rows):
        id_ = rng.randint(1, rows // 2)
        hired = "2021-07-27T16:02:08Z" if rng.random() > 0.1 else "2021-13-27T16:02:08Z"
        lines.append(f"{id_},Name {n},{hired},{rng.randint(1, 5)},{rng.randint(1, 4)}")
        if rng.random() < 0.03:
            lines.append("")
    return ("\n".join(lines) + "\n").encode()


def _outcome(store: FakeLoadStore) -> tuple:
    return (store.rows(E), sorted((r.line_number, r.reasons, r.row_id) for r in store.rejections))


def test_chunks_committed_in_any_order_give_the_rows_rejections_and_totals_of_one_load():
    body = _messy_file()
    loads, fan_out, store, _ = _chunked(body, chunk_bytes=700)
    assert loads.run("chunked", table=E.value) is CONTINUES  # goes on in the chunks
    result = fan_out.results["chunked"]
    single, single_store = _single(body)

    assert len(loads.cuts(NAME, len(body))) >= 10 and fan_out.whole == []
    assert _outcome(store) == _outcome(single_store)
    assert {k: v for k, v in result["total"].items() if k != "error_ids"} == \
           {k: v for k, v in single["total"].items() if k != "error_ids"}
    assert sorted(result["total"]["error_ids"]) == sorted(single["total"]["error_ids"])
    assert result["header_skipped"] is True
    # Chunks hold about 17 lines each: most of the file's repeated ids meet their first row in another chunk.
    assert sum("appears earlier" in " ".join(r.reasons) for r in store.rejections) > 100
    numbers = [b["batch"] for b in result["batches"]]
    assert numbers == sorted(numbers) and numbers[0] == 1 and numbers[-1] > CHUNK_BATCHES


def test_a_chunk_run_again_commits_nothing_twice():
    body = _messy_file(seed=11)
    loads, fan_out, store, _ = _chunked(body, chunk_bytes=900)
    loads.run("again", table=E.value)
    first = fan_out.results["again"]
    commits = len(store.commit_calls)
    loads.run("again", table=E.value)  # a redelivered load task: every batch is recorded already
    assert fan_out.results["again"] == first
    assert len(store.commit_calls) == commits


def test_cuts_fall_just_after_line_ends_and_a_small_file_is_one_chunk():
    body = _messy_file()
    loads, *_ = _chunked(body, chunk_bytes=1000)
    starts = loads.cuts(NAME, len(body))
    assert starts[0] == 0 and starts == sorted(set(starts))
    assert all(body[cut - 1:cut] == b"\n" for cut in starts[1:])
    assert abs(len(starts) - len(body) / 1000) <= 1

    loads, fan_out, store, _ = _chunked(body, chunk_bytes=len(body))
    result = loads.run("small", table=E.value)  # one chunk: loaded in this task, as before
    assert result["total"] == _single(body)[0]["total"] and fan_out.results == {}


def test_a_quoted_line_break_across_a_cut_loads_the_file_in_one_piece():
    rows = [f'{i},"Name\n{i}",2021-07-27T16:02:08Z,1,1' for i in range(1, 60)]
    body = ("\n".join(rows) + "\n").encode()
    loads, fan_out, store, _ = _chunked(body, chunk_bytes=150)
    loads.run("quoted", table=E.value)
    assert fan_out.whole == ["quoted"]
    single, single_store = _single(body)
    assert _outcome(store) == _outcome(single_store)
    assert fan_out.results["quoted"]["total"] == single["total"]
    assert len(store.rows(E)) == 59 and store.rows(E)[0][1] == "Name\n1"


def test_a_header_after_blank_lines_that_fill_the_first_chunk_loads_the_file_in_one_piece():
    body = b"\n" * 300 + _messy_file()
    loads, fan_out, store, _ = _chunked(body, chunk_bytes=200)
    loads.run("blank-start", table=E.value)
    assert fan_out.whole == ["blank-start"]
    assert fan_out.results["blank-start"]["header_skipped"] is True
    assert _outcome(store) == _outcome(_single(body)[1])


def test_a_file_replaced_between_the_rounds_fails_the_load():
    body = _messy_file()
    loads, fan_out, store, blobs = _chunked(body, chunk_bytes=700)
    fan_out.before_commits = lambda: blobs.blobs.update({NAME: body + b"9999,Late,2021-07-27T16:02:08Z,1,1\n"})
    with pytest.raises(InvalidRequest, match="changed while it was being loaded"):
        loads.run("replaced", table=E.value)


def test_a_byte_order_mark_counts_only_at_the_start_of_the_file():
    body = "\ufeff1,Ana,2021-07-27T16:02:08Z,1,1\n".encode() + "\ufeff2,Bea,2021-07-27T16:02:08Z,1,1\n".encode() * 40
    loads, fan_out, store, _ = _chunked(body, chunk_bytes=300)
    loads.run("bom", table=E.value)
    assert fan_out.whole == []
    assert _outcome(store) == _outcome(_single(body)[1])
    assert [row[0] for row in store.rows(E)] == [1]

