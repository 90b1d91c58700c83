"""Shift mode in the core: reading shifts/<game>.csv and roster.csv, and the shift clip rule
(DATA_CONTRACT.md section 2: the shift padded 1.0 s each side, clamped)."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from hb_clips_assets.domain.contract import ContractFileError
from hb_clips_assets.domain.reference import read_roster
from hb_clips_assets.domain.shifts import read_shifts
from hb_clips_assets.domain.segments import resolve_shift_segments, shift_event_id

NTSC60 = Fraction(60000, 1001)
GAME = "20031"
HEADER = "player_id,period,start_timecode,end_timecode"
TEAMS = {"8480018": "MTL", "8484144": "CHI"}
OPPONENTS = {"MTL": "CHI", "CHI": "MTL"}


def shifts_file(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / f"{GAME}.csv"
    path.write_text("\n".join((HEADER, *rows)) + "\n", encoding="utf-8")
    return path


def test_read_shifts_keeps_good_rows_and_sets_bad_ones_aside(tmp_path):
    path = shifts_file(
        tmp_path,
        "8480018,1,00:00:10;00,00:00:45;00",  # line 2: good
        "8484144,4,00:01:00:00,00:01:40:00",  # line 3: good, period 4 = OT
        "8480018,5,00:00:10;00,00:00:45;00",  # line 4: unknown period
        "8480018,2,00:00:1x;00,00:00:45;00",  # line 5: malformed timecode
        ",2,00:00:10;00,00:00:45;00",  # line 6: missing player
        "8480018,1,00:00:10;00,00:00:50;00",  # line 7: same player, period and start as line 2
    )
    parsed = read_shifts(path, GAME)
    assert [(s.player_id, s.period, str(s.start), s.line) for s in parsed.shifts] == [
        ("8480018", "1", "00:00:10;00", 2), ("8484144", "OT", "00:01:00:00", 3)]
    reasons = {r.line: r.reason for r in parsed.rejected}
    assert set(reasons) == {4, 5, 6, 7}
    assert "unknown period" in reasons[4] and "malformed timecode" in reasons[5]
    assert "missing required field(s) player_id" in reasons[6] and "first on line 2" in reasons[7]
    assert all(r.file == str(path) for r in parsed.rejected)
    # rows with an unreadable period go with every period
    assert [r.line for r in parsed.for_period("2").rejected] == [4, 5, 6]
    assert [s.line for s in parsed.for_period("OT").shifts] == [3]


def test_read_shifts_refuses_a_file_without_the_header(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("player,start\n1,2\n")
    with pytest.raises(ContractFileError, match="header lacks required column"):
        read_shifts(path, GAME)


def test_read_roster_with_aliases(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(
        "player_id,name,team,position,aliases\n"
        "8480018,Nick Suzuki,mtl,C,Suzuki|Suzy\n"
        "8484144,Connor Bedard,CHI,C,\n", encoding="utf-8")
    roster = read_roster(path)
    assert roster["8480018"].team == "MTL" and roster["8480018"].aliases == ("Suzuki", "Suzy")
    assert roster["8480018"].names == ("Nick Suzuki", "Suzuki", "Suzy")
    assert roster["8484144"].aliases == ()
    path.write_text("player_id,name,team,position\n1,A,MTL,C\n1,B,MTL,C\n")
    with pytest.raises(ContractFileError, match="line 3: duplicate player_id"):
        read_roster(path)


def resolve(tmp_path, *rows, frame_count=10_000, teams=TEAMS, reserved=frozenset()):
    parsed = read_shifts(shifts_file(tmp_path, *rows), GAME)
    assert parsed.rejected == []
    return resolve_shift_segments(parsed.shifts, GAME, NTSC60, frame_count, "shifts.csv", teams, OPPONENTS,
                                  reserved_event_ids=reserved)


def test_shift_clip_is_the_shift_padded_one_second_each_side(tmp_path):
    # non-drop 00:00:10:00 at 59.94 is frame 600; 00:00:45:00 is frame 2700; 1 s = 60 frames
    segments, rejected = resolve(tmp_path, "8480018,1,00:00:10:00,00:00:45:00")
    assert rejected == []
    (seg,) = segments
    assert (seg.event_frame, seg.start_frame, seg.end_frame) == (600, 540, 2760)
    assert seg.event_type == "shift" and seg.event_id == shift_event_id("1", "8480018", 600) == "shift-1-8480018-600"
    assert (seg.team, seg.opponent, seg.zone, seg.strength) == ("MTL", "CHI", None, None)
    assert seg.tags == {"shift_end_timecode": "00:00:45:00", "shift_start_frame": "600", "shift_end_frame": "2700"}


def test_shift_clips_are_clamped_to_the_video(tmp_path):
    segments, _ = resolve(tmp_path, "8480018,1,00:00:00;00,00:00:02;00", "8484144,1,00:00:30:00,00:00:59:00",
                          frame_count=2000)
    assert [(s.start_frame, s.end_frame) for s in segments] == [(0, 120 + 60), (1800 - 60, 2000)]
    assert segments[1].tags["shift_end_frame"] == "2000"


def test_bad_shifts_are_set_aside_with_line_and_reason(tmp_path):
    segments, rejected = resolve(
        tmp_path,
        "8480018,1,00:00:10:00,00:00:45:00",  # 2: good
        "9999999,1,00:00:10:00,00:00:45:00",  # 3: not in the roster
        "8484144,1,00:00:20:00,00:00:10:00",  # 4: ends before it starts
        "8484144,2,00:05:00:00,00:05:30:00",  # 5: starts past the end of a 2000-frame video
        "8484144,3,00:00:10:70,00:00:20:00",  # 6: frames field >= 60
        "8484144,3,00:01:00;00,00:01:10;00",  # 7: drop-frame label that does not exist
        frame_count=2000,
    )
    assert [s.player_id for s in segments] == ["8480018"]
    reasons = {r.line: r.reason for r in rejected}
    assert "not in roster.csv" in reasons[3]
    assert "not after it starts" in reasons[4]
    assert "past the end of the video" in reasons[5]
    assert "frames field 70" in reasons[6]
    assert "does not exist" in reasons[7]
    assert {r.period for r in rejected} == {"1", "2", "3"} and all(r.file == "shifts.csv" for r in rejected)


def test_without_a_roster_every_shift_is_set_aside_saying_why(tmp_path):
    segments, rejected = resolve(tmp_path, "8480018,1,00:00:10:00,00:00:45:00", teams=None)
    assert segments == [] and "no roster.csv" in rejected[0].reason


def test_a_shift_id_already_used_by_a_metrics_row_is_set_aside(tmp_path):
    segments, rejected = resolve(tmp_path, "8480018,1,00:00:10:00,00:00:45:00", reserved={"shift-1-8480018-600"})
    assert segments == [] and "already an event_id" in rejected[0].reason


def test_same_start_frame_in_two_periods_gives_two_ids(tmp_path):
    segments, _ = resolve(tmp_path, "8480018,1,00:00:00:00,00:00:30:00", "8480018,2,00:00:00:00,00:00:30:00")
    assert [s.event_id for s in segments] == ["shift-1-8480018-0", "shift-2-8480018-0"]
