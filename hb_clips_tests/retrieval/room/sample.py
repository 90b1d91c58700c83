"""A small indexed sample with REAL cut clips, for the clip room's browser tests.

The sample data root (two games, 4 s periods at 320x180, every frame carrying
its index as a frame mark) is cut with the pipeline's own cutting code
(:func:`hb_clips_assets.pipeline.cutting.produce_clips`: the smart cut, its
thumbnails, the store) and indexed with ``MediaIndex.write_partition``, as the
``clips`` and ``media_index`` assets do, without a Dagster instance. Only
period 1 of each game, with a short window (0.6 s each side), so the MP4s are
about a second long: a reel reaches its second clip quickly.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from hb_clips_assets.domain.contract import read_metrics
from hb_clips_assets.domain.identity import source_fingerprint
from hb_clips_assets.domain.reference import read_schedule
from hb_clips_assets.domain.segments import ClipRules, ClipWindow, resolve_segments
from hb_clips_assets.pipeline.cutting import produce_clips
from hb_clips_assets.sample import write_sample_data, writer
from hb_clips_assets.storage.index.repository import MediaIndex
from hb_clips_assets.storage.store.local import LocalObjectStore
from hb_clips_assets.video.cut.types import EncodeSettings
from hb_clips_assets.video.probe import probe_video

GAMES = ("20031", "20038")  # MTL vs CHI, WSH vs NYR
PERIOD = "1"
PERIOD_SECONDS = 4
WINDOW = ClipWindow(pre_s=0.6, post_s=0.6)


@dataclass
class CutSample:
    data: Path
    store: Path
    db_url: str
    clips: int


def cut_sample(root: Path) -> CutSample:
    data, store_root, work = root / "data", root / "store", root / "work"
    with pytest.MonkeyPatch.context() as mp:  # only the period the room's tests cut: 2 videos, not 6
        mp.setattr(writer, "SAMPLE_PERIODS", (PERIOD,))
        write_sample_data(data, period_seconds=PERIOD_SECONDS, width=320, height=180, games=list(GAMES),
                          progress=lambda _m: None)
    db_url = f"sqlite:///{root / 'media.db'}"
    store, index = LocalObjectStore(store_root), MediaIndex(db_url)
    schedule = read_schedule(data / "schedule.csv")
    total = 0
    try:
        for game_id in GAMES:
            game = schedule[game_id]
            video = data / "video" / game_id / f"{PERIOD}.mp4"
            info = probe_video(video)
            events = read_metrics(data / "metrics" / f"{game_id}.csv", game_id).for_period(PERIOD).events
            segments, _rejected = resolve_segments(events, info.fps, info.frame_count, ClipRules(default=WINDOW),
                                                   str(video), {game.home: game.away, game.away: game.home})
            outcomes, failures = produce_clips(segments, info, source_fingerprint(video), store, index,
                                               EncodeSettings(), workers=2, scratch_dir=work / "scratch")
            assert not failures, [f.error for f in failures]
            index.write_partition(game_id, PERIOD, [o.record for o in outcomes])
            total += len(outcomes)
    finally:
        index.dispose()
    return CutSample(data, store_root, db_url, total)
