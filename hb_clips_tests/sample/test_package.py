"""The sample package's surface: what it exports, and that it stays Dagster-free."""
from __future__ import annotations

import subprocess
import sys

import hb_clips_assets.sample as sample
from hb_clips_assets.sample.video import write_marked_video
from hb_clips_assets.sample.writer import write_sample_data


def test_exports_the_two_writers_from_their_one_home() -> None:
    assert sample.write_sample_data is write_sample_data
    assert sample.write_marked_video is write_marked_video
    assert {"write_sample_data", "write_marked_video", "ffmpeg_exe"} <= set(sample.__all__)


def test_importing_the_sample_package_loads_no_dagster() -> None:
    # A fresh interpreter: this test process may already have Dagster loaded.
    code = "import sys, hb_clips_assets.sample; print('dagster' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
