"""SHA-256 of a file, read in chunks: weights, checkpoints and keyframe trimaps are identified by it."""

from __future__ import annotations

import hashlib


def sha256_of(path: str) -> str:
    """Hex SHA-256 of the file at `path`."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
