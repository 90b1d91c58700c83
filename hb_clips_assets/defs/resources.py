"""Typed resources over the plain-Python domain, video, storage and index code.

Every field left empty (the default) takes its ``HB_*`` setting when the
resource is used (:mod:`hb_clips_assets.settings` is the one registry), so a
variable set after the code location loaded still counts, and the launchpad's
run config can override any of them.
"""
from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableResource
from pydantic import Field, PrivateAttr

from hb_clips_assets.domain.layout import DataRoot
from hb_clips_assets.domain.segments import DEFAULT_POST_S, DEFAULT_PRE_S, ClipRules, ClipWindow
from hb_clips_assets.settings import or_setting, value
from hb_clips_assets.storage.index.db import redact_url
from hb_clips_assets.storage.index.repository import MediaIndex
from hb_clips_assets.storage.store import ObjectStore
from hb_clips_assets.storage.store.configured import store_from_settings
from hb_clips_assets.video.cut import EncodeSettings


class DataRootResource(ConfigurableResource):
    """The input data root laid out as DATA_CONTRACT.md section 1 says (:class:`DataRoot`)."""

    path: str = Field(default="", description="Folder with schedule.csv, roster.csv, metrics/, shifts/, video/ "
                      "(empty: HB_DATA_ROOT, default ./data)")

    @property
    def layout(self) -> DataRoot:
        return DataRoot(or_setting(self.path, "HB_DATA_ROOT"))

    @property
    def root(self) -> Path:
        return self.layout.path


class ObjectStoreResource(ConfigurableResource):
    """Where clips and thumbnails go: a local folder, or ``gs://bucket/prefix``.

    For GCS: ``gcs_endpoint`` empty means real GCS with Application Default
    Credentials (through dagster-gcp's ``GCSResource``); a URL means an
    emulator (fake-gcs-server) with anonymous credentials. Signed URLs need a
    service-account key (file or JSON text); the key never shows in a repr.
    """

    url: str = Field(default="", description="Local folder, file:// URL or gs://bucket/prefix (empty: HB_STORE_URL, "
                     "default ./var/store)")
    gcs_endpoint: str = Field(default="", description="GCS emulator URL; empty: real GCS with Application Default Credentials")
    gcs_project: str = Field(default="", description="GCP project of the storage client (empty: from the credentials)")
    signing_key_file: str = Field(default="", description="Service-account JSON key file that signs V4 URLs")
    signing_key_json: str = Field(default="", description="The same key as JSON text (secret: set it from an env var)")
    signed_url_expiry_s: int = Field(default=0, description="Lifetime of signed URLs in seconds, at most 7 days "
                                     "(0: HB_SIGNED_URL_EXPIRY_S, default 3600)")
    cdn_host: str = Field(default="", description="Host bound to the bucket (Cloud CDN); signed URLs use it when set")
    _store: ObjectStore | None = PrivateAttr(default=None)

    def __repr_args__(self):
        for name, shown in super().__repr_args__():
            yield name, ("<redacted>" if name == "signing_key_json" and shown else shown)

    def __str__(self) -> str:
        return repr(self)

    def get_store(self) -> ObjectStore:
        if self._store is None:
            # Empty fields fall back to their settings (None = "not given" for store_from_settings).
            url = self.url or None
            client = None
            endpoint = or_setting(self.gcs_endpoint, "HB_GCS_ENDPOINT")
            if (url or value("HB_STORE_URL")).startswith("gs://") and not endpoint:
                # Real GCS: the client comes from dagster-gcp's GCSResource (Application Default Credentials).
                from dagster_gcp import GCSResource

                client = GCSResource(project=or_setting(self.gcs_project, "HB_GCS_PROJECT") or None).get_client()
            self._store = store_from_settings(
                url, client=client, gcs_endpoint=self.gcs_endpoint or None, gcs_project=self.gcs_project or None,
                signing_key_file=self.signing_key_file or None, signing_key_json=self.signing_key_json or None,
                signed_url_expiry_s=self.signed_url_expiry_s or None, cdn_host=self.cdn_host or None,
            )
        return self._store


