"""Generated league data for bench_query.py: schedule, roster, clips, assets, tags.

A season is 1,312 games of a 32-team league (23 players a team), about 762
clips a game (events and shifts), two assets and an outcome tag per event
clip; more clips mean more seasons (the games go on past April into the next
October). PostgreSQL is filled with COPY, SQLite with executemany; the
per-game count tables are then recounted from the clips in one transaction
(:func:`aggregates.rebuild`, the same GROUP BY a partition write runs for its
game), since the rows bypass the repository.
"""
from __future__ import annotations

import datetime as dt
import random
import uuid
from pathlib import Path

from sqlalchemy.engine import make_url

from hb_clips_assets.retrieval.teams import NHL_TEAMS

FPS_NUM, FPS_DEN = 60000, 1001
CLIPS_PER_GAME = 762
GAMES_PER_SEASON = 1312
EVENTS = ["faceoff", "shot", "goal", "save", "hit", "takeaway", "giveaway", "blocked_shot", "missed_shot", "penalty",
          "zone_entry", "zone_exit", "dump_in", "dump_out", "puck_recovery", "pass"]
WEIGHTS = [8, 10, 1, 6, 10, 4, 5, 5, 5, 1, 10, 10, 4, 3, 8, 10]
POSITIONS = ["C"] * 4 + ["LW"] * 4 + ["RW"] * 4 + ["D"] * 8 + ["G"] * 3
CLIP_COLUMNS = ("clip_id", "game_id", "period", "event_id", "event_type", "player_id", "team", "opponent", "zone",
                "strength", "timecode", "event_frame", "start_frame", "end_frame", "fps", "fps_num", "fps_den",
                "start_s", "end_s", "duration_s", "source_uri", "source_sha256", "created_at")


