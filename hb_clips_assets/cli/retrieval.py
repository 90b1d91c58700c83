"""`hb-clips find` and `hb-clips serve`: the read side of the CLI.

Kept out of ``cli.py`` so that module only registers them (``add_retrieval_commands``).
"""
from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

from hb_clips_assets.retrieval.query import DEFAULT_LIMIT, MAX_LIMIT, ClipQuery, QueryError
from hb_clips_assets.retrieval.results import ClipPage
from hb_clips_assets.retrieval.search import find_clips, iter_clips
from hb_clips_assets.retrieval.language import USER_PLAYER_ENV, ParsedRequest, apply_request
from hb_clips_assets.retrieval.service import RetrievalError, open_retrieval


def _flags_query(args) -> ClipQuery:
    def many(values):
        return tuple(v.strip() for value in (values or []) for v in value.split(",") if v.strip())

    return ClipQuery(
        players=many(args.player),
        teams=many(args.team),
        opponents=many(args.opponent),
        game_ids=many(args.game),
        date_from=args.since,
        date_to=args.until,
        last_games=args.last_games,
        last_games_of=args.last_games_of,
        periods=many(args.period),
        event_types=many(args.event),
        zones=many(args.zone),
        strengths=many(args.strength),
        outcomes=many(args.outcome),
        newest_first=args.newest_first,
        limit=args.limit if args.limit is not None else DEFAULT_LIMIT,
        offset=args.offset,
        after=args.after,
    )


def _mmss(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes):02d}:{rest:05.2f}"


def _table(page: ClipPage) -> str:
    headers = ["#", "date", "game", "per", "time", "event", "player", "team", "vs", "zone", "str", "secs", "clip", "mp4"]
    rows = []
    for n, c in enumerate(page.items, start=(page.offset or 0) + 1):  # a page after a cursor counts from 1
        rows.append([
            str(n), c.game_date or "?", c.game_id, c.period, _mmss(c.event_s), c.event_type,
            c.player_name or c.player_id, c.team, c.opponent or "", c.zone or "", c.strength or "",
            f"{c.duration_s:.1f}", c.clip_id[:12], c.url("mp4") or "",
        ])
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def _print_parsed(parsed: ParsedRequest | None, query: ClipQuery) -> None:
    if parsed is not None:
        print(f"request:    {parsed.request}")
        print("understood: " + ("; ".join(f"{u.text!r} = {u.meaning}" for u in parsed.understood) or "nothing"))
        print("ignored:    " + (", ".join(repr(w) for w in parsed.ignored) or "nothing"))
        for note in parsed.notes:
            print(f"note:       {note}")
    print(f"filters:    {query.describe()}")


def cmd_find(args) -> int:
    from hb_clips_assets.retrieval.export.otio import to_otio_json
    from hb_clips_assets.retrieval.export.sportscode import to_sportscode_xml
    from hb_clips_assets.retrieval.reel import in_reel

    if args.export and not args.out:
        print("error: --export needs --out FILE", file=sys.stderr)
        return 2
    if args.reel_url and (not args.export or args.timeline == "source"):
        print("error: --reel-url goes with --export (and the playlist timeline: times into the reel)", file=sys.stderr)
        return 2
    try:
        retrieval = open_retrieval(args.data_root, args.db_url, args.store_url)
    except RetrievalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        flags = _flags_query(args)
        request = " ".join(args.request).strip()
        parsed = None
        query = flags
        if request:
            parsed = apply_request(request, flags, retrieval.refs, user_player=args.user_player)
            query = parsed.query
        kwargs = dict(store=retrieval.store, url_expires_s=retrieval.url_expires_s)
        if args.export:
            clips = list(iter_clips(retrieval.engine, dataclasses.replace(query, limit=MAX_LIMIT), retrieval.refs, **kwargs))
            if args.limit is not None:
                clips = clips[: args.limit]
            if args.reel_url:  # the reel plays the clips with an HLS rendition, in this order
                clips = [c for c in clips if in_reel(c.assets)]
            if args.export == "sportscode":
                Path(args.out).write_bytes(to_sportscode_xml(clips, timeline=args.timeline, reel_url=args.reel_url))
            else:
                Path(args.out).write_text(to_otio_json(clips, reel_url=args.reel_url), encoding="utf-8")
            if not args.json:
                _print_parsed(parsed, query)
            print(f"{len(clips)} clips exported to {args.out} ({args.export})", file=sys.stderr if args.json else sys.stdout)
            return 0
        page = find_clips(retrieval.engine, query, retrieval.refs, **kwargs)
    except QueryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        retrieval.dispose()
    if args.json:
        out = page.to_dict()
        out["parsed"] = parsed.to_dict() if parsed is not None else None
        json.dump(out, sys.stdout, indent=2, ensure_ascii=False)
        print()
        return 0
    _print_parsed(parsed, query)
    if not page.items:
        shown = "none"
    elif page.offset is None:
        shown = f"{len(page.items)} after the cursor"
    else:
        shown = f"{page.offset + 1}-{page.offset + len(page.items)}"
    # a broad match is not counted to the end on every page: its total is a lower bound
    found = f"{page.total} clip{'s' if page.total != 1 else ''}" if page.total_is_exact else f"at least {page.total} clips"
    print(f"\n{found} found; showing {shown}\n")
    if page.items:
        print(_table(page))
    if page.next_after is not None:
        hint = f"--offset {page.next_offset} or " if page.next_offset is not None else ""
        print(f"\nmore: add {hint}--after {page.next_after}")
    return 0


