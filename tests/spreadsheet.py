"""A CSV file as a spreadsheet saves it: another separator, another encoding, the columns in another order."""
from __future__ import annotations

import csv
import io


def resaved(plain: bytes, order: list[str], delimiter: str = ";", encoding: str = "cp1252",
            header: list[str] | None = None) -> bytes:
    """The rows of a plain file (UTF-8, commas, the table's order, a header naming the columns first) written
    again in `order`, with `delimiter` and `encoding`; a line that does not read as one record is kept as
    it is, encoded again. `header` replaces the header's cells (to change their case or spacing)."""
    lines = plain.decode("utf-8").split("\n")
    names = next(csv.reader([lines[0]]))
    at = [names.index(name) for name in order]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header or order)
    body = lines[1:-1] if lines[-1] == "" else lines[1:]
    for line in body:
        cells = next(csv.reader([line]), [])
        if not line.strip():
            out.write(line + "\n")
        else:
            writer.writerow([cells[i] for i in at] if len(cells) == len(names) else cells)
    return out.getvalue().encode(encoding)
