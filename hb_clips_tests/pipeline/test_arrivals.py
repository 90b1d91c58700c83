"""core.arrivals and core.backfill: plain logic of the sensor and the schedule."""
from __future__ import annotations

import os
import time
from datetime import datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from hb_clips_assets.pipeline.arrivals import (
    ArrivalCursor,
    decide_arrivals,
    freshness,
    input_key,
    mp4_structure_problem,
    scan_data_root,
    video_problem,
)
from hb_clips_assets.pipeline.backfill import plan_backfill, target_dates
from hb_clips_assets.domain.reference import ScheduledGame
from hb_clips_assets.sample import write_marked_video
from hb_clips_tests.automation_support import place, write_metrics


def test_scan_lists_inputs_and_rejects_bad_names(tmp_path, src_5994):
    place(src_5994, tmp_path / "video" / "20031" / "1.mp4")
    place(src_5994, tmp_path / "video" / "20031" / "OT.mp4")
    place(src_5994, tmp_path / "video" / "20031" / "5.mp4")
    place(src_5994, tmp_path / "video" / "20031" / "4.mp4")
    place(src_5994, tmp_path / "video" / "bad.id" / "1.mp4")
    place(src_5994, tmp_path / "video" / "20031.mp4")
    (tmp_path / "video" / "20031" / "notes.txt").write_text("x")
    (tmp_path / "video" / "20031" / "2.mp4.part").write_text("in flight")  # skipped quietly
    (tmp_path / "video" / "20031" / ".3.mp4").write_text("hidden")  # skipped quietly
    write_metrics(tmp_path, "20031")
    (tmp_path / "metrics" / "x|y.csv").write_text("x")
    (tmp_path / "metrics" / "readme.md").write_text("x")
    place(src_5994, tmp_path / "video" / "20031" / "2.MOV")  # a camera's upper-case .MOV is period 2
    place(src_5994, tmp_path / "video" / "20031" / "3.ts")
    scan = scan_data_root(tmp_path)
    # 4.mp4 is overtime too: with OT.mp4 beside it, neither is taken (the assets would not guess either)
    assert set(scan.videos) == {("20031", "1"), ("20031", "2")}
    assert set(scan.metrics) == {"20031"}
    assert scan.videos[("20031", "1")].size == src_5994.stat().st_size
    assert set(scan.rejected) == {
        "video/20031/5.mp4", "video/20031/4.mp4", "video/20031/OT.mp4", "video/20031/3.ts", "video/bad.id",
        "video/20031.mp4", "video/20031/notes.txt", "metrics/x|y.csv", "metrics/readme.md",
    }
    assert "invalid game_id 'bad.id'" in scan.rejected["video/bad.id"]
    assert "OT.mp4" in scan.rejected["video/20031/5.mp4"]
    assert "more than one video for period OT" in scan.rejected["video/20031/4.mp4"] == scan.rejected["video/20031/OT.mp4"]
    assert "MPEG-TS (.ts) is not read yet" in scan.rejected["video/20031/3.ts"]
    assert "ffmpeg -i 3.ts -c copy 3.mp4" in scan.rejected["video/20031/3.ts"]
    assert scan_data_root(tmp_path / "nowhere").files() == []
    assert set(scan_data_root(tmp_path, games={"20038"}).videos) == set()


def test_mp4_structure_catches_truncation_that_a_probe_misses(tmp_path, src_5994):
    data = src_5994.read_bytes()
    assert mp4_structure_problem(src_5994) is None
    assert video_problem(src_5994) is None
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * 0.6)])  # +faststart: moov first, so FFmpeg still probes it
    assert "truncated MP4" in mp4_structure_problem(cut)
    assert "truncated MP4" in video_problem(cut)
    (tmp_path / "junk.mp4").write_bytes(os.urandom(3000))
    assert mp4_structure_problem(tmp_path / "junk.mp4") is not None
    (tmp_path / "empty.mp4").write_bytes(b"")
    assert "no moov or mdat" in mp4_structure_problem(tmp_path / "empty.mp4")


def _tick(root, cursor, probes, is_current=None):
    def counting_problem(path):
        probes.append(path.name)
        return video_problem(path)

    return decide_arrivals(scan_data_root(root), cursor, counting_problem, is_current)


