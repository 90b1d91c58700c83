"""The object store interface: just what the pipeline needs, nothing more."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

_KEY = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_.-]+)*$")


class StoreError(RuntimeError):
    pass


class ObjectNotFound(StoreError, FileNotFoundError):
    """No object under the key (a FileNotFoundError too, as the local store raises)."""


@dataclass(frozen=True)
class StoredObject:
    key: str
    uri: str
    bytes: int
    sha256: str
    content_type: str | None = None


def validate_key(key: str) -> str:
    """Keys are built from validated ids, but check anyway: no traversal, no odd bytes."""
    if not _KEY.fullmatch(key) or any(part in (".", "..") or part.startswith(".") for part in key.split("/")):
        raise StoreError(f"invalid object key {key!r}")
    return key


class ObjectStore(Protocol):
    def put_file(self, key: str, path: Path, content_type: str) -> StoredObject:
        """Store the file at ``path`` under ``key`` atomically (readers see the old object or the new one)."""

    def stat(self, key: str) -> StoredObject | None:
        """The object under ``key`` with its size and SHA-256, or None."""

    def get_bytes(self, key: str) -> bytes:
        """The object's content (small objects: thumbnails, tests)."""

    def delete(self, key: str) -> None:
        """Remove ``key`` if it exists."""

    def uri(self, key: str) -> str:
        """Where a reader finds the object."""

    def signed_url(self, key: str, expires_s: int | None = None) -> str:
        """A URL a client without credentials can fetch the object from, valid
        ``expires_s`` seconds (the store's default when None): a V4 signed URL
        for GCS; the ``file://`` URI for a local folder, which has nothing to sign."""
