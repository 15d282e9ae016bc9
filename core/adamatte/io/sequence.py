"""Frame-sequence patterns, frame ranges and discovery on disk (via pyseq)."""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass

import pyseq
import pyseq.seq

from adamatte.errors import InputError

# Without strict padding pyseq reports 1001-1010 as unpadded (%d), and the pattern we
# rebuild would then miss shot.0999.exr-style names.
pyseq.seq.strict_pad = True

IMAGE_EXTENSIONS = (".exr", ".png", ".tif", ".tiff", ".jpg", ".jpeg", ".dpx")
VIDEO_EXTENSIONS = (".mov", ".mp4", ".m4v", ".mkv", ".avi", ".webm")

_TOKEN = re.compile(r"#+|@+|%(0?\d*)d")
_RANGE_PART = re.compile(r"^(-?\d+)(?:-(-?\d+)(?:x(\d+))?)?$")
_LAST_NUMBER = re.compile(r"^(.*?)(\d+)(\D*)$")


def parse_frame_range(text: str) -> list[int]:
    """Parse '1001-1100', '1001-1100x2' or a comma list of those into sorted unique frames."""
    frames: set[int] = set()
    for part in str(text).replace(" ", "").split(","):
        match = _RANGE_PART.match(part)
        if not match:
            raise InputError(f"bad frame range {text!r}: expected e.g. 1001-1100, 1001-1100x2 or 1001,1005")
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) is not None else first
        step = int(match.group(3) or 1)
        if last < first or step < 1:
            raise InputError(f"bad frame range {text!r}: the end is before the start or the step is not positive")
        frames.update(range(first, last + 1, step))
    return sorted(frames)


def format_frame_range(frames: list[int]) -> str:
    """Compact frames into '1001-1010,1012' for messages and `info`."""
    runs: list[str] = []
    frames = sorted(frames)
    i = 0
    while i < len(frames):
        j = i
        while j + 1 < len(frames) and frames[j + 1] == frames[j] + 1:
            j += 1
        runs.append(str(frames[i]) if i == j else f"{frames[i]}-{frames[j]}")
        i = j + 1
    return ",".join(runs)


@dataclass(frozen=True)
class SequencePattern:
    """A numbered file sequence: directory/head + frame number padded to `padding` + tail.

    A still image (no frame number at all) has `padding` None and maps every frame to itself.
    """

    directory: str
    head: str
    tail: str
    padding: int | None

    @property
    def is_still(self) -> bool:
        return self.padding is None

    def path(self, frame: int) -> str:
        if self.padding is None:
            return os.path.join(self.directory, self.head)
        return os.path.join(self.directory, f"{self.head}{frame:0{self.padding}d}{self.tail}")

    @property
    def nuke(self) -> str:
        """The pattern as Nuke writes it, shot.####.exr."""
        if self.padding is None:
            return self.path(0)
        return os.path.join(self.directory, f"{self.head}{'#' * max(self.padding, 1)}{self.tail}")

    @property
    def extension(self) -> str:
        return os.path.splitext(self.path(0))[1].lower()


def parse_pattern(spec: str) -> SequencePattern | None:
    """Parse shot.####.exr, shot.%04d.exr or shot.@@@@.exr; None when `spec` has no frame token."""
    directory, name = os.path.split(os.path.abspath(os.path.expanduser(str(spec))))
    matches = list(_TOKEN.finditer(name))
    if not matches:
        return None
    if len(matches) > 1:
        raise InputError("the pattern has more than one frame token", path=spec)
    token = matches[0]
    if token.group(0).startswith("%"):
        padding = int(token.group(1) or 0)
    else:
        padding = len(token.group(0))
    return SequencePattern(directory, name[: token.start()], name[token.end():], padding if padding > 1 else 0)


def _pattern_from_member(path: str) -> SequencePattern:
    directory, name = os.path.split(os.path.abspath(path))
    stem, ext = os.path.splitext(name)
    match = _LAST_NUMBER.match(stem)
    if not match:
        return SequencePattern(directory, name, "", None)
    digits = match.group(2)
    return SequencePattern(directory, match.group(1), match.group(3) + ext, len(digits))


def _digits_fit(digits: str, padding: int) -> bool:
    """Whether printf's %0{padding}d could have written `digits` (so 0007 fits 4, 10000 fits 4, 007 does not)."""
    if not digits.isdigit():
        return False
    return len(digits) == max(padding, 1) or (len(digits) > padding and not digits.startswith("0"))


def find_frames(pattern: SequencePattern) -> list[int]:
    """The frames of `pattern` that exist on disk.

    pyseq groups the candidates; each member is then checked against the pattern itself,
    because pyseq cannot number a lone file and may group differently padded names.
    """
    if pattern.is_still:
        return [1] if os.path.isfile(pattern.path(0)) else []
    candidates = glob.glob(os.path.join(glob.escape(pattern.directory), glob.escape(pattern.head) + "*" + glob.escape(pattern.tail)))
    frames: set[int] = set()
    for seq in pyseq.get_sequences(candidates):
        for item in seq:
            name = os.path.basename(item)
            digits = name[len(pattern.head): len(name) - len(pattern.tail)]
            if _digits_fit(digits, pattern.padding):
                frames.add(int(digits))
    return sorted(frames)


def _pattern_from_directory(directory: str) -> SequencePattern:
    sequences = [
        s for s in pyseq.get_sequences(directory)
        if s.tail().lower().endswith(IMAGE_EXTENSIONS) and s.length() > 0
    ]
    numbered = [s for s in sequences if s.frames()]
    if len(numbered) == 1:
        s = numbered[0]
        return SequencePattern(os.path.abspath(directory), s.head(), s.tail(), s.pad or 0)
    if not sequences:
        raise InputError("no image sequence found in this folder", path=directory)
    names = ", ".join(str(s) for s in sequences[:5])
    raise InputError(f"this folder holds several sequences ({names}); name one, e.g. shot.####.exr", path=directory)


def resolve_pattern(spec: str) -> SequencePattern:
    """Turn any accepted spelling of a sequence (token pattern, member file, folder) into a pattern."""
    spec = os.path.expanduser(str(spec))
    pattern = parse_pattern(spec)
    if pattern is not None:
        if not os.path.isdir(pattern.directory):
            raise InputError("folder does not exist", path=pattern.directory)
        return pattern
    if os.path.isdir(spec):
        return _pattern_from_directory(spec)
    if os.path.isfile(spec):
        return _pattern_from_member(spec)
    raise InputError("no such file or folder", path=spec)
