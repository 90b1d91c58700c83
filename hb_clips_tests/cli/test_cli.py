"""`hb-clips run` end to end: partitions registered on a persistent instance, summary, exit codes."""
from __future__ import annotations

import pytest
from dagster import DagsterInstance

from hb_clips_assets.cli.main import main
from hb_clips_assets.storage.index.repository import MediaIndex
from hb_clips_assets.sample import write_sample_data


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("DAGSTER_HOME", "HB_DATA_ROOT", "HB_STORE_URL", "HB_MEDIA_DB_URL", "HB_WORK_DIR"):
        monkeypatch.delenv(name, raising=False)
    # the defaults are relative to the working directory, which is tmp_path here
    monkeypatch.setenv("HB_STORE_URL", "./var/store")
    monkeypatch.setenv("HB_MEDIA_DB_URL", "sqlite:///var/media.db")
    monkeypatch.setenv("HB_WORK_DIR", "./var/work")
    summary = write_sample_data(
        tmp_path / "data", period_seconds=6.0, width=320, height=180, games=["20038"], progress=lambda _m: None
    )
    tmp_path.joinpath("bad_rows").write_text(str(len(summary.bad_rows["20038"])))
    return tmp_path


def test_run_materializes_every_period_and_prints_a_summary(workdir, capsys):
    assert main(["run", "--data-root", "data", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "3 game x period partitions" in out and "summary" in out
    index = MediaIndex("sqlite:///var/media.db")
    per_period = {p: index.count_clips("20038", p) for p in ("1", "2", "3")}
    assert all(n > 0 for n in per_period.values())
    rejected = 0
    for period, n in per_period.items():
        line = next(l for l in out.splitlines() if l.startswith("20038") and l.split()[1] == period)
        assert line.split()[2] == "ok" and int(line.split()[3]) == n
        rejected += int(line.split()[6])
    # every bad row of the sample is counted once: per period, plus the one with no readable period
    assert "game 20038: 1 more row(s) rejected with no readable period" in out
    assert rejected + 1 == int((workdir / "bad_rows").read_text())
    # the runs are on the persistent instance the UI reads
    instance = DagsterInstance.from_config(str(workdir / "var" / "dagster_home"))
    assert instance.get_dynamic_partitions("game") == ["20038"]
    runs = instance.get_runs()
    assert sorted(r.job_name for r in runs) == ["clip_game_period"] * 3 + ["refresh_reference"]
    assert all(r.is_success for r in runs)
    # and WSH zone exits in the defensive zone against NYR are there
    wsh_exits = [r for r in index.clips("20038") if (r["event_type"], r["zone"], r["team"]) == ("zone_exit", "D", "WSH")]
    assert wsh_exits and all(r["opponent"] == "NYR" for r in wsh_exits)


def test_failed_partition_gives_exit_code_1_and_names_the_file(workdir, capsys):
    (workdir / "data" / "video" / "20038" / "3.mp4").write_bytes(b"not a video at all")
    assert main(["run", "--data-root", "data", "--game", "20038", "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "video/20038/3.mp4: not a readable video" in out


def test_bad_arguments_exit_2(workdir, capsys):
    assert main(["run", "--data-root", "nowhere"]) == 2
    assert main(["run", "--data-root", "data", "--game", "../etc"]) == 2
    err = capsys.readouterr().err
    assert "nowhere" in err and "invalid game_id" in err
