"""Write-then-rename, so that a killed process never leaves a truncated file under a final name."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator

from adamatte.errors import InputError

TEMP_MARKER = ".adamatte-tmp-"


def temp_path_for(final_path: str) -> str:
    """A unique sibling of `final_path` with the same extension, so writers still pick the format by it."""
    directory, name = os.path.split(os.path.abspath(final_path))
    stem, ext = os.path.splitext(name)
    return os.path.join(directory, f".{stem}{TEMP_MARKER}{os.getpid()}-{secrets.token_hex(3)}{ext}")


def ensure_writable_dir(directory: str) -> None:
    """Create `directory` as needed and check we may write there; raise InputError otherwise."""
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create output folder ({exc.strerror})", path=directory) from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise InputError("output folder is not writable", path=directory)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_write(final_path: str) -> Iterator[str]:
    """Yield a temporary path to write; on success rename it over `final_path`, on failure remove it."""
    ensure_writable_dir(os.path.dirname(os.path.abspath(final_path)))
    tmp = temp_path_for(final_path)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # some writers create 0600 files; outputs are for the whole team
        os.replace(tmp, final_path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise
