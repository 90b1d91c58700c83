"""The read side without Dagster: the API serves from the HB_* settings alone, and
``store_from_settings`` opens the same object store the pipeline's resource does."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hb_clips_assets.retrieval.api.settings import ApiSettings
from hb_clips_assets.settings import SettingError
from hb_clips_assets.storage.store.configured import store_from_settings
from hb_clips_assets.storage.store.gcs import GcsObjectStore
from hb_clips_assets.storage.store.local import LocalObjectStore
from hb_clips_assets.storage.store.signing import SigningError, verify_v4_signed_url
from hb_clips_tests.retrieval_sample import index_sample, shared_sample
from hb_clips_tests.storage.store.conftest import make_service_account_key

REPO = Path(__file__).resolve().parents[3]
KEY = "no-dagster-admin-key-0123"
GCS_SETTINGS = ("HB_STORE_URL", "HB_GCS_ENDPOINT", "HB_GCS_PROJECT", "HB_SIGNING_KEY_FILE", "HB_SIGNING_KEY_JSON",
                "HB_SIGNED_URL_EXPIRY_S", "HB_CDN_HOST")

# Run in a fresh interpreter: in the test process Dagster is long loaded by other tests and plugins.
SERVE_ONE_REQUEST = """
import json, sys
import httpx
from hb_clips_assets.retrieval.api.app import create_app
from hb_clips_assets.retrieval.api.settings import ApiKey, ApiSettings
from hb_clips_tests.retrieval.api.server import serve

data, db_url, store, key = sys.argv[1:]
app = create_app(ApiSettings(data_root=data, db_url=db_url, store_url=store, keys={key: ApiKey("admin")}))
with serve(app) as base:
    r = httpx.get(f"{base}/api/v2/clips/", params={"limit": 1}, headers={"X-API-Key": key}, timeout=10)
