"""What a process that runs loads (a worker's pool process, `flask load`) does before its first one."""
from __future__ import annotations

import gc
import sys

# The young generation is collected after this many new objects instead of Python's 700.
_YOUNG_COLLECTION_EVERY = 50_000
# Seconds a thread that holds the interpreter runs on once another asks for it (Python's default: 0.005).
_SWITCH_INTERVAL = 0.0002


def settle_process_for_loads() -> None:
    """Readies the interpreter for loads: its heap, then how soon its threads take turns."""
    settle_heap()
    # A load's commit threads spend their time waiting on the database, and each time an answer comes they
    # ask for the interpreter back, which the thread validating the next batches holds all along (pure
    # Python) and gives up only after the switch interval. At the default every answer to every batch in
    # flight waited that long, and the server sat idle meanwhile (Documentation/benchmarks.md).
    sys.setswitchinterval(_SWITCH_INTERVAL)


def settle_heap() -> None:
    """Takes every object alive so far (modules, the app, the services) out of the collector's sight for
    good, and has the collector run less often. A load makes millions of short-lived objects: each batch's
    rows live until it is committed, a few batches at a time, and form no cycles. Every collection walked
    them, and a full one the whole heap besides (Documentation/benchmarks.md has what each cost). Garbage
    is collected first, so that none of it is kept."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(_YOUNG_COLLECTION_EVERY, *gc.get_threshold()[1:])
