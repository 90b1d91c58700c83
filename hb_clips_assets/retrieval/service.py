"""What the read side (``hb-clips find``, the REST API) opens: the media index,
schedule and roster, and the object store for URLs - from the same ``HB_*``
settings (:mod:`hb_clips_assets.settings`) the pipeline uses, without loading
Dagster. Reading never migrates or writes the index.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, inspect
from sqlalchemy.engine import make_url

from hb_clips_assets.retrieval import References
from hb_clips_assets.settings import value
from hb_clips_assets.storage.index.db import create_media_engine, redact_url, redact_url_in
from hb_clips_assets.storage.index.models import SCHEMA
from hb_clips_assets.storage.store.configured import store_from_settings


class RetrievalError(RuntimeError):
    """The index, the data root or the store cannot be opened for reading."""


@dataclass
class Retrieval:
    engine: Engine
    refs: References
    store: object | None
    data_root: Path
    db_url_shown: str
    url_expires_s: int

    def dispose(self) -> None:
        self.engine.dispose()


def open_retrieval(data_root: str | None = None, db_url: str | None = None, store_url: str | None = None) -> Retrieval:
    root = Path(data_root or value("HB_DATA_ROOT")).resolve()
    url = db_url or value("HB_MEDIA_DB_URL")
    try:
        shown = make_url(url).render_as_string(hide_password=True)
        engine = create_media_engine(url)
    except Exception as exc:  # noqa: BLE001 - a bad URL or a missing driver: say which
        raise RetrievalError(f"media index URL {redact_url(url)!r}: {redact_url_in(str(exc), url)}") from None
    try:
        names = inspect(engine).get_table_names(schema=SCHEMA)
    except Exception as exc:  # noqa: BLE001
        engine.dispose()
        raise RetrievalError(f"cannot open the media index {shown}: {str(exc).splitlines()[0]}") from None
    if "clips" not in names:
        engine.dispose()
        raise RetrievalError(
            f"the media index {shown} has no clips yet: run `hb-clips run` (or `hb-clips db upgrade` for an empty index)"
        )
    if "clip_stats_game" not in names:  # made before revision 0003: searches read its per-game counts
        engine.dispose()
        raise RetrievalError(f"the media index {shown} predates the per-game counts: run `hb-clips db upgrade`")
    try:
        refs = References.load(root)
    except Exception as exc:  # noqa: BLE001 - a broken schedule.csv or roster.csv names itself
        engine.dispose()
        raise RetrievalError(str(exc)) from None
    store_url = store_url or value("HB_STORE_URL")
    try:
        store = store_from_settings(store_url)
        expires_s = value("HB_SIGNED_URL_EXPIRY_S")  # the lifetime of the store's signed URLs
    except Exception as exc:  # noqa: BLE001
        engine.dispose()
        raise RetrievalError(f"cannot open the object store {store_url!r}: {exc}") from None
    return Retrieval(engine, refs, store, root, shown, expires_s)
