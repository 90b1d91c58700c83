"""Store test fixtures: the fake-gcs-server session fixtures and a service-account key made here."""
from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from hb_clips_tests.servers.fake_gcs import fake_gcs, gcs_bucket  # noqa: F401  (fixtures)


@dataclass(frozen=True)
class ServiceAccountKey:
    info: dict  # the JSON key file's content
    public_pem: bytes
    private_key: rsa.RSAPrivateKey

    @property
    def json_text(self) -> str:
        return json.dumps(self.info)


def make_service_account_key(email: str = "clip-signer@hb-clips-test.iam.gserviceaccount.com") -> ServiceAccountKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "hb-clips-test",
        "private_key_id": "0123456789abcdef0123456789abcdef01234567",
        "private_key": pem,
        "client_email": email,
        "client_id": "100000000000000000001",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return ServiceAccountKey(info, public, key)


@pytest.fixture(scope="session")
def sa_key() -> ServiceAccountKey:
    return make_service_account_key()
