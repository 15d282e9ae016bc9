"""Overlapping I/O with compute: a bounded read-ahead thread and a write-behind thread.

OpenImageIO and NumPy release the GIL while they decode, encode and copy, so one reader and
one writer thread keep the disk busy while the main thread computes.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
_DONE = object()


class ReadAhead(Iterator[tuple[int, T]]):
    """Iterates (frame, read(frame)) while up to `depth` later frames are already being read.

    An exception raised by `read` surfaces at that frame's turn, so frames before it are kept.
    """

    def __init__(self, read: Callable[[int], T], frames: Iterable[int], depth: int = 3):
        self._queue: queue.Queue = queue.Queue(maxsize=max(depth, 1))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(read, list(frames)), name="adamatte-read", daemon=True)
        self._thread.start()

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, read: Callable[[int], T], frames: list[int]) -> None:
        for frame in frames:
            try:
                item = (frame, read(frame), None)
            except BaseException as exc:  # handed to the consumer, which decides
                item = (frame, None, exc)
            if not self._put(item) or item[2] is not None:
                return
        self._put(_DONE)

    def __next__(self) -> tuple[int, T]:
        item = self._queue.get()
        if item is _DONE:
            raise StopIteration
        frame, value, error = item
        if error is not None:
            self.close()
            raise error
        return frame, value

    def close(self) -> None:
        self._stop.set()
        self._thread.join()

    def __enter__(self) -> "ReadAhead[T]":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class WriteBehind:
    """Runs write jobs in order on one background thread, holding at most `depth` pending.

    The first failure is raised on the next `submit` or on `close`; later jobs are dropped.
    """

    def __init__(self, depth: int = 3):
        self._queue: queue.Queue = queue.Queue(maxsize=max(depth, 1))
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="adamatte-write", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is _DONE:
                return
            if self._error is None:
                fn, args, kwargs = job
                try:
                    fn(*args, **kwargs)
                except BaseException as exc:
                    self._error = exc

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self._raise()
        self._queue.put((fn, args, kwargs))

    def close(self) -> None:
        """Wait for every pending write, then raise the first failure, if any."""
        if self._thread.is_alive():
            self._queue.put(_DONE)
            self._thread.join()
        self._raise()

    def __enter__(self) -> "WriteBehind":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
