"""A realistic sample data root, generated from scratch (no downloads).

``write_sample_data(root)`` writes, per ``/work/shared/DATA_CONTRACT.md``::

    <root>/schedule.csv                  10 games (2 with video, 8 past ones)
    <root>/roster.csv                    6 players each for MTL, CHI, WSH, NYR
    <root>/metrics/<game_id>.csv         ~8 valid events per period + 6 bad rows
    <root>/shifts/<game_id>.csv          a few 30-50 s shifts per period
    <root>/video/<game_id>/<period>.mp4  periods 1, 2, 3

for the two video games ``20031`` (MTL v CHI) and ``20038`` (WSH v NYR).

The videos look like a (very) simplified broadcast: a rink seen from above, a
moving puck, and a caption with the game, the period, the frame index and the
SMPTE timecode of the frame. Every frame also carries its own index as a
machine-readable mark (:mod:`hb_clips_assets.video.framemark`) so tests
can check that a clip is frame-accurate. The audio track is stereo crowd-like
noise with a 1 kHz beep starting exactly at every frame whose index is a
multiple of the nominal rate (60 at 59.94 fps) and lasting 3 frames, so a test
can also check audio/video sync.

Encoding: H.264 High, B-frames (``-bf 3``), a fixed 2 s closed GOP
(``-g``/``-keyint_min`` = round(2 * fps), ``-sc_threshold 0``), x264
``superfast`` CRF 23, yuv420p BT.709 limited range, AAC stereo 48 kHz,
``+faststart``. Raw yuv420p frames are built with numpy and piped into the
static FFmpeg of ``imageio_ffmpeg``.

Everything is deterministic (seeded), and every file is written to a temporary
name in its folder and then renamed into place.

Run ``python -m hb_clips_assets.sample.data ./data`` to write the default set
(2 games x 3 periods x 120 s at 1280x720, 59.94 fps).

No Dagster import here.
"""
from __future__ import annotations

import csv
import io
import math
import os
import random
import tempfile
import time
import wave
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable

import numpy as np

from hb_clips_assets.video.framemark import draw_frame_mark, mark_extent
from hb_clips_assets.sample.synth import write_marked_video

__all__ = [
    "BadRow",
    "SampleSummary",
    "VIDEO_GAMES",
    "METRICS_HEADER",
    "write_sample_data",
]

# --------------------------------------------------------------------------
# Static tables
# --------------------------------------------------------------------------

SCHEDULE_HEADER = ["game_id", "date", "home", "away"]
ROSTER_HEADER = ["player_id", "name", "team", "position", "aliases"]
METRICS_HEADER = [
    "event_id", "game_id", "period", "timecode", "event_type", "player_id",
    "team", "opponent", "zone", "strength", "outcome", "x", "y", "detail",
    "shot_type",
]
SHIFTS_HEADER = ["player_id", "period", "start_timecode", "end_timecode"]

VIDEO_GAMES: dict[str, tuple[str, str, str]] = {
    # game_id: (date, home, away)
    "20031": ("2026-11-18", "MTL", "CHI"),
    "20038": ("2026-11-20", "WSH", "NYR"),
}

_PAST_GAMES: list[tuple[str, str, str, str]] = [
    ("20002", "2026-10-07", "WSH", "BOS"),
    ("20005", "2026-10-09", "MTL", "TOR"),
    ("20011", "2026-10-18", "NYR", "WSH"),
    ("20014", "2026-10-25", "CHI", "MTL"),
    ("20019", "2026-11-01", "WSH", "PIT"),
    ("20022", "2026-11-06", "MTL", "NYR"),
    ("20027", "2026-11-12", "PHI", "WSH"),
    ("20029", "2026-11-15", "MTL", "BOS"),
]

