"""Ctrl-C around native calls that run their own Python worker threads.

scipy's k-d tree queries with `workers=-1` start threads that write into the result arrays and then
join them. A KeyboardInterrupt raised during that join leaves the threads running while the arrays
are freed, and the process dies of a segfault instead of exiting 130. Such calls run inside
`uninterrupted()`, which holds Ctrl-C back until they return."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def uninterrupted() -> Iterator[None]:
    """Hold SIGINT back for the duration of the block, then deliver it to the previous handler.

    Only the main thread receives signals, so elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:
            signal.raise_signal(signal.SIGINT)  # whatever the previous handler does: raise, ignore, or end the process
