"""The ids taken in one input: a bitmap for ordinary ids, a set beyond it."""
from __future__ import annotations

import pytest

from core.seen_ids import _BITMAP_LIMIT, SeenIds
from domain.rules import MAX_ID


def test_first_add_takes_the_id_and_the_second_says_it_was_taken():
    seen = SeenIds()
    assert seen.add(7) is True
    assert seen.add(7) is False


def test_neighbouring_ids_in_one_byte_are_told_apart():
    seen = SeenIds()
    assert [seen.add(i) for i in range(1, 17)] == [True] * 16
    assert [seen.add(i) for i in range(1, 17)] == [False] * 16
    assert seen.add(17) is True


def test_ids_growing_out_of_order_keep_the_earlier_ones():
    seen = SeenIds()
    for id_ in (5, 1_000_000, 3, 70_000, 1):
        assert seen.add(id_)
    for id_ in (5, 1_000_000, 3, 70_000, 1):
        assert not seen.add(id_)
    assert seen.add(4) and seen.add(999_999)


@pytest.mark.parametrize("id_", [_BITMAP_LIMIT - 1, _BITMAP_LIMIT, _BITMAP_LIMIT + 1, MAX_ID])
def test_ids_at_and_beyond_the_bitmap_are_remembered(id_):
    seen = SeenIds()
    assert seen.add(id_) and not seen.add(id_)
    assert seen.add(id_ - 1) and seen.add(id_ + 1)


def test_large_ids_do_not_grow_the_bitmap():
    seen = SeenIds()
    seen.add(MAX_ID)
    seen.add(_BITMAP_LIMIT)
    assert len(seen._bits) == 0


def test_contains_tells_without_taking():
    seen = SeenIds()
    seen.add(5)
    seen.add(1 << 40)
    assert 5 in seen and (1 << 40) in seen
    assert 6 not in seen and (1 << 41) not in seen and 10**6 not in seen
    assert seen.add(6)  # asking did not take it


def test_seen_ids_travel_as_bytes_and_merge():
    first, second = SeenIds(), SeenIds()
    for id_ in (1, 9, 1 << 40):
        first.add(id_)
    for id_ in (2, 70_000, 1 << 41):
        second.add(id_)
    merged = SeenIds.from_bytes(first.to_bytes())
    merged.update(SeenIds.from_bytes(second.to_bytes()))
    assert all(id_ in merged for id_ in (1, 2, 9, 70_000, 1 << 40, 1 << 41))
    assert not any(id_ in merged for id_ in (3, 69_999, 1 << 42))
    assert len(SeenIds.from_bytes(SeenIds().to_bytes()).to_bytes()) < 20


def test_count_not_in_counts_the_ids_the_other_has_not_taken():
    mine, theirs = SeenIds(), SeenIds()
    for id_ in (1, 2, 3, 500, 1 << 40):
        mine.add(id_)
    for id_ in (2, 500, 9_000, 1 << 41):
        theirs.add(id_)
    assert mine.count_not_in(theirs) == 3  # 1, 3 and 2**40
    assert theirs.count_not_in(mine) == 2
    assert mine.count_not_in(SeenIds()) == 5 and SeenIds().count_not_in(mine) == 0


def test_a_batch_of_new_distinct_ids_is_taken_at_once():
    seen = SeenIds()
    assert seen.add_new([3, 1, 2, _BITMAP_LIMIT + 5])
    assert all(id_ in seen for id_ in (1, 2, 3, _BITMAP_LIMIT + 5))
    assert seen.add_new([])


@pytest.mark.parametrize("ids", [[4, 5, 4], [9, 1], [_BITMAP_LIMIT + 1, 6], [7, _BITMAP_LIMIT + 2, 7]])
def test_a_batch_that_repeats_an_id_or_meets_a_taken_one_takes_none(ids):
    seen = SeenIds()
    assert seen.add(1) and seen.add(_BITMAP_LIMIT + 1)
    assert not seen.add_new(ids)
    assert [id_ in seen for id_ in ids if id_ not in (1, _BITMAP_LIMIT + 1)] == [False] * len(
        [id_ for id_ in ids if id_ not in (1, _BITMAP_LIMIT + 1)])
