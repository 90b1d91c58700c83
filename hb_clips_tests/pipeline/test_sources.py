"""pipeline/sources.py: a source video is probed and hashed once per version of the file; a
changed file is noticed (a rewrite with the same size and mtime too: its ctime moved on), a
touched one is hashed again, a file that is too fresh is not trusted, and the record survives
the process (a re-run reads neither the probe nor the hash from the video)."""
from __future__ import annotations

import json
import os
import shutil
import time
from fractions import Fraction
from pathlib import Path

import pytest

from hb_clips_assets.domain.hashing import sha256_file
from hb_clips_assets.pipeline import sources
from hb_clips_assets.pipeline.sources import SourceCatalog, decode_info, encode_info
from hb_clips_assets.video.probe import VideoError, probe_video


@pytest.fixture
def video(tmp_path, src_5994) -> Path:
    path = tmp_path / "data" / "1.mp4"
    path.parent.mkdir()
    shutil.copyfile(src_5994, path)
    return path


@pytest.fixture
def no_racy_window(monkeypatch):
    """Files written by the test are seconds old at most: trust them at once (the window has its own test)."""
    monkeypatch.setattr(sources, "RACY_S", 0.0)


def fresh(work: Path) -> SourceCatalog:
    """A catalog as a new process sees it: nothing in memory, only what the work folder holds."""
    SourceCatalog._memory.clear()
    return SourceCatalog(work)


def test_probe_round_trips_through_the_record(video):
    info = probe_video(video)
    assert decode_info(json.loads(json.dumps(encode_info(info)))) == info


def test_second_process_reads_neither_hash_nor_probe(tmp_path, video, no_racy_window):
    first = fresh(tmp_path / "work").know(video)
    assert first.hashed and first.probed
    assert first.sha256 == sha256_file(video)
    assert first.info == probe_video(video.resolve())
    again = fresh(tmp_path / "work").know(video)
    assert not again.hashed and not again.probed
    assert (again.sha256, again.info) == (first.sha256, first.info)
    assert list((tmp_path / "work" / "sources").glob("*.json"))


def test_same_size_and_mtime_but_other_bytes_is_hashed_again(tmp_path, video, no_racy_window):
    catalog = fresh(tmp_path / "work")
    first = catalog.know(video)
    st = os.stat(video)
    data = bytearray(video.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte inside the media data: same size
    time.sleep(0.05)  # past the file system's timestamp tick, as any real rewrite is
    video.write_bytes(bytes(data))
    os.utime(video, ns=(st.st_atime_ns, st.st_mtime_ns))  # mtime put back, as `touch -d` / `cp -p` would
    assert (os.stat(video).st_size, os.stat(video).st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    assert not catalog.unchanged(first)  # the ctime moved on: the clips step notices during a cut
    again = catalog.know(video, probe=False)
    assert again.hashed
    assert again.sha256 == sha256_file(video) != first.sha256
    later = fresh(tmp_path / "work").know(video, probe=False)  # the next process: the new version's record
    assert (later.hashed, later.sha256) == (False, again.sha256)


def test_a_rewrite_is_noticed_by_the_next_process_too(tmp_path, video, no_racy_window):
    first = fresh(tmp_path / "work").know(video)
    st = os.stat(video)
    data = bytearray(video.read_bytes())
    data[len(data) // 2] ^= 0xFF
    time.sleep(0.05)
    video.write_bytes(bytes(data))
    os.utime(video, ns=(st.st_atime_ns, st.st_mtime_ns))
    again = fresh(tmp_path / "work").know(video)
    assert again.hashed and again.sha256 == sha256_file(video) != first.sha256


def test_touched_file_is_hashed_again_with_the_same_result(tmp_path, video, no_racy_window):
    catalog = fresh(tmp_path / "work")
    first = catalog.know(video)
    time.sleep(0.05)
    os.utime(video)  # `touch`
    again = catalog.know(video)
    assert again.hashed and again.probed
    assert again.sha256 == first.sha256
    assert not fresh(tmp_path / "work").know(video).hashed  # and remembered with the new identity


def test_replaced_file_is_hashed_again(tmp_path, video, src_25_silent, no_racy_window):
    catalog = fresh(tmp_path / "work")
    first = catalog.know(video)
    tmp = video.with_name(".incoming.mp4")
    shutil.copyfile(src_25_silent, tmp)
    os.replace(tmp, video)  # a new inode under the same name
    again = catalog.know(video)
    assert again.hashed and again.sha256 == sha256_file(video) != first.sha256
    assert again.info.fps == Fraction(25)


def test_a_file_changed_just_before_its_hash_is_not_trusted(tmp_path, video, monkeypatch):
    """Within RACY_S of its last change a file could change again inside one timestamp tick
    unseen: the hash is used for this call, never recalled."""
    monkeypatch.setattr(sources, "RACY_S", 3600.0)
    fresh(tmp_path / "work").know(video)
    assert fresh(tmp_path / "work").know(video).hashed
    monkeypatch.setattr(sources, "RACY_S", 0.0)  # the same record, judged again: hashed after the last change
    assert not fresh(tmp_path / "work").know(video).hashed


def test_without_a_work_folder_only_this_process_remembers(tmp_path, video, no_racy_window):
    catalog = fresh(None)
    assert catalog.know(video).hashed
    assert not SourceCatalog(None).know(video).hashed
    assert not (tmp_path / "work").exists()


def test_unreadable_record_and_missing_video(tmp_path, video, no_racy_window):
    catalog = fresh(tmp_path / "work")
    catalog.know(video)
    for record in (tmp_path / "work" / "sources").glob("*.json"):
        record.write_text("{not json")
    assert fresh(tmp_path / "work").know(video).hashed  # a broken record costs one hash, nothing else
    video.unlink()
    with pytest.raises(VideoError, match="cannot read video"):
        fresh(tmp_path / "work").know(video)
