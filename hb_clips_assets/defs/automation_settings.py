"""The sensor's and the schedule's settings, as Dagster wants them.

They shape the definitions themselves (interval, cron, default status), so
they are read when the code location loads: restart `dagster dev` / the code
server to change them. Names, defaults and checks live in
:mod:`hb_clips_assets.settings`.
"""
from __future__ import annotations

from dataclasses import dataclass

from dagster import DefaultScheduleStatus, DefaultSensorStatus

from hb_clips_assets.settings import value


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
    return AutomationSettings(
        sensor_interval_s=value("HB_SENSOR_INTERVAL_S"),
        sensor_running=value("HB_SENSOR_DEFAULT_STATUS") == "running",
        backfill_cron=value("HB_BACKFILL_CRON"),
        backfill_timezone=value("HB_BACKFILL_TIMEZONE"),
        backfill_days_back=value("HB_BACKFILL_DAYS_BACK"),
        backfill_running=value("HB_BACKFILL_DEFAULT_STATUS") == "running",
    )
