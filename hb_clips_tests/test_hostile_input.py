"""Hostile and broken input (issue 7): a corpus of bad CSVs and videos.

CSV cases are files under ``corpus/csv/``, described by ``corpus/cases.json``.
Video cases are made at test time into ``tmp_path`` by the small generators
below (binary videos are not committed). For every case: a clear error naming
the file (and line where there is one) or a rejected row with file, line and
reason; no traceback text in the message; nothing written outside the store.
A few representative cases go through the real Dagster assets: the bad
partition fails cleanly, the other partition of the same game still succeeds,
and every rejected row is counted in the materialization metadata.
"""
from __future__ import annotations

import csv
import hashlib
import json
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import pytest
from dagster import DagsterUnknownPartitionError, instance_for_test, materialize

from hb_clips_assets.defs.assets import clip_assets
from hb_clips_assets.domain.contract import (
    ROSTER_REQUIRED,
    SCHEDULE_REQUIRED,
    ContractError,
    ContractFileError,
    read_metrics,
    validate_game_id,
)
from hb_clips_assets.domain.csvfile import read_csv_table
from hb_clips_assets.domain.reference import read_roster, read_schedule
from hb_clips_assets.domain.shifts import read_shifts
from hb_clips_assets.retrieval.export.sportscode import read_sportscode, to_sportscode_xml
from hb_clips_assets.storage.index.repository import MediaIndex
from hb_clips_assets.domain.segments import ClipRules, frame_window, resolve_segments
from hb_clips_assets.domain.timecode import TimecodeError, frame_to_timecode, timecode_to_frame
from hb_clips_assets.video.cut.full import cut_clip
from hb_clips_assets.video.probe import VideoError, probe_video
from hb_clips_assets.sample import ffmpeg_exe, write_marked_video
from hb_clips_assets.defs.failures import step_failure_message
from hb_clips_assets.defs.io_managers import ParquetIOManager
from hb_clips_assets.defs.metadata import rejection_metadata
from hb_clips_assets.defs.partitions import game_partitions, game_period_key
from hb_clips_assets.domain.layout import DataRoot
from hb_clips_assets.defs.resources import ClipSettingsResource, DataRootResource, MediaIndexResource, ObjectStoreResource
from hb_clips_tests.media_checks import decode_clip

CORPUS = Path(__file__).parent / "corpus"
CSV_DIR = CORPUS / "csv"
CASES = json.loads((CORPUS / "cases.json").read_text(encoding="utf-8"))["cases"]
PIPELINE_CSV = "pipeline_G1_hostile_rows.csv"  # used by the Dagster tests below, not by cases.json
MANY_BAD_CSV = "pipeline_G1_many_bad_rows.csv"  # 30 bad rows: more than the metadata table shows
FPS_5994 = Fraction(60000, 1001)
FORMULA = "=cmd|' /C calc'!A0"
SQL = "'; DROP TABLE media.clips; --"


def assert_clean_message(message: str, path: Path | str, line: int | None = None) -> None:
    """Names the file (and line), one readable sentence: no traceback, no repr of an exception."""
    assert str(path) in message, message
    if line is not None:
        assert f"line {line}" in message, message
    assert "Traceback" not in message and 'File "' not in message, message
    assert "Error(" not in message, message


def tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


# --------------------------------------------------------------------------------------------------------------
# CSV corpus
# --------------------------------------------------------------------------------------------------------------


def test_every_corpus_file_is_described_and_the_corpus_is_large_enough():
    described = {c["file"] for c in CASES}
    on_disk = {p.name for p in CSV_DIR.glob("*.csv")}
    assert described <= on_disk, described - on_disk
    assert on_disk - described == {PIPELINE_CSV, MANY_BAD_CSV}
    assert len(CASES) >= 50


REQUIRED = {"schedule": SCHEDULE_REQUIRED, "roster": ROSTER_REQUIRED}


def _read(case: dict, path: Path):
    reader = case["reader"]
    if reader == "metrics":
        return read_metrics(path, "G1")
    if reader == "shifts":
        return read_shifts(path, "G1")
    if reader == "schedule":
        return read_schedule(path)
    return read_roster(path)


def _case_params():
    for case in CASES:
        marks = [pytest.mark.xfail(strict=True, reason=case["xfail"])] if case.get("xfail") else []
        yield pytest.param(case, id=case["file"].removesuffix(".csv"), marks=marks)


