"""Reference files degrade a period's clips, never block them (issue: real-world inputs, item 4)."""
from __future__ import annotations

from hb_clips_assets.defs.assets import clip_assets
from hb_clips_assets.defs.assets.reference import roster, schedule
from hb_clips_assets.storage.index.repository import MediaIndex
from hb_clips_tests.defs.assets.conftest import GAME, run

PERIOD = "1"


def test_an_unreadable_shifts_file_costs_the_shift_clips_only(env):
    shifts = env["data"] / "shifts" / f"{GAME}.csv"
    shifts.write_text("who,when\nx,y\n")  # a header without the contract's columns
    result, meta = run(env, PERIOD)
    assert result.success
    rows = MediaIndex(env["db"]).clips(GAME, PERIOD)
    assert rows and not any(r["event_type"] == "shift" for r in rows)
    assert meta["event_segments"]["shift_segments"] == 0
    error = meta["event_segments"]["shifts_file_error"]
    assert f"shifts/{GAME}.csv" in error and "header lacks required column(s)" in error


def test_a_bad_schedule_never_materialized_costs_the_opponents_only(env):
    (env["data"] / "schedule.csv").write_text("game_id,date,home,away\n20031,11/18/2026,MTL,CHI\n")  # a US date
    # a clip run on an instance where the reference tables were never materialized (the sensor's first run)
    result, meta = run(env, PERIOD, assets=[*clip_assets, schedule.to_source_asset(), roster.to_source_asset()])
    assert result.success
    rows = MediaIndex(env["db"]).clips(GAME, PERIOD)
    assert rows and meta["media_index"]["clips"] == len(rows)
    messages = [e.user_message for e in env["instance"].all_logs(result.run_id)]
    assert any("schedule.csv" in m and "is not YYYY-MM-DD" in m and "go without schedule" in m for m in messages)
