"""V4 signed URLs: signed offline with a service-account key, checked with its public half.

The signer is google-cloud-storage's; the verifier is ours, written from the
V4 specification, so each checks the other. No server needed.
"""
from __future__ import annotations

import datetime as dt
import json
import urllib.parse

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from hb_clips_assets.storage.store import LocalObjectStore, StoreError
from hb_clips_assets.storage.store.signing import (
    MAX_EXPIRY_S,
    SigningError,
    UrlSigner,
    verify_v4_signed_url,
)
from hb_clips_tests.storage.store.conftest import make_service_account_key

OBJECT = "prod/clips/20031/1/0f3a9c.mp4"


def _set_query(url: str, name: str, value: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = [(k, value if k == name else v) for k, v in urllib.parse.parse_qsl(parts.query)]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query, quote_via=urllib.parse.quote)))


def _other_second(stamp: str) -> str:
    """The same day and minute, another second (the credential scope's date stays right)."""
    seconds = int(stamp[-3:-1])
    return f"{stamp[:-3]}{seconds + 1 if seconds < 59 else 58:02d}Z"


def _params(url: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def test_signed_url_verifies_with_the_public_key(sa_key):
    signer = UrlSigner.from_service_account_info(sa_key.info, expiry_s=900)
    url = signer.sign("hb-media", OBJECT)
    assert url.startswith(f"https://storage.googleapis.com/hb-media/{OBJECT}?")
    p = _params(url)
    assert p["X-Goog-Algorithm"] == "GOOG4-RSA-SHA256"
    assert p["X-Goog-Expires"] == "900"
    assert p["X-Goog-SignedHeaders"] == "host"
    assert p["X-Goog-Credential"].startswith(sa_key.info["client_email"] + "/")
    assert len(p["X-Goog-Signature"]) == 512  # RSA-2048 signature, hex
    ok = verify_v4_signed_url(url, sa_key.public_pem)
    assert ok.host == "storage.googleapis.com"
    assert ok.path == f"/hb-media/{OBJECT}"
    assert ok.service_account == sa_key.info["client_email"]
    assert ok.expires_at - ok.signed_at == dt.timedelta(seconds=900)
    assert abs(ok.signed_at - dt.datetime.now(dt.timezone.utc)) < dt.timedelta(minutes=1)


@pytest.mark.parametrize(
    "alter",
    [
        pytest.param(lambda u: u.replace("/0f3a9c.mp4", "/0f3a9d.mp4"), id="path-object"),
        pytest.param(lambda u: u.replace("/hb-media/", "/hb-media2/"), id="path-bucket"),
        pytest.param(lambda u: u.replace("/20031/1/", "/20031/2/"), id="path-period"),
        pytest.param(lambda u: _set_query(u, "X-Goog-Expires", "604800"), id="expiry-longer"),
        pytest.param(lambda u: _set_query(u, "X-Goog-Expires", "899"), id="expiry-shorter"),
        pytest.param(lambda u: u.replace("https://storage.googleapis.com/", "https://storage.example.com/"), id="host"),
        pytest.param(lambda u: u.replace("https://storage.googleapis.com/", "https://storage.googleapis.com:8443/"), id="port"),
        pytest.param(lambda u: _set_query(u, "X-Goog-Date", _other_second(_params(u)["X-Goog-Date"])), id="date"),
        pytest.param(lambda u: u + "&response-content-type=text%2Fhtml", id="extra-param"),
        pytest.param(lambda u: u[:-1] + ("0" if u[-1] != "0" else "1"), id="signature-digit"),
    ],
)
def test_altered_url_is_rejected(sa_key, alter):
    url = UrlSigner.from_service_account_info(sa_key.info, expiry_s=900).sign("hb-media", OBJECT)
    verify_v4_signed_url(url, sa_key.public_pem)  # the original is good
    bad = alter(url)
    assert bad != url
    with pytest.raises(SigningError, match="bad signature"):
        verify_v4_signed_url(bad, sa_key.public_pem)


def test_other_key_is_rejected_and_certificate_accepted(sa_key):
    url = UrlSigner.from_service_account_info(sa_key.info).sign("hb-media", OBJECT)
    with pytest.raises(SigningError, match="bad signature"):
        verify_v4_signed_url(url, make_service_account_key().public_pem)
    # Google publishes service-account public keys as X.509 certificates: those verify too
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, sa_key.info["client_email"])])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(sa_key.private_key.public_key())
        .serial_number(1).not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
        .sign(sa_key.private_key, hashes.SHA256())
    )
    assert verify_v4_signed_url(url, cert.public_bytes(serialization.Encoding.PEM).decode()).path == f"/hb-media/{OBJECT}"


def test_expiry_is_checked(sa_key):
    url = UrlSigner.from_service_account_info(sa_key.info, expiry_s=60).sign("hb-media", OBJECT)
    signed_at = verify_v4_signed_url(url, sa_key.public_pem).signed_at
    assert verify_v4_signed_url(url, sa_key.public_pem, now=signed_at + dt.timedelta(seconds=59))
    with pytest.raises(SigningError, match="expired"):
        verify_v4_signed_url(url, sa_key.public_pem, now=signed_at + dt.timedelta(seconds=60))
    with pytest.raises(SigningError, match="expired"):
        verify_v4_signed_url(url, sa_key.public_pem, now=signed_at + dt.timedelta(days=3))


def test_expiry_limits(sa_key):
    signer = UrlSigner.from_service_account_info(sa_key.info)
    assert _params(signer.sign("b-1", OBJECT))["X-Goog-Expires"] == "3600"  # default
    week = signer.sign("b-1", OBJECT, MAX_EXPIRY_S)
    assert _params(week)["X-Goog-Expires"] == str(7 * 24 * 3600)
    assert verify_v4_signed_url(week, sa_key.public_pem)
    for bad in (0, -5, MAX_EXPIRY_S + 1, 10.5):
        with pytest.raises(SigningError, match="expiry"):
            signer.sign("b-1", OBJECT, bad)
    with pytest.raises(SigningError, match="7 days"):
        UrlSigner.from_service_account_info(sa_key.info, expiry_s=8 * 24 * 3600)


