"""pipeline/cutting.py without Dagster: a clip that cannot be cut (a damaged GOP)
fails alone with a reason naming the file, with both cutters; which failures are
transient; set-aside clips keep the clip the index already holds for their event."""
from __future__ import annotations

import errno
import subprocess
from pathlib import Path

import av
import pytest
from sqlalchemy import text

from hb_clips_assets.domain.records import AssetRecord, ClipRecord, Segment
from hb_clips_assets.pipeline.cutting import (
    ClipFailure,
    failure_reason,
    indexed_records,
    produce_clips,
    set_aside,
    transient_error,
)
from hb_clips_assets.storage.index.repository import MediaIndex
from hb_clips_assets.storage.store.local import LocalObjectStore
from hb_clips_assets.video.cut import CutError, EncodeSettings
from hb_clips_assets.video.probe import probe_video
from hb_clips_assets.sample import ffmpeg_exe
from hb_clips_tests.defs.damaged_source import BAD_EVENT, EVENTS, FPS, GAME, PERIOD, WINDOWS, damage, write_good_video
from hb_clips_tests.media_checks import decode_clip


@pytest.fixture(scope="module")
def damaged_video(tmp_path_factory) -> Path:
    path = write_good_video(tmp_path_factory.mktemp("damaged") / "1.mp4")
    damage(path)
    return path


def segment(event_id: str, **changes) -> Segment:
    start, end = WINDOWS[event_id]
    fields = dict(game_id=GAME, period=PERIOD, event_id=event_id, event_type="shot", player_id="8480018", team="MTL",
                  opponent="CHI", zone="O", strength="5v5", timecode=EVENTS[event_id][0], event_frame=EVENTS[event_id][1],
                  start_frame=start, end_frame=end, fps_num=FPS.numerator, fps_den=FPS.denominator,
                  tags={"shot_type": "wrist"})
    return Segment(**(fields | changes))


@pytest.mark.parametrize("cutter", ["smart", "full"])
def test_a_damaged_gop_fails_only_the_clip_that_uses_it(damaged_video, tmp_path, cutter):
    source = probe_video(damaged_video)
    assert source.frame_count == 600  # the container's index is whole: the file probes
    store = LocalObjectStore(tmp_path / "store")
    index = MediaIndex(f"sqlite:///{tmp_path / 'media.db'}")
    segments = [segment(e) for e in EVENTS]
    outcomes, failures = produce_clips(segments, source, "f" * 64, store, index, EncodeSettings(cutter=cutter), 2,
                                       scratch_dir=tmp_path / "scratch")
    assert [o.record.event_id for o in outcomes] == ["ev-a", "ev-c"]
    for o in outcomes:  # the other clips are whole: every frame, in order
        mp4 = store.path_of(next(a.object_key for a in o.record.assets if a.kind == "mp4"))
        assert decode_clip(mp4).marks == list(range(o.record.start_frame, o.record.end_frame))
    (failure,) = failures
    assert failure.segment.event_id == BAD_EVENT and not failure.transient
    assert str(damaged_video) in failure.error and "FFmpeg refused the clip's frames" in failure.error
    assert "Invalid data" in failure.error and "Errno" not in failure.error, failure.error
    assert failure.frames == "frames 210-410, event frame 335"
    assert not list((tmp_path / "store" / "clips").rglob(f"*{BAD_EVENT}*"))
    assert sorted(p.name for p in (tmp_path / "scratch").iterdir()) == []  # nothing left in scratch


@pytest.mark.xfail(reason="the smart cut copies a damaged GOP of its body unread (it decodes around its joins "
                          "only), so the clip is stored undecodable; video/cut/smart would need to read the body")
def test_a_damaged_gop_inside_the_copied_body_is_found_by_the_smart_cut(tmp_path):
    video = write_good_video(tmp_path / "1.mp4")
    damage(video, range(300, 325))  # inside ev-b's [210, 410), away from its head and tail
    store = LocalObjectStore(tmp_path / "store")
    outcomes, failures = produce_clips([segment("ev-b")], probe_video(video), "f" * 64, store,
                                       MediaIndex(f"sqlite:///{tmp_path / 'media.db'}"), EncodeSettings(cutter="smart"))
    assert not outcomes and [f.segment.event_id for f in failures] == ["ev-b"]


