"""Shared fixtures: small generated videos, made once per test session."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from hb_clips_assets.sample import write_marked_video


@pytest.fixture(scope="session")
def video_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("videos")


@pytest.fixture(scope="session")
def src_5994(video_dir) -> Path:
    """6 s, 320x180, 59.94 fps, H.264 High with 3 B-frames, keyframe every 120 frames, AAC."""
    return write_marked_video(video_dir / "src_5994.mp4", 360, Fraction(60000, 1001))


@pytest.fixture(scope="session")
def src_25_silent(video_dir) -> Path:
    """6 s at 25 fps, no audio, keyframe every 50 frames."""
    return write_marked_video(video_dir / "src_25.mp4", 150, Fraction(25), audio=False)


@pytest.fixture(scope="session")
def src_open_gop(video_dir) -> Path:
    """59.94 fps with open GOPs: the I-frames after the first are not IDRs."""
    return write_marked_video(video_dir / "src_open_gop.mp4", 360, Fraction(60000, 1001), open_gop=True)


# ------------------------------------------------------------------------------------------------ markers
# One place says which tests are slow and which talk to servers, so `pytest -m "not slow"` is the inner
# loop (seconds to a couple of minutes) while `make test` still runs everything.
# slow: real Dagster instances/daemons/webservers, OS-process fault injection, Celery, fuzzing, a browser.
SLOW_PATHS = (
    "faults/",
    "defs/test_daemon_e2e.py",
    "defs/test_celery.py",
    "defs/test_dagster_postgres.py",
    "defs/test_graphql.py",
    "retrieval/api/test_fuzz.py",
    "retrieval/room/test_room_browser.py",  # Chromium against a real `hb-clips serve` (about a minute)
)
# server: a real PostgreSQL, fake-gcs-server or RabbitMQ (see servers/; CI requires them).
SERVER_FIXTURES = {"postgres_server", "postgres_url", "private_postgres", "fake_gcs", "gcs_bucket"}
SERVER_PATHS = ("defs/test_celery.py", "defs/test_dagster_postgres.py", "storage/index/test_postgres.py")


def pytest_collection_modifyitems(config, items):
    root = Path(__file__).resolve().parent
    for item in items:
        rel = Path(str(item.fspath)).resolve().relative_to(root).as_posix()
        if rel.startswith(SLOW_PATHS):
            item.add_marker(pytest.mark.slow)
        if rel.startswith(SERVER_PATHS) or SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.server)
