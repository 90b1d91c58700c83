"""A sample game through the real Dagster assets, on a real (temporary) instance."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from hb_clips_assets.domain.contract import read_metrics
from hb_clips_assets.domain.shifts import read_shifts
from hb_clips_assets.domain.hashing import sha256_file
from hb_clips_assets.storage.index.repository import MediaIndex
from hb_clips_assets.domain.timecode import timecode_to_frame
from hb_clips_assets.sample import write_marked_video
from hb_clips_assets.defs.failures import step_failure_message
from hb_clips_assets.defs.resources import ClipSettingsResource
from hb_clips_tests.media_checks import decode_clip, jpeg_mark
from hb_clips_tests.resources import table_rows

from hb_clips_tests.defs.assets.conftest import GAME, PERIOD_SECONDS, run


def expected_events(data: Path, period: str, fps: Fraction, frame_count: int) -> dict[str, int]:
    """Event id -> event frame, from the CSV, for rows the contract accepts (independent of the assets)."""
    out = {}
    for e in read_metrics(data / "metrics" / f"{GAME}.csv", GAME).for_period(period).events:
        try:
            frame = timecode_to_frame(e.timecode, fps)
        except ValueError:
            continue
        if frame < frame_count:
            out[e.event_id] = frame
    return out


def expected_shift_starts(data: Path, period: str, fps: Fraction, frame_count: int) -> dict[str, int]:
    """Shift clip id -> the shift's first frame, from shifts/<game>.csv (every sample shift is valid)."""
    out = {}
    for s in read_shifts(data / "shifts" / f"{GAME}.csv", GAME).for_period(period).shifts:
        start = timecode_to_frame(s.start, fps)
        if start < frame_count:
            out[f"shift-{period}-{s.player_id}-{start}"] = start
    return out


def test_full_game_materializes_rows_and_objects(env):
    fps = Fraction(60000, 1001)
    frame_count = round(PERIOD_SECONDS * fps)
    index = MediaIndex(env["db"])
    total = 0
    for period in ("1", "2", "3"):
        result, meta = run(env, period)
        assert result.success
        expected = expected_events(env["data"], period, fps, frame_count)
        shifts = expected_shift_starts(env["data"], period, fps, frame_count)
        rows = index.clips(GAME, period)
        assert {r["event_id"]: r["event_frame"] for r in rows if r["event_type"] != "shift"} == expected
        assert {r["event_id"]: r["event_frame"] for r in rows if r["event_type"] == "shift"} == shifts
        assert meta["clips"]["clips"] == len(expected) + len(shifts) == meta["clips"]["clips_cut"]
        # Which path each clip took: the default smart cut copies most frames; short clips
        # without an IDR inside fall back to the full re-encode, with the reason listed.
        assert meta["clips"]["cutter"] == "smart"
        smart, full = meta["clips"]["clips_smart_cut"], meta["clips"]["clips_full_reencode"]
        assert smart + full == meta["clips"]["clips_cut"] and smart > 0
        assert meta["clips"]["frames_copied"] > 0
        how = [row["cut"] for row in table_rows(meta["clips"]["clips_table"])]
        assert sum(h.startswith("smart (") for h in how) == smart and how.count("full re-encode") == full
        if full:
            assert any("no IDR" in row["reason"] for row in table_rows(meta["clips"]["full_reencode_reasons"]))
        assert meta["media_index"]["clips"] == len(expected) + len(shifts)
        # the sample videos start at movie time 0 with nothing hidden: frame 0 is the file's first frame
        assert meta["event_segments"]["video_timeline"] == {
            "start_pts": 0, "start_s": 0.0, "start_offset_frames": 0, "hidden_frames": 0, "hidden_inside": 0,
            "timecode_start": None}
        # every rejected row of this period is counted (metrics + segments stages)
        assert meta["metrics"]["rejected_rows"] + meta["event_segments"]["rejected_rows"] >= 1
        total += len(rows)
        for r in rows:
            assert r["opponent"] == "CHI" if r["team"] == "MTL" else r["opponent"] == "MTL"
            if r["event_type"] == "shift":  # the shift padded 1 s (60 frames) each side
                assert r["start_frame"] == max(0, r["event_frame"] - 60)
                continue
            assert r["start_frame"] == max(0, r["event_frame"] - 300)
            assert r["end_frame"] == min(frame_count, r["event_frame"] + 180)
            assert r["duration_s"] == pytest.approx((r["end_frame"] - r["start_frame"]) * 1001 / 60000)
    assert total == index.count_clips(GAME) > 0
    # Objects exist with the recorded bytes and hash, under the contract's keys.
    assets = index.assets_of([r["clip_id"] for r in index.clips(GAME)])
    assert len(assets) == 4 * total  # MP4, thumbnail, HLS fragmented MP4 and playlist
    for (clip_id, kind), a in assets.items():
        path = Path(env["store"]) / a.object_key
        folder = {"mp4": "clips", "thumbnail": "thumbnails", "hls": "hls", "hls_fmp4": "hls"}[kind]
        assert a.object_key == f"{folder}/{GAME}/" + a.object_key.split("/", 2)[2]
        assert path.stat().st_size == a.bytes and sha256_file(path) == a.sha256
    # One clip decoded: exact frames; its thumbnail shows the event frame.
    row = index.clips(GAME, "2")[0]
    mp4 = Path(env["store"]) / assets[(row["clip_id"], "mp4")].object_key
    assert decode_clip(mp4).marks == list(range(row["start_frame"], row["end_frame"]))
    thumb = Path(env["store"]) / assets[(row["clip_id"], "thumbnail")].object_key
    assert jpeg_mark(thumb.read_bytes()) == row["event_frame"]
    # Extra CSV columns are tags.
    with index.engine.connect() as conn:
        tags = conn.exec_driver_sql("select tag, count(*) from media.clip_tags group by tag").all()
    assert "shot_type" in dict(tags) or "outcome" in dict(tags)


