"""Who may write a render's frames: one lock file per frame, so two renders never interleave.

    .adamatte/matte.1001.lock     {"owner": ..., "host": ..., "pid": ...}, created exclusively
    .adamatte/<owner>.alive       the owner's heartbeat, touched every HEARTBEAT_S while it renders

A render claims every frame it will write before it starts, and lets them go when it ends (also on
an error or Ctrl-C). Farm chunks of one job cover disjoint ranges, so they never meet. A lock whose
owner is gone (a dead process on this host, or a heartbeat older than STALE_AFTER_S from any host)
is stale: a retry takes it over.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid

from adamatte.errors import InputError
from adamatte.io.sink import FrameSink
from adamatte.video.state import sidecar_path

HEARTBEAT_S = 10.0
STALE_AFTER_S = 60.0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


class FrameLocks:
    """An exclusive claim on `frames` of `sink`'s output, for the life of one render: acquire() / release(),
    or a context manager."""

    def __init__(self, sink: FrameSink, frames: list[int]):
        self.sink, self.frames = sink, frames
        self.owner = uuid.uuid4().hex[:16]
        self.host, self.pid = socket.gethostname(), os.getpid()
        self.folder = os.path.dirname(sidecar_path(sink, frames[0], "lock")) if frames else ""
        self.heartbeat = os.path.join(self.folder, f"{self.owner}.alive")
        self.held: list[str] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> FrameLocks:
        self.acquire()
        return self

    def __exit__(self, *_: object) -> None:
        self.release()

    def acquire(self) -> None:
        """Claim every frame, or none: InputError (exit 2) naming the first frame another live render holds."""
        if not self.frames:
            return
        os.makedirs(self.folder, exist_ok=True)
        self._beat()
        self._thread = threading.Thread(target=self._keep_beating, name="adamatte-heartbeat", daemon=True)
        self._thread.start()
        try:
            for frame in self.frames:
                self._claim(frame)
        except BaseException:
            self.release()
            raise

    def release(self) -> None:
        """Let every claimed frame go (safe to call more than once)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        for path in self.held:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        self.held = []
        try:
            os.unlink(self.heartbeat)
        except FileNotFoundError:
            pass

    def _beat(self) -> None:
        with open(self.heartbeat, "w") as fh:
            fh.write(json.dumps({"host": self.host, "pid": self.pid}))

    def _keep_beating(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            try:
                os.utime(self.heartbeat)
            except OSError:
                self._beat()

    def _claim(self, frame: int) -> None:
        path = sidecar_path(self.sink, frame, "lock")
        record = json.dumps({"owner": self.owner, "host": self.host, "pid": self.pid}).encode()
        for attempt in range(2):
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._holder(path)
                if attempt == 0 and holder is None:  # stale: its owner is gone
                    try:
                        os.unlink(path)
                    except FileNotFoundError:
                        pass
                    continue
                who = f"{holder.get('host', '?')} pid {holder.get('pid', '?')}" if holder else "another render"
                raise InputError(f"another render ({who}) is writing this frame; wait for it to finish, or write elsewhere "
                                 f"(a lock left by a killed render clears itself within {STALE_AFTER_S:.0f} s)",
                                 path=self.sink.path(frame), frame=frame) from None
            with os.fdopen(fd, "wb") as fh:
                fh.write(record)
            self.held.append(path)
            return

    def _holder(self, path: str) -> dict | None:
        """The lock's record while its owner is alive; None when the lock is stale."""
        try:
            with open(path, "rb") as fh:
                holder = json.loads(fh.read() or b"{}")
        except (OSError, ValueError):
            holder = {}
        if not isinstance(holder, dict) or "owner" not in holder:
            return None
        if holder.get("host") == self.host and isinstance(holder.get("pid"), int) and not _pid_alive(holder["pid"]):
            return None
        try:
            age = time.time() - os.stat(os.path.join(self.folder, f"{holder['owner']}.alive")).st_mtime
        except (OSError, TypeError):
            return None
        return holder if age < STALE_AFTER_S else None
