"""`hb-clips sample-data`, `run` and `db`: writing inputs, materializing them, the index schema.

`run` goes through the same Dagster definitions the UI uses; that module is
imported when the command runs, so the read-side commands never load Dagster.
"""
from __future__ import annotations

import os
import sys
from fractions import Fraction
from pathlib import Path

from hb_clips_assets.domain.contract import ContractError, validate_game_id
from hb_clips_assets.domain.layout import DataRoot, data_root_problem
from hb_clips_assets.settings import SETTINGS, raw as _setting
from hb_clips_assets.storage.index.db import redact_url, redact_url_in
from hb_clips_assets.video.ffmpeg_words import plain_text

# `hb-clips run` exit codes. 3 is not a failure of a partition: every partition ran and what could be cut
# is indexed and findable, but some clip is missing (set aside) or an ERROR-severity check failed.
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3
SET_ASIDE_HINT = ("check the video at those frames (ffmpeg -v error -i FILE -f null - names damaged packets), "
                  "replace it, and run again: the clips already stored are not cut again")


def cmd_sample_data(args) -> int:
    from hb_clips_assets.sample import write_sample_data

    write_sample_data(
        Path(args.dir), period_seconds=args.period_seconds, width=args.width, height=args.height,
        fps=Fraction(args.fps), games=args.game,
    )
    print(f"sample data root written to {Path(args.dir).resolve()}")
    return 0


def cmd_run(args) -> int:
    from hb_clips_assets.defs.runner import plan_partitions, run_partitions

    data_root = Path(args.data_root or _setting("HB_DATA_ROOT")).resolve()
    problem = data_root_problem(data_root)
    if problem is not None:
        hint = f" (run `hb-clips sample-data {data_root}` first)" if problem == "does not exist" else ""
        print(f"error: data root {data_root} {problem}{hint}", file=sys.stderr)
        return EXIT_USAGE
    os.environ["HB_DATA_ROOT"] = str(data_root)  # the resources read it, in this process and in the UI's
    try:
        games = [validate_game_id(g) for g in args.game] if args.game else None
    except ContractError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if games is None:
        games = DataRoot(data_root).games()
    pairs = plan_partitions(data_root, games, lambda msg: print(f"warning: {msg}", file=sys.stderr))
    if not pairs:
        print(f"error: nothing to do: no game under {data_root} has both metrics and a period video", file=sys.stderr)
        return EXIT_USAGE
    print(f"data root {data_root}: {len(pairs)} game x period partitions to materialize")
    outcomes = run_partitions(pairs, log_level="WARNING" if args.quiet else "INFO", accept_removals=args.accept_removals)
    _print_summary(outcomes)
    if not all(o.success for o in outcomes):
        return EXIT_FAILED
    return EXIT_OK if all(o.complete for o in outcomes) else EXIT_INCOMPLETE


def _print_summary(outcomes) -> None:
    header = (f"{'game':<10} {'period':<6} {'status':<7} {'clips':>5} {'cut':>4} {'cached':>6} {'rejected':>8} "
              f"{'aside':>5} {'seconds':>8}")
    print("\nsummary\n" + header + "\n" + "-" * len(header))
    without_period: dict[str, int] = {}
    for o in outcomes:
        # rows with no readable period are listed in every period: count them once per game
        without_period[o.game_id] = o.rejected_without_period
        status = "FAILED" if not o.success else "ok" if o.complete else "marked"
        print(
            f"{o.game_id:<10} {o.period:<6} {status:<7} {o.clips:>5} "
            f"{o.clips_cut:>4} {o.clips_cached:>6} {o.rejected_rows:>8} {o.clips_set_aside:>5} {o.seconds:>8.1f}"
        )
    for game_id, count in without_period.items():
        if count:
            print(f"game {game_id}: {count} more row(s) rejected with no readable period (listed in each period's metadata)")
    for o in outcomes:
        if not o.success:
            print(f"\ngame {o.game_id} period {o.period} failed: {plain_text(o.error or 'failed')}")
            if o.hint:
                print(f"  what to do: {o.hint}")
            continue
        _print_marks(o)
    print(
        f"\nclips and thumbnails: {Path(_setting('HB_STORE_URL')).resolve() if '://' not in _setting('HB_STORE_URL') else _setting('HB_STORE_URL')}"
        f"\nmedia index:          {redact_url(_setting('HB_MEDIA_DB_URL'))}"
        f"\nDagster instance:     {os.environ['DAGSTER_HOME']}  (open the UI: DAGSTER_HOME={os.environ['DAGSTER_HOME']} dagster dev)"
    )


