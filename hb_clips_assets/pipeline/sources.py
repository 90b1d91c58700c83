"""What a run knows about its source video: the probe and the SHA-256 of the whole file, each
computed once and remembered, keyed on the file's identity as the file system reports it.

A 35-minute period is 1.6-2 GB: its SHA-256 takes about a second, its probe (every packet read)
about as long. ``event_segments`` needs both (the frame count resolves timecodes; the hash is the
clips' cache key), ``clips`` needs both again (the cut reads the probe; the hash proves the file
is the one the segments were resolved against, before and after cutting), and the first-frame
check needs the probe. Before this module every one of those read the file again: three probes
and three hashes per run, and the same again on a re-run that cuts nothing.

**When a remembered hash is trusted.** The record (``<work_dir>/sources/<key>.json``) holds the
file's identity: device, inode, size, mtime and ctime, in nanoseconds. It is used only when all
five are unchanged. ctime is the one that matters for safety: the kernel sets it on every write,
truncate, rename into place and ``touch``/``utime``, and no system call sets it back, so a file
rewritten with the same size and its mtime restored (``touch -d``, ``os.utime``, ``cp -p``,
``rsync -t``) still has a new ctime and is hashed again. A file replaced by rename (what the
sample writer, ``rsync`` and most recorders do) has a new inode too.

Timestamps have a granularity (a kernel tick on some file systems), so a write in the same tick
as the stat that preceded the hash could leave every field as it was: the racy-git rule applies.
A record is trusted only if the file had been quiet for :data:`RACY_S` seconds (its ctime that
far before the hash began); a file that changed during the hash (a different identity after it
than before) is never recorded. What stays out of reach is a change that goes around the file
system (editing the block device, a restored clock, a network file system whose server lies
about times): delete ``<work_dir>/sources/`` (or the work folder) to force a re-hash.

The probe is stored with the hash (JSON, :func:`encode_info`): the same identity proves both.
Within one process the records are also kept in memory, so the steps of one run read the JSON
once. No Dagster import.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import threading
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from hb_clips_assets.domain.hashing import sha256_file
from hb_clips_assets.video.probe import VideoError, VideoInfo, probe_video

RACY_S = 2.0  # a record is trusted only if the file's ctime is this long before its hash began
MEMORY_RECORDS = 8  # sources kept in memory per process (a 35-minute period's probe is about 5 MB there)
FORMAT = 1  # bump when the record or VideoInfo changes shape: older records are then ignored


@dataclass(frozen=True)
class FileIdentity:
    """What changes when a file's bytes can have changed (see the module docstring)."""

    dev: int
    ino: int
    size: int
    mtime_ns: int
    ctime_ns: int

    @classmethod
    def of(cls, path: Path | str) -> "FileIdentity":
        st = os.stat(path)
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


@dataclass(frozen=True)
class KnownSource:
    """A source video with its probe and content hash, and what this call had to do for them."""

    path: Path
    identity: FileIdentity
    sha256: str
    info: VideoInfo | None  # None when only the hash was asked for and no probe was remembered
    hash_seconds: float = 0.0  # 0.0: the hash was remembered, not computed
    probe_seconds: float = 0.0  # 0.0: the probe was remembered (or not asked for)

    @property
    def hashed(self) -> bool:
        return self.hash_seconds > 0.0

    @property
    def probed(self) -> bool:
        return self.probe_seconds > 0.0


def encode_info(info: VideoInfo) -> dict:
    out = {}
    for f in dataclasses.fields(info):
        v = getattr(info, f.name)
        out[f.name] = [v.numerator, v.denominator] if isinstance(v, Fraction) else list(v) if isinstance(v, tuple) else v
    return out


def decode_info(data: dict) -> VideoInfo:
    kwargs = {}
    for f in dataclasses.fields(VideoInfo):
        v = data[f.name]
        if f.name in ("fps", "time_base"):
            v = Fraction(v[0], v[1])
        elif isinstance(v, list):
            v = tuple(v)
        kwargs[f.name] = v
    return VideoInfo(**kwargs)