@pytest.mark.parametrize("case", list(_case_params()))
def test_csv_corpus_case(case, tmp_path):
    # Read a copy inside tmp_path, so a reader that wrote anything beside its input would show.
    path = tmp_path / "in" / case["file"]
    path.parent.mkdir()
    shutil.copyfile(CSV_DIR / case["file"], path)
    before = tree_digest(tmp_path)

    if case["expect"] == "error":
        with pytest.raises(ContractFileError) as info:
            _read(case, path)
        err = info.value
        message = str(err)
        assert_clean_message(message, path, case["line"])
        assert case["error"] in message
        assert err.path == str(path) and err.line == case["line"]
        assert "\n" not in message
        if "problem" in case:
            assert err.problem == case["problem"]
    else:
        parsed = _read(case, path)
        if case["reader"] == "metrics":
            ids = [e.event_id for e in parsed.events]
            by_id = {e.event_id: e for e in parsed.events}
            for event_id, tags in case.get("tags", {}).items():
                for tag, value in tags.items():
                    assert by_id[event_id].tags[tag] == value  # kept verbatim as data, never evaluated
            assert {i: by_id[i].tags for i in case.get("all_tags", {})} == case.get("all_tags", {})
            assert {i: by_id[i].event_type for i in case.get("types", {})} == case.get("types", {})
            assert {i: str(by_id[i].timecode) for i in case.get("timecodes", {})} == case.get("timecodes", {})
            for event_id, player in case.get("players", {}).items():
                assert by_id[event_id].player_id == player
            if "event_lines" in case:
                assert [e.line for e in parsed.events] == case["event_lines"]
        elif case["reader"] == "shifts":
            ids = [s.player_id for s in parsed.shifts]
            assert {s.player_id: str(s.start) for s in parsed.shifts if s.player_id in case.get("starts", {})} == \
                case.get("starts", {})
        else:
            ids = list(parsed)
            assert {i: parsed[i].name for i in case.get("names", {})} == case.get("names", {})
        # what the file was read as: the readers say it (metrics, shifts); schedule and roster through the CSV reader
        table = parsed if case["reader"] in ("metrics", "shifts") else read_csv_table(path, REQUIRED[case["reader"]])
        assert table.encoding == case.get("encoding", table.encoding) and table.delimiter == case.get("delimiter", table.delimiter)
        if "events" in case:
            assert ids == case["events"]
        if "event_count" in case:
            assert len(ids) == case["event_count"]
        rejected = getattr(parsed, "rejected", [])
        assert [r.line for r in rejected] == [line for line, _ in case.get("rejected", [])]
        for r, (_, reason) in zip(rejected, case.get("rejected", [])):
            assert r.file == str(path) and reason in r.reason
            assert_clean_message(str(r), path, r.line)
        if case.get("segment_rejected") is not None or case["reader"] == "metrics" and case["file"] != "metrics_nul_after_8k.csv":
            segments, seg_rejected = resolve_segments(parsed.events, FPS_5994, 120, ClipRules(), str(path))
            expected = case.get("segment_rejected", [])
            assert [r.line for r in seg_rejected] == [line for line, _ in expected]
            for r, (_, reason) in zip(seg_rejected, expected):
                assert reason in r.reason and r.file == str(path)
                assert_clean_message(str(r), path, r.line)
            # nothing silently dropped: every event is a segment or a rejection
            assert len(segments) + len(seg_rejected) == len(parsed.events)
    assert tree_digest(tmp_path) == before  # nothing written, input untouched


def test_formula_and_sql_strings_are_escaped_in_markdown_metadata(tmp_path):
    parsed = read_metrics(CSV_DIR / "metrics_formula_injection.csv", "G1")
    row = next(e for e in parsed.events if e.event_id == FORMULA)
    from hb_clips_assets.domain.contract import Rejection

    from hb_clips_tests.resources import table_rows
    rows = table_rows(rejection_metadata([Rejection("f.csv", 3, f"bad {FORMULA}\nsecond line", "1", FORMULA)])["rejected_first"])
    assert rows == [{"file": "f.csv", "line": 3, "period": "1", "event_id": FORMULA, "reason": f"bad {FORMULA}\nsecond line"}]
    assert row.tags["detail"] == FORMULA


def _clip_result(event_id: str, player_id: str, tags: dict[str, str]):
    from hb_clips_assets.retrieval.results import ClipResult

    return ClipResult(
        clip_id="c1", game_id="G1", game_date=None, period="1", event_id=event_id, event_type="shot",
        player_id=player_id, player_name=None, team="MTL", opponent="CHI", zone=None, strength=None,
        timecode="00:00:01;00", event_frame=60, start_frame=0, end_frame=120, fps_num=60000, fps_den=1001,
        start_s=0.0, end_s=2.0, duration_s=2.0, source_uri="file:///x", created_at=None, tags=tags, assets={},
    )


@pytest.mark.parametrize("value", [FORMULA, SQL, "<script>alert(1)</script>", "]]></code><x>&amp;", "\u202eevil"])
def test_hostile_strings_round_trip_through_the_sportscode_export(value):
    xml = to_sportscode_xml([_clip_result(value, value, {"detail": value})])
    (instance,) = read_sportscode(xml)
    assert instance.label("Event ID") == value and instance.label("Player ID") == value
    assert instance.label("Detail") == value
    assert b"<script>" not in xml  # escaped text, never markup


