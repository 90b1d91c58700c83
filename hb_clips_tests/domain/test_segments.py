"""Clip rules (DATA_CONTRACT.md section 2): events to frame ranges."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from hb_clips_assets.domain.contract import MetricEvent, read_metrics
from hb_clips_assets.domain.segments import ClipRules, ClipWindow, frame_window, resolve_segments
from hb_clips_assets.domain.timecode import parse_timecode

NTSC30 = Fraction(30000, 1001)
NTSC60 = Fraction(60000, 1001)
GAME = "20031"
SOURCE = "data/metrics/20031.csv"  # rejections name the metrics file and its line
HEADER = "event_id,game_id,period,timecode,event_type,player_id,team,opponent"


def event(event_id: str, timecode: str, event_type: str = "shot", team: str = "MTL",
          opponent: str | None = None, line: int = 2, tags: dict | None = None) -> MetricEvent:
    return MetricEvent(
        event_id=event_id, game_id=GAME, period="1", timecode=parse_timecode(timecode),
        event_type=event_type, player_id="8480018", team=team, line=line, opponent=opponent,
        tags=dict(tags or {}),
    )


def csv_events(tmp_path: Path, *rows: str) -> list[MetricEvent]:
    path = tmp_path / f"{GAME}.csv"
    path.write_text("\n".join((HEADER, *rows)) + "\n", encoding="utf-8")
    mf = read_metrics(path, GAME)
    assert mf.rejected == []
    return mf.events


# --------------------------------------------------------------------------- frame_window


def test_default_window_at_5994():
    e = 126000
    assert round(5 * NTSC60) == 300 and round(3 * NTSC60) == 180
    assert frame_window(e, ClipWindow(), NTSC60, 10**7) == (e - 300, e + 180)


@pytest.mark.parametrize(
    "fps, pre, post",
    [(Fraction(25), 125, 75), (Fraction(50), 250, 150), (NTSC30, 150, 90), (NTSC60, 300, 180), (Fraction(30), 150, 90)],
)
def test_default_window_per_rate(fps, pre, post):
    e = 10_000
    start, end = frame_window(e, ClipWindow(), fps, 100_000)
    assert (e - start, end - e) == (pre, post)
    # an 8 s clip, to within a frame
    assert abs((end - start) / fps - 8) <= 1 / fps


@pytest.mark.parametrize(
    "event_frame, frame_count, expected",
    [
        (0, 1000, (0, 75)),  # clamped at 0
        (100, 1000, (0, 175)),
        (125, 1000, (0, 200)),
        (126, 1000, (1, 201)),
        (999, 1000, (874, 1000)),  # clamped at frame_count (exclusive end)
        (950, 1000, (825, 1000)),
        (925, 1000, (800, 1000)),
        (10, 20, (0, 20)),  # both ends
    ],
)
def test_clamping(event_frame, frame_count, expected):
    assert frame_window(event_frame, ClipWindow(), Fraction(25), frame_count) == expected


def test_zero_window_keeps_the_event_frame():
    assert frame_window(500, ClipWindow(0, 0), Fraction(25), 1000) == (500, 501)


def test_negative_window_rejected():
    with pytest.raises(ValueError, match="negative"):
        ClipWindow(-1, 3)
    with pytest.raises(ValueError, match="negative"):
        ClipWindow(5, -0.5)


# --------------------------------------------------------------------------- resolve_segments


def test_resolve_default_at_5994(tmp_path):
    events = csv_events(tmp_path, "e1,20031,1,00:35:00:00,shot,8480018,MTL,WSH")
    segs, rej = resolve_segments(events, NTSC60, 300_000, ClipRules(), SOURCE)
    assert rej == []
    (s,) = segs
    assert s.event_frame == 126000
    assert (s.start_frame, s.end_frame) == (125700, 126180)
    assert s.frame_count == 480
    assert (s.fps_num, s.fps_den) == (60000, 1001)
    assert s.fps == NTSC60
    assert s.start_s == pytest.approx(125700 * 1001 / 60000)
    assert s.end_s == pytest.approx(126180 * 1001 / 60000)
    assert (s.game_id, s.period, s.event_id, s.event_type, s.team, s.opponent) == (
        GAME, "1", "e1", "shot", "MTL", "WSH")
    assert s.timecode == "00:35:00:00"


def test_resolve_drop_frame_event(tmp_path):
    events = csv_events(tmp_path, "e1,20031,1,01:00:02;05,goal,1,MTL,")
    (s,), rej = resolve_segments(events, NTSC30, 200_000, ClipRules(), SOURCE)
    assert rej == []
    assert s.event_frame == 107957
    assert (s.start_frame, s.end_frame) == (107957 - 150, 107957 + 90)


def test_per_event_type_windows():
    rules = ClipRules(
        default=ClipWindow(5, 3),
        by_event_type={"goal": ClipWindow(10, 5), "faceoff": ClipWindow(2, 8)},
    )
    events = [
        event("a", "00:10:00:00", "goal"),
        event("b", "00:10:00:00", "faceoff"),
        event("c", "00:10:00:00", "hit"),
    ]
    segs, rej = resolve_segments(events, Fraction(25), 100_000, rules, SOURCE)
    assert rej == []
    e = 15000
    assert {s.event_id: (s.start_frame, s.end_frame) for s in segs} == {
        "a": (e - 250, e + 125),
        "b": (e - 50, e + 200),
        "c": (e - 125, e + 75),
    }
    assert rules.window_for("goal") == ClipWindow(10, 5)
    assert rules.window_for("unknown") == ClipWindow()


def test_clamped_at_video_ends():
    events = [event("first", "00:00:00:02"), event("last", "00:00:39:24")]
    segs, rej = resolve_segments(events, Fraction(25), 1000, ClipRules(), SOURCE)
    assert rej == []
    assert [(s.start_frame, s.end_frame) for s in segs] == [(0, 77), (874, 1000)]


@pytest.mark.parametrize("timecode, past", [("00:00:39:24", False), ("00:00:40:00", True), ("00:10:00:00", True)])
def test_event_past_end_rejected(timecode, past):
    events = [event("ok", "00:00:10:00", line=2), event("x", timecode, line=7)]
    segs, rej = resolve_segments(events, Fraction(25), 1000, ClipRules(), SOURCE)
    if not past:
        assert [s.event_id for s in segs] == ["ok", "x"] and rej == []
        return
    assert [s.event_id for s in segs] == ["ok"]
    (r,) = rej
    assert (r.file, r.line, r.period, r.event_id) == (SOURCE, 7, "1", "x")
    assert "past the end" in r.reason
    assert "1000 frames" in r.reason


@pytest.mark.parametrize(
    "timecode, fps, reason",
    [
        ("00:01:00;02", NTSC60, "does not exist"),
        ("00:01:00;00", NTSC30, "does not exist"),
        ("00:00:01;00", Fraction(25), "drop-frame"),
        ("00:00:01:25", Fraction(25), "nominal rate"),
    ],
)
def test_timecode_invalid_at_this_rate_rejected(tmp_path, timecode, fps, reason):
    events = csv_events(
        tmp_path,
        "e1,20031,1,00:00:05:00,shot,1,MTL,",
        f"e2,20031,1,{timecode},shot,1,MTL,",
        "e3,20031,1,00:00:06:00,shot,1,MTL,",
    )
    segs, rej = resolve_segments(events, fps, 1_000_000, ClipRules(), SOURCE)
    assert [s.event_id for s in segs] == ["e1", "e3"]
    (r,) = rej
    assert (r.line, r.event_id, r.period, r.file) == (3, "e2", "1", SOURCE)
    assert reason in r.reason


def test_same_label_valid_at_2997():
    (s,), rej = resolve_segments([event("e", "00:01:00;02")], NTSC30, 1_000_000, ClipRules(), SOURCE)
    assert rej == [] and s.event_frame == 1800


def test_opponent_from_map_when_missing(tmp_path):
    events = csv_events(
        tmp_path,
        "e1,20031,1,00:00:05:00,shot,1,MTL,",
        "e2,20031,1,00:00:06:00,shot,2,WSH,",
        "e3,20031,1,00:00:07:00,shot,3,MTL,NYR",
        "e4,20031,1,00:00:08:00,shot,4,CHI,",
    )
    opponents = {"MTL": "WSH", "WSH": "MTL"}
    segs, rej = resolve_segments(events, Fraction(25), 100_000, ClipRules(), SOURCE, opponents)
    assert rej == []
    assert {s.event_id: s.opponent for s in segs} == {"e1": "WSH", "e2": "MTL", "e3": "NYR", "e4": None}
    segs, _ = resolve_segments(events, Fraction(25), 100_000, ClipRules(), SOURCE)
    assert {s.event_id: s.opponent for s in segs} == {"e1": None, "e2": None, "e3": "NYR", "e4": None}


def test_tags_carried_and_copied():
    tags = {"outcome": "on_net"}
    ev = event("e", "00:00:05:00", tags=tags)
    (s,), _ = resolve_segments([ev], Fraction(25), 1000, ClipRules(), SOURCE)
    assert s.tags == {"outcome": "on_net"}
    s.tags["x"] = "1"
    assert ev.tags == {"outcome": "on_net"}


def test_empty_events():
    assert resolve_segments([], NTSC60, 1000, ClipRules(), SOURCE) == ([], [])


# --------------------------------------------------------------------------- the video's own timecode (tmcd)


def test_timecodes_on_the_videos_own_clock_are_read_from_its_start():
    """A video whose tmcd track starts at 01:00:00;00, tagged against its burnt-in clock: 01:00:05;00
    is 5 s into the video; a period-relative timecode inside the video is left as it is."""
    events = [event("clock", "01:00:05;00", line=2), event("relative", "00:00:05;00", line=3),
              event("beyond", "01:10:00;00", line=4)]
    frames = 60 * 60  # 60 s at 59.94
    segs, rej = resolve_segments(events, NTSC60, frames, ClipRules(), SOURCE, video_timecode_start="01:00:00;00")
    by_id = {s.event_id: s.event_frame for s in segs}
    five_s = 5 * 60  # 00:00:05;00 at 59.94 drop-frame is frame 300
    assert by_id == {"clock": five_s, "relative": five_s}
    (r,) = rej
    assert r.event_id == "beyond" and "past the end" in r.reason and "01:00:00;00" in r.reason
    # without the video's timecode the clock reading is past the end, as before
    segs, rej = resolve_segments(events[:1], NTSC60, frames, ClipRules(), SOURCE)
    assert segs == [] and "past the end" in rej[0].reason and "own timecode" not in rej[0].reason
