"""A Google Cloud Storage bucket (and prefix) as object store.

Objects are content-addressed (their key holds the clip id), so they are
written once and cached for good: ``Cache-Control: public, max-age=31536000,
immutable``. GCS only keeps MD5 and CRC32C of an object; the SHA-256 the media
index records is stored as custom metadata (``x-goog-meta-sha256``) and every
upload is checked afterwards against the server's size, MD5 and CRC32C of the
local file. Writes carry a generation precondition (``ifGenerationMatch=0``
for a new object, the current generation to replace one), which makes them
safe to retry and safe against a concurrent writer; requests are retried with
exponential backoff on transient errors (429, 5xx, connection resets).
Files over 8 MiB go up as resumable uploads in ``chunk_size`` pieces.
"""
from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from hb_clips_assets.storage.store.base import ObjectNotFound, StoredObject, StoreError, validate_key
from hb_clips_assets.storage.store.signing import UrlSigner

IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable"
SHA256_METADATA_KEY = "sha256"
MULTIPART_MAX_BYTES = 8 << 20  # google-cloud-storage switches to resumable uploads above this
DEFAULT_CHUNK_SIZE = 8 << 20
_CHUNK_QUANTUM = 256 << 10  # GCS wants resumable chunks in multiples of 256 KiB
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$")


def validate_bucket(name: str) -> str:
    if not _BUCKET.fullmatch(name or "") or ".." in name or name.startswith("goog"):
        raise StoreError(f"invalid GCS bucket name {name!r}")
    return name


def parse_gs_url(url: str) -> tuple[str, str]:
    """``gs://bucket[/prefix]`` -> (bucket, prefix without slashes at the ends)."""
    if not url.startswith("gs://"):
        raise StoreError(f"not a gs:// URL: {url!r}")
    bucket, _, prefix = url[len("gs://") :].partition("/")
    prefix = prefix.strip("/")
    validate_bucket(bucket)
    if prefix:
        try:
            validate_key(prefix)
        except StoreError:
            raise StoreError(f"invalid prefix {prefix!r} in object store URL {url!r}") from None
    return bucket, prefix


def gcs_client(endpoint: str | None = None, project: str | None = None):
    """A storage client: anonymous against an emulator at ``endpoint``
    (fake-gcs-server), Application Default Credentials when no endpoint is given."""
    from google.cloud import storage

    if endpoint:
        from google.auth.credentials import AnonymousCredentials

        return storage.Client(
            project=project or "emulator", credentials=AnonymousCredentials(),
            client_options={"api_endpoint": endpoint.rstrip("/")},
        )
    return storage.Client(project=project or None)


def default_retry(initial_s: float = 0.5, maximum_s: float = 16.0, timeout_s: float = 120.0):
    """Exponential backoff on the storage library's transient errors (429, 408,
    5xx, connection errors), at most ``timeout_s`` in all."""
    from google.cloud.storage.retry import DEFAULT_RETRY

    return DEFAULT_RETRY.with_delay(initial=initial_s, maximum=maximum_s, multiplier=2.0).with_timeout(timeout_s)


@dataclass(frozen=True)
class _LocalFile:
    size: int
    sha256: str
    md5_b64: str
    crc32c_b64: str


def _digest_file(path: Path) -> _LocalFile:
    import google_crc32c

    sha, md5, crc = hashlib.sha256(), hashlib.md5(usedforsecurity=False), google_crc32c.Checksum()
    size = 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(4 << 20), b""):
            sha.update(block)
            md5.update(block)
            crc.update(block)
            size += len(block)
    return _LocalFile(size, sha.hexdigest(), base64.b64encode(md5.digest()).decode(), base64.b64encode(crc.digest()).decode())


