"""DataRoot: the one place that names the data root's files, and the one rule for period video names."""
from __future__ import annotations

import pytest

from hb_clips_assets.domain.contract import ContractError
from hb_clips_assets.domain.layout import DataRoot, video_name_problem


@pytest.mark.parametrize("name, period", [("1.mp4", "1"), ("2.MP4", "2"), ("3.mov", "3"), ("OT.m4v", "OT"),
                                          ("ot.mp4", "OT"), ("4.mp4", "OT"), ("P2.mp4", "2"), ("1st.MOV", "1")])
def test_period_video_names_people_use(name, period):
    assert video_name_problem(name) == (period, None)


@pytest.mark.parametrize("name, words", [("1.ts", "MPEG-TS (.ts) is not read yet"), ("2.mkv", "Matroska (.mkv)"),
                                         ("5.mp4", "period '5' is not one of"), ("notes.txt", "not a period video"),
                                         ("1", "not a period video")])
def test_names_that_are_not_taken_say_why(name, words):
    period, problem = video_name_problem(name)
    assert period is None and words in problem


def test_paths_follow_the_files_that_are_there(tmp_path):
    root = DataRoot(tmp_path)
    assert root.video("20031", "1") == tmp_path / "video" / "20031" / "1.mp4"  # where it would go
    assert root.metrics("20031") == tmp_path / "metrics" / "20031.csv"
    (tmp_path / "video" / "20031").mkdir(parents=True)
    (tmp_path / "video" / "20031" / "1.MOV").write_bytes(b"x")
    (tmp_path / "video" / "20031" / "ot.mp4").write_bytes(b"x")
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "20031.CSV").write_text("x")
    assert root.video("20031", "1").name == "1.MOV"
    assert root.video("20031", "OT").name == "ot.mp4"
    assert root.periods_with_video("20031") == ["1", "OT"]
    assert root.metrics("20031").name == "20031.CSV"
    assert root.games() == ["20031"]
    (tmp_path / "video" / "20031" / "1.mp4").write_bytes(b"x")
    with pytest.raises(ContractError, match=r"2 videos for period 1 \(1.MOV, 1.mp4\): keep one"):
        root.video("20031", "1")


def test_ids_and_periods_never_become_paths_outside(tmp_path):
    root = DataRoot(tmp_path)
    for call in (lambda: root.video("..", "1"), lambda: root.video("G1", "../x"), lambda: root.metrics("a/b")):
        with pytest.raises(ContractError):
            call()
