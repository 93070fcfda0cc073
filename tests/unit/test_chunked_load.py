"""A file loaded as chunks gives exactly what one load of it gives, whichever chunk commits first."""
from __future__ import annotations

import random
from datetime import datetime

import pytest

from core.chunked_load import ChunkCommit, ChunkedFile, ChunkedLoads, ChunkScan, ChunksDisagree
from core.ingestion import Ingestion
from core.loads import Loads
from core.tasks import CONTINUES
from domain.tables import Table
from tests.spreadsheet import resaved
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

    def start(self, task_id: str, table: str, file: ChunkedFile) -> None:
        loads, table_ = self.loads, Table.from_name(table)
        file = ChunkedFile.from_dict(file.as_dict())  # as through a broker: plain data between the steps
        scans = [ChunkScan.from_dict(loads.scan(table_, file, k).as_dict()) for k in range(len(file.starts))]
        self.before_commits()
        result = loads.after_scans(task_id, table_, file, scans)
        if result is not CONTINUES:
            self.whole.append(task_id)
            self.results[task_id] = result

    def commit(self, task_id: str, table: str, file: ChunkedFile, plans: list[ChunkCommit]) -> None:
        loads, table_ = self.loads, Table.from_name(table)
        self.plans = plans = [ChunkCommit.from_dict(plan.as_dict()) for plan in plans]
        self.progress = []
        parts = [loads.commit(task_id, table_, file, plan, self.progress.append) for plan in reversed(plans)]
        self.results[task_id], self.last_progress = loads.combine(table_, file, task_id, parts[::-1])


def _store() -> FakeLoadStore:
    store = FakeLoadStore()
    store.add(Table.DEPARTMENTS, *[(i, f"D{i}") for i in range(1, 5)])
    store.add(Table.JOBS, *[(i, f"J{i}") for i in range(1, 5)])
    return store


def _chunked(body: bytes, chunk_bytes: int) -> tuple[Loads, InlineFanOut, FakeLoadStore, FakeBlobStore]:
    store, blobs, fan_out = _store(), FakeBlobStore({NAME: body}), InlineFanOut()
    ingestion = Ingestion(store, blobs, batch_size=7, clock=lambda: datetime(2021, 1, 1))
    fan_out.loads = ChunkedLoads(ingestion, store, blobs, chunk_bytes, fan_out)
    return Loads(ingestion, fan_out.loads), fan_out, store, blobs


def _single(body: bytes) -> tuple[dict, FakeLoadStore]:
    store, blobs = _store(), FakeBlobStore({NAME: body})
    ingestion = Ingestion(store, blobs, batch_size=7, clock=lambda: datetime(2021, 1, 1))
    return Loads(ingestion, ChunkedLoads(ingestion, store, blobs, 1)).run("single", table=E.value), store


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

    assert result["chunks"] >= 10 and fan_out.whole == []
    assert _outcome(store) == _outcome(single_store)
    assert result["total"] == single["total"]
    assert sorted(store.error_ids("chunked", E)) == sorted(single_store.error_ids(single["task_id"], E))
    assert result["header_skipped"] is True
    # Chunks hold about 17 lines each: most of the file's repeated ids meet their first row in another chunk.
    assert sum("appears earlier" in " ".join(r.reasons) for r in store.rejections) > 100
    # Numbered on from chunk to chunk as one load numbers them; a chunk's last batch may be short.
    numbers = [b.batch for b in store.landed("chunked", E)]
    assert numbers == list(range(1, len(numbers) + 1))
    assert sum(b.processed < 7 for b in store.landed("chunked", E)) >= result["chunks"] - 1
    assert fan_out.last_progress.rows_done == 400 and fan_out.last_progress.bytes_done == len(body)
    second = fan_out.loads.split(NAME, E).starts[1]
    assert [plan.first_line for plan in fan_out.plans][:2] == [0, body[:second].count(b"\n")]
    assert fan_out.plans[0].lines_total == body.count(b"\n")  # the last chunk's lines included


