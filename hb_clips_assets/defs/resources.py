"""Typed resources, configured from environment variables with sane defaults.

Every setting has one home here and one name (documented in README.md).
"""
from __future__ import annotations

import os
from pathlib import Path

from dagster import ConfigurableResource, EnvVar
from pydantic import Field, PrivateAttr

from hb_clips_assets.domain.contract import PERIODS, ContractError, validate_game_id
from hb_clips_assets.storage.index.db import redact_url
from hb_clips_assets.storage.index.repository import MediaIndex
from hb_clips_assets.domain.segments import ClipRules, ClipWindow, DEFAULT_POST_S, DEFAULT_PRE_S
from hb_clips_assets.storage.store import ObjectStore, open_store
from hb_clips_assets.video.cut.full import EncodeSettings

DEFAULTS = {
    "HB_DATA_ROOT": "./data",
    "HB_STORE_URL": "./var/store",
    "HB_MEDIA_DB_URL": "sqlite:///var/media.db",
    "HB_WORK_DIR": "./var/work",
    "HB_CUT_WORKERS": str(min(2, os.cpu_count() or 1)),
    "HB_CUTTER": "smart",
    "HB_GCS_ENDPOINT": "",
    "HB_GCS_PROJECT": "",
    "HB_SIGNING_KEY_FILE": "",
    "HB_SIGNING_KEY_JSON": "",
    "HB_SIGNED_URL_EXPIRY_S": "3600",
    "HB_CDN_HOST": "",
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
        if period not in PERIODS:  # never a path from anything but 1, 2, 3, OT
            raise ContractError(f"unknown period {period!r}: expected one of {', '.join(PERIODS)}")
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
    """Where clips and thumbnails go: a local folder, or ``gs://bucket/prefix``.

    For GCS: ``gcs_endpoint`` empty means real GCS with Application Default
    Credentials (through dagster-gcp's ``GCSResource``); a URL means an
    emulator (fake-gcs-server) with anonymous credentials. Signed URLs need a
    service-account key (file or JSON text); the key never shows in a repr.
    """

    url: str = Field(description="Local folder (default ./var/store), file:// URL or gs://bucket/prefix")
    gcs_endpoint: str = Field(default="", description="GCS emulator URL; empty: real GCS with Application Default Credentials")
    gcs_project: str = Field(default="", description="GCP project of the storage client (empty: from the credentials)")
    signing_key_file: str = Field(default="", description="Service-account JSON key file that signs V4 URLs")
    signing_key_json: str = Field(default="", description="The same key as JSON text (secret: set it from an env var)")
    signed_url_expiry_s: int = Field(default=3600, description="Lifetime of signed URLs in seconds (at most 7 days)")
    cdn_host: str = Field(default="", description="Host bound to the bucket (Cloud CDN); signed URLs use it when set")
    _store: ObjectStore | None = PrivateAttr(default=None)

    def __repr_args__(self):
        for name, value in super().__repr_args__():
            yield name, ("<redacted>" if name == "signing_key_json" and value else value)

    def __str__(self) -> str:
        return repr(self)

    def _gcs_client(self):
        if self.gcs_endpoint:
            # GCSResource only takes a project and builds `storage.Client(project=...)`
            # with Application Default Credentials: it has no endpoint nor
            # credentials option, so the emulator client is built here.
            from hb_clips_assets.storage.store.gcs import gcs_client

            return gcs_client(self.gcs_endpoint, self.gcs_project or None)
        from dagster_gcp import GCSResource

        return GCSResource(project=self.gcs_project or None).get_client()

    def get_store(self) -> ObjectStore:
        if self._store is None:
            if self.url.startswith("gs://"):
                from hb_clips_assets.storage.store.signing import UrlSigner, check_expiry

                check_expiry(self.signed_url_expiry_s)  # a bad setting fails at start, key or not
                signer = UrlSigner.from_settings(
                    self.signing_key_file, self.signing_key_json,
                    expiry_s=self.signed_url_expiry_s, cdn_host=self.cdn_host or None,
                )
                self._store = open_store(self.url, client=self._gcs_client(), signer=signer)
            else:
                self._store = open_store(self.url)
        return self._store


class MediaIndexResource(ConfigurableResource):
    url: str = Field(description="SQLAlchemy URL of the media index; SQLite file by default")
    _index: MediaIndex | None = PrivateAttr(default=None)

    def __repr_args__(self):
        # the URL may hold the database password: never show it in a repr, a log line or an error
        for name, value in super().__repr_args__():
            yield name, (redact_url(value) if name == "url" and isinstance(value, str) else value)

    def __str__(self) -> str:
        return repr(self)

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
    cutter: str = Field(
        default="smart",
        description="smart: re-encode head and tail, copy the source's packets between (falls back to a full "
        "re-encode where the source does not allow it); full: always re-encode the whole clip",
    )
    work_dir: str = Field(
        default="", description="Working folder (HB_WORK_DIR); cuts are written under its scratch/ (empty: system temp)"
    )

    def scratch_dir(self) -> Path | None:
        return Path(self.work_dir) / "scratch" if self.work_dir else None

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
        if self.cutter not in ("smart", "full"):
            raise ValueError(f"HB_CUTTER must be 'smart' or 'full', not {self.cutter!r}")
        return EncodeSettings(crf=self.crf, preset=self.preset, cutter=self.cutter)


def default_resources() -> dict:
    return {
        "data_root": DataRootResource(path=setting("HB_DATA_ROOT")),
        "object_store": ObjectStoreResource(
            url=setting("HB_STORE_URL"),
            gcs_endpoint=setting("HB_GCS_ENDPOINT"),
            gcs_project=setting("HB_GCS_PROJECT"),
            signing_key_file=setting("HB_SIGNING_KEY_FILE"),
            signing_key_json=setting("HB_SIGNING_KEY_JSON"),
            signed_url_expiry_s=EnvVar.int(setting("HB_SIGNED_URL_EXPIRY_S").env_var_name),
            cdn_host=setting("HB_CDN_HOST"),
        ),
        "media_index": MediaIndexResource(url=setting("HB_MEDIA_DB_URL")),
        "clip_settings": ClipSettingsResource(
            workers=EnvVar.int(setting("HB_CUT_WORKERS").env_var_name), work_dir=setting("HB_WORK_DIR"),
            cutter=setting("HB_CUTTER"),
        ),
    }
