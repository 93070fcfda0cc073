"""Reports rendered as CSV are safe to open in a spreadsheet."""
from __future__ import annotations

from api.render import to_csv


def test_text_a_spreadsheet_would_run_as_a_formula_is_kept_as_text():
    rows = [{"id": 1, "department": '=HYPERLINK("http://x","y")', "hired": 3},
            {"id": 2, "department": "@SUM(A1)", "hired": -4},
            {"id": 3, "department": "+1", "hired": 0},
            {"id": 4, "department": "-x", "hired": 1},
            {"id": 5, "department": "Sales - East", "hired": 2}]
    assert to_csv(rows, ("id", "department", "hired")).splitlines() == [
        "id,department,hired",
        '1,"\'=HYPERLINK(""http://x"",""y"")",3',
        "2,'@SUM(A1),-4",
        "3,'+1,0",
        "4,'-x,1",
        "5,Sales - East,2",
    ]
