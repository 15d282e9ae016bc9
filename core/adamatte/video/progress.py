"""Progress reporting for long renders: a terminal bar, JSON lines for hosts and farms, or nothing.

JSON events, one object per line on stdout:
  {"event": "start", "frames": N, "first": F, "last": L, "output": ...}
  {"event": "frame", "frame": F, "done": k, "total": N, "seconds": s, "written": true}
  {"event": "warning", "frame": F, "message": ...}
  {"event": "done", "frames": k, "seconds": s}  or  {"event": "error", "message": ..., "exit_code": c}
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any, TextIO

from tqdm import tqdm

from adamatte.params import check


class Progress:
    def __init__(self, mode: str = "bar", stream: TextIO | None = None):
        check({"progress": mode})
        self.mode = mode
        self.stream = stream or sys.stdout
        self.bar: tqdm | None = None
        self.started = time.perf_counter()
        self.done = 0

    def _emit(self, **event: Any) -> None:
        if self.mode == "json":
            self.stream.write(json.dumps(event) + "\n")
            self.stream.flush()

    def start(self, total: int, **info: Any) -> None:
        self.started = time.perf_counter()
        self._emit(event="start", frames=total, **info)
        if self.mode == "bar":
            self.bar = tqdm(total=total, unit="frame", desc="matte", file=sys.stderr)

    def frame(self, frame: int, seconds: float, total: int, written: bool = True) -> None:
        self.done += 1
        self._emit(event="frame", frame=frame, done=self.done, total=total, seconds=round(seconds, 4), written=written)
        if self.bar is not None:
            self.bar.set_postfix(frame=frame, s=f"{seconds:.2f}")
            self.bar.update(1)

    def warning(self, frame: int | None, message: str) -> None:
        self._emit(event="warning", frame=frame, message=message)
        if self.mode != "json":
            (self.bar.write if self.bar is not None else lambda m: print(m, file=sys.stderr))(f"adamatte: warning: {message}")

    def finish(self, **info: Any) -> None:
        if self.bar is not None:
            self.bar.close()
        self._emit(event="done", frames=self.done, seconds=round(time.perf_counter() - self.started, 3), **info)

    def error(self, message: str, exit_code: int) -> None:
        if self.bar is not None:
            self.bar.close()
        self._emit(event="error", message=message, exit_code=exit_code)