def test_second_materialization_changes_nothing_and_cuts_nothing(env):
    first, meta1 = run(env, "1")
    assert first.success and meta1["clips"]["clips_cut"] > 0
    index = MediaIndex(env["db"])
    rows1 = index.clips(GAME, "1")
    files = {p: (p.stat().st_mtime_ns, sha256_file(p)) for p in Path(env["store"]).rglob("*") if p.is_file()}
    second, meta2 = run(env, "1")
    assert second.success
    assert meta2["clips"]["clips_cut"] == 0 and meta2["clips"]["clips_cached"] == len(rows1)
    assert meta2["media_index"]["rows_inserted"] == 0
    assert index.clips(GAME, "1") == rows1  # same clip_ids, same rows, same created_at
    assert {p: (p.stat().st_mtime_ns, sha256_file(p)) for p in Path(env["store"]).rglob("*") if p.is_file()} == files


def test_replaced_video_gets_new_clips_and_stale_ones_go(env):
    assert run(env, "1")[0].success
    index = MediaIndex(env["db"])
    old = {r["event_id"]: r["clip_id"] for r in index.clips(GAME, "1")}
    old_objects = set(Path(env["store"]).rglob("*.mp4"))
    video = env["data"] / "video" / GAME / "1.mp4"
    write_marked_video(video, round(PERIOD_SECONDS * Fraction(60000, 1001)), width=320, height=180, crf=30)
    result, meta = run(env, "1")
    assert result.success
    new = {r["event_id"]: r["clip_id"] for r in index.clips(GAME, "1")}
    assert new.keys() == old.keys() and not set(new.values()) & set(old.values())
    assert meta["media_index"]["stale_objects_removed"] == 4 * len(old)  # MP4, thumbnail, HLS x2
    assert not any(p.exists() for p in old_objects)


def test_unreadable_metrics_fail_the_partition_naming_the_file(env):
    (env["data"] / "metrics" / f"{GAME}.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    result, _ = run(env, "1")
    assert not result.success
    message = step_failure_message(next(e for e in result.all_events if e.is_step_failure))
    assert f"metrics/{GAME}.csv" in message and "not a CSV" in message
    assert MediaIndex(env["db"]).count_clips() == 0


def test_corrupt_video_fails_the_partition_naming_the_file(env):
    (env["data"] / "video" / GAME / "2.mp4").write_bytes(b"this is not a video\n" * 250)
    result, _ = run(env, "2")
    assert not result.success
    message = step_failure_message(next(e for e in result.all_events if e.is_step_failure))
    assert f"video/{GAME}/2.mp4: not a readable video" in message


def test_cutter_setting_full_reencodes_every_clip_under_other_ids(env):
    """HB_CUTTER=full: every clip re-encoded (metadata says so); the cutter is part of the
    clip id, so switching cutters re-cuts instead of mixing outputs under one id."""
    smart_result, smart_meta = run(env, "1")
    assert smart_result.success and smart_meta["clips"]["clips_smart_cut"] > 0
    smart_ids = {r["clip_id"] for r in MediaIndex(env["db"]).clips(GAME, "1")}
    env["resources"]["clip_settings"] = ClipSettingsResource(workers=2, cutter="full", work_dir=str(env["data"].parent / "work"))
    result, meta = run(env, "1")
    assert result.success
    assert meta["clips"]["cutter"] == "full" and meta["clips"]["clips_smart_cut"] == 0
    assert meta["clips"]["clips_full_reencode"] == meta["clips"]["clips_cut"] == meta["clips"]["clips"] > 0
    assert all("full re-encode configured" in row["reason"] for row in table_rows(meta["clips"]["full_reencode_reasons"]))
    full_ids = {r["clip_id"] for r in MediaIndex(env["db"]).clips(GAME, "1")}
    assert len(full_ids) == len(smart_ids) and not full_ids & smart_ids
    assert meta["media_index"]["stale_objects_removed"] == 4 * len(smart_ids)
