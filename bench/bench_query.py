"""Query latency of the media index at league scale (generated rows), each request beside its plan.

    .venv/bin/python bench/bench_query.py [--clips 1000000 [3000000]] [--sqlite-clips 100000] [--runs 200]
                                          [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

For each size: a fresh PostgreSQL database (dropped at the end unless --keep),
brought to the media schema by the project's migrations and filled (see
query_data.py: a season is 1,312 games; 3 M clips are three seasons). Then
each request of the table runs ``--runs`` times after a warm-up and its p50,
p95 and p99 are printed beside the plan that served it: the indexes its
statements used and the rows they read (EXPLAIN (ANALYZE, BUFFERS) of every
statement the request ran, captured from the engine). The same for the
embedded SQLite default at ``--sqlite-clips`` (its plans from EXPLAIN QUERY
PLAN: indexes, no row counts), and plain-language requests end to end through
the REST API (uvicorn + httpx on 127.0.0.1). Targets: p95 < 10 ms for every
request of the table at 1 M on PostgreSQL (< 20 ms on SQLite at 100 k), < 25 ms
through the API, 3 M within 1.5x of 1 M. The last line sums it up.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import Engine, create_engine, event, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

import query_data  # noqa: E402
from hb_clips_assets.retrieval import ClipQuery, References, clip_stats, find_clips  # noqa: E402
from hb_clips_assets.storage.index.repository import MediaIndex  # noqa: E402

_CAPTURE: list | None = None
_CAPTURE_LOCK = threading.Lock()


@event.listens_for(Engine, "before_cursor_execute")
def _record(_conn, _cursor, statement, parameters, _context, _many):
    with _CAPTURE_LOCK:
        if _CAPTURE is not None:
            _CAPTURE.append((statement, parameters))


@contextmanager
def captured():
    """Every statement any engine of this process runs inside the block (the API's too)."""
    global _CAPTURE
    found: list = []
    with _CAPTURE_LOCK:
        _CAPTURE = found
    try:
        yield found
    finally:
        with _CAPTURE_LOCK:
            _CAPTURE = None


def _walk(node, out: dict) -> None:
    """Rows each index (or table scan) handed over: an index scan's rows, a seq scan's rows kept
    plus those its filter removed (it read them all); a bitmap heap scan counts under its index."""
    index, relation, kind = node.get("Index Name"), node.get("Relation Name"), node.get("Node Type", "")
    if index or (relation and kind != "Bitmap Heap Scan"):
        key = index or f"{relation} ({kind.lower()})"
        rows = int(node.get("Actual Rows", 0)) + int(node.get("Rows Removed by Filter", 0))
        out[key] = out.get(key, 0) + rows * int(node.get("Actual Loops", 1))
    for child in node.get("Plans", []):
        _walk(child, out)


def explain_postgres(engine: Engine, statements) -> str:
    """The indexes (or sequential scans) the statements used and the rows each returned, summed."""
    reads: dict[str, int] = {}
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        for statement, params in statements:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            cur.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, params)
            plan = cur.fetchone()[0]
            _walk((plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"], reads)
    finally:
        raw.close()
    return f"{len(statements)} stmts: " + ", ".join(f"{k} {v:,}" for k, v in sorted(reads.items(), key=lambda kv: -kv[1]))


def explain_sqlite(engine: Engine, statements) -> str:
    used: dict[str, None] = {}
    raw = engine.raw_connection()
    try:
        for statement, params in statements:
            if statement.lstrip().upper().startswith("SELECT"):
                for row in raw.driver_connection.execute("EXPLAIN QUERY PLAN " + statement, params):
                    detail = row[3]
                    if " INDEX " in detail:
                        used[detail.split(" INDEX ")[1].split(" ")[0]] = None
                    elif detail.startswith("SCAN ") and not detail.startswith(("SCAN anon_", "SCAN CONSTANT")):
                        used[detail.split(" ")[1] + " (scan)"] = None
    finally:
        raw.close()
    return f"{len(statements)} stmts: " + ", ".join(used)


def timed(fn, runs: int) -> tuple[float, float, float]:
    fn()  # warm-up
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    at = lambda q: samples[min(len(samples) - 1, round(q * (len(samples) - 1)))]  # noqa: E731
    return at(0.5), at(0.95), at(0.99)


@dataclasses.dataclass
class Row:
    label: str
    target: bool
    matches: str
    p50: float
    p95: float
    p99: float
    plan: str


def requests(schedule, roster, engine, refs, as_of):
    """(label, in the issue's table, callable) for find_clips and the stats overview."""
    player = roster["WSH"][0]
    mid_game = schedule[len(schedule) // 2][0]
    week = dt.date.fromisoformat(schedule[len(schedule) // 3][1])
    half = find_clips(engine, ClipQuery(), refs, as_of=as_of).total // 2
    keyset = "after" in {f.name for f in dataclasses.fields(ClipQuery)}  # not in the code before keyset pages
    deep = getattr(find_clips(engine, ClipQuery(offset=half - 50), refs, as_of=as_of), "next_after", None)
    page = lambda q, **kw: (lambda: find_clips(engine, q, refs, as_of=as_of, **kw))  # noqa: E731
    stats = lambda q, **kw: (lambda: clip_stats(engine, q, refs, as_of=as_of, **kw))  # noqa: E731
    return [
        ("no filter, page 1", True, page(ClipQuery())),
        ("one event type (goals)", True, page(ClipQuery(event_types=("goal",)))),
        ("one player", True, page(ClipQuery(players=(player,)))),
        ("power-play zone entries", True, page(ClipQuery(event_types=("zone_entry",), strengths=("PP",)))),
        ("last five games of a team (MTL)", True, page(ClipQuery(teams=("MTL",), last_games=5))),
        ("stats overview, one team (WSH)", True, stats(ClipQuery(teams=("WSH",)))),
        *([(f"no filter, keyset page after clip {half:,}", False, page(ClipQuery(after=deep)))] if keyset else []),
        (f"no filter, offset {half:,}", False, page(ClipQuery(offset=half))),
        ("player + event type", False, page(ClipQuery(players=(player,), event_types=("shot",)))),
        ("d-zone exits WSH vs NYR", False, page(ClipQuery(teams=("WSH",), opponents=("NYR",), zones=("D",),
                                                          event_types=("zone_exit",)))),
        ("one game, one period", False, page(ClipQuery(game_ids=(mid_game,), periods=("2",)))),
        ("date range, one week", False, page(ClipQuery(date_from=week, date_to=week + dt.timedelta(days=6)))),
        ("5v5, all games (bounded count)", False, page(ClipQuery(strengths=("5v5",)))),
        ("team key WSH, no filter", False, page(ClipQuery(), visible_teams=["WSH"])),
        ("stats overview, team key WSH", False, stats(ClipQuery(), visible_teams=["WSH"])),
        ("stats overview, goals", False, stats(ClipQuery(event_types=("goal",)))),
        ("stats overview, league", False, stats(ClipQuery())),
    ]


def matches_of(result) -> str:
    if isinstance(result, dict):
        return f"{result['clips']:,}"
    exact = getattr(result, "total_is_exact", True)
    return f"{result.total:,}" if exact else f">={result.total:,}"


def answer_of(result) -> dict:
    """What a request answered, to compare two runs (--dump): page clips and total, or the overview."""
    if isinstance(result, dict):
        return {k: result[k] for k in ("clips", "bytes", "bytes_by_kind", "by_game", "by_event_type", "by_player")}
    return {"total": result.total, "exact": getattr(result, "total_is_exact", True),
            "items": [[c.game_id, c.event_id, c.clip_id] for c in result.items]}


def run_suite(engine, reqs, runs: int, explain, answers: dict) -> list[Row]:
    rows = []
    for label, target, fn in reqs:
        with captured() as statements:
            result = fn()
        answers[label] = answer_of(result)
        p50, p95, p99 = timed(fn, runs)
        rows.append(Row(label, target, matches_of(result), p50, p95, p99, explain(engine, statements)))
    return rows


def run_api(url: str, root: Path, engine, player: str, runs: int, explain) -> list[Row]:
    import httpx

    from hb_clips_assets.retrieval.api.app import create_app
    from hb_clips_assets.retrieval.api.settings import ApiKey, ApiSettings
    from hb_clips_tests.retrieval.api.server import serve

    admin, coach = "bench-admin-key-0123456789", "bench-coach-key-012345678"
    app = create_app(ApiSettings(data_root=str(root), db_url=url, store_url=str(root / "store"),
                                 keys={admin: ApiKey("admin"), coach: ApiKey("coach", "WSH")}, user_player=player))
    rows = []
    with serve(app) as base, httpx.Client(base_url=base, timeout=60) as client:
        first = client.get("/api/v2/clips/", params={"q": "power play zone entries"}, headers={"X-API-Key": admin})
        after = first.json().get("next_after")  # None before keyset pages existed
        cases = [
            ("Show me d-zone exits from WSH vs NYR", "/api/v2/clips/", {"q": "Show me d-zone exits from WSH vs NYR"}, admin),
            ("my shifts from the last five games", "/api/v2/clips/", {"q": "my shifts from the last five games"}, admin),
            ("Show me all ozone clips from the last game", "/api/v2/clips/",
             {"q": "Show me all ozone clips from the last game"}, admin),
            ("power play goals in the second period", "/api/v2/clips/", {"q": "power play goals in the second period"}, admin),
            ("power play zone entries", "/api/v2/clips/", {"q": "power play zone entries"}, admin),
            *([("  ... its next page (after=)", "/api/v2/clips/", {"q": "power play zone entries", "after": after},
                admin)] if after else []),
            ("Caps hits against the Rangers (a team key)", "/api/v2/clips/", {"q": "Caps hits against the Rangers"}, coach),
            ("every clip, page 1 (a team key)", "/api/v2/clips/", {}, coach),
            ("stats overview: WSH", "/api/v2/clips/stats/overview", {"team": "WSH"}, admin),
            ("stats overview (a team key)", "/api/v2/clips/stats/overview", {}, coach),
        ]
        for label, path, params, key in cases:
            def call(path=path, params=params, key=key):
                r = client.get(path, params=params, headers={"X-API-Key": key})
                r.raise_for_status()
                return r.json()

            with captured() as statements:
                out = call()
            p50, p95, p99 = timed(call, runs)
            total = out.get("clips", out.get("total"))
            shown = f"{total:,}" if out.get("total_is_exact", True) else f">={total:,}"
            rows.append(Row(label, True, shown, p50, p95, p99, explain(engine, statements)))
    return rows


def print_rows(title: str, rows: list[Row]) -> None:
    print(f"\n{title}")
    print(f"{'request':<44} {'matches':>10} {'p50':>7} {'p95':>7} {'p99':>7}  plan (index or scan: rows read)")
    for r in rows:
        mark = "" if r.target else " *"
        print(f"{r.label + mark:<44} {r.matches:>10} {r.p50:>7.1f} {r.p95:>7.1f} {r.p99:>7.1f}  {r.plan}")
    print("(* not in the issue's table)" if any(not r.target for r in rows) else "")


def bench_backend(url: str, n_clips: int, args, backend: str, reuse: bool = False) -> tuple[list[Row], list[Row], int]:
    with tempfile.TemporaryDirectory(prefix="hb-bench-query-") as tmp:
        root = Path(tmp)
        games = max(1, round(n_clips / query_data.CLIPS_PER_GAME))
        schedule, roster = query_data.write_references(root, games, args.seed)
        index = MediaIndex(url)  # migrations: the real schema and indexes
        t = time.perf_counter()
        if reuse:  # filled by an earlier --keep run with the same --clips and --seed
            with index.engine.connect() as conn:
                n = conn.execute(text("select count(*) from media.clips")).scalar_one()
        else:
            fill = query_data.fill_postgres if backend == "postgresql" else query_data.fill_sqlite
            n = fill(url, schedule, roster, max(1, n_clips // games), args.seed)
        print(f"\n== {backend}: {n:,} clips, {2 * n:,} assets, {games:,} games, filled in {time.perf_counter() - t:.0f} s")
        refs = References.load(root)
        as_of = dt.date.fromisoformat(schedule[-1][1]) + dt.timedelta(days=1)
        explain = explain_postgres if backend == "postgresql" else explain_sqlite
        answers: dict = {}
        rows = run_suite(index.engine, requests(schedule, roster, index.engine, refs, as_of), args.runs, explain, answers)
        if args.dump:
            Path(f"{args.dump}.{backend}.{n}.json").write_text(json.dumps(answers, indent=1, sort_keys=True))
        print_rows(f"find_clips (a page of 50 with assets and tags) and clip_stats, {args.runs} runs (ms)", rows)
        api = [] if args.no_api else run_api(url, root, index.engine, roster["WSH"][0], args.api_runs, explain)
        if api:
            print_rows(f"REST API end to end (uvicorn + httpx, JSON), {args.api_runs} runs (ms)", api)
        index.dispose()
    return rows, api, n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres", help="admin URL")
    parser.add_argument("--clips", type=int, nargs="*", default=[1_000_000], help="PostgreSQL sizes (0: none)")
    parser.add_argument("--sqlite-clips", type=int, default=100_000, help="SQLite size (0: none)")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--api-runs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-api", action="store_true")
    parser.add_argument("--dump", metavar="PREFIX", help="write each request's answer to PREFIX.<backend>.<clips>.json")
    parser.add_argument("--keep", action="store_true", help="keep the databases (their names are printed)")
    parser.add_argument("--reuse", metavar="DATABASE", help="a database kept by --keep (same --clips, --seed): no fill")
    args = parser.parse_args()

    results: dict[str, tuple] = {}
    admin = create_engine(args.pg, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    for size in [s for s in args.clips if s > 0]:
        name = args.reuse or f"hb_bench_query_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            if not args.reuse:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            print(f"PostgreSQL {conn.execute(text('show server_version')).scalar_one()}, database {name}")
        try:
            results[f"postgresql {size:,}"] = bench_backend(
                make_url(args.pg).set(database=name).render_as_string(hide_password=False), size, args, "postgresql",
                reuse=bool(args.reuse))
        finally:
            if not (args.keep or args.reuse):
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
    if args.sqlite_clips > 0:
        with tempfile.TemporaryDirectory(prefix="hb-bench-sqlite-") as tmp:
            results[f"sqlite {args.sqlite_clips:,}"] = bench_backend(
                f"sqlite:///{tmp}/media.db", args.sqlite_clips, args, "sqlite")

    print("\nsummary (p95 ms, requests of the issue's table)")
    for label, (rows, api, _n) in results.items():
        worst = max((r for r in rows if r.target), key=lambda r: r.p95)
        api_worst = max(api, key=lambda r: r.p95) if api else None
        print(f"  {label:<22} worst {worst.p95:6.1f} ({worst.label})"
              + (f"; api worst {api_worst.p95:6.1f} ({api_worst.label})" if api_worst else ""))
    pg = [k for k in results if k.startswith("postgresql")]
    if len(pg) > 1:
        base, big = results[pg[0]][0], results[pg[-1]][0]
        print(f"  p95 {pg[-1]} / {pg[0]}: " + ", ".join(f"{b.label} {c.p95 / b.p95:.2f}x" for b, c in zip(base, big)
                                                          if b.target))
    head = results[pg[0] if pg else next(iter(results))]  # the first PostgreSQL size: the targets' 1 M
    rows, api, n = head
    worst = max((r for r in rows if r.target), key=lambda r: r.p95)
    api_p95 = max((r.p95 for r in api), default=float("nan"))
    print(f"query bench: clips {n}, worst p95 {worst.p95:.1f} ms (request {worst.label}), api worst p95 {api_p95:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
