"""POST /batch: up to 1000 rows from one request, validated and inserted at once, every rejection told."""
from __future__ import annotations

import io
import json
from typing import Any, Callable

from core.csv_records import DataBatches, Record
from core.dialects import ReadOptions, detect
from core.errors import InvalidRequest
from core.ports import BatchWrite, LoadStore
from core.resolutions import resolutions
from core.validation import BatchValidator
from domain.log_text import json_line
from domain.rules import RULES, TableRules
from domain.tables import Table

SOURCE = "request"


def _text(value: str | int | float | None) -> str:
    """A JSON value as the CSV field it stands for: null is a missing field, a number its digits."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def _not_scalar(value: Any) -> bool:
    return isinstance(value, (dict, list, bool))


def record_from_object(rules: TableRules, index: int, item: Any) -> Record:
    raw = json_line(item)
    if not isinstance(item, dict):
        return Record(index + 1, raw, [], f"row must be a JSON object with the fields {', '.join(rules.names)}")
    unknown = sorted(set(item) - set(rules.names))
    if unknown:
        return Record(index + 1, raw, [], f"unknown fields: {', '.join(map(str, unknown))}")
    wrong = [name for name in rules.names if _not_scalar(item.get(name))]
    if wrong:
        return Record(index + 1, raw, [], f"fields must be strings or numbers, not objects, arrays or booleans: "
                                          f"{', '.join(wrong)}")
    return Record(index + 1, raw, [_text(item.get(name)) for name in rules.names])


class BatchInsert:
    def __init__(self, store: LoadStore, clock: Callable, new_id: Callable[[], str], max_rows: int = 1000) -> None:
        self._store = store
        self._clock = clock
        self._new_id = new_id
        self.max_rows = max_rows

    def insert_objects(self, table: Table, items: Any) -> dict[str, Any]:
        if not isinstance(items, list):
            raise InvalidRequest("the body must be a JSON array of row objects")
        self._check_count(len(items))
        rules = RULES[table]
        return self._insert(table, [record_from_object(rules, i, item) for i, item in enumerate(items)])

    def insert_csv(self, table: Table, body: bytes, charset: str | None = None) -> dict[str, Any]:
        """A CSV body in any dialect a file may have (core.dialects); `charset` as Content-Type names it."""
        dialect = detect(body, table, ReadOptions.parse(None, charset), whole=True)
        runs = dialect.runs(dialect.records(io.BytesIO(body)))
        records = next(iter(DataBatches(runs, self.max_rows + 1)), [])
        self._check_count(len(records))
        return self._insert(table, records)

    def _check_count(self, count: int) -> None:
        if not 1 <= count <= self.max_rows:
            raise InvalidRequest(f"a batch holds 1 to {self.max_rows} rows; this one has {count}")

    def _insert(self, table: Table, records: list[Record]) -> dict[str, Any]:
        request_id = self._new_id()
        checked = BatchValidator(table, SOURCE, request_id, self._store, self._clock).check(records)
        summary = self._store.commit_batch(BatchWrite(table, request_id, 1, len(records), checked.rows,
                                                      checked.rejections, resolves=resolutions(records, checked)))
        index_of_line = {r.line_number: i for i, r in enumerate(records)}
        result = summary.as_dict()
        del result["batch"]
        return {
            "table": table.value,
            "request_id": request_id,
            **result,
            "rejected": [
                {"index": index_of_line[r.line_number], "line": r.line_number, "id": r.row_id,
                 "reasons": list(r.reasons), "raw": r.raw}
                for r in checked.rejections
            ],
        }