# --------------------------------------------------------------------------------------------------------------
# game ids that must never become a path or a partition
# --------------------------------------------------------------------------------------------------------------

BAD_GAME_IDS = ["..", "../G1", "G1/x", "/etc", "G1|G2", "G1,G2", "G1\x00", "", "a" * 65, "G1\n", "G 1", "G1.csv"]


@pytest.mark.parametrize("game_id", BAD_GAME_IDS, ids=repr)
def test_bad_game_id_is_rejected_before_it_becomes_a_path(game_id, tmp_path):
    root = DataRoot(tmp_path)
    for call in (lambda: validate_game_id(game_id), lambda: root.metrics(game_id), lambda: root.shifts(game_id),
                 lambda: root.video(game_id, "1"), lambda: read_metrics(tmp_path / "x.csv", game_id),
                 lambda: read_shifts(tmp_path / "x.csv", game_id)):
        with pytest.raises(ContractError) as info:
            call()
        assert "invalid game_id" in str(info.value) and "Traceback" not in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_bad_file_names_never_become_games(tmp_path):
    for name in ("G1.csv", "G|2.csv", "G,3.csv", "x..y.csv", "a b.csv", ".csv"):
        (tmp_path / "metrics").mkdir(exist_ok=True)
        (tmp_path / "metrics" / name).write_text("event_id\n")
    for name in ("G1", "G4", "a,b", "c|d", "..x"):
        (tmp_path / "video" / name).mkdir(parents=True)
    assert DataRootResource(path=str(tmp_path)).layout.games() == ["G1", "G4"]


# --------------------------------------------------------------------------------------------------------------
# timecodes: enormous, negative, invalid drop-frame, a 3-hour period (pure logic, nothing encoded)
# --------------------------------------------------------------------------------------------------------------


def test_three_hour_period_at_5994_resolves_the_last_frame_and_rejects_past_the_end():
    frame_count = round(3 * 3600 * FPS_5994)  # 647353 frames
    last = frame_count - 1
    label = frame_to_timecode(last, FPS_5994)
    assert timecode_to_frame(label, FPS_5994) == last
    assert str(label).startswith("03:00:00;")
    assert frame_window(last, ClipRules().default, FPS_5994, frame_count) == (last - 300, frame_count)
    beyond = frame_to_timecode(frame_count, FPS_5994)
    from hb_clips_assets.domain.contract import MetricEvent
    from hb_clips_assets.domain.timecode import parse_timecode

    events = [MetricEvent(f"e{i}", "G1", "1", parse_timecode(tc), "shot", "p", "MTL", i + 2)
              for i, tc in enumerate([str(label), str(beyond), "02:59:59;59", "99:59:59;59", "01:30:00;00"])]
    segments, rejected = resolve_segments(events, FPS_5994, frame_count, ClipRules(), "metrics/G1.csv")
    assert [s.event_id for s in segments] == ["e0", "e2", "e4"]
    assert [(r.line, "past the end" in r.reason) for r in rejected] == [(3, True), (5, True)]
    assert all("metrics/G1.csv, line" in str(r) for r in rejected)


@pytest.mark.parametrize("label", ["00:01:00;00", "00:01:00;03", "00:09:00;01", "01:01:00;02"])
def test_invalid_drop_frame_labels_do_not_exist(label):
    with pytest.raises(TimecodeError, match="does not exist"):
        timecode_to_frame(label, FPS_5994)


# --------------------------------------------------------------------------------------------------------------
# video corpus: generators write into tmp_path
# --------------------------------------------------------------------------------------------------------------


def _ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args], check=True, capture_output=True)


def _has_encoder(name: str) -> bool:
    out = subprocess.run([ffmpeg_exe(), "-hide_banner", "-encoders"], capture_output=True, text=True).stdout
    return any(line.split()[1:2] == [name] for line in out.splitlines() if line.startswith(" "))


def _testsrc(seconds: float = 1.0) -> list[str]:
    return ["-f", "lavfi", "-i", f"testsrc2=size=160x90:rate=25:duration={seconds}"]


def _marked(path: Path, frames: int = 50, **kw) -> Path:
    return write_marked_video(path, frames, Fraction(25), 160, 90, audio=False, **kw)


def gen_zero_bytes(p: Path):
    p.write_bytes(b"")


def gen_text_file(p: Path):
    p.write_text("404 Not Found\n<html><body>nope</body></html>\n" * 20)


def gen_png_renamed(p: Path):
    p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200))


def gen_mp3_bytes_renamed(p: Path):
    # An ID3v2 tag then MPEG-1 layer III frame headers (0xFFFB): an MP3 as a phone would save it.
    p.write_bytes(b"ID3\x04\x00\x00\x00\x00\x00\x00" + (b"\xff\xfb\x90\x64" + bytes(413)) * 20)


