"""One contract for the BlobStore port, run against the local folder and Azure Blob (on Azurite)."""
from __future__ import annotations

import io
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from core.errors import InvalidRequest, NotFound, StoreUnavailable
from domain.tables import LOAD_ORDER
from infra.storage.azure import AzureBlobStore
from infra.storage.local import LocalBlobStore
from main import build_services
from tests.azurite import connection_string
from tests.challenge import REPORT_2


def _container() -> str:
    return f"test-{uuid.uuid4().hex[:16]}"  # a container of its own per test


@pytest.fixture(params=["local", "azure"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalBlobStore(tmp_path / "storage")
    return AzureBlobStore(request.getfixturevalue("azurite"), _container())


def _write(store, name: str, data: bytes) -> int:
    return store.write(name, io.BytesIO(data))


def _read(store, name: str) -> bytes:
    with store.open(name) as stream:
        return stream.read()


def test_a_new_store_is_reachable_and_empty(store):
    store.check()
    assert store.list() == []


def test_write_returns_the_size_and_open_reads_it_back(store):
    assert _write(store, "departments.csv", b"1,Support\n2,Engineering\n") == 24
    assert _read(store, "departments.csv") == b"1,Support\n2,Engineering\n"
    assert store.size("departments.csv") == 24


def test_open_reads_from_a_byte_offset_to_the_end(store):
    _write(store, "lines.csv", b"1,Support\n2,Engineering\n")
    with store.open("lines.csv", offset=10) as stream:
        assert stream.read() == b"2,Engineering\n"
    with store.open("lines.csv", offset=0) as stream:
        assert stream.read() == b"1,Support\n2,Engineering\n"


def test_a_non_seekable_stream_is_written_whole(store):
    data = b"x" * (9 << 20)  # more than two upload blocks

    class Pipe(io.RawIOBase):  # like a request body: read only, no seek, no length
        def __init__(self) -> None:
            self._source = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            return self._source.readinto(buffer)

    assert store.write("big/pipe.bin", io.BufferedReader(Pipe())) == len(data)
    assert store.size("big/pipe.bin") == len(data)


def test_readline_crosses_chunk_boundaries(store):
    # About 10 MB of lines of uneven length, so many lines straddle a 1 MB or 4 MB chunk edge.
    lines = [b"%d,%s\n" % (i, b"y" * (i % 251)) for i in range(80_000)]
    data = b"".join(lines)
    _write(store, "lines.csv", data)
    with store.open("lines.csv") as stream:
        read = list(iter(stream.readline, b""))
    assert len(read) == len(lines)
    assert read == lines


def test_readline_with_a_limit_stops_at_the_limit(store):
    _write(store, "long.csv", b"a" * 100 + b"\nb\n")
    with store.open("long.csv") as stream:
        assert stream.readline(10) == b"a" * 10
        assert stream.readline() == b"a" * 90 + b"\n"
        assert stream.readline() == b"b\n"
        assert stream.readline() == b""


def test_list_filters_by_prefix_and_describes_each_blob(store):
    before = datetime.now(UTC) - timedelta(seconds=2)  # Azure keeps whole seconds
    _write(store, "backups/departments/1.avro", b"abc")
    _write(store, "backups/jobs/2.avro", b"defgh")
    _write(store, "departments.csv", b"1,Support\n")

    backups = store.list("backups/")
    assert [b.name for b in backups] == ["backups/departments/1.avro", "backups/jobs/2.avro"]
    assert [b.size for b in backups] == [3, 5]
    for blob in backups:
        assert blob.modified.tzinfo is not None
        assert before <= blob.modified <= datetime.now(UTC) + timedelta(seconds=2)
    assert [b.name for b in store.list()] == ["backups/departments/1.avro", "backups/jobs/2.avro",
                                              "departments.csv"]
    assert store.list("nothing-here/") == []


def test_write_replaces_a_blob(store):
    _write(store, "jobs.csv", b"1,Recruiter\n2,Manager\n")
    assert _write(store, "jobs.csv", b"3,Analyst\n") == 10
    assert _read(store, "jobs.csv") == b"3,Analyst\n"
    assert store.size("jobs.csv") == 10
    assert [b.name for b in store.list()] == ["jobs.csv"]


def test_a_missing_blob_is_not_found_by_name(store):
    _write(store, "present.csv", b"1\n")
    with pytest.raises(NotFound, match="'absent.csv'"):
        with store.open("absent.csv"):
            pass
    with pytest.raises(NotFound, match="'absent.csv'"):
        store.size("absent.csv")


@pytest.mark.parametrize("name", ["", "../escape.csv", "a/../../b.csv", "/etc/passwd", "a\\b.csv", ".."])
def test_names_that_could_climb_out_are_refused(store, name):
    with pytest.raises(InvalidRequest, match="not a valid blob name"):
        _write(store, name, b"x")
    with pytest.raises(InvalidRequest):
        store.size(name)
    with pytest.raises(InvalidRequest):
        with store.open(name):
            pass


# Azure only: what the local folder has no counterpart for.

def test_a_missing_container_is_named_in_the_error(azurite):
    store = AzureBlobStore(azurite, _container())
    with pytest.raises(NotFound, match="container .* does not exist"):
        store.size("departments.csv")
    with pytest.raises(NotFound, match="container .* does not exist"):
        with store.open("departments.csv"):
            pass


def test_building_the_store_sends_nothing():
    AzureBlobStore(connection_string(1), "never-contacted")  # port 1: any request would fail


def test_an_unreachable_account_is_unavailable_with_the_reason():
    store = AzureBlobStore(connection_string(1), "never-contacted", retries=0)
    with pytest.raises(StoreUnavailable, match="Azure Blob Storage failed"):
        store.check()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_challenge_files_from_azurite_load_exactly(settings, azurite, challenge_dir):
    settings = replace(settings, azure_storage_connection_string=azurite, azure_storage_container=_container())
    services = build_services(settings)
    for table in LOAD_ORDER:
        with (challenge_dir / table.file_name).open("rb") as source:
            services.blobs.write(table.file_name, source)
    assert not settings.storage_dir.exists()  # the local folder is neither used nor seeded

    loaded = [services.ingestion.load_blob(table, "azurite-load") for table in LOAD_ORDER]
    totals = [summary.totals() for summary in loaded]
    assert [t["inserted"] for t in totals] == [12, 183, 1929]
    assert totals[2]["errors"] == 70

    quarters = services.reports.hired_by_quarter(2021)
    assert len(quarters) == 933
    assert sum(r["Q1"] + r["Q2"] + r["Q3"] + r["Q4"] for r in quarters) == 1643
    above = services.reports.hiring_above_average(2021)
    assert [(r["department"], r["hired"]) for r in above] == REPORT_2
