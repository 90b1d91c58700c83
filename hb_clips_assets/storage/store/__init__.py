"""Object stores. ``open_store(url)`` picks the implementation from the URL."""
from __future__ import annotations

from hb_clips_assets.storage.store.base import ObjectNotFound, ObjectStore, StoredObject, StoreError, validate_key
from hb_clips_assets.storage.store.local import LocalObjectStore


def open_store(url: str, **gcs_settings) -> ObjectStore:
    """A local path or ``file://`` URL gives a folder store; ``gs://bucket[/prefix]``
    a :class:`~.gcs.GcsObjectStore`.

    ``gcs_settings`` (gs:// only): ``client`` (a ready ``google.cloud.storage.Client``)
    or ``endpoint`` (emulator URL: anonymous credentials; empty: Application
    Default Credentials) and ``project``; ``signer`` (a :class:`~.signing.UrlSigner`);
    and any keyword of :class:`~.gcs.GcsObjectStore` (``cache_control``,
    ``chunk_size``, ``retry``, ``timeout_s``).
    """
    if url.startswith("gs://"):
        from hb_clips_assets.storage.store.gcs import GcsObjectStore, gcs_client, parse_gs_url

        bucket, prefix = parse_gs_url(url)
        client = gcs_settings.pop("client", None)
        endpoint = gcs_settings.pop("endpoint", None)
        project = gcs_settings.pop("project", None)
        if client is None:
            client = gcs_client(endpoint, project)
        return GcsObjectStore(client, bucket, prefix, **gcs_settings)
    if gcs_settings:
        raise StoreError(f"settings {sorted(gcs_settings)} apply to gs:// object stores only, not {url!r}")
    if url.startswith("file://"):
        return LocalObjectStore(url[len("file://") :])
    if "://" in url:
        raise StoreError(f"unsupported object store URL {url!r}: use a local folder path, file:// or gs://bucket/prefix")
    return LocalObjectStore(url)


__all__ = ["ObjectStore", "ObjectNotFound", "StoredObject", "StoreError", "LocalObjectStore", "open_store", "validate_key"]