def test_progress_counts_the_rows_of_every_chunk_and_ends_at_the_whole_file(monkeypatch):
    monkeypatch.setattr("core.chunked_load._PROGRESS_EVERY", 0)
    body = _messy_file()
    loads, fan_out, store, _ = _chunked(body, chunk_bytes=700)
    loads.run("progress", table=E.value)
    rows = [p.rows_done for p in fan_out.progress]
    # Chunks committed last to first: the figure is every chunk's rows so far, never one chunk's alone.
    assert rows == sorted(rows) and rows[-1] == 400
    assert all(p.bytes_done <= p.bytes_total == len(body) for p in fan_out.progress)
    assert fan_out.progress[-1].bytes_done >= len(body) * 0.95  # the lines of the last chunk count too


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
    _, fan_out, *_ = _chunked(body, chunk_bytes=1000)
    starts = fan_out.loads.split(NAME, E).starts
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
    # Each record spans two lines (its name, holding a line break, breaks a rule): all 59 read whole.
    assert sorted(store.reasons_by_line(E)) == list(range(1, 118, 2)) and not store.rows(E)


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
    with pytest.raises(ChunksDisagree, match="changed while it was being loaded"):
        loads.run("replaced", table=E.value)
    same_size = body.replace(b"Name 1,", b"Name X,")
    fan_out.before_commits = lambda: blobs.touch(NAME, same_size)
    with pytest.raises(ChunksDisagree, match="changed while it was being loaded"):
        loads.run("replaced-again", table=E.value)


@pytest.mark.parametrize("change", ["added", "removed"])
def test_parents_changed_between_the_rounds_stop_the_load_before_an_id_goes_in_twice(change):
    # Department 9 is missing at the scan and there at the commit, or the other way round: the rows of
    # id 5 would not be judged as they were scanned.
    rows = [f"{n},Person {n},2021-07-27T16:02:08Z,1,1" for n in range(10, 60)]
    body = "\n".join(["5,First,2021-07-27T16:02:08Z,9,1", *rows, "5,Second,2021-07-27T16:02:08Z,1,1"]) + "\n"
    loads, fan_out, store, _ = _chunked(body.encode(), chunk_bytes=400)
    if change == "removed":
        store.add(Table.DEPARTMENTS, (9, "D9"))
    fan_out.before_commits = lambda: (store.tables[Table.DEPARTMENTS].pop(9) if change == "removed"
                                      else store.add(Table.DEPARTMENTS, (9, "D9")))
    with pytest.raises(ChunksDisagree, match="departments or jobs changed"):
        loads.run(f"parents-{change}", table=E.value)
    assert [row[1] for row in store.rows(E) if row[0] == 5] in ([], ["Second"])
    if change == "added":  # found in the first chunk's first batch, before it was committed
        assert 1 not in store.recorded_batches(f"parents-{change}", E)



def test_a_byte_order_mark_counts_only_at_the_start_of_the_file():
    body = "\ufeff1,Ana,2021-07-27T16:02:08Z,1,1\n".encode() + "\ufeff2,Bea,2021-07-27T16:02:08Z,1,1\n".encode() * 40
    loads, fan_out, store, _ = _chunked(body, chunk_bytes=300)
    loads.run("bom", table=E.value)
    assert fan_out.whole == []
    assert _outcome(store) == _outcome(_single(body)[1])
    assert [row[0] for row in store.rows(E)] == [1]



def test_a_resaved_file_in_chunks_is_read_in_the_dialect_of_its_start_with_its_header_s_order_in_every_chunk():
    body = resaved(_messy_file().replace(b"Name ", "Peña ".encode()), ["job_id", "name", "id", "department_id",
                                                                       "datetime"])
    loads, fan_out, store, _ = _chunked(body, chunk_bytes=700)
    assert loads.run("chunked", table=E.value, encoding="cp1252") is CONTINUES
    _, single_store = _single(_messy_file().replace(b"Name ", "Peña ".encode()))

    assert fan_out.results["chunked"]["chunks"] >= 10 and fan_out.whole == []
    assert _outcome(store) == _outcome(single_store)
    assert store.tables[E][next(iter(store.tables[E]))].name.startswith("Peña ")


def test_a_utf16_file_is_not_cut_into_chunks():
    body = b"\xff\xfe" + _messy_file().decode().encode("utf-16-le")
    loads, fan_out, store, _ = _chunked(body, chunk_bytes=700)
    result = loads.run("utf16", table=E.value)
    _, single_store = _single(_messy_file())
    assert result["total"]["processed"] == 400 and "chunks" not in result
    assert _outcome(store) == _outcome(single_store)
