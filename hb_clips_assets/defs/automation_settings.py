"""Settings of the automation (sensor, schedule, checks, Celery), from environment
variables with defaults; each documented in README.md.

The sensor's interval and default status and the schedule's cron, timezone and
default status shape the definitions themselves, so they are read when the
code location loads (restart `dagster dev` / the code server to change them).
The check thresholds are fields of the ``check_settings`` resource.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from dagster import ConfigurableResource, DefaultScheduleStatus, DefaultSensorStatus
from pydantic import Field

AUTOMATION_DEFAULTS = {
    "HB_SENSOR_INTERVAL_S": "30",
    "HB_SENSOR_DEFAULT_STATUS": "running",
    "HB_BACKFILL_CRON": "0 6 * * *",
    "HB_BACKFILL_TIMEZONE": "America/New_York",
    "HB_BACKFILL_DAYS_BACK": "1",
    "HB_BACKFILL_DEFAULT_STATUS": "running",
    "HB_CHECK_REJECTED_RATIO_WARN": "0.10",
    "HB_CHECK_DECODE_SAMPLE": "3",
    "HB_CELERY_BROKER": "pyamqp://guest@127.0.0.1:5672//",
    "HB_CELERY_BACKEND": "rpc://",
    "HB_CELERY_QUEUE": "hb-clips",
}


def _get(name: str) -> str:
    return os.environ.get(name) or AUTOMATION_DEFAULTS[name]


def _status(name: str) -> bool:
    value = _get(name).strip().lower()
    if value not in ("running", "stopped"):
        raise ValueError(f"{name}={value!r}: use running or stopped")
    return value == "running"


@dataclass(frozen=True)
class AutomationSettings:
    sensor_interval_s: int
    sensor_running: bool
    backfill_cron: str
    backfill_timezone: str
    backfill_days_back: int
    backfill_running: bool

    @property
    def sensor_status(self) -> DefaultSensorStatus:
        return DefaultSensorStatus.RUNNING if self.sensor_running else DefaultSensorStatus.STOPPED

    @property
    def backfill_status(self) -> DefaultScheduleStatus:
        return DefaultScheduleStatus.RUNNING if self.backfill_running else DefaultScheduleStatus.STOPPED


def automation_settings() -> AutomationSettings:
    """The settings as the environment says now; a bad value is refused with its name."""
    interval = int(_get("HB_SENSOR_INTERVAL_S"))
    days_back = int(_get("HB_BACKFILL_DAYS_BACK"))
    if interval < 1:
        raise ValueError(f"HB_SENSOR_INTERVAL_S={interval}: must be at least 1")
    if days_back < 1:
        raise ValueError(f"HB_BACKFILL_DAYS_BACK={days_back}: must be at least 1")
    timezone = _get("HB_BACKFILL_TIMEZONE")
    ZoneInfo(timezone)  # an unknown zone fails here, naming itself
    return AutomationSettings(
        sensor_interval_s=interval,
        sensor_running=_status("HB_SENSOR_DEFAULT_STATUS"),
        backfill_cron=_get("HB_BACKFILL_CRON"),
        backfill_timezone=timezone,
        backfill_days_back=days_back,
        backfill_running=_status("HB_BACKFILL_DEFAULT_STATUS"),
    )


class CheckSettingsResource(ConfigurableResource):
    """Thresholds of the asset checks."""

    rejected_ratio_warn: float = Field(
        default=float(AUTOMATION_DEFAULTS["HB_CHECK_REJECTED_RATIO_WARN"]),
        description="The rejected_row_ratio check warns above this share of a period's metric rows set aside",
    )
    decode_sample: int = Field(
        default=int(AUTOMATION_DEFAULTS["HB_CHECK_DECODE_SAMPLE"]),
        description="Clips per partition whose first frame clip_first_frames decodes (0: all)",
    )


def check_settings_from_env() -> CheckSettingsResource:
    return CheckSettingsResource(
        rejected_ratio_warn=float(_get("HB_CHECK_REJECTED_RATIO_WARN")),
        decode_sample=int(_get("HB_CHECK_DECODE_SAMPLE")),
    )


def celery_executor_config() -> dict:
    """Config of ``dagster_celery.celery_executor`` for the scale-out job variant."""
    return {
        "broker": _get("HB_CELERY_BROKER"),
        "backend": _get("HB_CELERY_BACKEND"),
        "config_source": CELERY_CONFIG_SOURCE | {"task_default_queue": _get("HB_CELERY_QUEUE")},
    }


# dagster-celery publishes a step to queue Q with routing key "Q.execute_plan";
# a queue other than its built-in "dagster" is created on the fly with a direct
# exchange bound by "Q", which would drop those messages. A fanout exchange
# delivers them whatever the key.
CELERY_CONFIG_SOURCE = {"task_create_missing_queue_exchange_type": "fanout"}
