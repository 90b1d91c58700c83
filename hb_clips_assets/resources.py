"""Typed resources, configured from environment variables with sane defaults.

Every setting has one home here and one name (documented in README.md).
"""
from __future__ import annotations

import os
from pathlib import Path

from dagster import ConfigurableResource, EnvVar
from pydantic import Field, PrivateAttr

from .core.contract import ContractError, validate_game_id
from .core.index.repository import MediaIndex
from .core.segments import ClipRules, ClipWindow, DEFAULT_POST_S, DEFAULT_PRE_S
from .core.store import ObjectStore, open_store
from .core.video.cut import EncodeSettings

DEFAULTS = {
    "HB_DATA_ROOT": "./data",
    "HB_STORE_URL": "./var/store",
    "HB_MEDIA_DB_URL": "sqlite:///var/media.db",
    "HB_WORK_DIR": "./var/work",
    "HB_CUT_WORKERS": str(min(2, os.cpu_count() or 1)),
}


def setting(name: str) -> EnvVar:
    """The setting's environment variable, read when a run starts (so the CLI, the
    UI and the tests can set it late); its default is filled in where unset."""
    os.environ.setdefault(name, DEFAULTS[name])
    return EnvVar(name)


class DataRootResource(ConfigurableResource):
    """The input data root laid out as DATA_CONTRACT.md section 1 says."""

    path: str = Field(description="Folder with schedule.csv, roster.csv, metrics/, shifts/, video/")

    @property
    def root(self) -> Path:
        return Path(self.path).resolve()

    def metrics_path(self, game_id: str) -> Path:
        return self.root / "metrics" / f"{validate_game_id(game_id)}.csv"

    def video_path(self, game_id: str, period: str) -> Path:
        return self.root / "video" / validate_game_id(game_id) / f"{period}.mp4"

    def schedule_path(self) -> Path:
        return self.root / "schedule.csv"

    def games(self) -> list[str]:
        """Games with a metrics file or a video folder; bad names are skipped (never partition keys)."""
        names: set[str] = set()
        for sub, pattern in (("metrics", "*.csv"), ("video", "*")):
            for p in (self.root / sub).glob(pattern):
                name = p.stem if sub == "metrics" else p.name
                try:
                    names.add(validate_game_id(name))
                except ContractError:
                    continue
        return sorted(names)


class ObjectStoreResource(ConfigurableResource):
    url: str = Field(description="Local folder (default ./var/store) or file:// URL")

    def get_store(self) -> ObjectStore:
        return open_store(self.url)


class MediaIndexResource(ConfigurableResource):
    url: str = Field(description="SQLAlchemy URL of the media index; SQLite file by default")
    _index: MediaIndex | None = PrivateAttr(default=None)

    def get_index(self) -> MediaIndex:
        if self._index is None:
            self._index = MediaIndex(self.url)
        return self._index


class ClipSettingsResource(ConfigurableResource):
    """Clip windows and cutting parallelism."""

    pre_s: float = Field(default=DEFAULT_PRE_S, description="Seconds before the event frame")
    post_s: float = Field(default=DEFAULT_POST_S, description="Seconds after the event frame")
    pre_s_by_event_type: dict[str, float] = Field(default_factory=dict)
    post_s_by_event_type: dict[str, float] = Field(default_factory=dict)
    workers: int = Field(default=2, description="Clips cut in parallel in one partition")
    crf: int = Field(default=20, description="x264 quality (lower is better, bigger)")
    preset: str = Field(default="ultrafast", description="x264 preset")

    def rules(self) -> ClipRules:
        types = set(self.pre_s_by_event_type) | set(self.post_s_by_event_type)
        return ClipRules(
            default=ClipWindow(self.pre_s, self.post_s),
            by_event_type={
                t: ClipWindow(self.pre_s_by_event_type.get(t, self.pre_s), self.post_s_by_event_type.get(t, self.post_s))
                for t in types
            },
        )

    def encode_settings(self) -> EncodeSettings:
        return EncodeSettings(crf=self.crf, preset=self.preset)


def default_resources() -> dict:
    return {
        "data_root": DataRootResource(path=setting("HB_DATA_ROOT")),
        "object_store": ObjectStoreResource(url=setting("HB_STORE_URL")),
        "media_index": MediaIndexResource(url=setting("HB_MEDIA_DB_URL")),
        "clip_settings": ClipSettingsResource(workers=EnvVar.int(setting("HB_CUT_WORKERS").env_var_name)),
    }