class GcsObjectStore:
    def __init__(
        self,
        client,
        bucket: str,
        prefix: str = "",
        signer: UrlSigner | None = None,
        *,
        cache_control: str = IMMUTABLE_CACHE_CONTROL,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        retry=None,
        timeout_s: float = 60.0,
    ):
        from google.cloud import storage

        if not isinstance(client, storage.Client):
            raise StoreError(f"GcsObjectStore needs a google.cloud.storage.Client, got {type(client).__name__}")
        if chunk_size <= 0 or chunk_size % _CHUNK_QUANTUM:
            raise StoreError(f"chunk_size must be a positive multiple of 256 KiB, got {chunk_size}")
        self.client = client
        self.bucket_name = validate_bucket(bucket)
        self.prefix = prefix.strip("/")
        if self.prefix:
            validate_key(self.prefix)
        self.signer = signer
        self.cache_control = cache_control
        self.chunk_size = chunk_size
        self.retry = retry if retry is not None else default_retry()
        self.timeout_s = timeout_s
        self._bucket = client.bucket(self.bucket_name)

    def __repr__(self) -> str:
        return f"GcsObjectStore({self.root_uri!r}, signer={self.signer!r})"

    @property
    def root_uri(self) -> str:
        return f"gs://{self.bucket_name}/{self.prefix}".rstrip("/")

    def object_name(self, key: str) -> str:
        key = validate_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def uri(self, key: str) -> str:
        return f"gs://{self.bucket_name}/{self.object_name(key)}"

    def _where(self, name: str) -> str:
        return f"gs://{self.bucket_name}/{name}"

    def _fail(self, action: str, name: str, exc: BaseException) -> StoreError:
        from google.api_core import exceptions as gexc

        if isinstance(exc, gexc.NotFound) and action.startswith("upload"):
            return StoreError(f"cannot {action} {self._where(name)}: bucket {self.bucket_name!r} not found or not accessible")
        from google.cloud.storage.exceptions import DataCorruption

        if isinstance(exc, DataCorruption):  # the library has deleted what it uploaded
            return StoreError(f"cannot {action} {self._where(name)}: content did not verify, object removed ({exc})")
        if isinstance(exc, gexc.Forbidden):
            return StoreError(f"cannot {action} {self._where(name)}: permission denied ({exc.message})")
        if isinstance(exc, gexc.RetryError):
            cause = exc.cause or exc
            return StoreError(f"cannot {action} {self._where(name)}: still failing after retries: {type(cause).__name__}: {cause}")
        return StoreError(f"cannot {action} {self._where(name)}: {type(exc).__name__}: {exc}")

    @staticmethod
    def _transport_errors() -> tuple[type[BaseException], ...]:
        import requests
        from google.api_core import exceptions as gexc
        from google.auth import exceptions as auth_exc
        from google.cloud.storage import exceptions as storage_exc

        return (gexc.GoogleAPIError, requests.RequestException, storage_exc.InvalidResponse,
                storage_exc.DataCorruption, auth_exc.GoogleAuthError, ConnectionError, TimeoutError)

    def _get_blob(self, name: str):
        try:
            return self._bucket.get_blob(name, retry=self.retry, timeout=self.timeout_s)
        except self._transport_errors() as exc:
            raise self._fail("read metadata of", name, exc) from None

    def _stored(self, key: str, blob, sha256: str) -> StoredObject:
        return StoredObject(key, self._where(blob.name), int(blob.size), sha256, blob.content_type)

    def stat(self, key: str) -> StoredObject | None:
        name = self.object_name(key)
        blob = self._get_blob(name)
        if blob is None:
            return None
        sha256 = (blob.metadata or {}).get(SHA256_METADATA_KEY)
        if not sha256:  # written by something else: hash the content (it is checked against the MD5 on the way)
            sha256 = hashlib.sha256(self._download(name, blob)).hexdigest()
        return self._stored(key, blob, sha256)

    def _download(self, name: str, blob=None) -> bytes:
        from google.api_core import exceptions as gexc

        blob = blob or self._bucket.blob(name)
        try:
            return blob.download_as_bytes(retry=self.retry, timeout=self.timeout_s, checksum="md5")
        except gexc.NotFound:
            raise ObjectNotFound(f"no object {self._where(name)}") from None
        except self._transport_errors() as exc:
            raise self._fail("download", name, exc) from None

    def get_bytes(self, key: str) -> bytes:
        return self._download(self.object_name(key))

    def delete(self, key: str) -> None:
        from google.api_core import exceptions as gexc

        name = self.object_name(key)
        try:
            self._bucket.blob(name).delete(retry=self.retry, timeout=self.timeout_s)
        except gexc.NotFound:
            return
        except self._transport_errors() as exc:
            raise self._fail("delete", name, exc) from None

    def signed_url(self, key: str, expires_s: int | None = None) -> str:
        """A V4 signed GET URL (through the CDN host when one is configured)."""
        name = self.object_name(key)
        if self.signer is None:
            raise StoreError(f"cannot sign a URL for {self._where(name)}: no signing key configured "
                             "(set HB_SIGNING_KEY_FILE or HB_SIGNING_KEY_JSON)")
        return self.signer.sign(self.bucket_name, name, expires_s, client=self.client)

    def _same(self, blob, local: _LocalFile) -> bool:
        return (blob is not None and int(blob.size or -1) == local.size
                and (blob.metadata or {}).get(SHA256_METADATA_KEY) == local.sha256
                and blob.md5_hash in (None, local.md5_b64))

    def _fix_headers(self, blob, content_type: str) -> None:
        """Same bytes already stored: bring content type and cache headers in line
        if they differ (a metadata patch, no upload)."""
        if blob.content_type == content_type and blob.cache_control == self.cache_control:
            return
        blob.content_type = content_type
        blob.cache_control = self.cache_control
        try:
            blob.patch(if_metageneration_match=blob.metageneration, retry=self.retry, timeout=self.timeout_s)
        except self._transport_errors() as exc:
            raise self._fail("update headers of", blob.name, exc) from None

    def put_file(self, key: str, path: Path, content_type: str) -> StoredObject:
        from google.api_core import exceptions as gexc

        name = self.object_name(key)
        try:
            local = _digest_file(Path(path))
        except OSError as exc:
            raise StoreError(f"cannot read {path} to upload to {self._where(name)}: {exc.strerror or exc}") from None

        existing = self._get_blob(name)
        if self._same(existing, local):
            self._fix_headers(existing, content_type)
            return self._stored(key, existing, local.sha256)

        blob = self._bucket.blob(name, chunk_size=self.chunk_size if local.size > MULTIPART_MAX_BYTES else None)
        blob.content_type = content_type
        blob.cache_control = self.cache_control
        blob.metadata = {SHA256_METADATA_KEY: local.sha256}
        # sent with the object's metadata: GCS itself refuses content that does not match
        blob.md5_hash = local.md5_b64
        blob.crc32c = local.crc32c_b64
        generation = existing.generation if existing is not None else 0
        try:
            blob.upload_from_filename(
                str(path), content_type=content_type, if_generation_match=generation,
                retry=self.retry, timeout=self.timeout_s, checksum="auto",
            )
        except gexc.PreconditionFailed:
            # Another writer got there first (or a retried request of ours
            # already landed): fine if it holds the same bytes.
            now = self._get_blob(name)
            if self._same(now, local):
                return self._stored(key, now, local.sha256)
            raise StoreError(f"{self._where(name)} changed while it was being written; not overwritten") from None
        except self._transport_errors() as exc:
            raise self._fail("upload", name, exc) from None

        problems = [
            f"{what}: server {server!r}, local {mine!r}"
            for what, server, mine in (
                ("size", blob.size, local.size), ("md5", blob.md5_hash, local.md5_b64), ("crc32c", blob.crc32c, local.crc32c_b64)
            )
            if server != mine
        ]
        if problems:
            try:  # only the generation this upload wrote
                blob.delete(if_generation_match=blob.generation, retry=self.retry, timeout=self.timeout_s)
            except self._transport_errors():
                pass
            raise StoreError(f"upload of {path} to {self._where(name)} did not verify ({'; '.join(problems)}); object removed")
        return self._stored(key, blob, local.sha256)
