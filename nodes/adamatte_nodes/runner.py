"""Running a render from a host: out of process, with live progress and cancellation.

Host Pythons (Nuke's, Blender's) rarely have torch, so the engine runs as
`PYTHON -m adamatte render ... --progress json` in the project's own environment, and this
module reads its JSON progress lines on a thread. Pure standard library on purpose: it is
imported inside the hosts.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

try:
    from adamatte.params import to_cli_args
except ImportError:  # inside the Blender extension, which carries params.py beside this module (plugin/blender/build.py)
    from .params import to_cli_args  # type: ignore[no-redef]

ENV_PYTHON = "ADAMATTE_PYTHON"


class RunnerError(RuntimeError):
    """The engine could not be started, or failed; the message is meant for the artist."""


def find_python(preference: str = "") -> list[str]:
    """The command that runs adamatte: the host preference, else $ADAMATTE_PYTHON, else this Python if
    it can import torch and adamatte. Returns e.g. ['/opt/adamatte/bin/python', '-m', 'adamatte']."""
    chosen = preference or os.environ.get(ENV_PYTHON, "")
    if chosen:
        if not (os.path.isfile(chosen) or shutil.which(chosen)):
            raise RunnerError(f"the adamatte Python {chosen!r} does not exist; fix the preference or ${ENV_PYTHON}")
        return [chosen, "-m", "adamatte"]
    try:
        import torch  # noqa: F401  (only checking that this interpreter can run the engine)

        return [sys.executable, "-m", "adamatte"]
    except ImportError:
        raise RunnerError(
            f"this application's Python has no torch: set ${ENV_PYTHON} (or the add-on preference) to a Python "
            "where adamatte is installed, e.g. /opt/adamatte/venv/bin/python"
        ) from None


def render_command(python: list[str], input_path: str, output: str, values: dict[str, Any]) -> list[str]:
    """The argv of a render: parameters from the shared definition, JSON progress on stdout."""
    values = {k: v for k, v in values.items() if k != "progress"}
    return [*python, "render", input_path, "-o", output, *to_cli_args(values), "--progress", "json"]


def farm_export_command(python: list[str], job_folder: str, render_argv: list[str], farm_format: str = "openjd") -> list[str]:
    """The argv of `adamatte farm export` for a render built by render_command (with python=[])."""
    render_args = [a for a in render_argv[1:] if a not in ("--progress", "json")]  # the farm job adds its own
    return [*python, "farm", "export", "--format", farm_format, "-o", job_folder, "--", *render_args]


@dataclass
class RenderJob:
    """A render running in a child process. Callbacks run on the reader thread."""

    argv: list[str]
    on_event: Callable[[dict], None] = lambda event: None
    events: list[dict] = field(default_factory=list)
    returncode: int | None = None

    def start(self) -> "RenderJob":
        flags = subprocess.CREATE_NEW_PROCESS_GROUP if os.name == "nt" else 0
        try:
            self._proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                          creationflags=flags)
        except OSError as exc:
            raise RunnerError(f"cannot start adamatte ({exc})") from None
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def _read(self) -> None:
        for line in self._proc.stdout:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            self.events.append(event)
            self.on_event(event)
        self.returncode = self._proc.wait()
        self.stderr = self._proc.stderr.read()

    @property
    def running(self) -> bool:
        return self._reader.is_alive()

    def progress(self) -> tuple[int, int]:
        """(frames done, frames in all) so far."""
        total = next((e["frames"] for e in self.events if e.get("event") == "start"), 0)
        done = max((e["done"] for e in self.events if e.get("event") == "frame"), default=0)
        return done, total

    def warnings(self) -> list[str]:
        """The render's warnings so far (drift, degenerate input), each naming its frame."""
        return [e.get("message", "") for e in self.events if e.get("event") == "warning"]

    def warning_summary(self, most: int = 3) -> str:
        """One message for the artist: how many warnings, and the first few; empty when there were none."""
        found = self.warnings()
        if not found:
            return ""
        more = f"\n(and {len(found) - most} more)" if len(found) > most else ""
        return f"{len(found)} warning{'s' if len(found) > 1 else ''}:\n" + "\n".join(found[:most]) + more

    def cancel(self) -> None:
        """Ask the render to stop (once): it finishes the frames in flight and leaves no partial file."""
        if self._proc.poll() is None and not getattr(self, "_cancelled", False):
            self._cancelled = True
            self._proc.send_signal(signal.CTRL_BREAK_EVENT if os.name == "nt" else signal.SIGINT)

    def wait(self, timeout: float | None = None) -> int:
        self._reader.join(timeout)
        if self.returncode is None:
            raise RunnerError("the render did not finish in time")
        return self.returncode

    def error_message(self) -> str:
        error = next((e for e in reversed(self.events) if e.get("event") == "error"), None)
        if error:
            if self.returncode is not None and self.returncode != error.get("exit_code", self.returncode):
                # the engine reported one thing and then ended another way (a crash while it stopped): say both
                how = f"was killed by signal {-self.returncode}" if self.returncode < 0 else f"exited with code {self.returncode}"
                return f"{error['message']} (then adamatte {how})"
            return error["message"]
        lines = (getattr(self, "stderr", "") or "").strip().splitlines()
        return lines[-1] if lines else f"adamatte exited with code {self.returncode}"
