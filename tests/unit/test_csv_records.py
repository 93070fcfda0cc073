"""Reading CSV bytes into records: encodings, line endings, quoting, and lines that cannot be read."""
from __future__ import annotations

import io

from core.csv_records import CsvRecords, DataBatches


def records(data: bytes, **options) -> list[tuple[int, str, list[str], str | None]]:
    return [(r.line_number, r.raw, r.fields, r.problem) for r in CsvRecords(io.BytesIO(data), **options)]


def test_lf_lines_give_one_record_each_with_line_numbers():
    assert records(b"1,Sales\n2,Legal\n") == [(1, "1,Sales", ["1", "Sales"], None),
                                              (2, "2,Legal", ["2", "Legal"], None)]


def test_utf8_bom_is_not_part_of_the_first_field():
    assert records("\ufeff1,Café\n".encode()) == [(1, "1,Café", ["1", "Café"], None)]


def test_crlf_line_endings_are_not_part_of_fields_or_raw_text():
    assert records(b"1,Sales\r\n2,Legal\r\n") == [(1, "1,Sales", ["1", "Sales"], None),
                                                  (2, "2,Legal", ["2", "Legal"], None)]


def test_last_line_without_newline_is_read():
    assert records(b"1,Sales\n2,Legal") == [(1, "1,Sales", ["1", "Sales"], None),
                                           (2, "2,Legal", ["2", "Legal"], None)]


def test_quoted_field_may_hold_commas_and_doubled_quotes():
    [(_, raw, fields, problem)] = records(b'1,"Sales, ""North"" region"\n')
    assert fields == ["1", 'Sales, "North" region']
    assert raw == '1,"Sales, ""North"" region"'
    assert problem is None


def test_quoted_field_spanning_two_lines_is_one_record_numbered_by_its_first_line():
    got = records(b'1,Sales\n2,"Research\nand Development"\n3,Legal\n')
    assert got == [(1, "1,Sales", ["1", "Sales"], None),
                   (2, '2,"Research\nand Development"', ["2", "Research\nand Development"], None),
                   (4, "3,Legal", ["3", "Legal"], None)]


def test_invalid_utf8_line_is_named_and_the_lines_around_it_are_read():
    got = records(b"1,Sales\n2,Caf\xe9\n3,Legal\n")
    assert got[0] == (1, "1,Sales", ["1", "Sales"], None)
    assert got[1][0] == 2 and got[1][3] == "line is not valid UTF-8 (byte 5)"
    assert got[1][1] == "2,Caf\udce9"  # the byte 0xE9, kept as surrogateescape keeps it
    assert got[2] == (3, "3,Legal", ["3", "Legal"], None)


def test_line_longer_than_the_limit_is_named_and_skipped_to_its_end():
    long_line = b"2," + b"x" * 100 + b"\n"
    got = records(b"1,Sales\n" + long_line + b"3,Legal\n", max_line_bytes=50)
    assert got[0] == (1, "1,Sales", ["1", "Sales"], None)
    assert got[1][0] == 2 and got[1][3] == "line is longer than 50 bytes; the log keeps its first 200 bytes"
    assert got[1][1].startswith("2,xxx") and len(got[1][1]) <= 200
    assert got[2] == (3, "3,Legal", ["3", "Legal"], None)


def test_line_exactly_at_the_limit_is_read():
    line = b"1," + b"x" * 48  # 50 bytes before the newline
    assert records(line + b"\n", max_line_bytes=50) == [(1, line.decode(), ["1", "x" * 48], None)]


def test_quote_in_a_too_long_line_does_not_swallow_the_next_lines():
    long_line = b'2,"' + b"x" * 100 + b'",end\n'
    got = records(long_line + b"3,Legal\n4,Sales\n", max_line_bytes=50)
    assert [(line, problem) for line, _, _, problem in got] == [
        (1, "line is longer than 50 bytes; the log keeps its first 200 bytes"), (2, None), (3, None)]
    assert got[1][2] == ["3", "Legal"]


def test_broken_quoting_is_a_record_with_a_problem_and_reading_goes_on():
    got = records(b'1,"Sales"x\n2,Legal\n')
    assert got[0][0] == 1 and got[0][2] == []
    assert got[0][3].startswith("not valid CSV:")
    assert got[1] == (2, "2,Legal", ["2", "Legal"], None)


def test_quote_never_closed_makes_the_rest_one_rejected_record():
    got = records(b'1,Sales\n2,"Legal\n3,Services\n')
    assert got[1][0] == 2 and got[1][3].startswith("not valid CSV:")
    assert got[1][1] == '2,"Legal\n3,Services'


def test_bytes_read_counts_every_byte_including_the_bom():
    data = "\ufeff1,Sales\r\n2,Legal\n".encode()
    reader = CsvRecords(io.BytesIO(data))
    list(reader)
    assert reader.bytes_read == len(data)


def test_bytes_read_counts_the_skipped_part_of_a_long_line():
    data = b"1," + b"x" * 500 + b"\n2,Legal\n"
    reader = CsvRecords(io.BytesIO(data), max_line_bytes=50)
    list(reader)
    assert reader.bytes_read == len(data)


def test_blank_line_is_a_record_without_fields():
    assert records(b"1,Sales\n\n2,Legal\n")[1] == (2, "", [], None)


def _batches(body: bytes, size: int, **options) -> tuple[list[list[int]], bool]:
    batches = DataBatches(CsvRecords(io.BytesIO(body)).runs(), size, **options)
    return [[record.line_number for record in batch] for batch in batches], batches.header_skipped


def test_data_batches_pass_over_blank_lines_and_a_first_header_only():
    body = b"\n  \nid,name\n1,a\n\n2,b\nid,again\n3,c\n"
    assert _batches(body, 2) == ([[4, 6], [7, 8]], True)  # a later header-like row is data (and rejected)
    assert _batches(body, 2, header_possible=False) == ([[3, 4], [6, 7], [8]], False)


def test_data_batches_take_a_slice_across_runs():
    body = b"".join(b"%d,x\n" % n for n in range(1, 11)) + b'11,"q"\n12,x\n'  # a quote: a run of its own
    assert _batches(body, 4, start=3, limit=8) == ([[4, 5, 6, 7], [8, 9, 10, 11]], False)
    assert _batches(body, 5, start=10) == ([[11, 12]], False)
