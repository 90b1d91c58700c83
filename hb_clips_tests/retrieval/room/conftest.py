"""The clip room's fixtures: the cut sample, one real `hb-clips serve`, one Chromium; screenshots reported."""
from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from hb_clips_tests.retrieval.room.browser import OFF_HOST, OffHost, chromium_or_skip
from hb_clips_tests.retrieval.room.sample import cut_sample
from hb_clips_tests.retrieval.room.server import ADMIN, serve_process

_SCREENSHOTS: list[Path] = []


@pytest.fixture(scope="session")
def room_sample(tmp_path_factory):
    return cut_sample(tmp_path_factory.mktemp("room-sample"))


@pytest.fixture(scope="module")
def room_server(room_sample, tmp_path_factory):
    log = tmp_path_factory.mktemp("room-server") / "serve.log"
    with serve_process(room_sample.data, room_sample.store, room_sample.db_url, log) as base:
        with httpx.Client(base_url=base, timeout=20, headers={"X-API-Key": ADMIN}) as api:
            yield {"base": base, "api": api, "sample": room_sample, "log": log}


@pytest.fixture(scope="module")
def chromium():
    path = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(path), args=["--no-sandbox", "--mute-audio"])
        yield browser
        browser.close()


@pytest.fixture
def context(chromium):
    """A fresh browser context; every request not to 127.0.0.1 is refused, and none may be made."""
    off_host = OffHost()
    ctx = chromium.new_context(viewport={"width": 1280, "height": 860}, accept_downloads=True)
    ctx.route(OFF_HOST, off_host.route)
    ctx.off_host = off_host
    yield ctx
    ctx.close()
    assert off_host.refused == [], f"the page asked for something off this machine: {off_host.refused}"


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Screenshots for a person to look at, in the project's var/ (ignored by git; pytest's temporary
    folders are removed after a few runs). The folder is printed at the end of the run."""
    folder = Path(__file__).resolve().parents[3] / "var" / "test-screenshots" / "clip-room"
    folder.mkdir(parents=True, exist_ok=True)
    _SCREENSHOTS.append(folder)
    return folder


def pytest_terminal_summary(terminalreporter):
    for folder in _SCREENSHOTS:
        shots = sorted(p.name for p in folder.glob("*.png"))
        if shots:
            terminalreporter.write_sep("-", "clip room screenshots")
            terminalreporter.write_line(f"{folder}: {', '.join(shots)}")
