"""A bad re-export never takes indexed clips with it (issue: real-world inputs, item 1).

A good run indexes a period; then the metrics CSV is re-exported badly. The
run fails at media_index naming the file, and the index rows and every object
in the store are byte-identical to before. Forced (run config / CLI flag),
the removal happens and is reported.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from hb_clips_assets.cli.main import main
from hb_clips_assets.defs.failures import step_failure_message
from hb_clips_assets.domain.hashing import sha256_file
from hb_clips_assets.pipeline.removals import plan_removals, refusal
from hb_clips_assets.storage.index.repository import MediaIndex
from hb_clips_tests.defs.assets.conftest import GAME, run

PERIOD = "1"


def _snapshot(env) -> tuple[list[dict], dict[str, str]]:
    rows = MediaIndex(env["db"]).clips(GAME, PERIOD)
    objects = {str(p.relative_to(env["store"])): sha256_file(p) for p in Path(env["store"]).rglob("*") if p.is_file()}
    return rows, objects


def _rewrite_rows(path: Path, change) -> None:
    header, *rows = path.read_text().splitlines()
    path.write_text("\n".join([header, *change(rows)]) + "\n")


def _period_rows(rows: list[str], keep: int) -> list[str]:
    """The rows of the file, keeping only the first ``keep`` of period 1's."""
    out, seen = [], 0
    for row in rows:
        if row.split(",")[2] == PERIOD:
            seen += 1
            if seen > keep:
                continue
        out.append(row)
    return out


DAMAGE = {
    # Excel-style re-export with a trailing comma on every data row: every row has one field too many
    "trailing_comma_on_every_row": lambda rows: [r + "," for r in rows],
    # an export that stopped after the header
    "header_only": lambda rows: [],
    # a truncated export that keeps one event of the period
    "one_event_left": lambda rows: _period_rows(rows, keep=1),
}


def _failure(result) -> str:
    return step_failure_message(next(e for e in result.all_events if e.is_step_failure))


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaging_re_export_changes_nothing_and_names_the_file(env, damage):
    assert run(env, PERIOD)[0].success
    before = _snapshot(env)
    assert len(before[0]) >= 4 and before[1]
    _rewrite_rows(env["data"] / "metrics" / f"{GAME}.csv", DAMAGE[damage])

    result, meta = run(env, PERIOD)
    assert not result.success
    message = _failure(result)
    assert f"metrics/{GAME}.csv: game {GAME} period {PERIOD} has {len(before[0])} indexed clips" in message
    assert "Nothing was removed" in message and "--accept-removals" in message
    assert "media_index" not in meta  # never materialized
    assert _snapshot(env) == before  # rows (created_at included) and every object's bytes
    # deterministic: not retried
    assert not [e for e in result.all_events if e.event_type_value == "STEP_RESTARTED"]


def test_forced_the_removal_happens_and_is_reported(env):
    assert run(env, PERIOD)[0].success
    indexed = len(MediaIndex(env["db"]).clips(GAME, PERIOD))
    _rewrite_rows(env["data"] / "metrics" / f"{GAME}.csv", DAMAGE["trailing_comma_on_every_row"])
    result, meta = run(env, PERIOD, run_config={"ops": {"media_index": {"config": {"accept_removals": True}}}})
    assert result.success
    # the metric events are gone; shift clips come from shifts/ and stay
    assert {r["event_type"] for r in MediaIndex(env["db"]).clips(GAME, PERIOD)} <= {"shift"}
    shifts = sum(1 for r in MediaIndex(env["db"]).clips(GAME, PERIOD) if r["event_type"] == "shift")
    assert meta["media_index"]["clips_removed"] == indexed - shifts
    assert meta["media_index"]["removals_accepted"] is True


def test_a_small_correction_is_not_a_removal_to_refuse(env):
    assert run(env, PERIOD)[0].success
    rows = MediaIndex(env["db"]).clips(GAME, PERIOD)
    events = [r["event_id"] for r in rows if r["event_type"] != "shift"]
    gone = events[0]
    _rewrite_rows(env["data"] / "metrics" / f"{GAME}.csv", lambda rs: [r for r in rs if r.split(",")[0] != gone])
    result, meta = run(env, PERIOD)
    assert result.success
    assert {r["event_id"] for r in MediaIndex(env["db"]).clips(GAME, PERIOD)} == {r["event_id"] for r in rows} - {gone}
    assert meta["media_index"]["clips_removed"] == 1 and meta["media_index"]["removals_accepted"] is False


def test_the_rule():
    plan = plan_removals(["a", "b", "c", "d"], ["a", "b"])
    assert refusal(plan, 0.5, "G", "1", "metrics/G.csv") is None  # half is allowed
    assert "3 of them (75%" in refusal(plan_removals("abcd", "a"), 0.5, "G", "1", "metrics/G.csv")
    assert "none of them is in the new version" in refusal(plan_removals("ab", ""), 1.0, "G", "1", "m.csv")
    assert refusal(plan_removals("", "xyz"), 0.0, "G", "1", "m.csv") is None  # a first run removes nothing
    assert refusal(plan_removals("ab", "abz"), 0.0, "G", "1", "m.csv") is None  # additions are never refused


@pytest.fixture
def cli_root(tmp_path, monkeypatch, sample_root):
    import shutil

    monkeypatch.chdir(tmp_path)
    shutil.copytree(sample_root, tmp_path / "data")
    for name, value in (("HB_STORE_URL", "./var/store"), ("HB_MEDIA_DB_URL", "sqlite:///var/media.db"),
                        ("HB_WORK_DIR", "./var/work"), ("DAGSTER_HOME", str(tmp_path / "var" / "dagster_home"))):
        monkeypatch.setenv(name, value)
    return tmp_path


def test_the_cli_refuses_then_accepts_with_the_flag(cli_root, capsys):
    assert main(["run", "--data-root", "data", "--quiet"]) == 0
    index = MediaIndex("sqlite:///var/media.db")
    before = index.count_clips(GAME)
    _rewrite_rows(cli_root / "data" / "metrics" / f"{GAME}.csv", DAMAGE["trailing_comma_on_every_row"])
    capsys.readouterr()
    assert main(["run", "--data-root", "data", "--quiet"]) == 1
    out = capsys.readouterr()
    assert f"metrics/{GAME}.csv: game {GAME} period 1 has" in out.out and "--accept-removals" in out.out
    assert "Traceback" not in out.out + out.err
    assert index.count_clips(GAME) == before
    assert main(["run", "--data-root", "data", "--quiet", "--accept-removals"]) == 0
    assert index.count_clips(GAME) < before