def gen_mp3_encoded_renamed(p: Path):
    _ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "libmp3lame", "-f", "mp3", str(p))


def gen_audio_only_mp4(p: Path):
    _ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=1", "-c:a", "aac", str(p))


def gen_truncated_mid_file(p: Path):
    _marked(p)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) * 2 // 3])


def gen_truncated_no_moov(p: Path):
    # moov written last (no +faststart), the copy cut right before it: ftyp + mdat, whole, and no moov.
    tmp = p.with_name("whole.mp4")
    _ffmpeg(*_testsrc(), "-c:v", "libx264", str(tmp))
    data = tmp.read_bytes()
    tmp.unlink()
    p.write_bytes(data[: data.rindex(b"moov") - 4])


def gen_header_only(p: Path):
    tmp = p.with_name("whole.mp4")
    _marked(tmp)
    data = tmp.read_bytes()
    tmp.unlink()
    p.write_bytes(data[: int.from_bytes(data[:4], "big")])  # just the ftyp box


def gen_garbage_after_ftyp(p: Path):
    p.write_bytes(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\xde\xad\xbe\xef" * 100)


def gen_directory(p: Path):
    p.mkdir()
    (p / "x").write_text("x")


BROKEN_VIDEOS = {
    "zero_bytes": (gen_zero_bytes, "the file is empty"),
    "text_file": (gen_text_file, "not a readable video"),
    "png_renamed": (gen_png_renamed, "not a readable video"),
    "mp3_bytes_renamed": (gen_mp3_bytes_renamed, "not a readable video"),
    "mp3_encoded_renamed": (gen_mp3_encoded_renamed, "not a readable video"),
    "audio_only_mp4": (gen_audio_only_mp4, "has no video stream"),
    "truncated_mid_file": (gen_truncated_mid_file, "truncated MP4"),
    "truncated_no_moov": (gen_truncated_no_moov, "no moov"),
    "ftyp_only": (gen_header_only, "incomplete MP4"),
    "garbage_after_ftyp": (gen_garbage_after_ftyp, "MP4"),
    "directory_named_mp4": (gen_directory, "cannot read"),
}


@pytest.mark.parametrize("name", list(BROKEN_VIDEOS))
def test_broken_video_is_a_clear_error_naming_the_file(name, tmp_path):
    generate, expected = BROKEN_VIDEOS[name]
    path = tmp_path / "video" / "G1" / "1.mp4"
    path.parent.mkdir(parents=True)
    generate(path)
    before = tree_digest(tmp_path)
    with pytest.raises(VideoError) as info:
        probe_video(path)
    message = str(info.value)
    assert_clean_message(message, path)
    assert expected in message and "\n" not in message
    assert tree_digest(tmp_path) == before


def gen_10bit(p: Path):
    src = _marked(p.with_name("src.mp4"))
    _ffmpeg("-i", str(src), "-c:v", "libx264", "-profile:v", "high10", "-pix_fmt", "yuv420p10le", "-bf", "3", str(p))


def gen_422(p: Path):
    src = _marked(p.with_name("src.mp4"))
    _ffmpeg("-i", str(src), "-c:v", "libx264", "-profile:v", "high422", "-pix_fmt", "yuv422p", "-bf", "3", str(p))


def gen_hevc(p: Path):
    src = _marked(p.with_name("src.mp4"))
    _ffmpeg("-i", str(src), "-c:v", "libx265", "-x265-params", "log-level=error:bframes=3", "-pix_fmt", "yuv420p",
            "-tag:v", "hvc1", str(p))


def gen_rotated(p: Path):
    src = _marked(p.with_name("src.mp4"))
    _ffmpeg("-display_rotation", "90", "-i", str(src), "-c", "copy", str(p))


def gen_very_short(p: Path):
    _marked(p, frames=3)


UNUSUAL_VIDEOS = {
    # name: (generator, needed encoder, codec, pix_fmt, frames)
    "h264_10bit": (gen_10bit, "libx264", "h264", "yuv420p10le", 50),
    "h264_422": (gen_422, "libx264", "h264", "yuv422p", 50),
    "hevc": (gen_hevc, "libx265", "hevc", "yuv420p", 50),
    "rotation_metadata": (gen_rotated, "libx264", "h264", "yuv420p", 50),
    "very_short_period": (gen_very_short, "libx264", "h264", "yuv420p", 3),
}


@pytest.mark.parametrize("name", list(UNUSUAL_VIDEOS))
def test_unusual_but_valid_video_probes_and_cuts_frame_exact(name, tmp_path):
    generate, encoder, codec, pix_fmt, frames = UNUSUAL_VIDEOS[name]
    if not _has_encoder(encoder):
        pytest.skip(f"the imageio-ffmpeg binary has no {encoder} encoder, so no {name} test video can be made")
    path = tmp_path / "video" / "G1" / "1.mp4"
    path.parent.mkdir(parents=True)
    generate(path)
    info = probe_video(path)
    assert (info.codec, info.pix_fmt, info.frame_count, info.fps) == (codec, pix_fmt, frames, Fraction(25))
    if frames >= 10:
        start, end = 10, 30
    else:  # a period of a few frames: the 8 s window clamps to the whole video
        start, end = frame_window(1, ClipRules().default, info.fps, info.frame_count)
        assert (start, end) == (0, frames)
    result = cut_clip(info, start, end, start + 1, tmp_path / "store")
    assert result.mp4_path.parent == tmp_path / "store"
    assert decode_clip(result.mp4_path).marks == list(range(start, end))


def _display_rotation(path: Path) -> str | None:
    err = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr
    return next((line.strip() for line in err.splitlines() if "rotation of" in line), None)


SMART_PATHS = {  # name: (path the smart cutter takes for frames 0..30, reason substring)
    "h264_10bit": ("full", "pixel format yuv420p10le"),
    "h264_422": ("full", "pixel format yuv422p"),
    "hevc": ("full", "hevc is not H.264"),
    "rotation_metadata": ("smart", None),
    "very_short_period": ("smart", None),
}


@pytest.mark.parametrize("name", list(UNUSUAL_VIDEOS))
def test_smart_cutter_copies_or_falls_back_and_says_why(name, tmp_path):
    """Sources the smart cut cannot splice (another codec or pixel format) get the full
    re-encode, frame-exact, with the reason; the others are spliced."""
    from hb_clips_assets.video.cut.smart import smart_cut_clip

    generate, encoder, _codec, _pix_fmt, frames = UNUSUAL_VIDEOS[name]
    if not _has_encoder(encoder):
        pytest.skip(f"the imageio-ffmpeg binary has no {encoder} encoder, so no {name} test video can be made")
    path = tmp_path / "1.mp4"
    generate(path)
    end = min(30, frames)
    result = smart_cut_clip(probe_video(path), 0, end, 0, tmp_path / "store")
    path_taken, reason = SMART_PATHS[name]
    assert result.path == path_taken, result.reason
    assert (reason or "") in (result.reason or "")
    assert decode_clip(result.mp4_path).marks == list(range(0, end))


@pytest.mark.parametrize("cutter", ["full", "smart"])
def test_clip_of_a_rotated_video_keeps_its_orientation(tmp_path, cutter):
    from hb_clips_assets.video.cut.smart import smart_cut_clip

    path = tmp_path / "1.mp4"
    gen_rotated(path)
    assert _display_rotation(path) is not None
    if cutter == "full":
        result = cut_clip(probe_video(path), 10, 30, 11, tmp_path / "store")
    else:
        result = smart_cut_clip(probe_video(path), 0, 30, 11, tmp_path / "store")
        assert result.path == "smart", result.reason
    assert _display_rotation(result.mp4_path) == _display_rotation(path)
    assert decode_clip(result.mp4_path).marks == list(range(10 if cutter == "full" else 0, 30))


def gen_vfr(p: Path):
    # 25 fps for 12 frames, then a 0.5 s jump: timestamps no longer follow one rate.
    _ffmpeg(*_testsrc(), "-vf", "setpts='N/25/TB+if(gte(N,12),0.5/TB,0)'", "-fps_mode", "vfr", "-c:v", "libx264", str(p))


def gen_wild_vfr(p: Path):
    # frames lasting 34 or 57 ms in a jagged pattern, on a millisecond clock: no multiple of one duration
    _ffmpeg(*_testsrc(), "-vf", "settb=1/1000,setpts='N*40+mod(N*17,23)'", "-fps_mode", "vfr",
            "-enc_time_base", "1/1000", "-c:v", "libx264", str(p))


@pytest.mark.parametrize("generate", [gen_vfr, gen_wild_vfr], ids=["half-second-jump", "wildly-varying"])
def test_variable_frame_rate_video_is_a_clear_error(tmp_path, generate):
    """Still refused (a few dropped frames are not: video/test_dropped_frames.py)."""
    path = tmp_path / "1.mp4"
    generate(path)
    with pytest.raises(VideoError, match=r"variable frame rate \(frame durations 0\.0\d+ to 0\.\d+ s\); "
                                         "re-encode it at a constant rate") as info:
        probe_video(path)
    assert_clean_message(str(info.value), path)


# --------------------------------------------------------------------------------------------------------------
# through the real Dagster assets: one game, two periods
# --------------------------------------------------------------------------------------------------------------

GAME = "G1"


@pytest.fixture(scope="module")
def period_video(tmp_path_factory) -> Path:
    """2 s at 25 fps, 160x90, marked frames, no audio."""
    return _marked(tmp_path_factory.mktemp("hostile_src") / "p.mp4", 50)


@pytest.fixture
def env(tmp_path, period_video):
    data = tmp_path / "data"
    (data / "metrics").mkdir(parents=True)
    shutil.copyfile(CSV_DIR / PIPELINE_CSV, data / "metrics" / f"{GAME}.csv")
    (data / "schedule.csv").write_text(f"game_id,date,home,away\n{GAME},2026-01-02,MTL,CHI\n")
    for period in ("1", "2"):
        (data / "video" / GAME).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(period_video, data / "video" / GAME / f"{period}.mp4")
    from hb_clips_tests.resources import pipeline_resources
    resources = pipeline_resources(data, tmp_path / "work", tmp_path / "store", f"sqlite:///{tmp_path / 'media.db'}")
    cwd_before = sorted(p.name for p in Path.cwd().iterdir())
    with instance_for_test() as instance:
        instance.add_dynamic_partitions(game_partitions.name, [GAME])
        yield {"tmp": tmp_path, "data": data, "store": tmp_path / "store", "db": f"sqlite:///{tmp_path / 'media.db'}",
               "resources": resources, "instance": instance}
    # nothing written outside tmp_path: the working directory gained nothing
    assert sorted(p.name for p in Path.cwd().iterdir()) == cwd_before
    # nothing under tmp_path but the inputs, the store, the index and the IO manager's folder
    assert {p.name for p in tmp_path.iterdir()} <= {"data", "store", "media.db", "work", "1.mp4"}


def run(env, period: str, game: str = GAME):
    from hb_clips_tests.resources import pipeline_assets
    result = materialize(pipeline_assets, partition_key=game_period_key(game, period), instance=env["instance"],
                         resources=env["resources"], raise_on_error=False)
    meta = {}
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        meta[mat.asset_key.to_user_string()] = {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
    return result, meta


def failure_message(result) -> str:
    return step_failure_message(next(e for e in result.all_events if e.is_step_failure))


def logs_of(env, result) -> list[str]:
    return [entry.user_message or "" for entry in env["instance"].all_logs(result.run_id)]


def assert_no_traceback_in_logs(env, result) -> None:
    """The run's log messages (what the UI and the daemon's output show) carry no Python traceback."""
    messages = logs_of(env, result)
    assert messages
    for message in messages:
        assert "Traceback (most recent call last)" not in message, message


def rejected_rows_file(meta: dict, asset: str, path: Path) -> list[int]:
    """Line numbers in the CSV of every rejected row an asset wrote (its path in the metadata); all name ``path``."""
    with open(meta[asset]["rejected_rows_file"], newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["file"] for r in rows} == {str(path)}
    return sorted(int(r["line"]) for r in rows)


def rejection_summaries(env, result) -> list[str]:
    """The one-line summaries of rejected rows a run logged (one per asset with rejected rows, never one per row)."""
    messages = logs_of(env, result)
    assert not any(m.startswith("rejected ") for m in messages)  # the old one-warning-per-row form
    return [m for m in messages if " row(s) set aside" in m]


def assert_store_only_holds_game_objects(env):
    for p in env["store"].rglob("*"):
        if p.is_file():
            rel = p.relative_to(env["store"]).parts
            assert rel[0] in ("clips", "thumbnails", "hls") and rel[1] == GAME and not p.name.startswith("."), p


def test_pipeline_hostile_rows_are_counted_and_stored_verbatim(env):
    data_before = tree_digest(env["data"])
    r1, m1 = run(env, "1")
    r2, m2 = run(env, "2")
    assert r1.success and r2.success
    # period 1: lines 5 (negative tc), 8 (game '..'), 9 (period 9: no period, listed in every period) at read;
    # lines 6 (99:59:59:24 past the end) and 7 (drop-frame at 25 fps) when resolved against the video
    assert m1["metrics"]["rejected_rows"] == 3 and m1["metrics"]["rejected_rows_without_period"] == 1
    assert m1["event_segments"]["rejected_rows"] == 2
    assert m1["clips"]["clips"] == 3 == m1["media_index"]["clips"]
    # period 2: line 9 (no period). Line 12 reuses period 1's event_id e1: no longer a duplicate (ids are unique per
    # game x period, issue "Real-world inputs"); it is stored as P2-e1, its written id kept as the tag event_id_raw.
    assert m2["metrics"]["rejected_rows"] == 1 and m2["event_segments"]["rejected_rows"] == 0
    assert m2["clips"]["clips"] == 3
    for lines, md in (([5, 8, 9], m1["metrics"]["rejected_first"]), ([6, 7], m1["event_segments"]["rejected_first"]),
                      ([9], m2["metrics"]["rejected_first"])):
        from hb_clips_tests.resources import table_rows
        rows = table_rows(md)
        assert [r["line"] for r in rows] == lines and all(r["file"].endswith(f"metrics/{GAME}.csv") for r in rows)
        assert not any("Traceback" in r["reason"] for r in rows)
    # every rejected row is also in the partition's rejected-rows CSV, and summarized in one log line per asset
    csv_path = env["data"].resolve() / "metrics" / f"{GAME}.csv"
    assert rejected_rows_file(m1, "metrics", csv_path) == [5, 8, 9]
    assert rejected_rows_file(m1, "event_segments", csv_path) == [6, 7]
    assert rejected_rows_file(m2, "metrics", csv_path) == [9]
    assert "rejected_rows_file" not in m2["event_segments"]
    assert [m.split(" row(s)")[0] for m in rejection_summaries(env, r1)] == ["3", "2"]
    assert [m.split(" row(s)")[0] for m in rejection_summaries(env, r2)] == ["1"]
    assert {r["event_id"] for r in MediaIndex(env["db"]).clips(GAME, "2")} == {"p2a", "p2b", "P2-e1"}
    # SQL and formula strings: stored verbatim through parameters; the tables are still there
    index = MediaIndex(env["db"])
    rows = {r["event_id"]: r for r in index.clips(GAME, "1")}
    assert set(rows) == {"e1", SQL, FORMULA}
    assert rows[SQL]["player_id"] == "1' OR '1'='1"
    with index.engine.connect() as conn:
        tags = set(conn.exec_driver_sql("select tag, value from media.clip_tags").all())
        assert conn.exec_driver_sql("select count(*) from media.clips").scalar() == 6
        kinds = dict(conn.exec_driver_sql("select kind, count(*) from media.clip_assets group by kind").all())
        assert kinds["mp4"] == kinds["thumbnail"] == 6  # each clip's MP4 and JPEG (and its HLS rendition's objects)
    assert ("shot_type", SQL) in tags and ("detail", "Robert'); DROP TABLE clip_tags;--") in tags
    assert ("detail", FORMULA) in tags and ("shot_type", "@SUM(A1:A9)") in tags and ("event_id_raw", "e1") in tags
    # the formula's | is escaped in the markdown table of segments (it would split a column otherwise)
    assert FORMULA in {r["event_id"] for r in table_rows(m1["event_segments"]["segments_table"])}
    assert tree_digest(env["data"]) == data_before
    assert_store_only_holds_game_objects(env)


@pytest.mark.parametrize("name", ["zero_bytes", "truncated_mid_file", "mp3_encoded_renamed", "audio_only_mp4"])
def test_pipeline_broken_video_fails_only_its_own_partition(env, name):
    video = env["data"] / "video" / GAME / "1.mp4"
    video.unlink()
    BROKEN_VIDEOS[name][0](video)
    bad, _ = run(env, "1")
    assert not bad.success
    message = failure_message(bad)
    assert_clean_message(message, video)
    assert BROKEN_VIDEOS[name][1] in message
    assert_no_traceback_in_logs(env, bad)
    good, meta = run(env, "2")
    assert good.success and meta["clips"]["clips"] == 3  # p2a, p2b and P2-e1 (line 12: e1 again, in period 2)
    index = MediaIndex(env["db"])
    assert index.count_clips(GAME, "1") == 0 and index.count_clips(GAME, "2") == 3
    assert_store_only_holds_game_objects(env)
    assert all("/1/" not in str(p) for p in env["store"].rglob("*") if p.is_file())


def test_pipeline_unreadable_metrics_fail_cleanly_naming_file_and_line(env):
    path = env["data"] / "metrics" / f"{GAME}.csv"
    # (this used metrics_semicolon_delimiter.csv, which is read now that semicolons are: a header without the columns)
    shutil.copyfile(CSV_DIR / "metrics_missing_header.csv", path)
    for period in ("1", "2"):
        result, _ = run(env, period)
        assert not result.success
        assert_clean_message(failure_message(result), path, 1)
        assert_no_traceback_in_logs(env, result)
    assert MediaIndex(env["db"]).count_clips() == 0
    assert not env["store"].exists() or not any(p.is_file() for p in env["store"].rglob("*"))


@pytest.mark.parametrize("bad", ["..", "x/y", "G1|G2", "a,b", "../../G1"])
def test_pipeline_partition_with_a_bad_game_id_fails_cleanly_and_writes_nothing(env, bad):
    # The sensor never adds such a partition (DataRootResource.games() skips bad names); here one is forced in.
    env["instance"].add_dynamic_partitions(game_partitions.name, [bad])
    if "|" in bad:
        # '|' is Dagster's multi-partition separator: "G1|G2|1" is no partition at all, nothing runs.
        with pytest.raises(DagsterUnknownPartitionError):
            run(env, "1", game=bad)
    else:
        result, _ = run(env, "1", game=bad)
        assert not result.success
        message = failure_message(result)
        assert "invalid game_id" in message and "Traceback" not in message
        assert_no_traceback_in_logs(env, result)
    assert MediaIndex(env["db"]).count_clips() == 0
    assert not env["store"].exists() or not any(p.is_file() for p in env["store"].rglob("*"))
    assert not (env["tmp"] / "x").exists() and not (env["tmp"].parent / "x").exists()


def test_pipeline_more_rejected_rows_than_the_table_shows_are_all_counted_and_logged(env):
    path = env["data"] / "metrics" / f"{GAME}.csv"
    shutil.copyfile(CSV_DIR / MANY_BAD_CSV, path)
    r1, m1 = run(env, "1")
    r2, m2 = run(env, "2")
    assert r1.success and r2.success
    assert m1["metrics"]["rejected_rows"] == 30 and m1["clips"]["clips"] == 1
    from hb_clips_tests.resources import table_rows
    assert [r["line"] for r in table_rows(m1["metrics"]["rejected_first"])] == list(range(3, 23))  # the first 20 of 30
    assert rejected_rows_file(m1, "metrics", path.resolve()) == list(range(3, 33))  # all 30
    (summary,) = rejection_summaries(env, r1)
    assert summary.startswith(f"30 row(s) set aside from {path.resolve()}: line 3: ") and "; and 25 more; all of them in " in summary
    assert m2["metrics"]["rejected_rows"] == 0 and m2["clips"]["clips"] == 1


def test_metrics_with_100000_bad_rows_go_through_the_asset_in_seconds(tmp_path):
    """'Rejecting 100,000 bad rows took 17 minutes (one Dagster log event per row)': now one summary line,
    the metadata table of the first rows, and every row in the partition's rejected-rows CSV."""
    import time

    from hb_clips_assets.defs.assets.metrics import metrics
    from hb_clips_tests.resources import table_rows

    data = tmp_path / "data"
    (data / "metrics").mkdir(parents=True)
    header = "event_id,game_id,period,timecode,event_type,player_id,team"
    bad = [  # four kinds of bad row, each its own reason: a malformed timecode, no period, a short row, a duplicate
        "b{i},G1,1,00:00:1x:00,shot,1,MTL", "b{i},G1,9,00:00:01:00,shot,1,MTL", "b{i},G1,1,00:00:01:00,shot", "g1,G1,1,00:00:02:00,hit,1,MTL",
    ]
    good = ["g1,G1,1,00:00:01:00,shot,1,MTL", "g2,G1,1,00:00:02:00,goal,1,MTL", "g3,G1,2,00:00:03:00,hit,1,MTL"]
    lines = [header, good[0]] + [bad[i % 4].format(i=i) for i in range(100_000)] + good[1:]
    path = data / "metrics" / "G1.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    work = tmp_path / "work"
    resources = {"data_root": DataRootResource(path=str(data)), "clip_settings": ClipSettingsResource(work_dir=str(work)),
                 "table_io_manager": ParquetIOManager(base_dir=str(work))}
    with instance_for_test() as instance:
        instance.add_dynamic_partitions(game_partitions.name, [GAME])
        started = time.perf_counter()
        result = materialize([metrics], partition_key=game_period_key(GAME, "1"), instance=instance, resources=resources)
        elapsed = time.perf_counter() - started
        messages = [e.user_message or "" for e in instance.all_logs(result.run_id)]
    print(f"100,000 bad rows through the metrics asset: {elapsed:.1f} s")
    assert result.success and elapsed < 30, elapsed
    (mat,) = [e.event_specific_data.materialization for e in result.get_asset_materialization_events()]
    meta = {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
    assert meta["events"] == 2 and meta["rejected_rows"] == 100_000 and meta["rejected_rows_without_period"] == 50_000
    assert (meta["encoding"], meta["delimiter"]) == ("UTF-8", "comma")
    assert [r["line"] for r in table_rows(meta["rejected_first"])] == list(range(3, 23))
    rejected_file = work / "rejected" / "metrics" / GAME / "1.csv"
    assert meta["rejected_rows_file"] == str(rejected_file.resolve())
    with open(rejected_file, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["line"]) for r in rows] == list(range(3, 100_003))
    assert rows[0]["reason"].startswith("malformed timecode") and "unknown period '9'" in rows[1]["reason"]
    assert rows[2]["reason"] == "5 fields, header has 7" and rows[3]["reason"] == "duplicate event_id 'g1' (first on line 2)"
    # one summary line instead of 100,000 warnings; the whole run logs a few dozen events
    (summary,) = [m for m in messages if " row(s) set aside" in m]
    assert summary.startswith(f"100,000 row(s) set aside from {path.resolve()}: line 3: malformed timecode")
    assert summary.endswith(f"; and 99,995 more; all of them in {rejected_file.resolve()}")
    assert len(messages) < 60
