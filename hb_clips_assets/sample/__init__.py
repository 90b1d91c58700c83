"""A realistic sample data root, generated from scratch (no downloads).

``write_sample_data(root)`` writes, per ``/work/shared/DATA_CONTRACT.md``::

    <root>/schedule.csv                  10 games (2 with video, 8 past ones)
    <root>/roster.csv                    6 players each for MTL, CHI, WSH, NYR
    <root>/metrics/<game_id>.csv         ~8 valid events per period + 6 bad rows
    <root>/shifts/<game_id>.csv          a few 30-50 s shifts per period
    <root>/video/<game_id>/<period>.mp4  periods 1, 2, 3

for the two video games ``20031`` (MTL v CHI) and ``20038`` (WSH v NYR).
``hb-clips sample-data ./data`` writes the default set (2 games x 3 periods x
120 s at 1280x720, 59.94 fps). Everything is seeded: the same arguments give
the same CSV bytes and the same videos.

Modules, by concern:

- :mod:`~hb_clips_assets.sample.league`: the fictional league (schedule, roster)
- :mod:`~hb_clips_assets.sample.events`: metrics rows (with the bad ones) and shifts
- :mod:`~hb_clips_assets.sample.timecode`: frame counts and SMPTE labels
- :mod:`~hb_clips_assets.sample.render`: the broadcast-like frames
- :mod:`~hb_clips_assets.sample.video`: the marked-video writer (``write_marked_video``,
  also used by tests and the benchmark) and the period videos
- :mod:`~hb_clips_assets.sample.writer`: ``write_sample_data``, laid out by
  :class:`~hb_clips_assets.domain.layout.DataRoot`

No Dagster import anywhere here: the CLI, tests and benchmark use it without
loading the Dagster definitions.
"""
from __future__ import annotations

from hb_clips_assets.sample.events import BadRow
from hb_clips_assets.sample.league import VIDEO_GAMES
from hb_clips_assets.sample.video import ffmpeg_exe, write_marked_video
from hb_clips_assets.sample.writer import COMPLETE_MARKER, SampleSummary, write_sample_data

__all__ = [
    "BadRow",
    "COMPLETE_MARKER",
    "SampleSummary",
    "VIDEO_GAMES",
    "ffmpeg_exe",
    "write_marked_video",
    "write_sample_data",
]
