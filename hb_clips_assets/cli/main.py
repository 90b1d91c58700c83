"""`hb-clips`: the one command line; its commands live in :mod:`.pipeline` and :mod:`.retrieval`."""
from __future__ import annotations

import argparse
import sys

from hb_clips_assets.cli.pipeline import add_pipeline_commands
from hb_clips_assets.cli.retrieval import add_retrieval_commands


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hb-clips", description="Hockey video clips as Dagster assets.")
    sub = parser.add_subparsers(dest="command", required=True)
    add_pipeline_commands(sub)  # sample-data, run, db
    add_retrieval_commands(sub)  # find, serve
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
