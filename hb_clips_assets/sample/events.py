"""Metrics rows and shifts of the sample's video games (DATA_CONTRACT.md sections 4 and 5).

Per period: an opening faceoff in the first 5 s, a shot in the last 3 s and six
events between, cycling through every event type; 20038 also forces two WSH
defensive-zone exits per period (the README's zone-exit example). Six rows per game
then break exactly one contract rule each (:class:`BadRow` says which), so the
pipeline's rejection paths run on the sample too. Shifts: one winger per team,
30-50 s on the ice, scaled down for periods shorter than 120 s.

Every game draws from its own seeded ``random.Random``, so the CSVs are the
same bytes for the same arguments.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from fractions import Fraction

from hb_clips_assets.sample.league import team_players
from hb_clips_assets.sample.timecode import label_separator, nominal_rate, timecode_label

METRICS_HEADER = [
    "event_id", "game_id", "period", "timecode", "event_type", "player_id",
    "team", "opponent", "zone", "strength", "outcome", "x", "y", "detail",
    "shot_type",
]
SHIFTS_HEADER = ["player_id", "period", "start_timecode", "end_timecode"]

# Regulation only: the sample has no overtime, so "OT" never gets a video.
SAMPLE_PERIODS = ("1", "2", "3")
_VALID_EVENTS_PER_PERIOD = 8

# Event types the generator cycles through (plus forced ones).
_EVENT_TYPES = [
    "zone_exit", "zone_entry", "shot", "goal", "faceoff", "takeaway",
    "giveaway", "hit", "dump_in", "save", "blocked_shot", "missed_shot",
    "puck_recovery", "pass", "dump_out", "penalty",
]


@dataclass(frozen=True)
class BadRow:
    """A row of a metrics CSV written to break exactly one contract rule."""

    line: int  # 1-based line number in the file (the header is line 1)
    event_id: str
    reason: str  # "malformed_timecode", "frames_out_of_range", "unknown_period",
    # "missing_player_id", "duplicate_event_id", "past_end_of_video"


def _coords(rng: random.Random, zone: str) -> tuple[str, str]:
    lo, hi = {"O": (26.0, 89.0), "D": (-89.0, -26.0), "N": (-24.0, 24.0)}[zone]
    return f"{rng.uniform(lo, hi):.1f}", f"{rng.uniform(-40.0, 40.0):.1f}"


def _event_fields(rng: random.Random, etype: str, team: str) -> dict[str, str]:
    """zone, outcome, detail, shot_type and player for one event type."""
    skaters = team_players(team, ("C", "LW", "RW", "D"))
    f: dict[str, str] = {"shot_type": ""}
    if etype == "faceoff":
        f.update(zone=rng.choice("ODN"), outcome=rng.choice(["won", "lost"]),
                 detail="faceoff", player_id=rng.choice(team_players(team, ("C",))))
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
                 player_id=rng.choice(team_players(team, ("C", "LW", "RW")) if etype == "goal" else skaters))
    elif etype == "save":
        f.update(zone="D", outcome=rng.choice(["save", "save", "rebound", "freeze"]),
                 detail=rng.choice(["glove", "blocker", "pad", "stick"]),
                 player_id=team_players(team, ("G",))[0])
    elif etype == "blocked_shot":
        f.update(zone="D", outcome="blocked", detail="shot block",
                 player_id=rng.choice(team_players(team, ("D",))))
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


def metrics_rows(
    game_id: str, home: str, away: str, fps: Fraction, frame_count: int
) -> tuple[list[list[str]], list[BadRow], int]:
    """(rows, bad rows, number of valid rows) of a game's metrics CSV."""
    rng = random.Random(f"hb-clips-sample-metrics-{game_id}")
    nominal = nominal_rate(fps)
    sep = label_separator(fps)
    last = frame_count - 1
    type_cycle = _EVENT_TYPES[:]
    rng.shuffle(type_cycle)
    cycle_pos = 0

    valid: list[tuple[int, int, list[str]]] = []  # (period, frame, row)
    seq = 0
    for period in SAMPLE_PERIODS:
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
                event_id, game_id, period, timecode_label(frame, fps), etype,
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
    r[3] = timecode_label(frame_count + round(10 * fps), fps)
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


def shift_rows(game_id: str, home: str, away: str, fps: Fraction, frame_count: int, period_seconds: float) -> list[list[str]]:
    rng = random.Random(f"hb-clips-sample-shifts-{game_id}")
    scale = min(1.0, period_seconds / 120.0)
    last = frame_count - 1
    # One winger per team (Ovechkin for WSH): every shift is a 30-50 s clip to
    # cut, so a full line per team would triple the demo's cutting time.
    players = [team_players(team, ("LW", "RW"))[0] for team in (home, away)]
    rows: list[list[str]] = []
    for period in SAMPLE_PERIODS:
        for i, pid in enumerate(players):
            # The first players start on the ice at 00:00:00 (clamping at 0).
            t = 0.0 if i % 3 == 0 else rng.uniform(0.0, 25.0) * scale
            while t < period_seconds:
                start = min(round(t * fps), last)
                end = min(round((t + rng.uniform(30.0, 50.0) * scale) * fps), last)
                if end <= start:
                    break
                rows.append([pid, period, timecode_label(start, fps), timecode_label(end, fps)])
                t = end / fps + rng.uniform(40.0, 90.0) * scale
    return rows
