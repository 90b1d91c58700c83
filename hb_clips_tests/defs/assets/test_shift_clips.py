"""Shift mode through the real Dagster assets: every shift of the period becomes a clip
(event_type 'shift', the shift padded 1 s each side), bad shift rows are set aside and reported."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from dagster import instance_for_test

from hb_clips_assets.domain.reference import read_roster
from hb_clips_assets.domain.shifts import read_shifts
from hb_clips_assets.storage.index.repository import MediaIndex
from hb_clips_assets.domain.timecode import timecode_to_frame
from hb_clips_assets.defs.partitions import game_partitions
from hb_clips_assets.sample import write_sample_data
from hb_clips_tests.media_checks import decode_clip, jpeg_mark
from hb_clips_tests.resources import pipeline_resources, run_partition, table_rows

GAME = "20038"
PERIOD = "2"
PERIOD_SECONDS = 5.0
FPS = Fraction(60000, 1001)
FRAME_COUNT = round(PERIOD_SECONDS * FPS)
BAD_ROWS = [
    "8471214,2,00:00:0x;10,00:00:03;00",  # malformed timecode
    "1234567,2,00:00:01;00,00:00:03;00",  # not in the roster
    "8471214,2,00:00:04;00,00:00:02;00",  # ends before it starts
    "8471214,9,00:00:01;00,00:00:03;00",  # no readable period
]


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    root = tmp_path_factory.mktemp("shift-mode")
    data = root / "data"
    write_sample_data(data, period_seconds=PERIOD_SECONDS, width=320, height=180, games=[GAME], progress=lambda _m: None)
    shifts = data / "shifts" / f"{GAME}.csv"
    good_lines = len(shifts.read_text().splitlines())
    with shifts.open("a", encoding="utf-8") as fh:
        fh.write("\n".join(BAD_ROWS) + "\n")
    resources = pipeline_resources(data, root / "work", root / "store", f"sqlite:///{root / 'media.db'}")
    with instance_for_test() as instance:
        instance.add_dynamic_partitions(game_partitions.name, [GAME])
        run, meta = run_partition(GAME, PERIOD, instance, resources)
    return {"run": run, "meta": meta, "data": data, "store": root / "store", "db": f"sqlite:///{root / 'media.db'}",
            "first_bad_line": good_lines + 1}


def expected_shifts(data: Path) -> dict[str, tuple[int, int, int]]:
    """event_id -> (event, start, end frame) straight from the CSVs and the contract's rule."""
    teams = {p.player_id: p.team for p in read_roster(data / "roster.csv").values()}
    out = {}
    for s in read_shifts(data / "shifts" / f"{GAME}.csv", GAME).for_period(PERIOD).shifts:
        try:
            start, end = timecode_to_frame(s.start, FPS), timecode_to_frame(s.end, FPS)
        except ValueError:
            continue
        if s.player_id in teams and start < FRAME_COUNT and end > start:
            out[f"shift-{PERIOD}-{s.player_id}-{start}"] = (start, max(0, start - 60), min(FRAME_COUNT, end + 60))
    return out


def test_every_shift_of_the_period_is_a_clip(result):
    assert result["run"].success
    index = MediaIndex(result["db"])
    rows = [r for r in index.clips(GAME, PERIOD) if r["event_type"] == "shift"]
    want = expected_shifts(result["data"])
    assert len(want) >= 3  # both teams, one starting at frame 0 (clamped)
    assert {r["event_id"]: (r["event_frame"], r["start_frame"], r["end_frame"]) for r in rows} == want
    assert all(r["team"] in ("WSH", "NYR") and r["opponent"] == {"WSH": "NYR", "NYR": "WSH"}[r["team"]] for r in rows)
    assert result["meta"]["event_segments"]["shift_segments"] == len(want)
    # the events are still there
    assert any(r["event_type"] != "shift" for r in index.clips(GAME, PERIOD))
    # one shift clip decoded: exactly its frames; the thumbnail is the shift's first frame
    row = max(rows, key=lambda r: r["end_frame"] - r["start_frame"])
    assets = index.assets_of([row["clip_id"]])
    mp4 = result["store"] / assets[(row["clip_id"], "mp4")].object_key
    assert decode_clip(mp4).marks == list(range(row["start_frame"], row["end_frame"]))
    thumb = result["store"] / assets[(row["clip_id"], "thumbnail")].object_key
    assert jpeg_mark(thumb.read_bytes()) == row["event_frame"]


def test_bad_shift_rows_are_reported_with_file_line_and_reason(result):
    meta = result["meta"]["event_segments"]
    first = result["first_bad_line"]
    rows = table_rows(meta["rejected_first"])
    # the three rows of this period, by line, in the rejected table, and counted
    assert meta["rejected_rows"] >= 3
    for offset, reason in ((0, "malformed timecode"), (1, "not in roster.csv"), (2, "not after it starts")):
        row = next(r for r in rows if r["line"] == first + offset)
        assert row["file"].endswith(f"shifts/{GAME}.csv") and reason in row["reason"] and row["period"] == PERIOD
    # the row with no readable period is listed apart, not counted in this period's rejected_rows
    assert meta["rejected_shift_rows_without_period"] == 1
    (apart,) = table_rows(meta["rejected_shift_rows_without_period_list"])
    assert apart["line"] == first + 3 and "unknown period" in apart["reason"]