def test_a_file_is_acted_on_once_stable_and_once_per_identity(tmp_path, src_5994):
    video = place(src_5994, tmp_path / "video" / "20031" / "1.mp4")
    write_metrics(tmp_path, "20031")
    probes: list[str] = []
    first = _tick(tmp_path, ArrivalCursor(), probes)
    assert first.requests == [] and probes == []  # first sight: wait for a second look
    second = _tick(tmp_path, ArrivalCursor.from_json(first.cursor.to_json()), probes)
    assert [(r.game_id, r.period) for r in second.requests] == [("20031", "1")]
    assert probes == ["1.mp4"]
    third = _tick(tmp_path, second.cursor, probes)
    assert third.requests == [] and probes == ["1.mp4"]  # not probed again
    # The run key is a function of the files' identities: a fresh cursor gives the same key.
    again = _tick(tmp_path, _tick(tmp_path, ArrivalCursor(), []).cursor, [])
    assert again.requests[0].run_key == second.requests[0].run_key
    # A replaced video: new identity, new key.
    st = video.stat()
    os.utime(video, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    settling = _tick(tmp_path, third.cursor, probes)
    assert settling.requests == []
    changed = _tick(tmp_path, settling.cursor, probes)
    assert len(changed.requests) == 1 and changed.requests[0].reason == "inputs changed"
    assert changed.requests[0].run_key != second.requests[0].run_key


def test_is_current_is_asked_only_for_partitions_the_cursor_never_acted_on(tmp_path, src_5994):
    place(src_5994, tmp_path / "video" / "20031" / "1.mp4")
    write_metrics(tmp_path, "20031")
    asked = []

    def current(game, period, video, metrics):
        asked.append((game, period))
        return True, "up to date"

    cursor = _tick(tmp_path, ArrivalCursor(), [], current).cursor
    decision = _tick(tmp_path, cursor, [], current)
    assert decision.requests == [] and asked == [("20031", "1")]
    assert any("up to date; no run needed" in text for _level, text in decision.messages)
    assert _tick(tmp_path, decision.cursor, [], current).requests == [] and len(asked) == 1


def test_probing_stops_at_the_tick_budget_and_goes_on_next_tick(tmp_path, src_5994):
    for game in ("g1", "g2", "g3"):
        place(src_5994, tmp_path / "video" / game / "1.mp4")
        write_metrics(tmp_path, game)
    now = [0.0]

    def slow_problem(path):  # each probe "takes" 15 s
        now[0] += 15.0
        return None

    def tick(cursor):
        return decide_arrivals(scan_data_root(tmp_path), cursor, slow_problem, probe_budget_s=20.0, clock=lambda: now[0])

    cursor = tick(ArrivalCursor()).cursor
    first = tick(cursor)
    assert len(first.probed) == 2 and len(first.requests) == 2  # 0 s, 15 s: probed; 30 s: past the budget
    assert ("info", "probing 1 more complete video(s) on the next tick") in first.messages
    second = tick(first.cursor)
    assert second.probed == ["video/g3/1.mp4"] and [r.game_id for r in second.requests] == ["g3"]


def test_cursor_json_round_trip_and_garbage():
    cursor = ArrivalCursor(files={"video/1/1.mp4": (10, 20, "ok")}, done={"1|1": "abc"}, rejected={"video/x.y"})
    assert ArrivalCursor.from_json(cursor.to_json()) == cursor
    assert ArrivalCursor.from_json("not json") == ArrivalCursor()
    assert ArrivalCursor.from_json('{"v": 99}') == ArrivalCursor()
    assert ArrivalCursor.from_json(None) == ArrivalCursor()


def test_freshness_rules():
    mtime = 1_700_000_000 * 10**9
    assert freshness(mtime, None, None, 0) == (False, "never indexed")
    assert freshness(mtime, 1_699_999_999.0, 8, 8)[0] is False
    assert freshness(mtime, 1_700_000_001.0, 8, 8) == (True, "up to date")
    assert freshness(mtime, 1_700_000_001.0, 8, 5)[1] == "the index holds 5 clips, the last indexing wrote 8"


def test_ticks_stay_fast_over_thousands_of_files(tmp_path):
    """3000 videos and 1000 metrics files: after they settle, a tick only lists and stats."""
    for g in range(1000):
        folder = tmp_path / "video" / f"g{g}"
        folder.mkdir(parents=True)
        for p in ("1", "2", "3"):
            (folder / f"{p}.mp4").write_bytes(b"")
        write_metrics(tmp_path, f"g{g}")
    probes: list[str] = []
    cursor = _tick(tmp_path, ArrivalCursor(), probes).cursor
    cursor = _tick(tmp_path, cursor, probes).cursor  # the empty "videos" are probed once each, and refused
    assert len(probes) == 3000
    started = time.monotonic()
    decision = _tick(tmp_path, cursor, probes)
    elapsed = time.monotonic() - started
    assert len(probes) == 3000 and decision.requests == []
    assert elapsed < 5.0, f"a settled tick over 4000 files took {elapsed:.2f} s"


def test_backfill_dates_follow_the_schedule_timezone():
    ny = "America/New_York"
    # 06:00 in New York on the 19th is 11:00 UTC: yesterday is the 18th there.
    assert target_dates(datetime(2026, 11, 19, 11, 0, tzinfo=ZoneInfo("UTC")), ny, 1) == ["2026-11-18"]
    # 01:00 UTC on the 19th is still the 18th in New York: yesterday is the 17th.
    assert target_dates(datetime(2026, 11, 19, 1, 0, tzinfo=ZoneInfo("UTC")), ny, 1) == ["2026-11-17"]
    assert target_dates(datetime(2026, 11, 19, 6, 0), ny, 3) == ["2026-11-16", "2026-11-17", "2026-11-18"]


def test_backfill_plan(tmp_path, src_5994):
    schedule = {
        "20031": ScheduledGame("20031", "2026-11-18", "MTL", "CHI"),
        "20038": ScheduledGame("20038", "2026-11-18", "WSH", "NYR"),
        "20040": ScheduledGame("20040", "2026-11-17", "MTL", "BOS"),
    }
    for p in ("1", "2", "3"):
        place(src_5994, tmp_path / "video" / "20031" / f"{p}.mp4")
    place(src_5994, tmp_path / "video" / "20040" / "1.mp4")
    write_metrics(tmp_path, "20031")
    write_metrics(tmp_path, "20040")
    data = src_5994.read_bytes()
    (tmp_path / "video" / "20031" / "OT.mp4").write_bytes(data[: len(data) // 2])  # an upload cut short
    scan = scan_data_root(tmp_path)

    def current(game, period, video, metrics):
        return (period == "2", "up to date" if period == "2" else "never indexed")

    plan = plan_backfill(schedule, ["2026-11-18"], scan, current, pending={("20031", "3")}, tick="2026-11-18")
    assert plan.games == ["20031", "20038"]
    assert [(r.game_id, r.period) for r in plan.runs] == [("20031", "1")]
    run = plan.runs[0]
    assert run.run_key == f"backfill|2026-11-18|20031|1|{input_key(run.video, run.metrics)}"
    assert plan.current == ["20031|2"] and plan.pending == ["20031|3"]
    assert any("20031 period OT: " in w and "truncated" in w for w in plan.waiting)
    assert "game 20038: no period video" in plan.waiting
    nothing = plan_backfill(schedule, ["2026-11-10"], scan, current, set(), "2026-11-10")
    assert nothing.runs == [] and nothing.skip_reason() == "no game in schedule.csv on 2026-11-10"


@pytest.mark.parametrize("name", ["HB_SENSOR_INTERVAL_S", "HB_BACKFILL_DAYS_BACK"])
def test_bad_settings_are_refused_by_name(monkeypatch, name):
    from hb_clips_assets.defs.automation_settings import automation_settings

    monkeypatch.setenv(name, "0")
    with pytest.raises(ValueError, match=name):
        automation_settings()


def test_an_accepted_video_with_dropped_frames_is_taken_and_said(tmp_path):
    """The tick requests the run and warns, once, which frames the video lacks."""
    from hb_clips_tests.video.test_dropped_frames import DROPPED, drop_frames

    src = write_marked_video(tmp_path / "src.mp4", 150, Fraction(25), 160, 90, audio=False, gop=25)
    (tmp_path / "video" / "G1").mkdir(parents=True)
    drop_frames(src, tmp_path / "video" / "G1" / "1.mp4", DROPPED)
    write_metrics(tmp_path, "G1")
    cursor = decide_arrivals(scan_data_root(tmp_path), ArrivalCursor()).cursor
    decision = decide_arrivals(scan_data_root(tmp_path), cursor)
    assert [(r.game_id, r.period) for r in decision.requests] == [("G1", "1")]
    assert [m for m in decision.messages if m[0] == "warning"] == [
        ("warning", "video/G1/1.mp4: 3 frame(s) missing (dropped at capture: the timestamps skip them): frame(s) "
                    "57, 100-101; frame numbers follow the timestamps, so every other frame keeps the number a "
                    "player shows for it, and a clip over a missing frame is set aside")]
    assert [m for m in decide_arrivals(scan_data_root(tmp_path), decision.cursor).messages if m[0] == "warning"] == []
