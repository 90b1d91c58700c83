"""The generated sample data root follows the data contract."""
from __future__ import annotations

import csv
from pathlib import Path

import av
import numpy as np
import pytest

from hb_clips_assets.domain.layout import DataRoot
from hb_clips_assets.sample import COMPLETE_MARKER, SampleSummary, write_sample_data
from hb_clips_assets.sample.events import METRICS_HEADER
from hb_clips_assets.video.framemark import read_frame_mark_from_av_frame
from hb_clips_tests.sample.smpte import FPS, TC, df_index

PERIOD_S = 4.0
FRAMES = 240  # round(4 s * 59.94)
GOP = 120


def _rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SampleSummary:
    root = tmp_path_factory.mktemp("sample")
    lines: list[str] = []
    summary = write_sample_data(root, period_seconds=PERIOD_S, width=320, height=180, progress=lines.append)
    assert len(lines) >= 2 + 2 * (2 + 3)  # one line per file, at least
    return summary


def test_files_and_headers(sample: SampleSummary) -> None:
    root = sample.root
    assert sample.frame_count == FRAMES and sample.gop == GOP
    assert sorted(sample.games) == ["20031", "20038"]
    expected = {"schedule.csv", "roster.csv"}
    for g in ("20031", "20038"):
        expected |= {f"metrics/{g}.csv", f"shifts/{g}.csv"} | {f"video/{g}/{p}.mp4" for p in "123"}
    written = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    assert written == expected | {COMPLETE_MARKER}  # no temporary files left behind
    assert {p.relative_to(root).as_posix() for p in sample.files} == expected
    layout = DataRoot(root)  # the one place that builds data-root paths
    assert (sample.schedule, sample.roster) == (layout.schedule, layout.roster)
    for g in ("20031", "20038"):
        assert (sample.metrics[g], sample.shifts[g]) == (layout.metrics(g), layout.shifts(g))
        assert all(sample.videos[(g, p)] == layout.video(g, p) for p in "123")
    assert _rows(root / "schedule.csv")[0] == ["game_id", "date", "home", "away"]
    assert _rows(root / "roster.csv")[0] == ["player_id", "name", "team", "position", "aliases"]
    for g in ("20031", "20038"):
        assert _rows(root / "metrics" / f"{g}.csv")[0] == METRICS_HEADER
        assert _rows(root / "shifts" / f"{g}.csv")[0] == ["player_id", "period", "start_timecode", "end_timecode"]


def test_schedule_and_roster(sample: SampleSummary) -> None:
    _, schedule = _rows(sample.root / "schedule.csv")
    games = {r["game_id"]: (r["date"], r["home"], r["away"]) for r in schedule}
    assert games["20031"] == ("2026-11-18", "MTL", "CHI")
    assert games["20038"] == ("2026-11-20", "WSH", "NYR")
    assert len(games) == len(schedule) >= 8
    for team in ("MTL", "WSH"):
        past = [g for g, (d, h, a) in games.items() if team in (h, a) and d < "2026-11-18"]
        assert len(past) >= 3
    _, roster = _rows(sample.root / "roster.csv")
    by_id = {r["player_id"]: r for r in roster}
    assert by_id["8480018"]["name"] == "Nick Suzuki" and by_id["8480018"]["aliases"].split("|") == ["Suzuki", "Suzy"]
    assert by_id["8471214"]["aliases"].split("|") == ["Ovi", "Ovechkin", "The Great 8"]
    assert by_id["8478550"]["aliases"] == "Panarin|Bread Man"
    assert by_id["8484144"]["team"] == "CHI" and by_id["8481540"]["team"] == "MTL"
    for team in ("MTL", "CHI", "WSH", "NYR"):
        assert sum(r["team"] == team for r in roster) >= 5


