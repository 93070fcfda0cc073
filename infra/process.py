"""What a process that runs loads (a worker's pool process, `flask load`) does before its first one."""
from __future__ import annotations

import gc

# The young generation is collected after this many new objects instead of Python's 700.
_YOUNG_COLLECTION_EVERY = 50_000


def settle_heap_for_loads() -> None:
    """Takes every object alive so far (modules, the app, the services) out of the collector's sight for
    good, and has the collector run less often. A load makes millions of short-lived objects: each batch's
    rows live until it is committed, a few batches at a time, and form no cycles. Every collection walked
    them, and a full one the whole heap besides (Documentation/benchmarks.md has what each cost). Garbage
    is collected first, so that none of it is kept."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(_YOUNG_COLLECTION_EVERY, *gc.get_threshold()[1:])