def _print_marks(o) -> None:
    """A partition that ran but is marked: its set-aside clips (one line each) and its failed checks."""
    if o.clips_set_aside:
        print(f"\ngame {o.game_id} period {o.period}: {o.clips_set_aside} clip(s) could not be cut and were set aside; "
              f"the other {o.clips} clip(s) are indexed and findable")
        for r in o.set_aside:
            print(f"  event {r['event_id']} (frames {r['start_frame']}-{r['end_frame']}, event frame {r['event_frame']}): "
                  f"{plain_text(str(r['reason']))}; indexed clip: {r['indexed_clip']}")
        if o.clips_set_aside > len(o.set_aside):
            print(f"  and {o.clips_set_aside - len(o.set_aside)} more (the clips materialization lists them)")
        print(f"  what to do: {SET_ASIDE_HINT}")
    others = {name: text for name, text in o.failed_checks.items() if not (o.clips_set_aside and name == "clips_all_cut")}
    for name, text in others.items():
        print(f"game {o.game_id} period {o.period}: check {name} failed: {plain_text(str(text))}")


def cmd_db(args) -> int:
    """`hb-clips db upgrade|current`: the media schema's Alembic migrations."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from hb_clips_assets.storage.index.db import create_media_engine, create_schema
    from hb_clips_assets.storage.index.migrate import current, head_revision

    url = args.url or _setting("HB_MEDIA_DB_URL")
    try:
        shown = make_url(url).render_as_string(hide_password=True)
        engine = create_media_engine(url)
    except (ArgumentError, ValueError, ImportError) as exc:
        print(f"error: media index URL {redact_url(url)!r}: {redact_url_in(str(exc), url)}", file=sys.stderr)
        return 2
    head = head_revision()
    try:
        before = current(engine)
        if args.db_command == "current":
            if before == head:
                print(f"{shown}: {before} (head)")
                return 0
            print(f"{shown}: {before or 'none (empty)'}; head is {head}: run `hb-clips db upgrade`")
            return 1
        create_schema(engine)  # the same path MediaIndex takes: migrations to head, locked
        after = current(engine)
    except SQLAlchemyError as exc:
        print(f"error: media index {shown}: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    if before == after:
        print(f"{shown}: already at {after} (head)")
    else:
        print(f"{shown}: upgraded from {before or 'empty'} to {after} (head)")
    return 0


def add_pipeline_commands(sub) -> None:
    p = sub.add_parser("sample-data", help="write a realistic sample data root (CSVs and generated period videos)")
    p.add_argument("dir", help="folder to write (e.g. ./data)")
    p.add_argument("--period-seconds", type=float, default=120.0, help="length of each period video (default 120)")
    p.add_argument("--width", type=int, default=1280)
    p.add_argument("--height", type=int, default=720)
    p.add_argument("--fps", default="60000/1001", help="frame rate as a fraction (default 60000/1001)")
    p.add_argument("--game", action="append", choices=["20031", "20038"], help="only this sample game (repeatable)")
    p.set_defaults(func=cmd_sample_data)

    p = sub.add_parser(
        "run", help="materialize every game x period partition found under the data root",
        epilog="exit status: 0 every partition complete; 1 a partition failed (nothing of it indexed by this run); "
        "2 bad arguments; 3 every partition ran, but some clip could not be cut (set aside: the others are indexed) "
        "or an ERROR-severity asset check failed",
    )
    p.add_argument("--data-root", help=f"data root (default $HB_DATA_ROOT or {SETTINGS['HB_DATA_ROOT'].default})")
    p.add_argument("--game", action="append", help="only this game (repeatable)")
    p.add_argument("--quiet", action="store_true", help="only warnings from Dagster's own log")
    p.add_argument("--accept-removals", action="store_true",
                   help="index new inputs even where they remove most or all of a period's indexed clips "
                   "(refused otherwise, so a bad re-export cannot empty the index)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("db", help="media index schema: apply or check the Alembic migrations")
    db_sub = p.add_subparsers(dest="db_command", required=True)
    for name, text in (("upgrade", "apply every pending migration (creates the media schema on an empty database)"),
                       ("current", "print the applied revision; exit 1 if it is not the newest")):
        q = db_sub.add_parser(name, help=text)
        q.add_argument("--url", help=f"SQLAlchemy URL (default $HB_MEDIA_DB_URL or {SETTINGS['HB_MEDIA_DB_URL'].default})")
        q.set_defaults(func=cmd_db)
