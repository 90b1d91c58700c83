"""`hb-clips run` end to end: partitions registered on a persistent instance, summary, exit codes
(0 complete, 1 a partition failed, 2 bad arguments, 3 clips set aside), failures as one line and what
to do, never a traceback."""
from __future__ import annotations

import importlib

import pytest
from dagster import DagsterInstance, RetryPolicy

from hb_clips_assets.cli.main import main
from hb_clips_assets.cli.pipeline import EXIT_INCOMPLETE
from hb_clips_assets.storage.index.repository import MediaIndex
from hb_clips_assets.sample import write_sample_data
from hb_clips_tests.defs.damaged_source import BAD_EVENT, GAME as DAMAGED_GAME, write_data_root


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
    assert "  what to do: replace the video with a readable MP4" in out


def test_bad_arguments_exit_2(workdir, capsys):
    assert main(["run", "--data-root", "nowhere"]) == 2
    assert main(["run", "--data-root", "data", "--game", "../etc"]) == 2
    err = capsys.readouterr().err
    assert "nowhere" in err and "invalid game_id" in err


def test_a_clip_that_cannot_be_cut_gives_exit_3_names_it_and_the_others_are_findable(workdir, capfd):
    write_data_root(workdir / "damaged")
    assert main(["run", "--data-root", "damaged"]) == EXIT_INCOMPLETE == 3
    out, err = capfd.readouterr()
    line = next(l for l in out.splitlines() if l.startswith(f"{DAMAGED_GAME} "))
    assert line.split()[2:5] == ["marked", "2", "2"] and line.split()[7] == "1"  # status, clips, cut; 1 set aside
    assert f"game {DAMAGED_GAME} period 1: 1 clip(s) could not be cut and were set aside; the other 2 clip(s) are " \
           "indexed and findable" in out
    event_line = next(l for l in out.splitlines() if l.strip().startswith(f"event {BAD_EVENT} "))
    assert event_line.strip().startswith(f"event {BAD_EVENT} (frames 210-410, event frame 335): ")
    assert "FFmpeg refused the clip's frames" in event_line and "indexed clip: none" in event_line
    assert "  what to do: check the video at those frames" in out
    assert "ok, 1 clip(s) set aside" in out  # the progress line
    for text in (out, err):
        assert "Traceback" not in text and "Stack Trace" not in text
    assert {r["event_id"] for r in MediaIndex("sqlite:///var/media.db").clips(DAMAGED_GAME, "1")} == {"ev-a", "ev-c"}


@pytest.mark.parametrize("quiet", [True, False], ids=["quiet", "verbose"])
def test_failures_print_one_line_and_what_to_do_never_a_traceback(workdir, capfd, monkeypatch, quiet):
    """Period 3: an unreadable video (input). Period 2: a bug in the clips step. Period 1: a transient
    error retried once, then the partition completes."""
    (workdir / "data" / "video" / "20038" / "3.mp4").write_bytes(b"not a video at all")
    clips_module = importlib.import_module("hb_clips_assets.defs.assets.clips")
    real, seen = clips_module.produce_clips, []

    def produce_clips(segments, *args, **kwargs):
        period = segments[0].period
        seen.append(period)
        if period == "2":
            raise KeyError("no such key")
        if period == "1" and seen.count("1") == 1:
            raise OSError("simulated: NFS server not responding")
        return real(segments, *args, **kwargs)

    monkeypatch.setattr(clips_module, "produce_clips", produce_clips)
    monkeypatch.setattr(RetryPolicy, "calculate_delay", lambda self, attempt: 0.01)
    assert main(["run", "--data-root", "data"] + (["--quiet"] if quiet else [])) == 1
    out, err = capfd.readouterr()
    assert seen.count("1") == 2 and seen.count("2") == 1  # the transient error retried once, the bug never
    for text in (out, err):
        assert "Traceback" not in text and "Stack Trace" not in text and 'File "' not in text, text[-3000:]
    lines = out.splitlines()
    bug = lines.index("game 20038 period 2 failed: clips: unexpected KeyError: 'no such key'")
    assert lines[bug + 1] == "  what to do: an unexpected error, not retried: the traceback is in the Dagster run log; " \
                             "report it with the run id"
    bad = next(i for i, l in enumerate(lines) if l.startswith("game 20038 period 3 failed: event_segments: "))
    assert lines[bad].endswith("video/20038/3.mp4: not a readable video (no MP4/MOV box structure at byte 0)")
    assert lines[bad + 1].startswith("  what to do: replace the video with a readable MP4")
    assert next(l for l in lines if l.startswith("20038") and l.split()[1] == "1").split()[2] == "ok"
    # Dagster's own lines on stderr: each failure on one line, no run of stack frames under it
    failures = [l for l in err.splitlines() if "STEP_FAILURE" in l]
    assert len(failures) == 2 and all("(the traceback is in the Dagster run log)" in l for l in failures)
    assert any("unexpected KeyError: 'no such key'" in l for l in failures)
