"""Backup and restore of each table: AVRO files in blob storage, restored atomically through the data rules.

A backup is `backups/<table>/<UTC timestamp>.avro` plus a small manifest beside it
(`<UTC timestamp>.json`: rows, size, sha256) that lets a restore tell a truncated or altered file
from a whole one; AVRO alone cannot, a file cut at a block boundary reads as a shorter valid file.

Restore puts every row back through the data rules, in ONE transaction with the rows it replaces:
- a row that breaks a rule is not restored and is logged in rejected_rows (source = the backup's path);
- `departments` or `jobs` whose ids hired_employees still point at must all be in the backup, or the
  restore is refused (Conflict) and the table is left as it was. With `with_dependants=True` the
  dependants are restored too, from their latest backup, in the same transaction; their rows are
  then checked against the parent rows being restored.
"""
from __future__ import annotations

import hashlib
import io
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Callable, Iterable, Iterator, Sequence

from core.backup_ports import BackupCodec, RestoreBatch, RowSource, TableReplacer
from core.byte_streams import HashingReader, PiecesStream
from core.clock import utc_now
from core.csv_records import Record
from core.errors import Conflict, CorruptBackup, InvalidRequest, NotFound
from core.ports import BlobStore
from core.progress import Progress, ProgressCallback
from core.validation import BatchValidator, ParentIds
from domain.log_text import json_line
from domain.rules import RULES, check_fields
from domain.tables import LOAD_ORDER, Table

PREFIX = "backups"
_STAMP = "%Y%m%dT%H%M%S%fZ"
_NAME = re.compile(r"(?P<stamp>[0-9]{8}T[0-9]{12}Z)\.avro")
_SHOWN_IDS = 10  # ids named in a Conflict message; the count says how many there are in all


# --- the use case ------------------------------------------------------------------------------------

def dependants(table: Table) -> list[Table]:
    """The tables whose rows point at rows of `table`."""
    return [t for t in LOAD_ORDER if any(ref.parent == table for ref in RULES[t].references)]


def _stamp_time(stamp: str) -> datetime:
    return datetime.strptime(stamp, _STAMP).replace(tzinfo=UTC)


def _check_name(name: str) -> str:
    """A caller's backup name: exactly what list() shows, so it can never reach outside the folder."""
    name = name.strip()
    if not name.endswith(".avro"):
        name += ".avro"
    match = _NAME.fullmatch(name)
    try:
        if match:
            _stamp_time(match["stamp"])  # a real moment, too
            return name
    except ValueError:
        pass
    raise InvalidRequest(f"'{name}' is not a backup name: expected one like 20261126T173000123456Z.avro")


def _text(value: Any) -> str:
    """A record's value as the text the data rules parse; a missing one is empty, which the rules reject."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _raw(data: dict[str, Any]) -> str:
    """The record as JSON: the raw text of a rejected row, made only for the rows rejected."""
    return json_line({k: _text(v) if isinstance(v, datetime) else v for k, v in data.items()})


@dataclass
class _Source:
    """One backup being restored, and what its restore has done so far."""

    table: Table
    name: str
    manifest: dict[str, Any] | None
    size: int
    read: int = 0
    rejected: int = 0

    @property
    def rows(self) -> int:
        """The rows restored: those read that kept to the rules."""
        return self.read - self.rejected

    @property
    def path(self) -> str:
        return f"{PREFIX}/{self.table.value}/{self.name}"

    def verify(self, stream: HashingReader) -> None:
        if self.manifest is None:
            return  # a file put there by hand: AVRO's own checks are all there is
        expected_rows, expected_sha = self.manifest.get("rows"), self.manifest.get("sha256")
        if (expected_sha and stream.sha256.hexdigest() != expected_sha) or (
                expected_rows is not None and self.read != expected_rows):
            raise CorruptBackup(
                f"backup {self.path} is truncated or altered: read {self.read} rows in {stream.bytes_read} "
                f"bytes, its manifest says {expected_rows} rows in {self.manifest.get('size')} bytes; "
                "nothing was restored")


@dataclass
class _KnownIds:
    """Parent ids for the validator: those being restored in this transaction, else the database's."""

    database: ParentIds
    restoring: dict[Table, set[int]] = field(default_factory=dict)

    def known_ids(self, table: Table, ids: Iterable[int]) -> set[int]:
        if table in self.restoring:
            return self.restoring[table].intersection(ids)
        return self.database.known_ids(table, ids)