print(json.dumps({"status": r.status_code, "items": len(r.json()["items"]), "modules": sorted(sys.modules)}))
"""


@pytest.fixture(autouse=True)
def no_store_settings(monkeypatch):
    for name in GCS_SETTINGS:
        monkeypatch.delenv(name, raising=False)


def test_the_api_serves_without_loading_dagster(tmp_path_factory):
    data = shared_sample(tmp_path_factory)
    work = tmp_path_factory.mktemp("no-dagster")
    sample = index_sample(data, work / "store", f"sqlite:///{work / 'media.db'}")
    done = subprocess.run([sys.executable, "-c", SERVE_ONE_REQUEST, str(data), sample.db_url, str(sample.store_root),
                           KEY], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert (out["status"], out["items"]) == (200, 1)
    modules = out["modules"]
    assert "hb_clips_assets.retrieval.api.app" in modules and "fastapi" in modules  # not vacuous
    dagster = [m for m in modules if m.split(".")[0].startswith("dagster") or m.startswith("hb_clips_assets.defs")]
    assert dagster == []


def test_a_local_store_from_the_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("HB_STORE_URL", str(tmp_path / "store"))
    # the GCS settings are not read for a local folder: a bad one does not stop it
    monkeypatch.setenv("HB_SIGNED_URL_EXPIRY_S", "soon")
    store = store_from_settings()
    assert isinstance(store, LocalObjectStore) and store.root == (tmp_path / "store").resolve()
    assert isinstance(store_from_settings(f"file://{tmp_path}/other"), LocalObjectStore)


@pytest.fixture(scope="module")
def sa_key():
    return make_service_account_key()


def test_a_gcs_store_and_its_signer_from_the_settings(sa_key, tmp_path, monkeypatch):
    monkeypatch.setenv("HB_STORE_URL", "gs://hb-media/clips-v2")
    monkeypatch.setenv("HB_GCS_ENDPOINT", "http://127.0.0.1:9")  # an emulator: nothing is called to build it
    monkeypatch.setenv("HB_SIGNING_KEY_JSON", sa_key.json_text)
    monkeypatch.setenv("HB_SIGNED_URL_EXPIRY_S", "120")
    monkeypatch.setenv("HB_CDN_HOST", "cdn.clips.example.com")
    store = store_from_settings()
    assert isinstance(store, GcsObjectStore) and store.root_uri == "gs://hb-media/clips-v2"
    assert store.client._connection.API_BASE_URL == "http://127.0.0.1:9"
    ok = verify_v4_signed_url(store.signed_url("a/b.mp4"), sa_key.public_pem)
    assert (ok.host, ok.path) == ("cdn.clips.example.com", "/clips-v2/a/b.mp4")
    assert (ok.expires_at - ok.signed_at).total_seconds() == 120
    assert "PRIVATE KEY" not in repr(store)
    # the key from a file; explicit values win over the settings, "" included
    key_file = tmp_path / "sa.json"
    key_file.write_text(sa_key.json_text)
    store = store_from_settings(signing_key_json="", signing_key_file=str(key_file), signed_url_expiry_s=60,
                                cdn_host="")
    ok = verify_v4_signed_url(store.signed_url("a/b.mp4"), sa_key.public_pem)
    assert ok.host == "127.0.0.1:9" and (ok.expires_at - ok.signed_at).total_seconds() == 60
    # no key: a store without a signer (URLs are then refused by name)
    assert store_from_settings(signing_key_json="").signer is None


def test_a_ready_client_is_used_as_given(monkeypatch):
    from hb_clips_assets.storage.store.gcs import gcs_client

    client = gcs_client("http://127.0.0.1:9", "elsewhere")
    monkeypatch.setenv("HB_GCS_ENDPOINT", "http://127.0.0.1:8")
    assert store_from_settings("gs://hb-media", client=client).client is client


def test_bad_expiries_fail_when_the_store_opens(monkeypatch):
    monkeypatch.setenv("HB_GCS_ENDPOINT", "http://127.0.0.1:9")
    with pytest.raises(SigningError, match="7 days"):
        store_from_settings("gs://hb-media/x", signed_url_expiry_s=8 * 24 * 3600)
    monkeypatch.setenv("HB_SIGNED_URL_EXPIRY_S", "0")
    with pytest.raises(SettingError, match="HB_SIGNED_URL_EXPIRY_S"):
        store_from_settings("gs://hb-media/x")


def test_the_same_store_as_the_pipeline_resource(sa_key):
    from hb_clips_assets.defs.resources import ObjectStoreResource

    config = dict(gcs_endpoint="http://127.0.0.1:9", gcs_project="p", signing_key_json=sa_key.json_text,
                  signed_url_expiry_s=300, cdn_host="https://cdn.example.com")
    ours = store_from_settings("gs://hb-media/x", **config)
    theirs = ObjectStoreResource(url="gs://hb-media/x", **config).get_store()
    assert repr(ours) == repr(theirs) and type(ours.client) is type(theirs.client)
    assert ours.client.project == theirs.client.project and ours.client._connection.API_BASE_URL == \
        theirs.client._connection.API_BASE_URL
    assert repr(store_from_settings("./var/x")) == repr(ObjectStoreResource(url="./var/x").get_store())


def test_api_settings_from_the_registry(monkeypatch):
    for name in ("HB_API_KEYS", "HB_API_KEYS_FILE", "HB_API_MEDIA_SECRET", "HB_API_MEDIA_URL_EXPIRY_S",
                 "HB_USER_PLAYER_ID"):
        monkeypatch.delenv(name, raising=False)
    settings = ApiSettings.from_env()
    assert settings.keys == {} and settings.media_url_expiry_s == 3600 and settings.user_player is None
    assert len(settings.media_secret) == 32 and settings.media_secret != ApiSettings.from_env().media_secret
    monkeypatch.setenv("HB_SIGNED_URL_EXPIRY_S", "900")  # the media links' lifetime follows the store's
    monkeypatch.setenv("HB_API_MEDIA_SECRET", "shared-secret")
    monkeypatch.setenv("HB_USER_PLAYER_ID", "8471214")
    settings = ApiSettings.from_env(db_url="sqlite:///x.db", data_root=None)
    assert (settings.media_url_expiry_s, settings.media_secret, settings.user_player) == (900, b"shared-secret",
                                                                                          "8471214")
    assert settings.db_url == "sqlite:///x.db" and settings.data_root is None
    monkeypatch.setenv("HB_API_MEDIA_URL_EXPIRY_S", "60")
    assert ApiSettings.from_env().media_url_expiry_s == 60
