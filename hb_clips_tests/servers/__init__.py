"""Real servers for the tests (PostgreSQL, fake-gcs-server): fixtures that reach
or start them, and skip - or fail, in CI - when they are not there.

``HB_REQUIRE_SERVERS=1`` (set by ``.ci/run``) turns every "server not
available" skip into a failure, so that these tests can never be skipped in CI.
"""
from __future__ import annotations

import os

import pytest

REQUIRE_ENV = "HB_REQUIRE_SERVERS"


def servers_required() -> bool:
    return os.environ.get(REQUIRE_ENV, "").strip().lower() in ("1", "true", "yes")


def unavailable(message: str) -> None:
    """Skip the test saying what is missing and what to start; fail instead under HB_REQUIRE_SERVERS=1."""
    if servers_required():
        pytest.fail(f"{message} ({REQUIRE_ENV}=1: servers are required, so this fails instead of skipping)",
                    pytrace=False)
    pytest.skip(message)