@pytest.mark.parametrize(
    "cdn,prefix",
    [
        ("cdn.clips.example.com", "https://cdn.clips.example.com/"),
        ("https://CDN.clips.example.com", "https://cdn.clips.example.com/"),
        ("http://127.0.0.1:8090", "http://127.0.0.1:8090/"),
    ],
)
def test_cdn_host_is_in_the_url_and_signed(sa_key, cdn, prefix):
    url = UrlSigner.from_service_account_info(sa_key.info, cdn_host=cdn).sign("hb-media", OBJECT)
    # a bucket-bound host serves the bucket's objects at the root: no bucket in the path
    assert url.startswith(prefix + OBJECT + "?")
    ok = verify_v4_signed_url(url, sa_key.public_pem)
    assert ok.host == prefix.split("://")[1].rstrip("/")
    assert ok.path == "/" + OBJECT
    for other in ("https://storage.googleapis.com/", "https://cdn2.clips.example.com/", prefix.replace("/" * 2, "//x")):
        with pytest.raises(SigningError, match="bad signature"):
            verify_v4_signed_url(other + url[len(prefix):], sa_key.public_pem)


@pytest.mark.parametrize("cdn", ["ftp://cdn.example.com", "https://cdn.example.com/path", "a b", "user@cdn.example.com"])
def test_bad_cdn_host_refused(sa_key, cdn):
    with pytest.raises(SigningError, match="CDN host"):
        UrlSigner.from_service_account_info(sa_key.info, cdn_host=cdn)


def test_key_from_file_or_json_text(sa_key, tmp_path):
    path = tmp_path / "sa.json"
    path.write_text(sa_key.json_text)
    a = UrlSigner.from_key_file(path).sign("hb-media", OBJECT)
    b = UrlSigner.from_key_json(sa_key.json_text).sign("hb-media", OBJECT)
    c = UrlSigner.from_settings(key_file=str(path))
    for url in (a, b, c.sign("hb-media", OBJECT)):
        assert verify_v4_signed_url(url, sa_key.public_pem).service_account == sa_key.info["client_email"]
    assert UrlSigner.from_settings() is None
    with pytest.raises(SigningError, match="not both"):
        UrlSigner.from_settings(key_file=str(path), key_json=sa_key.json_text)


def test_bad_keys_give_clear_errors_without_key_material(sa_key, tmp_path):
    secret_line = sa_key.info["private_key"].splitlines()[3]
    broken = dict(sa_key.info, private_key=sa_key.info["private_key"].replace(secret_line, secret_line[::-1]))
    cases = [
        (lambda: UrlSigner.from_key_file(tmp_path / "missing.json"), "cannot read signing key file"),
        (lambda: UrlSigner.from_key_json("{not json " + secret_line), "not JSON"),
        (lambda: UrlSigner.from_key_json(json.dumps(dict(sa_key.info, type="authorized_user"))), "not a service-account key"),
        (lambda: UrlSigner.from_key_json(json.dumps({k: v for k, v in sa_key.info.items() if k != "client_email"})), "client_email"),
        (lambda: UrlSigner.from_key_json(json.dumps(broken)), "invalid service-account key"),
    ]
    for make, message in cases:
        with pytest.raises(SigningError, match=message) as info:
            make()
        assert secret_line not in str(info.value) and "PRIVATE KEY" not in str(info.value)
        assert isinstance(info.value, StoreError)


def test_repr_shows_no_key_material(sa_key):
    signer = UrlSigner.from_key_json(sa_key.json_text, cdn_host="cdn.example.com")
    text = repr(signer) + str(signer)
    assert sa_key.info["client_email"] in text and "cdn.example.com" in text
    for line in sa_key.info["private_key"].splitlines()[1:-1]:
        assert line not in text
    assert "PRIVATE" not in text and sa_key.info["private_key_id"] not in text


def test_local_store_signed_url_is_the_file_uri(tmp_path):
    store = LocalObjectStore(tmp_path / "objects")
    src = tmp_path / "x.jpg"
    src.write_bytes(b"\xff\xd8jpeg")
    obj = store.put_file("thumbnails/20031/1/x.jpg", src, "image/jpeg")
    assert store.signed_url("thumbnails/20031/1/x.jpg") == obj.uri
    assert store.signed_url("thumbnails/20031/1/x.jpg", 60).startswith("file:///")
    with pytest.raises(StoreError, match="invalid object key"):
        store.signed_url("../x.jpg")


def test_malformed_urls_are_rejected(sa_key):
    url = UrlSigner.from_service_account_info(sa_key.info).sign("hb-media", OBJECT)
    p = _params(url)
    for bad, message in [
        (url.split("?")[0], "X-Goog-Algorithm missing"),
        (_set_query(url, "X-Goog-Algorithm", "GOOG4-HMAC-SHA256"), "unsupported algorithm"),
        (_set_query(url, "X-Goog-Expires", "604801"), "X-Goog-Expires"),
        (_set_query(url, "X-Goog-Signature", "zz" + p["X-Goog-Signature"][2:]), "not hex"),
        (_set_query(url, "X-Goog-SignedHeaders", "content-type;host"), "signed headers"),
        (url + "&X-Goog-Expires=5", "given twice"),
        ("ftp://x/y", "not an http"),
    ]:
        with pytest.raises(SigningError, match=message):
            verify_v4_signed_url(bad, sa_key.public_pem)
