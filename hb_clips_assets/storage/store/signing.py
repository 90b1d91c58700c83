"""V4 signed URLs for objects in Google Cloud Storage, signed offline.

Signing uses a service-account key (a JSON key file, or the same JSON as text
from an environment variable): the RSA private key signs the request locally,
no call to Google is made. The URL is produced by google-cloud-storage's own V4
implementation (``Blob.generate_signed_url(version="v4")``);
:func:`verify_v4_signed_url` is an independent re-implementation of the
checking side (canonical request, string to sign, RSA-SHA256 with the public
half of the key) used by the tests, since no emulator checks signatures.

With a CDN host (a hostname bound to the bucket, e.g. a load balancer with
Cloud CDN in front of the bucket), the URL is signed with
``bucket_bound_hostname``: the host is part of what is signed and the path is
the object name alone.

Key material never appears in a repr, a log line or an error message.
"""
from __future__ import annotations

import binascii
import datetime as dt
import hashlib
import json
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hb_clips_assets.storage.store.base import StoreError

MAX_EXPIRY_S = 7 * 24 * 3600  # GCS refuses V4 URLs valid for longer than 7 days
DEFAULT_EXPIRY_S = 3600
ALGORITHM = "GOOG4-RSA-SHA256"
_SCOPE_TAIL = "auto/storage/goog4_request"


class SigningError(StoreError):
    """A signed URL could not be made (bad key, bad expiry) or did not verify."""


def check_expiry(expires_s: int | float) -> int:
    if isinstance(expires_s, bool) or int(expires_s) != expires_s:
        raise SigningError(f"signed URL expiry must be a whole number of seconds, got {expires_s!r}")
    expires_s = int(expires_s)
    if not 1 <= expires_s <= MAX_EXPIRY_S:
        raise SigningError(f"signed URL expiry must be 1 to {MAX_EXPIRY_S} seconds (7 days), got {expires_s}")
    return expires_s


def _split_host(cdn_host: str) -> tuple[str, str]:
    """``cdn.example.com`` or ``https://cdn.example.com[:port]`` -> (scheme, host[:port])."""
    text = cdn_host.strip().rstrip("/")
    if "://" in text:
        parts = urllib.parse.urlsplit(text)
        scheme, host = parts.scheme, parts.netloc
        bad = parts.path or parts.query or parts.fragment or parts.username or parts.password
    else:
        scheme, host, bad = "https", text, False
    if scheme not in ("http", "https") or not host or bad or any(c in host for c in "/?#@ \t\n"):
        raise SigningError(f"CDN host must be a host name, optionally with http:// or https:// and a port; got {cdn_host!r}")
    return scheme, host.lower()


