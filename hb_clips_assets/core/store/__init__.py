"""Object stores. ``open_store(url)`` picks the implementation from the URL."""
from __future__ import annotations

from .base import ObjectStore, StoredObject, StoreError, validate_key
from .local import LocalObjectStore


def open_store(url: str) -> ObjectStore:
    """A local path or ``file://`` URL gives a folder store; other schemes are not yet supported."""
    if url.startswith("file://"):
        return LocalObjectStore(url[len("file://") :])
    if "://" in url:
        raise StoreError(f"unsupported object store URL {url!r}: use a local folder path (GCS comes later)")
    return LocalObjectStore(url)


__all__ = ["ObjectStore", "StoredObject", "StoreError", "LocalObjectStore", "open_store", "validate_key"]