# player_id, name, team, position, aliases ("|"-separated)
_ROSTER: list[tuple[str, str, str, str, str]] = [
    ("8480018", "Nick Suzuki", "MTL", "C", "Suzuki|Suzy"),
    ("8481540", "Cole Caufield", "MTL", "RW", "Caufield|Goalfield"),
    ("8483515", "Juraj Slafkovský", "MTL", "LW", "Slafkovsky|Slaf"),
    ("8483457", "Lane Hutson", "MTL", "D", "Hutson"),
    ("8476875", "Mike Matheson", "MTL", "D", "Matheson|Math"),
    ("8478470", "Samuel Montembeault", "MTL", "G", "Montembeault|Monty"),
    ("8484144", "Connor Bedard", "CHI", "C", "Bedard"),
    ("8483493", "Frank Nazar", "CHI", "C", "Nazar"),
    ("8477479", "Tyler Bertuzzi", "CHI", "LW", "Bertuzzi|Tuzz"),
    ("8481568", "Alex Vlasic", "CHI", "D", "Vlasic"),
    ("8484178", "Artyom Levshunov", "CHI", "D", "Levshunov"),
    ("8481519", "Spencer Knight", "CHI", "G", "Knight"),
    ("8471214", "Alex Ovechkin", "WSH", "LW", "Ovi|Ovechkin|The Great 8"),
    ("8478440", "Dylan Strome", "WSH", "C", "Strome"),
    ("8476880", "Tom Wilson", "WSH", "RW", "Wilson|Willy"),
    ("8474590", "John Carlson", "WSH", "D", "Carlson|Johnny Rockets"),
    ("8479994", "Jakob Chychrun", "WSH", "D", "Chychrun"),
    ("8480313", "Logan Thompson", "WSH", "G", "Thompson|LT"),
    ("8478550", "Artemi Panarin", "NYR", "LW", "Panarin|Bread Man"),
    ("8476459", "Mika Zibanejad", "NYR", "C", "Zibanejad|Zibby"),
    ("8482109", "Alexis Lafrenière", "NYR", "RW", "Lafreniere|Laf"),
    ("8479323", "Adam Fox", "NYR", "D", "Fox|Foxy"),
    ("8482073", "Braden Schneider", "NYR", "D", "Schneider"),
    ("8478048", "Igor Shesterkin", "NYR", "G", "Shesterkin|Shesty"),
]

PERIODS = ("1", "2", "3")
_VALID_EVENTS_PER_PERIOD = 8

# Event types the generator cycles through (plus forced ones).
_EVENT_TYPES = [
    "zone_exit", "zone_entry", "shot", "goal", "faceoff", "takeaway",
    "giveaway", "hit", "dump_in", "save", "blocked_shot", "missed_shot",
    "puck_recovery", "pass", "dump_out", "penalty",
]

_DROP_FRAME = {Fraction(30000, 1001): 2, Fraction(60000, 1001): 4}


# --------------------------------------------------------------------------
# Public result types
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class BadRow:
    """A row of a metrics CSV written to break exactly one contract rule."""

    line: int  # 1-based line number in the file (the header is line 1)
    event_id: str
    reason: str  # "malformed_timecode", "frames_out_of_range", "unknown_period",
    # "missing_player_id", "duplicate_event_id", "past_end_of_video"


@dataclass
class SampleSummary:
    """What :func:`write_sample_data` wrote."""

    root: Path
    games: list[str]  # the video games written (metrics, shifts, videos)
    width: int
    height: int
    fps: Fraction
    period_seconds: float
    frame_count: int  # frames in each period video
    gop: int  # keyframe interval in frames
    schedule: Path
    roster: Path
    metrics: dict[str, Path] = field(default_factory=dict)
    shifts: dict[str, Path] = field(default_factory=dict)
    videos: dict[tuple[str, str], Path] = field(default_factory=dict)  # (game, period)
    valid_events: dict[str, int] = field(default_factory=dict)  # per game
    bad_rows: dict[str, list[BadRow]] = field(default_factory=dict)  # per game
    elapsed_s: float = 0.0

    @property
    def files(self) -> list[Path]:
        return [
            self.schedule, self.roster, *self.metrics.values(),
            *self.shifts.values(), *self.videos.values(),
        ]


# --------------------------------------------------------------------------
# Timecodes (private; the project's own timecode module is separate)
# --------------------------------------------------------------------------


def _nominal_rate(fps: Fraction) -> int:
    return int(round(fps))


