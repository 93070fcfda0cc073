"""When a process that runs threads may fork: a lock another thread holds at the fork stays held in the child for
good, and a statement it has half sent is half sent there too. A thread that may run beside a fork says so
(fork_safe_thread) and holds FORK_LOCK while it does anything a child must not inherit half done; the
fork is made holding FORK_LOCK too. Any other thread alive makes may_fork() false."""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from typing import Iterator

CAN_FORK = hasattr(os, "fork")
FORK_LOCK = threading.Lock()
_fork_safe: set[int] = set()  # idents of the threads that hold FORK_LOCK whenever they work


@contextmanager
def fork_safe_thread() -> Iterator[None]:
    """For the thread's whole body: between the stretches it runs holding FORK_LOCK, it only waits."""
    _fork_safe.add(threading.get_ident())
    try:
        yield
    finally:
        _fork_safe.discard(threading.get_ident())


def may_fork() -> bool:
    """Whether this thread may fork now (holding FORK_LOCK): every other thread alive is fork-safe."""
    return CAN_FORK and not threads_in_the_way()


def threads_in_the_way() -> list[str]:
    """The names of the other threads alive that are not fork-safe."""
    me = threading.get_ident()
    return [thread.name for thread in threading.enumerate() if thread.ident not in (me, *_fork_safe)]