class MediaIndexResource(ConfigurableResource):
    url: str = Field(default="", description="SQLAlchemy URL of the media index (empty: HB_MEDIA_DB_URL, default "
                     "the SQLite file var/media.db)")
    _index: MediaIndex | None = PrivateAttr(default=None)

    def __repr_args__(self):
        # the URL may hold the database password: never show it in a repr, a log line or an error
        for name, shown in super().__repr_args__():
            yield name, (redact_url(shown) if name == "url" and isinstance(shown, str) else shown)

    def __str__(self) -> str:
        return repr(self)

    def get_index(self) -> MediaIndex:
        if self._index is None:
            self._index = MediaIndex(or_setting(self.url, "HB_MEDIA_DB_URL"))
        return self._index


class ClipSettingsResource(ConfigurableResource):
    """Clip windows and cutting parallelism."""

    pre_s: float = Field(default=DEFAULT_PRE_S, description="Seconds before the event frame")
    post_s: float = Field(default=DEFAULT_POST_S, description="Seconds after the event frame")
    pre_s_by_event_type: dict[str, float] = Field(default_factory=dict)
    post_s_by_event_type: dict[str, float] = Field(default_factory=dict)
    workers: int = Field(default=0, description="Clips cut in parallel in one partition (0: HB_CUT_WORKERS, "
                         "default min(2, CPUs))")
    crf: int = Field(default=20, description="x264 quality (lower is better, bigger)")
    preset: str = Field(default="ultrafast", description="x264 preset")
    cutter: str = Field(
        default="",
        description="empty: HB_CUTTER (default smart); smart: re-encode head and tail, copy the source's packets between (falls back to a full "
        "re-encode where the source does not allow it); full: always re-encode the whole clip",
    )
    work_dir: str = Field(
        default="", description="Working folder; cuts are written under its scratch/ (empty: HB_WORK_DIR, default ./var/work)"
    )

    @property
    def cut_workers(self) -> int:
        return self.workers or value("HB_CUT_WORKERS")

    @property
    def cutter_name(self) -> str:
        return self.cutter or value("HB_CUTTER")

    def scratch_dir(self) -> Path:
        return Path(or_setting(self.work_dir, "HB_WORK_DIR")) / "scratch"

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
        if self.cutter_name not in ("smart", "full"):
            raise ValueError(f"HB_CUTTER must be 'smart' or 'full', not {self.cutter_name!r}")
        return EncodeSettings(crf=self.crf, preset=self.preset, cutter=self.cutter_name)


class CheckSettingsResource(ConfigurableResource):
    """Thresholds of the asset checks (empty fields: their HB_CHECK_* settings)."""

    rejected_ratio_warn: float = Field(
        default=-1.0,
        description="The rejected_row_ratio check warns above this share of a period's metric rows set aside "
        "(negative: HB_CHECK_REJECTED_RATIO_WARN, default 0.10)",
    )
    decode_sample: int = Field(
        default=-1,
        description="Clips per partition whose first frame clip_first_frames decodes, 0: all "
        "(negative: HB_CHECK_DECODE_SAMPLE, default 3)",
    )

    @property
    def warn_ratio(self) -> float:
        return self.rejected_ratio_warn if self.rejected_ratio_warn >= 0 else value("HB_CHECK_REJECTED_RATIO_WARN")

    @property
    def sample_size(self) -> int:
        return self.decode_sample if self.decode_sample >= 0 else value("HB_CHECK_DECODE_SAMPLE")


def default_resources() -> dict:
    """The resources every job uses, each reading its settings when it is used."""
    return {
        "data_root": DataRootResource(),
        "object_store": ObjectStoreResource(),
        "media_index": MediaIndexResource(),
        "clip_settings": ClipSettingsResource(),
        "check_settings": CheckSettingsResource(),
    }
