"""How the server's garbage collector runs.

Python's cyclic collector starts a young collection once 700 more container objects were made
than freed. A server with dozens of requests in flight crosses that many times a second, and
each collection moves what those requests hold at that moment to an older generation; from
there it adds up to a full collection, which walked every object of the program (the app, its
libraries, the models and the decoded scoring states): 80–115 ms with every request waiting,
five times in ten seconds of load, 12–15 µs a request on average (docs/benchmarks.md).

So, while the server runs:
- what start-up made is frozen (`gc.freeze`): full collections skip it, since it lives as long
  as the server does;
- a young collection waits for `gc_threshold` objects instead of 700. A request frees what
  it made by reference counting; only cycles wait for the collector, and a few thousand objects
  more in memory cost far less than the collections.
On shutdown both are undone, so a process that goes on (tests, an embedding program) collects
as before.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def serving(threshold: int) -> Iterator[None]:
    """Collect garbage as a long-running server should, for the duration of the block."""
    before = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(threshold, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
