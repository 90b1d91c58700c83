"""The sample's SMPTE labels: drop-frame at 29.97/59.94 fps, non-drop otherwise."""
from __future__ import annotations

from fractions import Fraction

from hb_clips_assets.sample.timecode import period_frame_count, timecode_label
from hb_clips_tests.sample.smpte import FPS, df_index


def test_drop_frame_labels() -> None:
    assert timecode_label(0, FPS) == "00:00:00;00"
    assert timecode_label(3599, FPS) == "00:00:59;59"
    assert timecode_label(3600, FPS) == "00:01:00;04"
    assert timecode_label(35963, FPS) == "00:09:59;59"
    assert timecode_label(35964, FPS) == "00:10:00;00"
    assert timecode_label(1800, Fraction(30000, 1001)) == "00:01:00;02"
    assert timecode_label(25, Fraction(25)) == "00:00:01:00"
    for i in list(range(0, 80000, 37)) + [3596, 3597, 3599, 3600, 3601, 7195, 7196]:
        assert df_index(timecode_label(i, FPS)) == i


def test_period_frame_count_rounds_to_the_nearest_frame() -> None:
    assert period_frame_count(4.0, FPS) == 240
    assert period_frame_count(120.0, FPS) == 7193
    assert period_frame_count(0.5, Fraction(25)) == 12  # 12.5 rounds to even
