"""Query latency of the media index on PostgreSQL at one million clips (generated rows).

    .venv/bin/python bench/bench_query.py [--clips 1000000] [--runs 40] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Creates a fresh database on the server (dropped at the end unless --keep),
brings it to the media schema with the project's migrations, and fills it
with COPY: one season of a 32-team league (1,312 games in schedule.csv,
23 players a team in roster.csv), about 760 clips a game (events and shifts),
two assets and one tag per clip. Then, for the common filters, times
``find_clips`` (one page of 50 with its assets and tags) and prints p50 and
p95 over ``--runs`` runs after a warm-up; a few are run alongside a baseline,
the naive single statement (ORDER BY a CASE over every game's date, then
OFFSET/LIMIT), and the ratio is printed. Finally the same through the REST
API (uvicorn on a free port, httpx), plain-language requests end to end.
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import case, create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from hb_clips_assets.storage.index.models import Clip  # noqa: E402
from hb_clips_assets.storage.index.repository import MediaIndex  # noqa: E402
from hb_clips_assets.retrieval import ClipQuery, References, clip_stats, find_clips  # noqa: E402
from hb_clips_assets.retrieval.search import PERIOD_ORDER  # noqa: E402
from hb_clips_assets.retrieval.teams import NHL_TEAMS  # noqa: E402

FPS_NUM, FPS_DEN = 60000, 1001
EVENTS = ["faceoff", "shot", "goal", "save", "hit", "takeaway", "giveaway", "blocked_shot", "missed_shot", "penalty",
          "zone_entry", "zone_exit", "dump_in", "dump_out", "puck_recovery", "pass"]
WEIGHTS = [8, 10, 1, 6, 10, 4, 5, 5, 5, 1, 10, 10, 4, 3, 8, 10]
POSITIONS = ["C"] * 4 + ["LW"] * 4 + ["RW"] * 4 + ["D"] * 8 + ["G"] * 3


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
    day = dt.date(2025, 10, 7)
    for g in range(games):
        home, away = rng.sample(teams, 2)
        schedule.append((str(2025020001 + g), (day + dt.timedelta(days=g * 180 // games)).isoformat(), home, away))
    (root / "schedule.csv").write_text(
        "game_id,date,home,away\n" + "".join(f"{g},{d},{h},{a}\n" for g, d, h, a in schedule))
    return schedule, roster


def fill(url: str, schedule, roster, per_game: int, seed: int) -> int:
    """COPY the rows in; returns the number of clips."""
    import psycopg

    rng = random.Random(seed)
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    n = 0
    now = dt.datetime.now(dt.timezone.utc)
    frames_per_period = 20 * 60 * 60  # a 20-minute period at 59.94
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        with cur.copy("COPY media.clips (clip_id, game_id, period, event_id, event_type, player_id, team, opponent, "
                      "zone, strength, timecode, event_frame, start_frame, end_frame, fps, fps_num, fps_den, start_s, "
                      "end_s, duration_s, source_uri, source_sha256, created_at) FROM STDIN") as copy:
            for game_id, _date, home, away in schedule:
                for k in range(per_game):
                    period = ("1", "2", "3")[k % 3]
                    team = home if rng.random() < 0.5 else away
                    opponent = away if team == home else home
                    shift = rng.random() < 0.2
                    frame = rng.randrange(frames_per_period)
                    if shift:
                        etype, zone, strength = "shift", None, None
                        start, end = max(0, frame - 60), min(frames_per_period, frame + rng.randrange(1800, 3000) + 60)
                    else:
                        etype = rng.choices(EVENTS, WEIGHTS)[0]
                        zone = rng.choice("ODN")
                        strength = rng.choices(["5v5", "PP", "PK", "4v4", "EN"], [75, 11, 11, 2, 1])[0]
                        start, end = max(0, frame - 300), min(frames_per_period, frame + 180)
                    clip_id = uuid.UUID(int=rng.getrandbits(128)).hex
                    s, e = start * FPS_DEN / FPS_NUM, end * FPS_DEN / FPS_NUM
                    copy.write_row((clip_id, game_id, period, f"{game_id}-{k:05d}", etype,
                                    rng.choice(roster[team]), team, opponent, zone, strength, None, frame, start, end,
                                    FPS_NUM / FPS_DEN, FPS_NUM, FPS_DEN, s, e, e - s,
                                    f"file:///data/video/{game_id}/{period}.mp4", "0" * 64, now))
                    n += 1
        cur.execute("""
            INSERT INTO media.clip_assets (clip_id, kind, object_key, uri, bytes, sha256, content_type)
            SELECT clip_id, k.kind,
                   CASE k.kind WHEN 'mp4' THEN 'clips/' ELSE 'thumbnails/' END || game_id || '/' || period || '/' || clip_id
                       || CASE k.kind WHEN 'mp4' THEN '.mp4' ELSE '.jpg' END,
                   'gs://bench/' || clip_id, CASE k.kind WHEN 'mp4' THEN 1500000 ELSE 40000 END, repeat('0', 64),
                   CASE k.kind WHEN 'mp4' THEN 'video/mp4' ELSE 'image/jpeg' END
            FROM media.clips CROSS JOIN (VALUES ('mp4'), ('thumbnail')) AS k(kind)""")
        cur.execute("""
            INSERT INTO media.clip_tags (clip_id, tag, value)
            SELECT clip_id, 'outcome', (ARRAY['controlled','uncontrolled','failed','won','lost'])[1 + (abs(hashtext(clip_id)) % 5)]
            FROM media.clips WHERE event_type <> 'shift'""")
        conn.commit()
        cur.execute("ANALYZE")
        conn.commit()
    return n


def naive_find(engine, query_filters, schedule, limit: int, offset: int) -> list:
    """The baseline: one statement ordering every matching row by a CASE over all game dates."""
    rank = {g: i for i, (g, _d, _h, _a) in enumerate(sorted(schedule, key=lambda r: (r[1], r[0])))}
    stmt = (select(Clip.__table__).where(*query_filters)
            .order_by(case(rank, value=Clip.game_id, else_=len(rank)), case(PERIOD_ORDER, value=Clip.period),
                      Clip.event_frame, Clip.event_id).offset(offset).limit(limit))
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
        conn.execute(select(func.count()).select_from(Clip).where(*query_filters)).scalar_one()
    return rows


def timed(fn, runs: int) -> tuple[float, float]:
    fn()  # warm-up
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres", help="admin URL")
    parser.add_argument("--clips", type=int, default=1_000_000)
    parser.add_argument("--games", type=int, default=1312)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the database (its name is printed)")
    args = parser.parse_args()

    admin = create_engine(args.pg, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    name = f"hb_bench_query_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        version = conn.execute(text("show server_version")).scalar_one()
    url = make_url(args.pg).set(database=name).render_as_string(hide_password=False)
    try:
        with tempfile.TemporaryDirectory(prefix="hb-bench-query-") as tmp:
            root = Path(tmp)
            schedule, roster = write_references(root, args.games, args.seed)
            index = MediaIndex(url)  # migrations: the real schema and indexes
            t = time.perf_counter()
            n = fill(url, schedule, roster, max(1, args.clips // args.games), args.seed)
            print(f"PostgreSQL {version}: {n:,} clips, {2 * n:,} assets, tags, in {time.perf_counter() - t:.0f} s "
                  f"({args.games} games)")
            refs = References.load(root)
            engine = index.engine
            # a player with clips, and the busiest pair of teams
            player = next(iter(roster["WSH"]))
            as_of = dt.date(2026, 11, 25)
            cases = [
                ("one player", ClipQuery(players=(player,))),
                ("player + event type", ClipQuery(players=(player,), event_types=("shot",))),
                ("d-zone exits WSH vs NYR", ClipQuery(teams=("WSH",), opponents=("NYR",), zones=("D",),
                                                      event_types=("zone_exit",))),
                ("team, last 5 games, shifts", ClipQuery(teams=("MTL",), last_games=5, event_types=("shift",))),
                ("one game, one period", ClipQuery(game_ids=(schedule[len(schedule) // 2][0],), periods=("2",))),
                ("event type (broad)", ClipQuery(event_types=("goal",))),
                ("power-play zone entries", ClipQuery(event_types=("zone_entry",), strengths=("PP",))),
                ("date range, one week", ClipQuery(date_from=dt.date(2025, 12, 1), date_to=dt.date(2025, 12, 7))),
                ("no filter, page 1", ClipQuery()),
                ("no filter, page at offset 500,000", ClipQuery(offset=500_000)),
            ]
            print(f"\nfind_clips, one page of 50 with assets and tags, {args.runs} runs after a warm-up (ms)")
            print(f"{'query':<36} {'matches':>9} {'p50':>8} {'p95':>8}")
            for label, query in cases:
                total = find_clips(engine, query, refs, as_of=as_of).total
                p50, p95 = timed(lambda: find_clips(engine, query, refs, as_of=as_of), args.runs)
                print(f"{label:<36} {total:>9,} {p50:>8.1f} {p95:>8.1f}")
            p50, p95 = timed(lambda: clip_stats(engine, ClipQuery(teams=("WSH",)), refs, as_of=as_of), max(5, args.runs // 4))
            print(f"{'stats overview, one team':<36} {'':>9} {p50:>8.1f} {p95:>8.1f}")

            print("\nbaseline (one statement, ORDER BY a CASE over every game date, OFFSET/LIMIT) vs find_clips, ms p50")
            runs = max(3, args.runs // 8)
            for label, query, filters in (
                ("no filter, page 1", ClipQuery(), []),
                ("no filter, offset 500,000", ClipQuery(offset=500_000), []),
                ("event type (broad)", ClipQuery(event_types=("goal",)), [Clip.event_type == "goal"]),
            ):
                base, _ = timed(lambda: naive_find(engine, filters, schedule, 50, query.offset), runs)
                ours, _ = timed(lambda: find_clips(engine, query, refs, as_of=as_of), runs)
                print(f"{label:<36} baseline {base:>8.1f}  find_clips {ours:>8.1f}  ratio {base / ours:>6.1f}x")

            # end to end through the API
            import httpx

            from hb_clips_assets.retrieval.api.app import create_app
            from hb_clips_assets.retrieval.api.settings import ApiKey, ApiSettings
            from hb_clips_tests.retrieval.api.server import serve

            key = "bench-admin-key-0123456789"
            app = create_app(ApiSettings(data_root=str(root), db_url=url, store_url=str(root / "store"),
                                         keys={key: ApiKey("admin"), "bench-coach-key-012345678": ApiKey("coach", "WSH")},
                                         user_player=player))
            print(f"\nREST API end to end (uvicorn + httpx on 127.0.0.1, page of 50, JSON), {args.runs} runs (ms)")
            print(f"{'request':<52} {'matches':>9} {'p50':>8} {'p95':>8}")
            with serve(app) as base, httpx.Client(base_url=base, timeout=60) as client:
                for q, who in (("Show me d-zone exits from WSH vs NYR", key),
                               ("my shifts from the last five games", key),
                               ("Show me all ozone clips from the last game", key),
                               ("power play goals in the second period", key),
                               ("Caps hits against the Rangers (a team key)", "bench-coach-key-012345678")):
                    request_q = q.replace(" (a team key)", "")

                    def call():
                        r = client.get("/api/v2/clips/", params={"q": request_q}, headers={"X-API-Key": who})
                        r.raise_for_status()
                        return r

                    total = call().json()["total"]
                    p50, p95 = timed(call, args.runs)
                    print(f"{q:<52} {total:>9,} {p50:>8.1f} {p95:>8.1f}")
            index.dispose()
    finally:
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        else:
            print(f"kept database {name}")
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
