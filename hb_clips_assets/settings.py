"""Every ``HB_*`` setting in one place: its name, default, meaning and check.

Settings are environment variables, read when they are used (so the CLI, the
UI and the tests can set them late) and never written back into the
environment. ``value(name)`` is the typed value; a bad one raises
:class:`SettingError` naming the variable. README.md's settings tables list
the same entries (a test keeps them in step).
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class SettingError(ValueError):
    """A setting's value cannot be used; the message names the variable."""


def _int(minimum: int | None = None) -> Callable[[str, str], int]:
    def parse(name: str, text: str) -> int:
        try:
            number = int(text)
        except ValueError:
            raise SettingError(f"{name}={text!r}: expected a whole number") from None
        if minimum is not None and number < minimum:
            raise SettingError(f"{name}={number}: must be at least {minimum}")
        return number

    return parse


def _float(name: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise SettingError(f"{name}={text!r}: expected a number") from None


def _choice(*choices: str) -> Callable[[str, str], str]:
    def parse(name: str, text: str) -> str:
        value = text.strip().lower()
        if value not in choices:
            raise SettingError(f"{name}={text!r}: use {' or '.join(choices)}")
        return value

    return parse


def _timezone(name: str, text: str) -> str:
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingError(f"{name}={text!r}: not a known timezone (e.g. America/New_York)") from None
    return text


def _text(_name: str, text: str) -> str:
    return text


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    doc: str
    parse: Callable[[str, str], object] = _text
    secret: bool = False  # never shown in a repr, a log line or an error


_ALL = (
    # the pipeline
    Setting("HB_DATA_ROOT", "./data", "input data root (see the data contract)"),
    Setting("HB_STORE_URL", "./var/store", "object store: a local folder, file:// URL or gs://bucket/prefix"),
    Setting("HB_MEDIA_DB_URL", "sqlite:///var/media.db", "SQLAlchemy URL of the media index", secret=True),
    Setting("HB_WORK_DIR", "./var/work", "intermediate Parquet tables and the cutters' scratch folders"),
    Setting("HB_CUT_WORKERS", str(min(2, os.cpu_count() or 1)), "clips cut in parallel within one partition", _int(1)),
    Setting("HB_MAX_REMOVED_SHARE", "0.5", "a new version of a period's inputs may remove at most this share of "
            "its indexed clips (and never all of them) unless forced with --accept-removals", _float),
    Setting("HB_DECODE_THREADS", "0", "frame threads of each smart-cut decoder; 0: the cores this process may use "
            "(at most 8)", _int(0)),
    Setting("HB_CUTTER", "smart", "smart (copy what can be copied) or full (re-encode every clip)", _choice("smart", "full")),
    Setting("HB_HLS", "1", "1: package every clip as HLS too (fragmented MP4 + playlist, no re-encode); 0: off",
            _choice("1", "0")),
    # Google Cloud Storage
    Setting("HB_GCS_ENDPOINT", "", "GCS emulator URL; empty: real GCS with Application Default Credentials"),
    Setting("HB_GCS_PROJECT", "", "GCP project of the storage client (empty: from the credentials)"),
    Setting("HB_SIGNING_KEY_FILE", "", "service-account JSON key file that signs V4 URLs"),
    Setting("HB_SIGNING_KEY_JSON", "", "the same key as JSON text", secret=True),
    Setting("HB_SIGNED_URL_EXPIRY_S", "3600", "lifetime of signed URLs in seconds", _int(1)),
    Setting("HB_CDN_HOST", "", "host bound to the bucket (Cloud CDN); signed URLs use it when set"),
    # automation: read when the code location loads
    Setting("HB_SENSOR_INTERVAL_S", "30", "minimum seconds between sensor ticks", _int(1)),
    Setting("HB_SENSOR_DEFAULT_STATUS", "running", "sensor status when the code location first loads",
            _choice("running", "stopped")),
    Setting("HB_BACKFILL_CRON", "0 6 * * *", "when the back-fill runs"),
    Setting("HB_BACKFILL_TIMEZONE", "America/New_York", "timezone of the cron and of 'yesterday'", _timezone),
    Setting("HB_BACKFILL_DAYS_BACK", "1", "back-fill the games of this many previous days", _int(1)),
    Setting("HB_BACKFILL_DEFAULT_STATUS", "running", "schedule status when the code location first loads",
            _choice("running", "stopped")),
    Setting("HB_CHECK_REJECTED_RATIO_WARN", "0.10", "rejected_row_ratio warns above this share", _float),
    Setting("HB_CHECK_DECODE_SAMPLE", "3", "clips decoded per partition by clip_first_frames (0: all)", _int(0)),
    Setting("HB_EXECUTOR", "in_process", "how a run's steps execute: in_process, or celery (steps on Celery workers)",
            _choice("in_process", "celery")),
    Setting("HB_CELERY_BROKER", "pyamqp://guest@127.0.0.1:5672//", "Celery broker URL", secret=True),
    Setting("HB_CELERY_BACKEND", "rpc://", "Celery result backend"),
    Setting("HB_CELERY_QUEUE", "hb-clips", "Celery queue the steps go to"),
    # the read side
    Setting("HB_API_KEYS", "", "API keys: KEY=ROLE[:TEAM[:PLAYER]], separated by ;", secret=True),
    Setting("HB_API_KEYS_FILE", "", "JSON file of API keys: {\"KEY\": {\"role\": ..., \"team\": ..., \"player\": ...}}"),
    Setting("HB_API_MEDIA_SECRET", "", "secret that signs the API's media links (empty: a new one per start)",
            secret=True),
    Setting("HB_API_MEDIA_URL_EXPIRY_S", "", "lifetime of the API's media links (empty: HB_SIGNED_URL_EXPIRY_S)"),
    Setting("HB_USER_PLAYER_ID", "", "the player 'my' means in a request"),
    # Dagster's own storage in production: read by deploy/dagster_home/dagster.yaml (Dagster's env: syntax),
    # not by this package; listed so every HB_* name has one home.
    Setting("HB_DAGSTER_PG_HOST", "", "PostgreSQL host of Dagster's run, event and schedule storage"),
    Setting("HB_DAGSTER_PG_PORT", "5432", "its port", _int(1)),
    Setting("HB_DAGSTER_PG_USER", "", "its user"),
    Setting("HB_DAGSTER_PG_PASSWORD", "", "its password (may be empty but must be set)", secret=True),
    Setting("HB_DAGSTER_PG_DB", "", "its database"),
)
SETTINGS: dict[str, Setting] = {s.name: s for s in _ALL}


def raw(name: str, environ: Mapping[str, str] | None = None) -> str:
    """The setting's text: the environment's value, or the default where it is unset or empty."""
    setting = SETTINGS[name]  # an unknown name is a programming error: KeyError
    env = os.environ if environ is None else environ
    return env.get(name) or setting.default


def value(name: str, environ: Mapping[str, str] | None = None):
    """The setting's typed, checked value."""
    return SETTINGS[name].parse(name, raw(name, environ))


def or_setting(given, name: str):
    """``given`` where it is set (resource config, a CLI flag), else the setting's value."""
    return value(name) if given in (None, "") else given
