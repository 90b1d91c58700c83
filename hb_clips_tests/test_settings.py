"""settings.py is the one registry of HB_* variables: typed, checked, documented, never written back."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from hb_clips_assets import settings
from hb_clips_assets.settings import SETTINGS, SettingError, or_setting, raw, value

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_apply_where_unset_or_empty():
    assert raw("HB_DATA_ROOT", {}) == "./data"
    assert raw("HB_DATA_ROOT", {"HB_DATA_ROOT": ""}) == "./data"
    assert raw("HB_DATA_ROOT", {"HB_DATA_ROOT": "/srv/games"}) == "/srv/games"
    assert value("HB_SIGNED_URL_EXPIRY_S", {}) == 3600
    assert value("HB_CHECK_REJECTED_RATIO_WARN", {}) == pytest.approx(0.10)


@pytest.mark.parametrize(
    "name, text, expected",
    [("HB_CUT_WORKERS", "zero", "whole number"), ("HB_CUT_WORKERS", "0", "at least 1"),
     ("HB_CUTTER", "fast", "smart or full"), ("HB_SENSOR_DEFAULT_STATUS", "on", "running or stopped"),
     ("HB_BACKFILL_TIMEZONE", "Mars/Olympus", "not a known timezone"), ("HB_EXECUTOR", "k8s", "in_process or celery")],
)
def test_bad_values_are_refused_naming_the_variable(name, text, expected):
    with pytest.raises(SettingError, match=f"{name}=.*{expected}"):
        value(name, {name: text})


def test_reading_settings_never_writes_the_environment(monkeypatch):
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    before = dict(os.environ)
    for name in SETTINGS:
        value(name)
    import hb_clips_assets.definitions  # noqa: F401 - loading the definitions writes nothing either

    assert dict(os.environ) == before


def test_or_setting_prefers_what_was_given(monkeypatch):
    monkeypatch.setenv("HB_STORE_URL", "/from/env")
    assert or_setting("", "HB_STORE_URL") == "/from/env"
    assert or_setting("/given", "HB_STORE_URL") == "/given"


def test_every_setting_the_code_reads_is_registered_and_documented():
    used = set()
    for path in (ROOT / "hb_clips_assets").rglob("*.py"):
        used |= set(re.findall(r"[\"'](HB_[A-Z0-9_]+)[\"']", path.read_text()))
    for path in [ROOT / "dagster.yaml", *(ROOT / "deploy").rglob("*.yaml")]:
        used |= set(re.findall(r"\b(HB_[A-Z0-9_]+)\b", path.read_text()))
    assert used - set(SETTINGS) == set(), "read but not registered in settings.py"
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"^\| `(HB_[A-Z0-9_]+)`", readme, re.M))
    if "| `HB_DAGSTER_PG_HOST`, `_PORT`, `_USER`, `_PASSWORD`, `_DB` |" in readme:  # one row for the five
        documented |= {f"HB_DAGSTER_PG_{part}" for part in ("PORT", "USER", "PASSWORD", "DB")}
    assert set(SETTINGS) - documented == set(), "registered but missing from README's settings tables"


def test_secrets_are_marked():
    assert {n for n, s in SETTINGS.items() if s.secret} >= {
        "HB_MEDIA_DB_URL", "HB_SIGNING_KEY_JSON", "HB_API_KEYS", "HB_API_MEDIA_SECRET", "HB_DAGSTER_PG_PASSWORD"}
    assert settings.Setting.__dataclass_fields__["secret"].default is False
