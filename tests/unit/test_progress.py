"""Progress figures thinned out in time: the first passed on at once, then one per interval, the last on flush."""
from __future__ import annotations

from core.progress import Progress, ThrottledProgress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def figures(rows: int) -> Progress:
    return Progress("hired_employees", rows, rows * 50, 1_000_000)


def test_the_first_figure_goes_at_once_and_the_rest_once_an_interval_has_passed():
    written, clock = [], Clock()
    progress = ThrottledProgress(written.append, 0.25, clock)
    progress(figures(1000))
    clock.now += 0.125
    progress(figures(2000))
    clock.now += 0.0625
    progress(figures(3000))
    assert [p.rows_done for p in written] == [1000]
    clock.now += 0.0625  # 0.25 s after the first write
    progress(figures(4000))
    assert [p.rows_done for p in written] == [1000, 4000]


def test_flush_passes_on_the_last_figure_held_back_once_and_nothing_when_none_is():
    written, clock = [], Clock()
    progress = ThrottledProgress(written.append, 0.25, clock)
    progress.flush()
    assert written == []
    for rows in (1000, 2000, 3000):
        progress(figures(rows))
    progress.flush()
    progress.flush()
    assert [p.rows_done for p in written] == [1000, 3000]
    clock.now += 1
    progress(figures(4000))  # a figure after a flush, the interval passed: at once
    assert [p.rows_done for p in written] == [1000, 3000, 4000]