def cmd_serve(args) -> int:
    import uvicorn

    from hb_clips_assets.retrieval.api.app import create_app
    from hb_clips_assets.retrieval.api.settings import ApiSettings

    try:
        settings = ApiSettings.from_env(data_root=args.data_root, db_url=args.db_url, store_url=args.store_url)
        app = create_app(settings)
    except (RetrievalError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    base = f"http://{args.host}:{args.port}"
    print(f"clip room on {base}/ (sign in with an API key); REST API under {base}/api/v2/clips/ "
          f"(docs: {base}/docs, {base}/redoc, work offline; OpenAPI: /openapi.json)", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0


def add_retrieval_commands(sub) -> None:
    """Register `find` and `serve` on the `hb-clips` subparsers."""
    p = sub.add_parser(
        "find", help="find clips in the media index by a plain-language request and/or explicit filters",
        description='Examples: hb-clips find "d-zone exits from WSH vs NYR"; '
                    'hb-clips find --player Ovi --event shift --last-games 5 --json',
    )
    p.add_argument("request", nargs="*", help='a request in plain hockey language, e.g. "my shifts from the last five games"')
    p.add_argument("--player", action="append", help="player id, name or alias (repeatable; commas allowed)")
    p.add_argument("--team", action="append", help="the acting player's team: tricode, name or nickname")
    p.add_argument("--opponent", action="append", help="the other team")
    p.add_argument("--game", action="append", help="game id")
    p.add_argument("--event", action="append", help="event type (zone_exit, goal, shift, ...; plurals and synonyms too)")
    p.add_argument("--period", action="append", help="1, 2, 3 or OT")
    p.add_argument("--zone", action="append", help="O, D or N (or offensive, defensive, neutral)")
    p.add_argument("--strength", action="append", help="5v5, PP, PK, 4v4, 3v3, EN")
    p.add_argument("--outcome", action="append", help="outcome tag, e.g. controlled, failed, won")
    p.add_argument("--since", help="games on or after YYYY-MM-DD")
    p.add_argument("--until", help="games on or before YYYY-MM-DD")
    p.add_argument("--last-games", type=int, help="only the last N games (schedule.csv) of the team or player")
    p.add_argument("--last-games-of", help="whose last games: a team or a player (default: the one team or player named)")
    p.add_argument("--newest-first", action="store_true", help="most recent game first")
    p.add_argument("--limit", type=int, help=f"page size (default {DEFAULT_LIMIT}, at most {MAX_LIMIT}); with --export, at most that many clips")
    p.add_argument("--offset", type=int, default=0, help="skip this many results (the next page)")
    p.add_argument("--after", help="the page after this cursor (printed under a page; as fast on page 1,000 as on page 2)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--export", choices=["sportscode", "otio"], help="write every matching clip as a playlist to --out")
    p.add_argument("--out", help="file the export is written to")
    p.add_argument("--timeline", choices=["source", "playlist"],
                   help="Sportscode times: in each period video (source, the default) or clips end to end (playlist)")
    p.add_argument("--reel-url", metavar="URL",
                   help="with --export: reference this HLS reel of the same request (GET /api/v2/clips/reel.m3u8) "
                        "instead of each clip's MP4; lists the clips it plays, at their places in it")
    p.add_argument("--user-player", help=f"the player 'my' means (default ${USER_PLAYER_ENV})")
    p.add_argument("--data-root", help="data root with schedule.csv and roster.csv (default $HB_DATA_ROOT)")
    p.add_argument("--db-url", help="media index URL (default $HB_MEDIA_DB_URL)")
    p.add_argument("--store-url", help="object store (default $HB_STORE_URL)")
    p.set_defaults(func=cmd_find)

    p = sub.add_parser("serve", help="serve the clip room (/) and the REST API (FastAPI + uvicorn): /api/v2/clips/ ...")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--log-level", default="info")
    p.add_argument("--data-root", help="data root with schedule.csv and roster.csv (default $HB_DATA_ROOT)")
    p.add_argument("--db-url", help="media index URL (default $HB_MEDIA_DB_URL)")
    p.add_argument("--store-url", help="object store (default $HB_STORE_URL)")
    p.set_defaults(func=cmd_serve)

