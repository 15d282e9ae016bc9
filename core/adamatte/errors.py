"""Errors a user can act on, each with the process exit code a farm scheduler sees."""

from __future__ import annotations

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_MISSING_FRAMES = 3
EXIT_GPU_MEMORY = 4
EXIT_CANCELLED = 130  # as a shell reports SIGINT
EXIT_BROKEN_PIPE = 141  # as a shell reports SIGPIPE: the reader of our output went away


class AdamatteError(Exception):
    """An error reported to the user as one line, without a traceback."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str, *, path: str | None = None, frame: int | None = None):
        self.path = path
        self.frame = frame
        super().__init__(message)

    def __str__(self) -> str:
        where = []
        if self.path:
            where.append(str(self.path))
        if self.frame is not None:
            where.append(f"frame {self.frame}")
        prefix = f"{', '.join(where)}: " if where else ""
        return prefix + super().__str__()


class InputError(AdamatteError):
    """Bad input: a missing, unreadable or inconsistent file, or a bad option."""


class MissingFramesError(AdamatteError):
    exit_code = EXIT_MISSING_FRAMES


class GPUMemoryError(AdamatteError):
    exit_code = EXIT_GPU_MEMORY


class RenderCancelled(AdamatteError):
    """The user (Ctrl-C, a host's Cancel) stopped a render; finished frames are kept."""

    exit_code = EXIT_CANCELLED
