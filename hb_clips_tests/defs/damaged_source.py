"""A period video damaged in one GOP that only one event's clip uses, and a data
root around it: that clip cannot be cut (by either cutter: the decoder refuses
the zeroed packets), the period's other clips can.

The video is 24 s at 25 fps with a keyframe every second (frames 0, 25, 50,
...). With the default window (5 s before the event, 3 s after) the three
events give clips [0, 175), [210, 410) and [400, 600). The packets of frames
200-224 (one whole GOP) are overwritten with zeros, as a damaged disk sector or
a broken copy would leave them; the container's index is untouched, so the
file still probes. Only the second clip needs that GOP: its first frames
(210-224) are decoded from it, by the full re-encode and by the smart cut's
re-encoded head alike, and the decoder refuses the zeroed packets. The first
clip ends 25 frames before it (the decoder's look-ahead never reaches it), the
third starts on the keyframe after it.

(A damaged GOP wholly inside a clip's copied body is not found by the smart cut,
which copies the packets and decodes only around its joins: see
pipeline/test_cutting.py.)
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av

from hb_clips_assets.sample import write_marked_video

GAME, PERIOD = "30001", "1"
FPS = Fraction(25)
FRAMES = 600
DAMAGED = range(200, 225)  # presentation frames whose packets are zeroed: one GOP
EVENTS = {"ev-a": ("00:00:04:00", 100), "ev-b": ("00:00:13:10", 335), "ev-c": ("00:00:21:00", 525)}
WINDOWS = {"ev-a": (0, 175), "ev-b": (210, 410), "ev-c": (400, 600)}
BAD_EVENT = "ev-b"


def write_good_video(path: Path) -> Path:
    return write_marked_video(path, FRAMES, FPS, 160, 90, audio=False, gop=25)


def damage(path: Path, frames: range = DAMAGED) -> None:
    """Zero the packets of ``frames`` (presentation order) in place."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        packets = sorted((p.pts, p.pos, p.size) for p in container.demux(stream) if p.size)
    data = bytearray(path.read_bytes())
    for _pts, pos, size in packets[frames.start:frames.stop]:
        data[pos:pos + size] = bytes(size)
    path.write_bytes(bytes(data))


def write_data_root(root: Path, damaged: bool = True) -> Path:
    """Metrics of the three events, a schedule, and the period video (damaged or not)."""
    (root / "metrics").mkdir(parents=True, exist_ok=True)
    header = "event_id,game_id,period,timecode,event_type,player_id,team,opponent,zone,strength,detail,shot_type"
    rows = [f"{eid},{GAME},{PERIOD},{tc},shot,8480018,MTL,CHI,O,5v5,,wrist" for eid, (tc, _f) in EVENTS.items()]
    (root / "metrics" / f"{GAME}.csv").write_text("\n".join([header, *rows]) + "\n")
    (root / "schedule.csv").write_text(f"game_id,date,home,away\n{GAME},2026-01-02,MTL,CHI\n")
    video = write_good_video(root / "video" / GAME / f"{PERIOD}.mp4")
    if damaged:
        damage(video)
    return video