def load_service_account_info(key_file: str | Path | None = None, key_json: str | None = None) -> dict[str, Any]:
    """The service-account key as a dict, from a JSON key file or the JSON text itself.

    Errors name the file (or say "the JSON key text") but never echo its content.
    """
    if key_file and key_json:
        raise SigningError("give the signing key as a file or as JSON text, not both")
    if key_file:
        where = f"signing key file {str(key_file)!r}"
        try:
            text = Path(key_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise SigningError(f"cannot read {where}: {exc.strerror or type(exc).__name__}") from None
    elif key_json:
        where, text = "the signing key JSON text", key_json
    else:
        raise SigningError("no signing key: set a service-account key file or its JSON text")
    try:
        info = json.loads(text)
    except ValueError:
        raise SigningError(f"{where} is not JSON (expected a service-account key)") from None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise SigningError(f"{where} is not a service-account key (\"type\": \"service_account\" missing)")
    missing = [k for k in ("client_email", "private_key", "token_uri") if not info.get(k)]
    if missing:
        raise SigningError(f"{where} lacks {', '.join(missing)}")
    return info


class UrlSigner:
    """Makes V4 signed GET URLs with a service account's private key, offline."""

    def __init__(self, credentials, *, expiry_s: int = DEFAULT_EXPIRY_S, cdn_host: str | None = None):
        from google.auth.credentials import Signing

        if not isinstance(credentials, Signing):
            raise SigningError("signing credentials must hold a private key (a service-account key)")
        self._credentials = credentials
        self.expiry_s = check_expiry(expiry_s)
        self.cdn_scheme, self.cdn_host = _split_host(cdn_host) if cdn_host else (None, None)
        self._offline_client = None

    @classmethod
    def from_service_account_info(cls, info: dict[str, Any], **kwargs) -> "UrlSigner":
        from google.oauth2 import service_account

        try:
            credentials = service_account.Credentials.from_service_account_info(info)
        except (ValueError, TypeError) as exc:  # the message of a bad PEM names no key material
            raise SigningError(f"invalid service-account key for {info.get('client_email')!r}: {type(exc).__name__}") from None
        return cls(credentials, **kwargs)

    @classmethod
    def from_key_file(cls, path: str | Path, **kwargs) -> "UrlSigner":
        return cls.from_service_account_info(load_service_account_info(key_file=path), **kwargs)

    @classmethod
    def from_key_json(cls, text: str, **kwargs) -> "UrlSigner":
        return cls.from_service_account_info(load_service_account_info(key_json=text), **kwargs)

    @classmethod
    def from_settings(cls, key_file: str = "", key_json: str = "", **kwargs) -> "UrlSigner | None":
        """The signer for the settings, or None when no key is configured."""
        if not key_file and not key_json:
            return None
        return cls.from_service_account_info(load_service_account_info(key_file or None, key_json or None), **kwargs)

    @property
    def service_account_email(self) -> str:
        return self._credentials.signer_email

    def __repr__(self) -> str:
        cdn = f", cdn_host={self.cdn_scheme}://{self.cdn_host}" if self.cdn_host else ""
        return f"UrlSigner(service_account={self.service_account_email!r}, expiry_s={self.expiry_s}{cdn})"

    def _client(self):
        # Blob.generate_signed_url asks a client for the universe domain, even
        # with explicit credentials; an anonymous client answers without a call.
        if self._offline_client is None:
            from google.auth.credentials import AnonymousCredentials
            from google.cloud import storage

            self._offline_client = storage.Client(project="offline-signing", credentials=AnonymousCredentials())
        return self._offline_client

    def sign(self, bucket: str, object_name: str, expires_s: int | None = None, *, client=None,
             method: str = "GET") -> str:
        """A V4 signed URL for ``object_name`` in ``bucket``.

        With a CDN host the URL is ``<scheme>://<cdn_host>/<object_name>``;
        otherwise ``<endpoint>/<bucket>/<object_name>``, where the endpoint is
        the client's (the emulator's in tests, https://storage.googleapis.com
        in production).
        """
        from google.cloud import storage

        expires = check_expiry(self.expiry_s if expires_s is None else expires_s)
        client = client or self._client()
        blob = storage.Bucket(client, bucket).blob(object_name)
        kwargs: dict[str, Any] = {}
        if self.cdn_host:
            kwargs.update(bucket_bound_hostname=self.cdn_host, scheme=self.cdn_scheme)
        try:
            return blob.generate_signed_url(
                version="v4", expiration=dt.timedelta(seconds=expires), method=method,
                credentials=self._credentials, client=client, **kwargs,
            )
        except (ValueError, TypeError, AttributeError) as exc:
            raise SigningError(f"cannot sign gs://{bucket}/{object_name}: {exc}") from None


# --- verification (tests, tools) -------------------------------------------------


@dataclass(frozen=True)
class VerifiedUrl:
    method: str
    host: str
    path: str  # decoded: /<bucket>/<object> or, with a bucket-bound host, /<object>
    service_account: str
    signed_at: dt.datetime
    expires_at: dt.datetime


def _load_public_key(public_key_pem_or_cert):
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    if isinstance(public_key_pem_or_cert, rsa.RSAPublicKey):
        return public_key_pem_or_cert
    data = public_key_pem_or_cert.encode() if isinstance(public_key_pem_or_cert, str) else bytes(public_key_pem_or_cert)
    if b"BEGIN CERTIFICATE" in data:
        key = x509.load_pem_x509_certificate(data).public_key()
    else:
        key = serialization.load_pem_public_key(data)
    if not isinstance(key, rsa.RSAPublicKey):
        raise SigningError("the verification key is not an RSA public key")
    return key


def _quote(text: str, safe: str) -> str:
    return urllib.parse.quote(text, safe=safe)


def verify_v4_signed_url(url: str, public_key_pem_or_cert, now: dt.datetime | None = None,
                         method: str = "GET") -> VerifiedUrl:
    """Check a V4 signed URL as GCS would: rebuild the canonical request from
    the URL (method, path, query, ``host``), hash it into the string to sign,
    verify the RSA-SHA256 signature with the public key (PEM public key or
    X.509 certificate), and check the URL is valid at ``now``.

    Raises :class:`SigningError` saying why a URL does not verify.
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    now = now or dt.datetime.now(dt.timezone.utc)
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SigningError(f"not an http(s) URL: {url!r}")
    pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params:
            raise SigningError(f"query parameter {name} given twice")
        params[name] = value
    for name in ("X-Goog-Algorithm", "X-Goog-Credential", "X-Goog-Date", "X-Goog-Expires",
                 "X-Goog-SignedHeaders", "X-Goog-Signature"):
        if name not in params:
            raise SigningError(f"not a V4 signed URL: {name} missing")
    if params["X-Goog-Algorithm"] != ALGORITHM:
        raise SigningError(f"unsupported algorithm {params['X-Goog-Algorithm']!r}")
    try:
        signed_at = dt.datetime.strptime(params["X-Goog-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.timezone.utc)
        expires = int(params["X-Goog-Expires"])
    except ValueError:
        raise SigningError("malformed X-Goog-Date or X-Goog-Expires") from None
    if not 1 <= expires <= MAX_EXPIRY_S:
        raise SigningError(f"X-Goog-Expires {expires} outside 1..{MAX_EXPIRY_S}")
    email, _, scope = params["X-Goog-Credential"].partition("/")
    if scope != f"{params['X-Goog-Date'][:8]}/{_SCOPE_TAIL}":
        raise SigningError(f"credential scope {scope!r} does not match the request date")
    if params["X-Goog-SignedHeaders"] != "host":
        # a URL carries no header values but the host: other signed headers
        # would have to come with the request and cannot be checked here
        raise SigningError(f"signed headers {params['X-Goog-SignedHeaders']!r}: only 'host' can be verified from a URL")
    try:
        signature = binascii.unhexlify(params["X-Goog-Signature"])
    except (binascii.Error, ValueError):
        raise SigningError("X-Goog-Signature is not hex") from None

    path = urllib.parse.unquote(parts.path or "/")
    canonical_uri = _quote(path, safe="/~")
    canonical_query = "&".join(sorted(
        f"{_quote(k, safe='~')}={_quote(v, safe='~')}" for k, v in params.items() if k != "X-Goog-Signature"
    ))
    host = parts.netloc
    canonical_request = "\n".join(
        [method.upper(), canonical_uri, canonical_query, f"host:{host}\n", "host", "UNSIGNED-PAYLOAD"]
    )
    string_to_sign = "\n".join([
        ALGORITHM, params["X-Goog-Date"], scope, hashlib.sha256(canonical_request.encode()).hexdigest(),
    ])
    try:
        _load_public_key(public_key_pem_or_cert).verify(
            signature, string_to_sign.encode(), padding.PKCS1v15(), hashes.SHA256()
        )
    except InvalidSignature:
        raise SigningError(f"bad signature for {method.upper()} {host}{canonical_uri}") from None
    expires_at = signed_at + dt.timedelta(seconds=expires)
    if now >= expires_at:
        raise SigningError(f"signed URL expired at {expires_at.isoformat()} (now {now.isoformat()})")
    if now < signed_at - dt.timedelta(minutes=5):
        raise SigningError(f"signed URL not valid before {signed_at.isoformat()}")
    return VerifiedUrl(method.upper(), host, path, email, signed_at, expires_at)