def _timecode_label(index: int, fps: Fraction) -> str:
    """SMPTE label of frame ``index``: drop-frame (``;``) at 29.97/59.94 fps,
    non-drop (``:``) otherwise."""
    if index < 0:
        raise ValueError("negative frame index")
    nominal = _nominal_rate(fps)
    drop = _DROP_FRAME.get(fps, 0)
    sep = ":"
    if drop:
        sep = ";"
        per_10min = nominal * 600 - drop * 9
        per_min = nominal * 60 - drop
        tens, rem = divmod(index, per_10min)
        index += drop * 9 * tens
        if rem > drop:
            index += drop * ((rem - drop) // per_min)
    frames = index % nominal
    seconds = (index // nominal) % 60
    minutes = (index // (nominal * 60)) % 60
    hours = index // (nominal * 3600)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{sep}{frames:02d}"


def _frame_count(period_seconds: float, fps: Fraction) -> int:
    return int(round(Fraction(period_seconds).limit_denominator(1_000_000) * fps))


# --------------------------------------------------------------------------
# Atomic small-file writes
# --------------------------------------------------------------------------


def _write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _csv_text(header: list[str], rows: list[list[str]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


# --------------------------------------------------------------------------
# CSV content
# --------------------------------------------------------------------------


def _players(team: str, positions: str | None = None) -> list[str]:
    return [
        pid for pid, _n, t, pos, _a in _ROSTER
        if t == team and (positions is None or pos in positions)
    ]


def _coords(rng: random.Random, zone: str) -> tuple[str, str]:
    lo, hi = {"O": (26.0, 89.0), "D": (-89.0, -26.0), "N": (-24.0, 24.0)}[zone]
    return f"{rng.uniform(lo, hi):.1f}", f"{rng.uniform(-40.0, 40.0):.1f}"


def _event_fields(rng: random.Random, etype: str, team: str) -> dict[str, str]:
    """zone, outcome, detail, shot_type and player for one event type."""
    skaters = _players(team, ("C", "LW", "RW", "D"))
    f: dict[str, str] = {"shot_type": ""}
    if etype == "faceoff":
        f.update(zone=rng.choice("ODN"), outcome=rng.choice(["won", "lost"]),
                 detail="faceoff", player_id=rng.choice(_players(team, ("C",))))
    elif etype == "zone_exit":
        f.update(zone="D", outcome=rng.choice(["controlled", "controlled", "uncontrolled", "failed"]),
                 detail=rng.choice(["carry out", "pass out", "chip out", "stretch pass"]),
                 player_id=rng.choice(skaters))
    elif etype == "zone_entry":
        f.update(zone="O", outcome=rng.choice(["controlled", "uncontrolled", "failed"]),
                 detail=rng.choice(["carry in", "pass in", "dump in"]), player_id=rng.choice(skaters))
    elif etype in ("shot", "goal", "missed_shot"):
        outcome = {"shot": rng.choice(["on_goal", "on_goal", "blocked", "missed"]),
                   "goal": "goal", "missed_shot": rng.choice(["wide", "high", "post"])}[etype]
        f.update(zone="O", outcome=outcome,
                 detail=rng.choice(["from the slot", "from the point", "off the rush", "one-timer", "rebound"]),
                 shot_type=rng.choice(["wrist", "snap", "slap", "backhand", "tip-in"]),
                 player_id=rng.choice(_players(team, ("C", "LW", "RW")) if etype == "goal" else skaters))
    elif etype == "save":
        f.update(zone="D", outcome=rng.choice(["save", "save", "rebound", "freeze"]),
                 detail=rng.choice(["glove", "blocker", "pad", "stick"]),
                 player_id=_players(team, ("G",))[0])
    elif etype == "blocked_shot":
        f.update(zone="D", outcome="blocked", detail="shot block",
                 player_id=rng.choice(_players(team, ("D",))))
    elif etype == "dump_in":
        f.update(zone="N", outcome=rng.choice(["recovered", "lost"]), detail="dump and chase",
                 player_id=rng.choice(skaters))
    elif etype == "dump_out":
        f.update(zone="D", outcome=rng.choice(["cleared", "icing"]), detail="off the glass",
                 player_id=rng.choice(skaters))
    elif etype == "penalty":
        f.update(zone=rng.choice("ODN"), outcome="minor",
                 detail=rng.choice(["tripping", "hooking", "slashing", "interference"]),
                 player_id=rng.choice(skaters))
    elif etype == "hit":
        f.update(zone=rng.choice("ODN"), outcome="hit", detail=rng.choice(["on the boards", "open ice"]),
                 player_id=rng.choice(skaters))
    elif etype == "pass":
        f.update(zone=rng.choice("ODN"), outcome=rng.choice(["complete", "complete", "incomplete"]),
                 detail=rng.choice(["stretch pass", "cross-ice", "drop pass"]), player_id=rng.choice(skaters))
    else:  # takeaway, giveaway, puck_recovery
        f.update(zone=rng.choice("ODN"), outcome="success" if etype != "giveaway" else "turnover",
                 detail=rng.choice(["on the forecheck", "in the neutral zone", "along the wall"]),
                 player_id=rng.choice(skaters))
    return f


def _metrics_rows(
    game_id: str, home: str, away: str, fps: Fraction, frame_count: int
) -> tuple[list[list[str]], list[BadRow], int]:
    """(rows, bad rows, number of valid rows) of a game's metrics CSV."""
    rng = random.Random(f"hb-clips-sample-metrics-{game_id}")
    nominal = _nominal_rate(fps)
    sep = ";" if fps in _DROP_FRAME else ":"
    last = frame_count - 1
    type_cycle = _EVENT_TYPES[:]
    rng.shuffle(type_cycle)
    cycle_pos = 0

    valid: list[tuple[int, int, list[str]]] = []  # (period, frame, row)
    seq = 0
    for period in PERIODS:
        plan: list[tuple[int, str, str | None, str | None]] = []  # frame, type, team, zone
        # Opening faceoff within the first 5 s (clamped into the period).
        plan.append((min(last, round(rng.uniform(0.5, 4.0) * fps)), "faceoff", None, None))
        # A shot in the last 3 s.
        plan.append((max(0, last - round(rng.uniform(0.2, 2.8) * fps)), "shot", None, None))
        middle = _VALID_EVENTS_PER_PERIOD - len(plan)
        forced: list[tuple[str, str | None, str | None]] = []
        if game_id == "20038":
            forced = [("zone_exit", "WSH", "D"), ("zone_exit", "WSH", "D")]
        for _ in range(middle - len(forced)):
            forced.append((type_cycle[cycle_pos % len(type_cycle)], None, None))
            cycle_pos += 1
        for etype, team, zone in forced:
            frame = round(rng.uniform(0.06, 0.95) * frame_count)
            plan.append((min(max(frame, 0), last), etype, team, zone))
        plan.sort(key=lambda p: p[0])
        for frame, etype, team, zone in plan:
            seq += 1
            team = team or rng.choice([home, away])
            opponent = away if team == home else home
            f = _event_fields(rng, etype, team)
            if zone:
                f["zone"] = zone
            x, y = _coords(rng, f["zone"])
            strength = rng.choices(["5v5", "PP", "PK", "4v4"], weights=[70, 14, 12, 4])[0]
            event_id = f"{game_id}-{seq:04d}"
            row = [
                event_id, game_id, period, _timecode_label(frame, fps), etype,
                f["player_id"], team, opponent, f["zone"], strength, f["outcome"],
                x, y, f["detail"], f["shot_type"],
            ]
            valid.append((int(period), frame, row))

    rows = [r for _p, _f, r in valid]
    n_valid = len(rows)

    def variant(base: list[str], event_id: str) -> list[str]:
        row = list(base)
        row[0] = event_id
        return row

    bad_specs: list[tuple[str, list[str]]] = []
    picks = rng.sample(range(n_valid), 6)
    base = rows[picks[0]]
    r = variant(base, f"{game_id}-9001")
    r[3] = f"00:01:xx{sep}10"
    bad_specs.append(("malformed_timecode", r))
    r = variant(rows[picks[1]], f"{game_id}-9002")
    r[3] = f"00:00:10{sep}{nominal + 15:02d}"
    bad_specs.append(("frames_out_of_range", r))
    r = variant(rows[picks[2]], f"{game_id}-9003")
    r[2] = "5"
    bad_specs.append(("unknown_period", r))
    r = variant(rows[picks[3]], f"{game_id}-9004")
    r[5] = ""
    bad_specs.append(("missing_player_id", r))
    r = variant(rows[picks[4]], f"{game_id}-9005")
    r[3] = _timecode_label(frame_count + round(10 * fps), fps)
    bad_specs.append(("past_end_of_video", r))

    # Insert them at seeded positions; then the duplicate right after a
    # seeded original, so the later occurrence is the bad one.
    out = list(rows)
    for reason, r in bad_specs:
        out.insert(rng.randrange(1, len(out) + 1), r)
    dup_of = rng.randrange(0, n_valid - 1)
    original = rows[dup_of]
    r = list(rows[dup_of + 1])
    r[0] = original[0]
    pos = out.index(original) + 1 + rng.randrange(0, 3)
    out.insert(min(pos, len(out)), r)
    bad_specs.append(("duplicate_event_id", r))

    bad: list[BadRow] = []
    for reason, r in bad_specs:
        line = next(i for i, row in enumerate(out) if row is r) + 2
        bad.append(BadRow(line=line, event_id=r[0], reason=reason))
    bad.sort(key=lambda b: b.line)
    return out, bad, n_valid


def _shift_rows(game_id: str, home: str, away: str, fps: Fraction, frame_count: int, period_seconds: float) -> list[list[str]]:
    rng = random.Random(f"hb-clips-sample-shifts-{game_id}")
    scale = min(1.0, period_seconds / 120.0)
    last = frame_count - 1
    # One winger per team (Ovechkin for WSH): every shift is a 30-50 s clip to
    # cut, so a full line per team would triple the demo's cutting time.
    players = [_players(team, ("LW", "RW"))[0] for team in (home, away)]
    rows: list[list[str]] = []
    for period in PERIODS:
        for i, pid in enumerate(players):
            # The first players start on the ice at 00:00:00 (clamping at 0).
            t = 0.0 if i % 3 == 0 else rng.uniform(0.0, 25.0) * scale
            while t < period_seconds:
                start = min(round(t * fps), last)
                end = min(round((t + rng.uniform(30.0, 50.0) * scale) * fps), last)
                if end <= start:
                    break
                rows.append([pid, period, _timecode_label(start, fps), _timecode_label(end, fps)])
                t = end / fps + rng.uniform(40.0, 90.0) * scale
    return rows


# --------------------------------------------------------------------------
# Video
# --------------------------------------------------------------------------


def _rgb_to_yuv420(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BT.709 limited-range Y, U, V (4:2:0) planes of an RGB uint8 image."""
    f = rgb.astype(np.float32) / 255.0
    r, g, b = f[..., 0], f[..., 1], f[..., 2]
    kr, kb = 0.2126, 0.0722
    y = kr * r + (1.0 - kr - kb) * g + kb * b
    cb = (b - y) / (2.0 * (1.0 - kb))
    cr = (r - y) / (2.0 * (1.0 - kr))
    h, w = y.shape

    def sub(c: np.ndarray) -> np.ndarray:
        return c.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))

    y8 = np.clip(np.rint(16.0 + 219.0 * y), 16, 235).astype(np.uint8)
    u8 = np.clip(np.rint(128.0 + 224.0 * sub(cb)), 16, 240).astype(np.uint8)
    v8 = np.clip(np.rint(128.0 + 224.0 * sub(cr)), 16, 240).astype(np.uint8)
    return y8, u8, v8


def _draw_rink(width: int, height: int, top: int) -> np.ndarray:
    """RGB image of a rink seen from above (drawn once per video size)."""
    from PIL import Image, ImageDraw

    # The stands: a static speckle of "crowd".
    rng = np.random.default_rng(7)
    cell = max(2, width // 160)
    crowd = rng.integers(25, 85, size=(height // cell + 1, width // cell + 1, 3), dtype=np.uint8)
    crowd = np.repeat(np.repeat(crowd, cell, axis=0), cell, axis=1)[:height, :width]
    img = Image.fromarray(crowd, "RGB")
    d = ImageDraw.Draw(img)
    lw = max(1, width // 320)
    left, right = int(width * 0.04), int(width * 0.96)
    rtop, bottom = max(top, int(height * 0.22)), int(height * 0.96)
    rw, rh = right - left, bottom - rtop
    radius = max(2, int(rh * 0.28))
    d.rounded_rectangle([left - 2 * lw, rtop - 2 * lw, right + 2 * lw, bottom + 2 * lw], radius=radius + 2 * lw, fill=(235, 200, 60))
    d.rounded_rectangle([left, rtop, right, bottom], radius=radius, fill=(232, 238, 244))

    def xr(frac: float) -> int:
        return int(left + frac * rw)

    red, blue = (200, 30, 40), (30, 60, 170)
    thick = max(2, width // 160)
    d.rectangle([xr(0.5) - thick, rtop, xr(0.5) + thick, bottom], fill=red)
    for fx in (0.355, 0.645):
        d.rectangle([xr(fx) - thick, rtop, xr(fx) + thick, bottom], fill=blue)
    for fx in (0.055, 0.945):
        d.rectangle([xr(fx) - lw, rtop + radius // 3, xr(fx) + lw, bottom - radius // 3], fill=red)
    cy = (rtop + bottom) // 2
    cr = int(rh * 0.15)
    d.ellipse([xr(0.5) - cr, cy - cr, xr(0.5) + cr, cy + cr], outline=blue, width=lw)
    for fx in (0.16, 0.84):
        for fy in (0.3, 0.7):
            cx, cyy = xr(fx), int(rtop + fy * rh)
            d.ellipse([cx - cr, cyy - cr, cx + cr, cyy + cr], outline=red, width=lw)
            d.ellipse([cx - 2 * lw, cyy - 2 * lw, cx + 2 * lw, cyy + 2 * lw], fill=red)
    for fx, sgn in ((0.055, 1), (0.945, -1)):
        gx = xr(fx)
        crease = int(rh * 0.07)
        box = [gx - crease, cy - crease, gx + crease, cy + crease]
        d.pieslice(box, -90 if sgn > 0 else 90, 90 if sgn > 0 else 270, fill=(150, 200, 235))
    return np.asarray(img, dtype=np.uint8)


class _Glyphs:
    """Monospaced luma bitmaps of characters (light text on a dark box)."""

    def __init__(self, size: int, chars: str) -> None:
        from PIL import ImageFont

        try:
            self._font = ImageFont.load_default(size=size)
            self._scale = 1
        except Exception:  # Pillow without FreeType: bitmap font, scaled up
            self._font = ImageFont.load_default()
            self._scale = max(1, round(size / 11))
        chars = "0123456789:; " + chars
        ascent, descent = self._font.getmetrics()
        self.cell_w = int(math.ceil(max(self._font.getlength(c) for c in chars))) * self._scale
        self.cell_h = (ascent + descent) * self._scale
        self._cache: dict[str, np.ndarray] = {}

    def glyph(self, ch: str) -> np.ndarray:
        g = self._cache.get(ch)
        if g is None:
            from PIL import Image, ImageDraw

            w, h = self.cell_w // self._scale, self.cell_h // self._scale
            img = Image.new("L", (w, h), 0)
            ImageDraw.Draw(img).text(((w - self._font.getlength(ch)) / 2, 0), ch, fill=255, font=self._font)
            alpha = np.asarray(img, dtype=np.float32) / 255.0
            if self._scale > 1:
                alpha = np.repeat(np.repeat(alpha, self._scale, 0), self._scale, 1)
            g = np.rint(16.0 + alpha * (235.0 - 16.0)).astype(np.uint8)
            self._cache[ch] = g
        return g

    def paste(self, y_plane: np.ndarray, x: int, y: int, text: str) -> None:
        for i, ch in enumerate(text):
            cx = x + i * self.cell_w
            y_plane[y : y + self.cell_h, cx : cx + self.cell_w] = self.glyph(ch)


class _FrameRenderer:
    def __init__(self, game_id: str, period: str, home: str, away: str, width: int, height: int, fps: Fraction) -> None:
        if width % 2 or height % 2:
            raise ValueError(f"width and height must be even for yuv420p, got {width}x{height}")
        self.fps = fps
        self.width, self.height = width, height
        left, top, right, bottom = mark_extent(width, height)
        line2_sample = "F 000000 00:00:00;00"
        # The largest caption that fits: about 1/24 of the height, smaller
        # (and without "GAME ") on tiny frames.
        fitted = None
        for size in range(max(8, min(height // 24, width // 24)), 5, -1):
            for line1 in (f"GAME {game_id} P{period} {away}-{home}", f"{game_id} P{period} {away}-{home}"):
                glyphs = _Glyphs(size, line1 + line2_sample)
                pad = max(2, size // 4)
                box_w = max(len(line1), len(line2_sample)) * glyphs.cell_w + 2 * pad
                box_bottom = bottom + pad + 2 * glyphs.cell_h + pad
                if left + box_w <= width and box_bottom <= height // 2:
                    fitted = glyphs, pad, line1, box_w, box_bottom
                    break
            if fitted:
                break
        if fitted is None:
            raise ValueError(f"frame {width}x{height} is too small for the caption")
        self.glyphs, pad, line1, box_w, box_bottom = fitted
        self.text_x = left + pad
        self.line1_y = bottom + pad
        self.line2_y = self.line1_y + self.glyphs.cell_h
        rgb = _draw_rink(width, height, box_bottom + pad)
        y, u, v = _rgb_to_yuv420(rgb)
        y[top:box_bottom, left : max(right, left + box_w)] = 16
        self.glyphs.paste(y, self.text_x, self.line1_y, line1)
        self.background = y
        self.chroma = np.ascontiguousarray(np.concatenate([u.ravel(), v.ravel()])).tobytes()
        # Puck path: inside the rink area below the caption.
        self.puck_r = max(2, width // 160)
        d = 2 * self.puck_r + 1
        yy, xx = np.mgrid[:d, :d]
        self.puck_mask = (xx - self.puck_r) ** 2 + (yy - self.puck_r) ** 2 <= self.puck_r**2
        self.path_x = (int(width * 0.08), int(width * 0.92) - d)
        self.path_y = (max(box_bottom + pad, int(height * 0.25)), int(height * 0.93) - d)
        self.phase = (int(game_id) if game_id.isdigit() else 0) % 7 + int(period if period.isdigit() else 4)

    def render(self, index: int) -> np.ndarray:
        y = self.background.copy()
        t = float(index / self.fps)
        (x_lo, x_hi), (y_lo, y_hi) = self.path_x, self.path_y
        px = int(x_lo + (x_hi - x_lo) * 0.5 * (1.0 + math.sin(2 * math.pi * t / 6.1 + self.phase)))
        py = int(y_lo + (y_hi - y_lo) * 0.5 * (1.0 + math.sin(2 * math.pi * t / 3.7 + 2 * self.phase)))
        d = self.puck_mask.shape[0]
        y[py : py + d, px : px + d][self.puck_mask] = 20
        self.glyphs.paste(y, self.text_x, self.line2_y, f"F {index:06d} {_timecode_label(index, self.fps)}")
        draw_frame_mark(y, index)
        return y


def _write_audio_wav(path: Path, frame_count: int, fps: Fraction, seed: int) -> None:
    """Stereo 48 kHz crowd-like noise with a 1 kHz beep at every frame whose
    index is a multiple of the nominal rate, for 3 frames."""
    rate = 48000
    n = int(round(Fraction(frame_count) / fps * rate))
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((n + 64, 2)).astype(np.float32)
    # A crude low-pass (moving average) makes it rumble like a crowd.
    c = np.cumsum(noise, axis=0, dtype=np.float64)
    k = 24
    crowd = ((c[k:] - c[:-k]) / k)[:n].astype(np.float32) * 0.25
    t = np.arange(n, dtype=np.float64) / rate
    beep = np.zeros(n, dtype=np.float32)
    nominal = _nominal_rate(fps)
    beep_len = int(round(3 / fps * rate))
    tone = (0.35 * np.sin(2 * np.pi * 1000.0 * t[:beep_len])).astype(np.float32)
    for k_frame in range(0, frame_count, nominal):
        s = int(round(Fraction(k_frame) / fps * rate))
        e = min(n, s + beep_len)
        beep[s:e] = tone[: e - s]
    mix = np.clip(crowd + beep[:, None], -1.0, 1.0)
    pcm = np.rint(mix * 32767.0).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


def _write_video(
    path: Path, renderer: _FrameRenderer, frame_count: int, fps: Fraction, gop: int, audio_seed: int
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".audio-", dir=path.parent) as tmp:
        wav = Path(tmp) / "audio.wav"
        _write_audio_wav(wav, frame_count, fps, audio_seed)
        write_marked_video(
            path, frame_count, fps, renderer.width, renderer.height, gop=gop, audio_wav=wav,
            render=lambda i: renderer.render(i).tobytes() + renderer.chroma,
        )


# --------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------


COMPLETE_MARKER = ".sample-data-complete"


def write_sample_data(
    root: Path,
    *,
    period_seconds: float = 120.0,
    width: int = 1280,
    height: int = 720,
    fps: Fraction = Fraction(60000, 1001),
    games: list[str] | None = None,
    progress: Callable[[str], None] = print,
) -> SampleSummary:
    """Write a sample data root under ``root`` and say what was written.

    ``schedule.csv`` and ``roster.csv`` are always written in full; metrics,
    shifts and videos only for ``games`` (default: both video games, 20031 and
    20038). Every period video is ``round(period_seconds * fps)`` frames long;
    event timecodes are scaled to it, and the "past the end" bad row lies 10 s
    after the last frame.
    """
    t0 = time.monotonic()
    root = Path(root)
    fps = Fraction(fps)
    if fps.denominator > 1_000_000:
        fps = fps.limit_denominator(1_000_000)
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    selected = list(VIDEO_GAMES) if games is None else [str(g) for g in games]
    unknown = [g for g in selected if g not in VIDEO_GAMES]
    if unknown:
        raise ValueError(f"unknown sample game(s) {unknown}; choose from {sorted(VIDEO_GAMES)}")
    frame_count = _frame_count(period_seconds, fps)
    if frame_count < 2:
        raise ValueError(f"period_seconds={period_seconds} gives {frame_count} frame(s); need at least 2")
    gop = int(round(2 * fps))

    def done(path: Path, what: str) -> None:
        progress(f"wrote {path} ({what}) [{time.monotonic() - t0:.1f} s]")

    root.mkdir(parents=True, exist_ok=True)
    schedule = [[g, d, h, a] for g, d, h, a in _PAST_GAMES]
    schedule += [[g, d, h, a] for g, (d, h, a) in VIDEO_GAMES.items()]
    schedule.sort(key=lambda r: (r[1], r[0]))
    schedule_path = root / "schedule.csv"
    _write_text_atomic(schedule_path, _csv_text(SCHEDULE_HEADER, schedule))
    done(schedule_path, f"{len(schedule)} games")
    roster_path = root / "roster.csv"
    _write_text_atomic(roster_path, _csv_text(ROSTER_HEADER, [list(r) for r in _ROSTER]))
    done(roster_path, f"{len(_ROSTER)} players")

    summary = SampleSummary(
        root=root, games=selected, width=width, height=height, fps=fps,
        period_seconds=period_seconds, frame_count=frame_count, gop=gop,
        schedule=schedule_path, roster=roster_path,
    )
    for game_id in selected:
        _date, home, away = VIDEO_GAMES[game_id]
        rows, bad, n_valid = _metrics_rows(game_id, home, away, fps, frame_count)
        mpath = root / "metrics" / f"{game_id}.csv"
        _write_text_atomic(mpath, _csv_text(METRICS_HEADER, rows))
        summary.metrics[game_id] = mpath
        summary.valid_events[game_id] = n_valid
        summary.bad_rows[game_id] = bad
        done(mpath, f"{n_valid} valid events, {len(bad)} bad rows")
        srows = _shift_rows(game_id, home, away, fps, frame_count, period_seconds)
        spath = root / "shifts" / f"{game_id}.csv"
        _write_text_atomic(spath, _csv_text(SHIFTS_HEADER, srows))
        summary.shifts[game_id] = spath
        done(spath, f"{len(srows)} shifts")
        for period in PERIODS:
            vpath = root / "video" / game_id / f"{period}.mp4"
            started = time.monotonic()
            renderer = _FrameRenderer(game_id, period, home, away, width, height, fps)
            _write_video(vpath, renderer, frame_count, fps, gop, audio_seed=int(game_id) * 10 + int(period))
            summary.videos[(game_id, period)] = vpath
            took = time.monotonic() - started
            done(vpath, f"{frame_count} frames {width}x{height} @ {float(fps):.3f} fps in {took:.1f} s, "
                        f"{frame_count / took:.0f} fps")
    # `make demo` regenerates unless this marker says a previous run finished.
    _write_text_atomic(root / COMPLETE_MARKER, f"{summary.frame_count} frames per period\n")
    summary.elapsed_s = time.monotonic() - t0
    progress(f"sample data root {root} written in {summary.elapsed_s:.1f} s")
    return summary
