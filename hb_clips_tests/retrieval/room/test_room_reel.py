"""The clip room's reel in Chromium: "play all" as one HLS stream through hls.js (the key in a header, never
in a URL), across clip boundaries, the clip on screen following the stream and its picture that clip's
frame; clip by clip (each MP4) when hls.js is not there or the reel cannot be had, and the page says so."""
from __future__ import annotations

import os
from fractions import Fraction

import pytest

from hb_clips_assets.retrieval.room import STATIC
from hb_clips_tests.retrieval.room.browser import NO_NATIVE_HLS, card_ids, shown_frame_mark, sign_in, wait_for
from hb_clips_tests.retrieval.room.server import ADMIN, CHI_COACH

ACTIVE = "document.querySelector('video.active')"
PANEL = "document.querySelector('#player-panel').dataset.clipId"
CURRENT = "(document.querySelector('#results li.current') || {dataset: {}}).dataset.clipId"
HLS_JS = STATIC / "vendor" / "hls.min.mjs"


@pytest.fixture
def hls_js():
    if not HLS_JS.exists():
        problem = f"{HLS_JS} is missing (make install copies it from the npm registry's hls.js)"
        if os.environ.get("HB_REQUIRE_SERVERS") == "1":
            pytest.fail(problem)
        pytest.skip(problem)


def clip_ends(server, ids: list[str]) -> list[float]:
    """Where each clip ends in the reel, in seconds: the sum of the clips' frames / fps."""
    ends, at = [], Fraction(0)
    for clip_id in ids:
        c = server["api"].get(f"/api/v2/clips/{clip_id}").json()
        at += Fraction((c["end_frame"] - c["start_frame"]) * c["fps_den"], c["fps_num"])
        ends.append(float(at))
    return ends


def test_play_all_is_one_hls_stream_across_clip_boundaries(room_server, context, hls_js):
    page = context.new_page()
    asked = []
    page.on("request", lambda r: asked.append((r.url, r.all_headers())) if "/api/v2/" in r.url else None)
    sign_in(page, room_server["base"], ADMIN, path="/?team=WSH")
    ids = card_ids(page)
    assert len(ids) >= 3
    wait_for(page, "document.body.dataset.reelMode === 'hls.js'")
    assert page.inner_text("#reel-mode").startswith("Reel: one HLS stream (hls.js 1.")
    page.click("#play-all")
    wait_for(page, f"{PANEL} === {ids[0]!r}")
    src = page.evaluate(f"{ACTIVE}.src")
    assert src.startswith("blob:")  # Media Source Extensions, not a clip's MP4
    ends = clip_ends(room_server, ids[:3])
    # the stream plays on by itself past the first clip's end and the second's; the page follows it
    wait_for(page, f"{ACTIVE}.currentTime > {ends[0] + 0.05} && {PANEL} === {ids[1]!r}")
    assert page.evaluate(CURRENT) == ids[1] and page.evaluate("document.body.dataset.reel") == f"2/{len(ids)}"
    wait_for(page, f"{ACTIVE}.currentTime > {ends[1] + 0.05} && {PANEL} === {ids[2]!r}", timeout_s=20)
    assert page.evaluate(CURRENT) == ids[2]
    # previous (at a quarter speed, to look at it): a seek inside the same stream, to the second clip, whose
    # picture it then shows, frame by frame
    page.keyboard.press("1")
    page.click("#prev-clip")
    wait_for(page, f"{PANEL} === {ids[1]!r} && {ACTIVE}.currentTime < {ends[1]}")
    page.keyboard.press("e")  # paused, on the event frame (inside the clip, past the join)
    second = room_server["api"].get(f"/api/v2/clips/{ids[1]}").json()
    marks = []
    for key in ("", ".", "."):
        if key:
            page.keyboard.press(key)
        assert ends[0] < page.evaluate(f"{ACTIVE}.currentTime") < ends[1]
        marks.append(shown_frame_mark(page))
    assert second["start_frame"] <= marks[0] and marks[-1] < second["end_frame"], (marks, second["start_frame"])
    # the stream shows each clip a few frames later than the playlist's durations say (see the report)
    assert abs(marks[0] - second["event_frame"]) <= 4, (marks, second["event_frame"])
    assert marks == [marks[0], marks[0] + 1, marks[0] + 2]
    assert page.evaluate(f"{ACTIVE}.src") == src and page.evaluate(CURRENT) == ids[1]
    # the playlist came with the key in a header; no URL the page asked for holds it
    reels = [h for url, h in asked if "/clips/reel.m3u8" in url]
    assert reels and all(h.get("x-api-key") == ADMIN for h in reels)
    assert not any(ADMIN in url for url, _ in asked)


def test_a_coach_keys_reel_holds_its_teams_clips_only(room_server, context, hls_js):
    page = context.new_page()
    sign_in(page, room_server["base"], CHI_COACH)
    ids = card_ids(page)
    wait_for(page, "document.body.dataset.reelMode === 'hls.js'")
    page.click("#play-all")
    wait_for(page, f"{PANEL} === {ids[0]!r}")
    assert page.evaluate("document.body.dataset.reel") == f"1/{len(ids)}"  # the reel: the coach's clips


def test_without_hls_js_the_reel_plays_clip_by_clip_and_says_so(room_server, context):
    page = context.new_page()
    page.route("**/room/vendor/hls.min.mjs", lambda route: route.fulfill(status=404, body="not here"))
    page.add_init_script(NO_NATIVE_HLS)  # recent Chromium plays HLS itself: here, a browser that does not
    sign_in(page, room_server["base"], ADMIN, path="/?team=WSH")
    ids = card_ids(page)
    wait_for(page, "document.body.dataset.reelMode === 'mp4'")
    assert page.inner_text("#reel-mode") == "Reel: clip by clip (MP4): hls.js is not installed"
    page.click("#play-all")
    wait_for(page, f"{PANEL} === {ids[1]!r} && {ACTIVE}.currentTime > 0.05", timeout_s=20)
    assert ".mp4?" in page.evaluate(f"{ACTIVE}.src") and page.evaluate(CURRENT) == ids[1]


def test_a_reel_the_server_refuses_is_a_message_and_plays_clip_by_clip(room_server, context, hls_js):
    page = context.new_page()
    page.route("**/api/v2/clips/reel.m3u8*", lambda route: route.fulfill(
        status=404, json={"detail": "no clip of the result has an HLS rendition yet"}))
    sign_in(page, room_server["base"], ADMIN, path="/?team=WSH")
    ids = card_ids(page)
    wait_for(page, "document.body.dataset.reelMode === 'hls.js'")
    page.click("#play-all")
    page.wait_for_selector(".message.error:has-text('The reel plays clip by clip: Not found: "
                           "no clip of the result has an HLS rendition yet')")
    assert page.inner_text("#reel-mode") == "Reel: clip by clip (MP4): the HLS reel did not play"
    wait_for(page, f"{PANEL} === {ids[1]!r} && {ACTIVE}.currentTime > 0.05", timeout_s=20)
    assert ".mp4?" in page.evaluate(f"{ACTIVE}.src")