def write_references(root: Path, games: int, seed: int) -> tuple[list[tuple[str, str, str, str]], dict[str, list[str]]]:
    rng = random.Random(seed)
    teams = sorted(NHL_TEAMS)
    roster: dict[str, list[str]] = {}
    lines = ["player_id,name,team,position,aliases"]
    pid = 8_400_000
    for team in teams:
        roster[team] = []
        for n, pos in enumerate(POSITIONS):
            pid += 1
            roster[team].append(str(pid))
            lines.append(f"{pid},Player {team} {n + 1},{team},{pos},P{pid}")
    (root / "roster.csv").write_text("\n".join(lines) + "\n")
    schedule = []
    for g in range(games):
        season, k = divmod(g, GAMES_PER_SEASON)
        day = dt.date(2025 + season, 10, 7) + dt.timedelta(days=k * 180 // GAMES_PER_SEASON)
        home, away = rng.sample(teams, 2)
        schedule.append((str(2025020001 + season * 1_000_000 + k), day.isoformat(), home, away))
    (root / "schedule.csv").write_text(
        "game_id,date,home,away\n" + "".join(f"{g},{d},{h},{a}\n" for g, d, h, a in schedule))
    return schedule, roster


def clip_rows(schedule, roster, per_game: int, seed: int):
    """The clips, one tuple of CLIP_COLUMNS each."""
    rng = random.Random(seed)
    now = dt.datetime.now(dt.timezone.utc)
    frames_per_period = 20 * 60 * 60  # a 20-minute period at 59.94
    for game_id, _date, home, away in schedule:
        for k in range(per_game):
            period = ("1", "2", "3")[k % 3]
            team = home if rng.random() < 0.5 else away
            opponent = away if team == home else home
            frame = rng.randrange(frames_per_period)
            if rng.random() < 0.2:
                etype, zone, strength = "shift", None, None
                start, end = max(0, frame - 60), min(frames_per_period, frame + rng.randrange(1800, 3000) + 60)
            else:
                etype = rng.choices(EVENTS, WEIGHTS)[0]
                zone = rng.choice("ODN")
                strength = rng.choices(["5v5", "PP", "PK", "4v4", "EN"], [75, 11, 11, 2, 1])[0]
                start, end = max(0, frame - 300), min(frames_per_period, frame + 180)
            s, e = start * FPS_DEN / FPS_NUM, end * FPS_DEN / FPS_NUM
            yield (uuid.UUID(int=rng.getrandbits(128)).hex, game_id, period, f"{game_id}-{k:05d}", etype,
                   rng.choice(roster[team]), team, opponent, zone, strength, None, frame, start, end,
                   FPS_NUM / FPS_DEN, FPS_NUM, FPS_DEN, s, e, e - s, f"file:///data/video/{game_id}/{period}.mp4",
                   "0" * 64, now)


ASSETS_SQL = """
    INSERT INTO media.clip_assets (clip_id, kind, object_key, uri, bytes, sha256, content_type)
    SELECT clip_id, k.kind,
           CASE k.kind WHEN 'mp4' THEN 'clips/' ELSE 'thumbnails/' END || game_id || '/' || period || '/' || clip_id
               || CASE k.kind WHEN 'mp4' THEN '.mp4' ELSE '.jpg' END,
           'gs://bench/' || clip_id, CASE k.kind WHEN 'mp4' THEN 1500000 ELSE 40000 END, '{zeros}',
           CASE k.kind WHEN 'mp4' THEN 'video/mp4' ELSE 'image/jpeg' END
    FROM media.clips CROSS JOIN (SELECT 'mp4' AS kind UNION ALL SELECT 'thumbnail') AS k"""
TAGS_SQL = """
    INSERT INTO media.clip_tags (clip_id, tag, value)
    SELECT clip_id, 'outcome', CASE {pick} WHEN 0 THEN 'controlled' WHEN 1 THEN 'uncontrolled' WHEN 2 THEN 'failed'
                                           WHEN 3 THEN 'won' ELSE 'lost' END
    FROM media.clips WHERE event_type <> 'shift'"""


def fill_postgres(url: str, schedule, roster, per_game: int, seed: int) -> int:
    """COPY the clips in, derive assets and tags in SQL, recount the per-game tables, VACUUM ANALYZE."""
    import psycopg

    from hb_clips_assets.storage.index.db import create_media_engine

    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    n = 0
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY media.clips ({', '.join(CLIP_COLUMNS)}) FROM STDIN") as copy:
            for row in clip_rows(schedule, roster, per_game, seed):
                copy.write_row(row)
                n += 1
        cur.execute(ASSETS_SQL.format(zeros="0" * 64))
        cur.execute(TAGS_SQL.format(pick="abs(hashtext(clip_id)) % 5"))
        conn.commit()
    _rebuild(create_media_engine(url))
    # a steady state: autovacuum has run (visibility map set: index-only scans need no heap visits)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return n


def fill_sqlite(url: str, schedule, roster, per_game: int, seed: int) -> int:
    from hb_clips_assets.storage.index.db import create_media_engine

    engine = create_media_engine(url)
    rows = list(clip_rows(schedule, roster, per_game, seed))
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        conn.execute("BEGIN")
        marks = ", ".join("?" * len(CLIP_COLUMNS))
        conn.executemany(f"INSERT INTO media.clips ({', '.join(CLIP_COLUMNS)}) VALUES ({marks})",
                         [r[:-1] + (r[-1].isoformat(),) for r in rows])
        conn.execute(ASSETS_SQL.format(zeros="0" * 64))
        conn.execute(TAGS_SQL.format(pick="unicode(substr(clip_id, 1, 1)) % 5"))
        conn.execute("COMMIT")  # no ANALYZE: the embedded index never runs one either
    finally:
        raw.close()
    _rebuild(engine)
    return len(rows)


def _rebuild(engine) -> None:
    try:
        from hb_clips_assets.storage.index import aggregates
    except ImportError:  # the code before the per-game counts (a "before" run): nothing to recount
        engine.dispose()
        return
    with engine.begin() as conn:
        aggregates.rebuild(conn)
    engine.dispose()
