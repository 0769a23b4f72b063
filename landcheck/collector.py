"""Python's cyclic garbage collector paused while many short-lived containers are made."""

from __future__ import annotations

import contextlib
import gc
import threading

__all__ = ["cyclic_gc_paused"]


_GC_LOCK = threading.Lock()


_GC_USERS = [0, False]  # calls inside, and whether the collector was enabled before the first


@contextlib.contextmanager
def cyclic_gc_paused():
    """Pause Python's cyclic garbage collector while facts are computed.

    The overlay allocates a few container objects per pair (lists, tuples, geometry
    wrappers), which triggers full collections that walk every live object — millions when a
    province's layers are loaded — and find next to nothing: reference counting frees the
    overlay's objects at once. The collector is re-enabled (if it was enabled) when the last
    concurrent call leaves — threads of the local engine share one pause.

    What was allocated during the pause and is still alive (the results: facts, lists of
    ids, geometries) would all sit in the youngest generation, and the first allocation
    after the pause would walk them all. They are moved to
    the oldest generation instead (``gc.freeze`` then ``gc.unfreeze``), where the collector
    looks only when it runs a full collection; the few cycles pandas leaves are freed then.
    That is skipped when the process has frozen objects of its own (``gc.freeze`` used by
    a pre-forking server): unfreezing would release them.
    """
    with _GC_LOCK:
        if _GC_USERS[0] == 0:
            _GC_USERS[1] = gc.isenabled()
            gc.disable()
        _GC_USERS[0] += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _GC_USERS[0] -= 1
            if _GC_USERS[0] == 0 and _GC_USERS[1]:
                if gc.get_freeze_count() == 0:
                    gc.freeze()
                    gc.unfreeze()
                gc.enable()