def test_metrics_valid_and_bad_rows(sample: SampleSummary) -> None:
    _, roster = _rows(sample.root / "roster.csv")
    team_of = {r["player_id"]: r["team"] for r in roster}
    teams = {"20031": {"MTL", "CHI"}, "20038": {"WSH", "NYR"}}
    for game in ("20031", "20038"):
        _, rows = _rows(sample.metrics[game])
        bad = {b.line: b for b in sample.bad_rows[game]}
        assert {b.reason for b in bad.values()} == {
            "malformed_timecode", "frames_out_of_range", "unknown_period",
            "missing_player_id", "duplicate_event_id", "past_end_of_video",
        }
        seen: set[str] = set()
        valid = []
        for line, row in enumerate(rows, start=2):
            b = bad.get(line)
            if b is None:
                valid.append(row)
                assert row["event_id"] not in seen
                assert row["game_id"] == game and row["period"] in {"1", "2", "3"}
                assert 0 <= df_index(row["timecode"]) < FRAMES
                assert {row["team"], row["opponent"]} == teams[game]
                assert team_of[row["player_id"]] == row["team"]
                assert row["zone"] in {"O", "D", "N"} and row["strength"] in {"5v5", "PP", "PK", "4v4"}
            else:
                assert row["event_id"] == b.event_id
                reason = b.reason
                if reason == "malformed_timecode":
                    assert not TC.match(row["timecode"])
                elif reason == "frames_out_of_range":
                    assert TC.match(row["timecode"]) and int(row["timecode"][-2:]) >= 60
                elif reason == "unknown_period":
                    assert row["period"] == "5"
                elif reason == "missing_player_id":
                    assert row["player_id"] == ""
                elif reason == "duplicate_event_id":
                    assert row["event_id"] in seen
                elif reason == "past_end_of_video":
                    assert df_index(row["timecode"]) >= FRAMES
            seen.add(row["event_id"])
        assert len(valid) == sample.valid_events[game] >= 18
        assert len({r["event_type"] for r in valid}) >= 8
    _, rows = _rows(sample.metrics["20038"])
    exits = [r for r in rows if r["event_type"] == "zone_exit" and r["zone"] == "D"
             and r["team"] == "WSH" and r["opponent"] == "NYR"]
    assert len(exits) >= 3


def test_games_filter(tmp_path: Path) -> None:
    s = write_sample_data(tmp_path, period_seconds=0.5, width=160, height=90, games=["20038"], progress=lambda _m: None)
    assert set(s.metrics) == {"20038"} and set(s.videos) == {("20038", p) for p in "123"}
    assert not (tmp_path / "metrics" / "20031.csv").exists()
    assert (tmp_path / "schedule.csv").exists()
    with pytest.raises(ValueError, match="unknown sample game"):
        write_sample_data(tmp_path, games=["99999"], progress=lambda _m: None)


def test_video_is_broadcast_like_and_frame_marked(sample: SampleSummary) -> None:
    path = sample.videos[("20031", "2")]
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        a = c.streams.audio[0]
        assert (v.codec_context.width, v.codec_context.height) == (320, 180)
        assert v.codec_context.name == "h264" and v.codec_context.profile == "High"
        assert v.codec_context.pix_fmt == "yuv420p"
        assert v.average_rate == FPS
        assert a.codec_context.name == "aac" and a.rate == 48000 and a.codec_context.layout.nb_channels == 2
        keyframes, decode_pts = [], []
        for packet in c.demux(v):
            if packet.size == 0:
                continue
            decode_pts.append(packet.pts)
            if packet.is_keyframe:
                keyframes.append(packet.pts)
        order = sorted(decode_pts)
        assert decode_pts != order  # B-frames: presentation order differs from decode order
        assert len(order) == FRAMES
        assert [order.index(k) for k in keyframes] == list(range(0, FRAMES, GOP))
        video_s = float(v.duration * v.time_base)
        audio_s = float(a.duration * a.time_base)
        assert abs(video_s - FRAMES / float(FPS)) < 1e-3
        assert abs(audio_s - video_s) < 0.03  # AAC frames are 21 ms
    with av.open(str(path)) as c:
        marks = [read_frame_mark_from_av_frame(f) for f in c.decode(video=0)]
        assert c.streams.video[0].codec_context.has_b_frames > 0
    assert marks == list(range(FRAMES))


def test_audio_beeps_line_up_with_frames(sample: SampleSummary) -> None:
    """A 1 kHz beep starts at every 60th frame: its onset is within a frame of it."""
    with av.open(str(sample.videos[("20038", "1")])) as c:
        chunks, start = [], None
        for f in c.decode(audio=0):
            if start is None:
                start = float(f.pts * f.time_base)
            chunks.append(f.to_ndarray()[0])
    mono = np.concatenate(chunks)
    assert start is not None and abs(start) < 1e-3
    rate = 48000
    win = 48  # 1 ms
    rms = np.sqrt((mono[: len(mono) // win * win].reshape(-1, win) ** 2).mean(axis=1))
    loud = rms > 0.15
    onsets = [i for i in range(1, len(loud)) if loud[i] and not loud[max(0, i - 20) : i].any()]
    expected = [k / float(FPS) for k in range(60, FRAMES, 60)]
    got = [(i * win) / rate for i in onsets]
    for t in expected:
        assert min(abs(g - t) for g in got) < 1 / float(FPS)
