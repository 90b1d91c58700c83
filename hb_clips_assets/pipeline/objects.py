"""Stored objects' SHA-256, remembered like a source's (:mod:`.sources`), for stores that keep
objects as local files (``path_of``).

A period's clips are about 70 x (MP4 + HLS fMP4 + thumbnail + playlist), 0.5-1 GB. The local
store's ``stat`` hashes the file every time, and a run asked it for every object three times: the
clips step's cache check (every object of a re-run), the frame-count check (only whether the MP4
exists) and the store <-> index check. :class:`ObjectHashes` answers ``stat`` from a record when
the object's file identity (device, inode, size, mtime, ctime) is what it was when it was
hashed, and the file had been quiet for ``sources.RACY_S`` before that hash: the rule and its
limits are the sources' (a rewrite in place, a ``touch``, a replace all change the ctime; only a
change that goes around the file system is not seen). Objects the store has just written are
always hashed again by the first ``stat`` (too fresh to trust), so the store <-> index check of
the run that wrote them still reads every byte they hold; later runs use the records.

Records persist per partition in ``<work_dir>/objects/<game>-<period>.json`` (:meth:`save`) and
in memory for the process. A store without ``path_of`` (GCS: ``stat`` reads metadata only) is
asked directly. No Dagster import.
"""
from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

from hb_clips_assets.pipeline import sources
from hb_clips_assets.pipeline.sources import FileIdentity
from hb_clips_assets.storage.store.base import ObjectStore, StoredObject

FORMAT = 1


class ObjectHashes:
    """``stat`` of one store, answered from remembered hashes where the file is unchanged."""

    _memory: dict[tuple[str, str], dict] = {}  # (store root, key) -> [identity..., sha256, hashed_at_ns]
    _lock = threading.Lock()

    def __init__(self, store: ObjectStore, work_dir: Path | str | None = None, name: str | None = None):
        self.store = store
        self.root = str(getattr(store, "root", repr(store)))
        self.file = Path(work_dir) / "objects" / f"{name}.json" if work_dir is not None and name else None
        self.hashed = 0  # objects hashed by this instance (the rest: remembered, or not local)
        self._loaded = False
        self._keys: set[str] = set()  # the keys this partition's file holds: loaded or asked for

    def _load(self) -> None:
        if self._loaded or self.file is None:
            return
        self._loaded = True
        try:
            data = json.loads(self.file.read_text())
        except (OSError, ValueError):
            return
        if data.get("format") != FORMAT or data.get("root") != self.root:
            return
        with self._lock:
            for key, record in data.get("objects", {}).items():
                self._memory.setdefault((self.root, key), record)
                self._keys.add(key)

    def exists(self, key: str) -> bool:
        """Whether the object exists: a file test for a local store, nothing read or hashed."""
        path_of = getattr(self.store, "path_of", None)
        return Path(path_of(key)).is_file() if path_of is not None else self.store.stat(key) is not None

    def stat(self, key: str) -> StoredObject | None:
        path_of = getattr(self.store, "path_of", None)
        if path_of is None:
            return self.store.stat(key)
        self._load()
        self._keys.add(key)
        path = Path(path_of(key))
        try:
            before = FileIdentity.of(path)
        except (FileNotFoundError, NotADirectoryError):  # no such object (a file where a folder should be:
            return None                                   # the store's own write says what is wrong)
        record = self._memory.get((self.root, key))
        if (record is not None and FileIdentity(*record[:5]) == before
                and record[6] - before.ctime_ns >= sources.RACY_S * 1e9):
            return StoredObject(key, path.as_uri(), before.size, record[5])
        started_ns = time.time_ns()
        obj = self.store.stat(key)
        self.hashed += 1
        if obj is not None and FileIdentity.of(path) == before:
            with self._lock:
                self._memory[(self.root, key)] = [before.dev, before.ino, before.size, before.mtime_ns,
                                                  before.ctime_ns, obj.sha256, started_ns]
        return obj

    def save(self) -> None:
        """Write this store's records to the partition's file (atomic; a failure costs hashes only)."""
        if self.file is None:
            return
        self._load()
        prefix_records = {k: r for k in sorted(self._keys) if (r := self._memory.get((self.root, k))) is not None}
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.file.with_name(f".{self.file.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"format": FORMAT, "root": self.root, "objects": prefix_records}))
            os.replace(tmp, self.file)
        except OSError:
            pass
