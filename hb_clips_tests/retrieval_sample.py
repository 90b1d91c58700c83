"""The sample data root indexed quickly, for the retrieval tests (query, CLI find, API, export).

``write_sample_data`` writes the two sample games; the media index is then
filled straight from the core (contract readers, segment rules, clip ids and
``MediaIndex.write_partition``) without cutting: each clip's "MP4" and
"thumbnail" are small deterministic files put in a local object store, which
is all that retrieval reads. (Cutting is covered by the materialization tests.)

Also here: the expected clips computed directly from the CSVs, independently
of the index and of the query layer, to check results against.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from hb_clips_assets.domain.contract import read_metrics
from hb_clips_assets.domain.reference import read_roster, read_schedule
from hb_clips_assets.domain.shifts import read_shifts
from hb_clips_assets.pipeline.cutting import JPEG, MP4, clip_id_for
from hb_clips_assets.domain.identity import clip_object_key, source_fingerprint, thumbnail_object_key
from hb_clips_assets.storage.index.repository import MediaIndex
from hb_clips_assets.domain.records import AssetRecord, ClipRecord
from hb_clips_assets.domain.segments import ClipRules, resolve_segments, resolve_shift_segments
from hb_clips_assets.storage.store.local import LocalObjectStore
from hb_clips_assets.domain.timecode import TimecodeError, timecode_to_frame
from hb_clips_assets.video.cut.types import EncodeSettings
from hb_clips_assets.video.probe import probe_video
from hb_clips_assets.sample import VIDEO_GAMES, write_sample_data

PERIOD_SECONDS = 8
FPS = Fraction(60000, 1001)
FRAME_COUNT = round(PERIOD_SECONDS * FPS)
PERIODS = ("1", "2", "3")


@dataclass
class IndexedSample:
    data: Path
    store_root: Path
    db_url: str
    clips: int  # rows written


_SHARED: dict[str, Path] = {}


def shared_sample(tmp_path_factory) -> Path:
    """The sample data root, written once per test session (about 3 s) and only read afterwards."""
    if "root" not in _SHARED:
        root = tmp_path_factory.mktemp("retrieval-sample")
        write_sample_data(root, period_seconds=PERIOD_SECONDS, width=320, height=180, progress=lambda _m: None)
        _SHARED["root"] = root
    return _SHARED["root"]


def _object_bytes(clip_id: str, kind: str) -> bytes:
    """A few KB of deterministic bytes standing for the object (different per clip and kind)."""
    seed = hashlib.sha256(f"{clip_id}/{kind}".encode()).digest()
    size = 3000 + seed[0] * 16 if kind == "mp4" else 700 + seed[1]
    out = bytearray()
    block = seed
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:size])


def index_sample(data: Path, store_root: Path, db_url: str) -> IndexedSample:
    """Every event and shift of every sample game period into the index at ``db_url``."""
    store = LocalObjectStore(store_root)
    index = MediaIndex(db_url)
    schedule = read_schedule(data / "schedule.csv")
    teams = {p.player_id: p.team for p in read_roster(data / "roster.csv").values()}
    settings = EncodeSettings()
    staging = store_root.parent / f".{store_root.name}-staging"
    staging.mkdir(parents=True, exist_ok=True)
    total = 0
    try:
        for game_id in VIDEO_GAMES:
            game = schedule[game_id]
            opponents = {game.home: game.away, game.away: game.home}
            metrics = read_metrics(data / "metrics" / f"{game_id}.csv", game_id)
            shifts = read_shifts(data / "shifts" / f"{game_id}.csv", game_id)
            for period in PERIODS:
                video = data / "video" / game_id / f"{period}.mp4"
                info = probe_video(video)
                sha = source_fingerprint(video)
                segs, _ = resolve_segments(
                    metrics.for_period(period).events, info.fps, info.frame_count, ClipRules(), str(video), opponents
                )
                shift_segs, _ = resolve_shift_segments(
                    shifts.for_period(period).shifts, game_id, info.fps, info.frame_count, "shifts", teams, opponents,
                    reserved_event_ids={s.event_id for s in segs},
                )
                records = []
                for seg in segs + shift_segs:
                    cid = clip_id_for(seg, sha, settings)
                    assets = []
                    for kind, key, ctype in (
                        ("mp4", clip_object_key(game_id, period, cid), MP4),
                        ("thumbnail", thumbnail_object_key(game_id, period, cid), JPEG),
                    ):
                        tmp = staging / f"{cid}.{kind}"
                        tmp.write_bytes(_object_bytes(cid, kind))
                        obj = store.put_file(key, tmp, ctype)
                        tmp.unlink()
                        assets.append(AssetRecord(kind, obj.key, obj.uri, obj.bytes, obj.sha256, ctype))
                    records.append(
                        ClipRecord(
                            clip_id=cid, game_id=game_id, period=period, event_id=seg.event_id,
                            event_type=seg.event_type, player_id=seg.player_id, team=seg.team,
                            opponent=seg.opponent, zone=seg.zone, strength=seg.strength, timecode=seg.timecode,
                            event_frame=seg.event_frame, start_frame=seg.start_frame, end_frame=seg.end_frame,
                            fps_num=seg.fps_num, fps_den=seg.fps_den, source_uri=video.resolve().as_uri(),
                            source_sha256=sha, tags=seg.tags, assets=tuple(assets),
                        )
                    )
                index.write_partition(game_id, period, records)
                total += len(records)
    finally:
        index.dispose()
    return IndexedSample(data, store_root, db_url, total)


# --------------------------------------------------------------------------- expected, from the CSVs


@dataclass(frozen=True)
class Expected:
    """One clip as the CSVs say it should be, in result order."""

    game_id: str
    date: str
    period: str
    event_id: str
    event_type: str
    player_id: str
    team: str
    opponent: str
    zone: str | None
    strength: str | None
    outcome: str | None
    event_frame: int

    @property
    def key(self) -> tuple:
        return (self.date, self.game_id, int(self.period), self.event_frame, self.event_id)


def expected_clips(data: Path) -> list[Expected]:
    """Every event and shift the contract accepts from the sample CSVs, sorted by
    game date, period, frame and event id - computed without the index."""
    schedule = read_schedule(data / "schedule.csv")
    teams = {p.player_id: p.team for p in read_roster(data / "roster.csv").values()}
    out: list[Expected] = []
    for game_id in VIDEO_GAMES:
        game = schedule[game_id]
        other = {game.home: game.away, game.away: game.home}
        for e in read_metrics(data / "metrics" / f"{game_id}.csv", game_id).events:
            try:
                frame = timecode_to_frame(e.timecode, FPS)
            except TimecodeError:
                continue
            if frame >= FRAME_COUNT:
                continue
            out.append(Expected(game_id, game.date, e.period, e.event_id, e.event_type, e.player_id, e.team,
                                e.opponent or other[e.team], e.zone, e.strength, e.tags.get("outcome"), frame))
        for s in read_shifts(data / "shifts" / f"{game_id}.csv", game_id).shifts:
            start, end = timecode_to_frame(s.start, FPS), timecode_to_frame(s.end, FPS)
            if start >= FRAME_COUNT or end <= start:
                continue
            team = teams[s.player_id]
            out.append(Expected(game_id, game.date, s.period, f"shift-{s.period}-{s.player_id}-{start}", "shift",
                                s.player_id, team, other[team], None, None, None, start))
    return sorted(out, key=lambda x: x.key)
