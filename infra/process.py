"""What a long-lived worker process does once it has started."""
from __future__ import annotations

import gc


def freeze_start_up_heap() -> None:
    """Takes every object alive after start-up (modules, the app, the services) out of the collector's
    sight for good. A load makes millions of short-lived objects, which set off many full collections,
    and each walked that whole heap again (Documentation/benchmarks.md has what it cost). Garbage is
    collected first, so that none of it is kept."""
    gc.collect()
    gc.freeze()
