"""Which logged rejections a batch's valid rows may fix: the rows that carry a rejection's id."""
from __future__ import annotations

from typing import Sequence

from core.csv_records import Record
from core.header_mapping import MappedRecord
from core.ports import Resolution
from core.validation import CheckedBatch


def resolutions(records: Sequence[Record], checked: CheckedBatch) -> list[Resolution]:
    """Each valid row of the batch whose record names a logged rejection, with that rejection's id.

    The valid rows are the records the validator did not reject, in order (line numbers are unique in a batch)."""
    if MappedRecord not in set(map(type, records)):  # no record of this batch could name one
        return []
    rejected = {rejection.line_number for rejection in checked.rejections}
    taken = [record for record in records if record.line_number not in rejected]
    return [Resolution(record.rejection_id, row) for record, row in zip(taken, checked.rows)
            if record.rejection_id is not None]