class Backups:
    def __init__(self, source: RowSource, replacer: TableReplacer, codec: BackupCodec, blobs: BlobStore,
                 parents: ParentIds, chunk_size: int = 1000, clock: Callable[[], datetime] = utc_now) -> None:
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        self._source = source
        self._replacer = replacer
        self._codec = codec
        self._blobs = blobs
        self._parents = parents
        self._chunk_size = chunk_size
        self._clock = clock

    # backup ---------------------------------------------------------------------------------------

    def backup(self, table: Table | str, task_id: str | None = None,
               on_progress: ProgressCallback | None = None) -> dict[str, Any]:
        """Writes the table to a new AVRO file in storage; returns its name, rows, size and time."""
        table = Table.from_name(table)
        name, moment = self._new_name(table)
        rows = [0]
        sha = hashlib.sha256()
        size = self._blobs.write(f"{PREFIX}/{table.value}/{name}",
                                 PiecesStream(self._encoded(table, rows, sha, on_progress)))
        manifest = {"table": table.value, "name": name, "rows": rows[0], "size": size,
                    "sha256": sha.hexdigest(), "time": moment}
        self._blobs.write(self._manifest_path(table, name), io.BytesIO(json.dumps(manifest).encode()))
        return {"table": table.value, "name": name, "rows": rows[0], "size": size, "time": moment}

    def _encoded(self, table: Table, rows: list[int], sha, on_progress) -> Iterator[bytes]:
        done = [0]

        def counted() -> Iterator[Sequence[tuple]]:
            for chunk in self._source.chunks(table, self._chunk_size):
                rows[0] += len(chunk)
                yield chunk
                if on_progress:
                    on_progress(Progress(table.value, rows[0], done[0], None))

        for piece in self._codec.encode(table, counted()):
            sha.update(piece)
            done[0] += len(piece)
            yield piece

    def _new_name(self, table: Table) -> tuple[str, str]:
        taken = {b.name.rsplit("/", 1)[-1] for b in self._blobs.list(f"{PREFIX}/{table.value}/")}
        moment = self._clock().replace(tzinfo=None)
        while (name := f"{moment.strftime(_STAMP)}.avro") in taken:
            moment += timedelta(microseconds=1)
        return name, moment.isoformat(timespec="microseconds") + "Z"

    @staticmethod
    def _manifest_path(table: Table, name: str) -> str:
        return f"{PREFIX}/{table.value}/{name.removesuffix('.avro')}.json"

    # list -----------------------------------------------------------------------------------------

    def list(self) -> dict[str, list[dict[str, Any]]]:
        """Every table's backups, newest first: name, rows (None when it has no manifest), size, time."""
        found: dict[str, list[dict[str, Any]]] = {t.value: [] for t in LOAD_ORDER}
        blobs = self._blobs.list(f"{PREFIX}/")
        names = {b.name for b in blobs}
        for blob in blobs:
            parts = blob.name.split("/")
            if len(parts) != 3 or parts[1] not in found or not (match := _NAME.fullmatch(parts[2])):
                continue
            table = Table(parts[1])
            manifest_path = self._manifest_path(table, parts[2])
            manifest = self._manifest(manifest_path) if manifest_path in names else None
            found[table.value].append({
                "name": parts[2], "rows": manifest.get("rows") if manifest else None, "size": blob.size,
                "time": _stamp_time(match["stamp"]).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z",
            })
        for backups in found.values():
            backups.sort(key=lambda b: b["name"], reverse=True)
        return found

    def _manifest(self, path: str) -> dict[str, Any] | None:
        try:
            with self._blobs.open(path) as stream:
                manifest = json.loads(stream.read(1 << 16).decode("utf-8"))
        except NotFound:
            return None
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise CorruptBackup(f"the manifest {path} cannot be read: {error}") from None
        return manifest if isinstance(manifest, dict) else None

    # restore --------------------------------------------------------------------------------------

    def restore(self, table: Table | str, backup: str | None = None, with_dependants: bool = False,
                task_id: str | None = None, on_progress: ProgressCallback | None = None) -> dict[str, Any]:
        """Replaces the table with a backup (the latest when none is named), atomically.

        Raises NotFound (no such backup), InvalidRequest (a name that is not a backup name),
        Conflict (rows of other tables point at ids the backup lacks) and CorruptBackup."""
        table = Table.from_name(table)
        task_id = task_id or f"restore-{uuid.uuid4().hex}"
        plan = [self._find(table, backup)]
        children = dependants(table)
        if with_dependants:
            plan += [self._find(child, None, dependant_of=table) for child in children]
        referenced = self._replacer.referenced_ids(table) if children and not with_dependants else set()
        known = _KnownIds(self._parents)
        fills = [(s.table, self._batches(s, task_id, known, referenced if s is plan[0] else set(), on_progress))
                 for s in plan]
        self._replacer.replace(fills)
        first, *rest = (self._outcome(s) for s in plan)
        return {**first, "task_id": task_id, "dependants": rest}

    def check_restore(self, table: Table | str, backup: str | None = None,
                      with_dependants: bool = False) -> dict[str, Any]:
        """What restore() would use, checked before it is queued, so a route can answer 404, 422 or 409
        at once. Reads a parent table's backup (a small one) to compare its ids with those that other
        rows point at; restore() checks again in its transaction, as the data may change meanwhile."""
        table = Table.from_name(table)
        plan = [self._find(table, backup)]
        if with_dependants:
            plan += [self._find(child, None, dependant_of=table) for child in dependants(table)]
        elif dependants(table) and (referenced := self._replacer.referenced_ids(table)):
            self._refuse_orphans(plan[0], referenced - self._valid_ids(plan[0]))
        return {"table": table.value, "backup": plan[0].name,
                "dependants": [{"table": s.table.value, "backup": s.name} for s in plan[1:]]}

    def _valid_ids(self, source: _Source) -> set[int]:
        """The ids of the backup's rows that keep to the rules (a parent table has no foreign keys)."""
        rules, ids = RULES[source.table], set()
        with self._blobs.open(source.path) as stream:
            for chunk in self._codec.decode(source.table, stream, self._chunk_size):
                for data in chunk:
                    values, reasons = check_fields(rules, [_text(data.get(name)) for name in rules.names])
                    if not reasons:
                        ids.add(values[0])
        return ids

    @staticmethod
    def _outcome(source: _Source) -> dict[str, Any]:
        return {"table": source.table.value, "backup": source.name, "rows": source.rows,
                "rejected": source.rejected}

    def _find(self, table: Table, name: str | None, dependant_of: Table | None = None) -> _Source:
        prefix = f"{PREFIX}/{table.value}/"
        blobs = {b.name[len(prefix):]: b for b in self._blobs.list(prefix)}
        if name is None:
            names = sorted(n for n in blobs if _NAME.fullmatch(n))
            if not names:
                why = f" to restore the dependants of {dependant_of.value} from" if dependant_of else ""
                raise NotFound(f"there is no backup of {table.value}{why}")
            name = names[-1]
        name = _check_name(name)
        if name not in blobs:
            raise NotFound(f"there is no backup '{name}' of {table.value}")
        manifest_path = self._manifest_path(table, name)
        manifest = self._manifest(manifest_path) if manifest_path[len(prefix):] in blobs else None
        return _Source(table, name, manifest, blobs[name].size)

    def _batches(self, source: _Source, task_id: str, known: _KnownIds, referenced: set[int],
                 on_progress: ProgressCallback | None) -> Iterator[RestoreBatch]:
        names = RULES[source.table].names
        validator = BatchValidator(source.table, source.path, task_id, known, self._clock)
        restored = known.restoring.setdefault(source.table, set()) if dependants(source.table) else None
        with self._blobs.open(source.path) as raw:
            stream = HashingReader(raw)
            for chunk in self._codec.decode(source.table, stream, self._chunk_size):
                first = source.read + 1
                checked = validator.check([Record(first + i, "", [_text(data.get(name)) for name in names])
                                           for i, data in enumerate(chunk)])
                rejections = [r.with_raw(_raw(chunk[r.line_number - first])) for r in checked.rejections]
                source.read += len(chunk)
                source.rejected += len(rejections)
                if restored is not None:
                    restored.update(row[0] for row in checked.rows)
                yield RestoreBatch(checked.rows, rejections)
                if on_progress:
                    on_progress(Progress(source.table.value, source.read, stream.bytes_read, source.size))
            stream.drain()
        source.verify(stream)
        self._refuse_orphans(source, referenced - (restored or set()))

    @staticmethod
    def _refuse_orphans(source: _Source, missing: set[int]) -> None:
        if not missing:
            return
        shown = ", ".join(str(i) for i in sorted(missing)[:_SHOWN_IDS])
        more = f" and {len(missing) - _SHOWN_IDS} more" if len(missing) > _SHOWN_IDS else ""
        children = ", ".join(t.value for t in dependants(source.table))
        raise Conflict(
            f"cannot restore {source.table.value} from {source.name}: {children} rows point at "
            f"{len(missing)} {source.table.value} ids the backup lacks ({shown}{more}); restore with "
            f"with_dependants to restore {children} from its latest backup as well. Nothing was restored")
