"""pipeline/objects.py: a stored object is hashed once per version of its file; a rewrite with
the same size and mtime is hashed again and its new hash is what the store <-> index comparison
sees; objects just written are never trusted without a hash; the records outlive the process."""
from __future__ import annotations

import os
import time

import pytest

from hb_clips_assets.domain.hashing import sha256_file
from hb_clips_assets.pipeline import sources
from hb_clips_assets.pipeline.objects import ObjectHashes
from hb_clips_assets.pipeline.verify import object_problems
from hb_clips_assets.domain.records import AssetRecord
from hb_clips_assets.storage.store.local import LocalObjectStore

KEY = "clips/20038/1/abc.mp4"


@pytest.fixture
def store(tmp_path):
    src = tmp_path / "clip.mp4"
    src.write_bytes(os.urandom(200_000))
    s = LocalObjectStore(tmp_path / "store")
    s.put_file(KEY, src, "video/mp4")
    return s


def fresh(store, work):
    ObjectHashes._memory.clear()
    return ObjectHashes(store, work, "20038-1")


def test_unchanged_object_is_hashed_once_across_processes(tmp_path, store, monkeypatch):
    monkeypatch.setattr(sources, "RACY_S", 0.0)
    first = fresh(store, tmp_path / "work")
    obj = first.stat(KEY)
    assert first.hashed == 1 and obj.sha256 == sha256_file(store.path_of(KEY))
    assert first.stat(KEY) == obj and first.hashed == 1
    first.save()
    later = fresh(store, tmp_path / "work")
    assert later.stat(KEY).sha256 == obj.sha256 and later.hashed == 0
    assert later.exists(KEY) and not later.exists("clips/20038/1/none.mp4")
    assert later.stat("clips/20038/1/none.mp4") is None


def test_same_size_and_mtime_but_other_bytes_is_seen_by_the_index_check(tmp_path, store, monkeypatch):
    monkeypatch.setattr(sources, "RACY_S", 0.0)
    hashes = fresh(store, tmp_path / "work")
    obj = hashes.stat(KEY)
    hashes.save()
    path = store.path_of(KEY)
    st = os.stat(path)
    data = bytearray(path.read_bytes())
    data[1000] ^= 0xFF
    time.sleep(0.05)
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    later = fresh(store, tmp_path / "work")
    recorded = {("abc", "mp4"): AssetRecord("mp4", KEY, obj.uri, obj.bytes, obj.sha256, "video/mp4")}
    problems = object_problems(["abc"], recorded, later.stat)
    assert later.hashed == 1
    assert [p for p in problems if "mp4" in p] == [
        f"clip abc mp4: object {KEY} has SHA-256 {sha256_file(path)[:12]}..., the index says {obj.sha256[:12]}..."]


def test_objects_just_written_are_hashed_every_time(tmp_path, store):
    hashes = fresh(store, tmp_path / "work")  # RACY_S as configured: the object is seconds old
    hashes.stat(KEY)
    hashes.stat(KEY)
    assert hashes.hashed == 2
