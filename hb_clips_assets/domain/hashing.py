"""Content hashing, shared by clip identity, the cutter and the stores."""
from __future__ import annotations

import hashlib
from pathlib import Path


def sha256_file(path: Path | str, block_size: int = 4 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(block_size), b""):
            digest.update(block)
    return digest.hexdigest()