@pytest.mark.parametrize("cutter", ["smart", "full"])
def test_a_source_the_encoder_refuses_sets_every_clip_aside_once(tmp_path, cutter):
    video = tmp_path / "odd.mp4"  # 161x91: x264 (4:2:0) refuses an odd width or height
    subprocess.run([ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "lavfi", "-i",
                    "testsrc2=size=160x90:rate=25:duration=2", "-vf", "scale=161:91", "-pix_fmt", "yuv444p",
                    "-c:v", "libx264", str(video)], check=True, capture_output=True)
    calls = []
    outcomes, failures = produce_clips(
        [segment("ev-a", event_frame=10, start_frame=0, end_frame=25), segment("ev-b", event_frame=30, start_frame=25,
                                                                                end_frame=50)],
        probe_video(video), "f" * 64, LocalObjectStore(tmp_path / "store"),
        MediaIndex(f"sqlite:///{tmp_path / 'media.db'}"), EncodeSettings(cutter=cutter), progress=calls.append)
    assert outcomes == [] and [f.segment.event_id for f in sorted(failures, key=lambda f: f.segment.event_id)] == \
        ["ev-a", "ev-b"]
    for f in failures:
        assert not f.transient
        assert f.error == (f"{video}: the encoder refused the 161x91 yuv444p frames (Generic error in an external "
                           "library); libx264 needs an even width and height")
    assert sum("FAILED" in m for m in calls) == 2  # each clip tried once


def test_what_is_transient():
    assert transient_error(OSError("simulated: the scratch disk went away"))
    assert transient_error(OSError(errno.ENOSPC, "No space left on device"))
    assert transient_error(OSError(errno.EIO, "Input/output error"))
    assert transient_error(TimeoutError()) and transient_error(ConnectionResetError())
    # the data, a wrong path, a refused range, a bug: the same every time
    assert not transient_error(av.error.InvalidDataError(errno.EINVAL, "Invalid data found when processing input"))
    assert not transient_error(FileNotFoundError(errno.ENOENT, "No such file", "/x"))
    assert not transient_error(IsADirectoryError(errno.EISDIR, "Is a directory", "/x"))
    assert not transient_error(PermissionError(errno.EACCES, "Permission denied", "/x"))
    assert not transient_error(CutError("/v.mp4: decoded 10 of 20 frames of [0, 20)"))
    assert not transient_error(ValueError("x")) and not transient_error(KeyError("x"))


def test_failure_reasons_are_one_line_naming_the_file(damaged_video):
    source = probe_video(damaged_video)
    assert failure_reason(CutError(f"{damaged_video}: event frame 3 was not decoded"), source) == \
        f"{damaged_video}: event frame 3 was not decoded"
    assert failure_reason(KeyError("pts"), source) == f"{damaged_video}: KeyError: 'pts'"
    assert failure_reason(RuntimeError("two\nlines"), source) == f"{damaged_video}: RuntimeError: two lines"


def _record(event_id: str, clip_id: str, tags: dict) -> ClipRecord:
    assets = (AssetRecord("mp4", f"clips/{GAME}/{PERIOD}/{clip_id}.mp4", f"file:///{clip_id}.mp4", 10, "a" * 64, "video/mp4"),
              AssetRecord("thumbnail", f"thumbnails/{GAME}/{PERIOD}/{clip_id}.jpg", f"file:///{clip_id}.jpg", 5, "b" * 64,
                          "image/jpeg"))
    return ClipRecord.of(segment(event_id, tags=tags), clip_id=clip_id, source_uri="file:///old.mp4",
                         source_sha256="0" * 64, assets=assets)


def test_a_set_aside_clip_keeps_the_indexed_clip_of_its_event_unchanged(tmp_path):
    index = MediaIndex(f"sqlite:///{tmp_path / 'media.db'}")
    old = [_record("ev-a", "a" * 64, {"shot_type": "wrist"}), _record("ev-b", "b" * 64, {"shot_type": "slap", "x": "1"})]
    index.write_partition(GAME, PERIOD, old)
    before = _dump(index)
    assert indexed_records(index, GAME, PERIOD, {"ev-b"}) == [old[1]]  # row, tags and assets, as written
    failures = [ClipFailure(segment("ev-b"), "damaged"), ClipFailure(segment("ev-c"), "damaged")]
    asides = set_aside(failures, index)
    assert [(a.segment.event_id, a.previous) for a in asides] == [("ev-b", old[1]), ("ev-c", None)]
    # Written back with the period's other clips (ev-a re-cut under a new id), ev-b's row is as it was.
    new_a = _record("ev-a", "c" * 64, {"shot_type": "wrist"})
    result = index.write_partition(GAME, PERIOD, [new_a, asides[0].previous])
    assert result.clips == 2 and set(result.removed_object_keys) == {a.object_key for a in old[0].assets}
    after = _dump(index)
    assert [r for r in after["clips"] if r[0] == "b" * 64] == [r for r in before["clips"] if r[0] == "b" * 64]
    assert [r for r in after["tags"] if r[0] == "b" * 64] == [r for r in before["tags"] if r[0] == "b" * 64]
    assert [r for r in after["assets"] if r[0] == "b" * 64] == [r for r in before["assets"] if r[0] == "b" * 64]


def _dump(index: MediaIndex) -> dict[str, list[tuple]]:
    with index.engine.connect() as conn:
        return {name: sorted(tuple(r) for r in conn.execute(text(f"select * from media.{table} order by 1")))
                for name, table in (("clips", "clips"), ("tags", "clip_tags"), ("assets", "clip_assets"))}
