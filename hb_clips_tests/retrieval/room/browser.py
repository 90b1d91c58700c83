"""Driving the clip room in Chromium (Playwright), with every request off this machine refused.

Each test gets its own context and page; every request that does not go to
127.0.0.1 is aborted and remembered, and the test fails if there was one (a
CDN font, a script, a docs bundle would show up here).
"""
from __future__ import annotations

import base64
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest

from hb_clips_assets.video.framemark import read_frame_mark

CHROMIUM = Path("/usr/bin/chromium")
LOCAL_HOSTS = {"127.0.0.1"}
# Every URL that is not this machine's (matched in Playwright's driver: requests to 127.0.0.1 never take a
# round trip through the test process; data: and blob: URLs are not requests).
OFF_HOST = re.compile(r"^(?!https?://127\.0\.0\.1[:/])")


def chromium_or_skip() -> Path:
    """Chromium's path; without it the tests skip, or fail where servers are required (CI)."""
    problem = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problem = "playwright is not installed (pip install -e '.[test]')"
    if problem is None and not CHROMIUM.exists():
        problem = f"Chromium is not at {CHROMIUM} (apt-get install chromium)"
    if problem is not None:
        if os.environ.get("HB_REQUIRE_SERVERS") == "1":
            pytest.fail(f"the clip room's browser tests need a browser: {problem}")
        pytest.skip(problem)
    return CHROMIUM


@dataclass
class OffHost:
    refused: list[str] = field(default_factory=list)

    def route(self, route) -> None:
        url = route.request.url
        if urlsplit(url).hostname in LOCAL_HOSTS:  # not matched by OFF_HOST; kept in case
            route.fallback()
        else:
            self.refused.append(url)
            route.abort("blockedbyclient")


# Draws the active <video>'s current frame on a canvas and returns its luma (BT.709, limited range, as the
# frame mark was drawn), base64.
GRAB_LUMA = """() => {
  const v = document.querySelector('video.active');
  const c = document.createElement('canvas'); c.width = v.videoWidth; c.height = v.videoHeight;
  const g = c.getContext('2d'); g.drawImage(v, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data, y = new Uint8Array(d.length / 4);
  for (let i = 0; i < y.length; i++) y[i] = Math.round(16 + (0.2126 * d[4*i] + 0.7152 * d[4*i+1] + 0.0722 * d[4*i+2]) * 219 / 255);
  let s = ''; for (let i = 0; i < y.length; i += 8192) s += String.fromCharCode.apply(null, y.subarray(i, i + 8192));
  return [c.width, c.height, btoa(s)];
}"""

# Resolves once the active video has finished seeking and painted the frame it shows.
SETTLED = """() => new Promise((resolve) => {
  const v = document.querySelector('video.active');
  const done = () => requestAnimationFrame(() => requestAnimationFrame(() => resolve(v.currentTime)));
  if (v.seeking || v.readyState < 2) v.addEventListener('seeked', done, { once: true }); else done();
})"""


# A browser without HLS of its own (recent Chromium has it); with hls.js's file refused, reels play clip by clip.
NO_NATIVE_HLS = """(() => { const can = HTMLMediaElement.prototype.canPlayType;
  HTMLMediaElement.prototype.canPlayType = function (type) { return /mpegurl/i.test(type) ? "" : can.call(this, type); };
})()"""


def mp4_reels_only(page) -> None:
    page.route("**/room/vendor/hls.min.mjs", lambda route: route.fulfill(status=404, body="not here"))
    page.add_init_script(NO_NATIVE_HLS)


def wait_for(page, expression: str, timeout_s: float = 15.0):
    """Poll a JavaScript expression until it is truthy; its value. (``page.wait_for_function`` evaluates
    its predicate with ``eval``, which the room's Content-Security-Policy refuses, rightly.)"""
    deadline = time.monotonic() + timeout_s
    while True:
        value = page.evaluate(f"() => ({expression})")
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout_s} s: {expression}")
        time.sleep(0.05)


def shown_frame_mark(page) -> int:
    """The frame index marked in the picture the page shows (decoded with the framemark reader)."""
    page.evaluate(SETTLED)
    width, height, data = page.evaluate(GRAB_LUMA)
    return read_frame_mark(np.frombuffer(base64.b64decode(data), np.uint8).reshape(height, width))


def sign_in(page, base: str, key: str, path: str = "/") -> None:
    page.goto(base + path)
    page.fill("#key", key)
    page.press("#key", "Enter")
    page.wait_for_selector("body[data-ready]")
    settle_search(page)


def settle_search(page) -> None:
    wait_for(page, "!document.body.dataset.searching")


def card_ids(page) -> list[str]:
    return page.eval_on_selector_all("#results li", "els => els.map(e => e.dataset.clipId)")