class SourceCatalog:
    """Known sources of one work folder (``work_dir`` None: in memory only, for this process)."""

    _memory: dict[tuple[str, str], dict] = {}  # (work_dir, path) -> record, shared by the process
    _lock = threading.Lock()

    def __init__(self, work_dir: Path | str | None):
        self.folder = Path(work_dir) / "sources" if work_dir is not None else None

    def _record_path(self, path: Path) -> Path | None:
        if self.folder is None:
            return None
        return self.folder / f"{hashlib.sha256(str(path).encode()).hexdigest()[:24]}.json"

    def _recall(self, path: Path, identity: FileIdentity) -> dict | None:
        key = (str(self.folder), str(path))
        record = self._memory.get(key)
        if record is None and (file := self._record_path(path)) is not None and file.is_file():
            try:
                record = json.loads(file.read_text())
            except (OSError, ValueError):
                record = None
        if not record or record.get("format") != FORMAT or record.get("path") != str(path):
            return None
        if FileIdentity(**record["identity"]) != identity:
            return None
        if record["hashed_at_ns"] - identity.ctime_ns < RACY_S * 1e9:
            return None  # the file may have changed within the same timestamp tick as our stat
        self._keep(key, record)
        return record

    def _keep(self, key: tuple[str, str], record: dict) -> None:
        with self._lock:
            self._memory.pop(key, None)
            self._memory[key] = record
            while len(self._memory) > MEMORY_RECORDS:  # a long-lived process: the oldest go (the files stay)
                self._memory.pop(next(iter(self._memory)))

    def _remember(self, path: Path, record: dict) -> None:
        self._keep((str(self.folder), str(path)), record)
        file = self._record_path(path)
        if file is None:
            return
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            tmp = file.with_name(f".{file.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_text(json.dumps(record))
            os.replace(tmp, file)
        except OSError:
            pass  # a record not written costs the next run one hash, nothing else

    def know(self, path: Path | str, probe: bool = True) -> KnownSource:
        """``path``'s SHA-256 (and probe, with ``probe``): remembered where the file's identity is
        unchanged and old enough to trust, else computed now (and remembered). A probe failing
        raises :class:`VideoError` as ``probe_video`` does."""
        path = Path(path).resolve()
        try:
            before = FileIdentity.of(path)
        except OSError as exc:
            raise VideoError(f"{path}: cannot read video ({exc.strerror or exc})") from None
        record = self._recall(path, before)
        if record is not None and (not probe or record.get("probe") is not None):
            info = decode_info(record["probe"]) if record.get("probe") is not None else None
            return KnownSource(path, before, record["sha256"], info)
        started_ns = time.time_ns()
        probe_s = 0.0
        info = None
        if record is not None:  # hash known, probe wanted
            sha = record["sha256"]
            hash_s = 0.0
        else:
            t = time.monotonic()
            sha = sha256_file(path)
            hash_s = max(time.monotonic() - t, 1e-9)
        if probe:
            t = time.monotonic()
            info = probe_video(path)
            probe_s = max(time.monotonic() - t, 1e-9)
        after = FileIdentity.of(path)
        if after == before:  # not changed while we read it: worth remembering
            self._remember(path, {
                "format": FORMAT, "path": str(path), "identity": dataclasses.asdict(before), "sha256": sha,
                "hashed_at_ns": record["hashed_at_ns"] if record is not None else started_ns,
                "probe": encode_info(info) if info is not None else None,
            })
        return KnownSource(path, before, sha, info, hash_s, probe_s)

    def unchanged(self, known: KnownSource) -> bool:
        """Whether the file still has the identity it had when ``known`` was taken (cheap: a stat)."""
        try:
            return FileIdentity.of(known.path) == known.identity
        except OSError:
            return False

    def forget(self, path: Path | str) -> None:
        path = Path(path).resolve()
        with self._lock:
            self._memory.pop((str(self.folder), str(path)), None)
        file = self._record_path(path)
        if file is not None:
            file.unlink(missing_ok=True)
