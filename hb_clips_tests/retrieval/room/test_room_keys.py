"""The clip room's coach keys and "take it away" in Chromium, against a real `hb-clips serve` over real cut
clips (every request off 127.0.0.1 refused, as in the other room modules).

As keys.js and player.js implement them: K pauses (on a whole frame); L plays when paused and, playing,
doubles the speed (at most 2x); J goes back one second (round(fps) frames, never before the clip's first)
and pauses; 1 2 3 and the speed buttons set 0.25x / 0.5x / 1x, a speed the next clip and the HLS reel
keep; R and the Loop button loop the clip: it starts again at its end, alone or in a reel (MP4 clip by
clip, or the HLS stream), instead of going on to the next. The MP4 link downloads the clip's own MP4;
"Copy link" puts a link on the clipboard that, opened in another tab of the same browser (signed in with
the same key), shows that clip.
What is checked is what the page shows: the <video>'s playbackRate, paused and currentTime, the frame mark
in its picture, the clip it names, the file a download saves, the text on the clipboard.
"""
from __future__ import annotations

import io
import os
import time
from urllib.parse import parse_qs, urlsplit

import av
import httpx
import pytest

from hb_clips_assets.retrieval.room import STATIC
from hb_clips_tests.retrieval.room.browser import card_ids, mp4_reels_only, shown_frame_mark, sign_in, wait_for
from hb_clips_tests.retrieval.room.server import ADMIN

ACTIVE = "document.querySelector('video.active')"
PANEL = "document.querySelector('#player-panel').dataset.clipId"
CURRENT = "(document.querySelector('#results li.current') || {dataset: {}}).dataset.clipId"
HLS_JS = STATIC / "vendor" / "hls.min.mjs"


def api_clip(server, clip_id: str) -> dict:
    r = server["api"].get(f"/api/v2/clips/{clip_id}")
    assert r.status_code == 200, r.text
    return r.json()


def video(page, *props: str):
    values = page.evaluate(f"[{', '.join(f'{ACTIVE}.{p}' for p in props)}]")
    return values[0] if len(values) == 1 else values


def open_clip(page, n: int = 1) -> None:
    """Click the n-th card; wait until its clip plays."""
    page.click(f"#results li:nth-child({n}) button")
    wait_for(page, f"{PANEL} === {CURRENT} && !{ACTIVE}.paused && {ACTIVE}.currentTime > 0.05")


def frame_of(page) -> int:
    return int(page.get_attribute("#readout", "data-frame"))


def pressed_speeds(page) -> list[str]:
    return page.eval_on_selector_all("[data-speed][aria-pressed=true]", "els => els.map(e => e.dataset.speed)")


def test_k_pauses_l_plays_then_doubles_the_speed_j_goes_back_a_second(room_server, context):
    page = context.new_page()
    sign_in(page, room_server["base"], ADMIN)
    clip = api_clip(room_server, card_ids(page)[0])
    fps = clip["fps_num"] / clip["fps_den"]
    frames, second = clip["end_frame"] - clip["start_frame"], round(fps)
    assert frames > second + 6  # room to go back a second from the end and land inside the clip
    open_clip(page)
    # K: paused, on a whole frame (the middle of the one the readout names), and it stays there
    page.keyboard.press("k")
    paused_at = video(page, "currentTime")
    assert video(page, "paused") is True
    assert paused_at == pytest.approx((frame_of(page) + 0.5) / fps, abs=1e-3)
    page.wait_for_timeout(300)
    assert video(page, "currentTime") == paused_at
    # L, paused: plays on from there (forwards), at the speed it had
    page.keyboard.press("l")
    wait_for(page, f"!{ACTIVE}.paused && {ACTIVE}.currentTime > {paused_at + 2 / fps}")
    assert video(page, "playbackRate") == 1
    # L, playing: twice as fast, at most 2x
    page.keyboard.press("l")
    assert video(page, "playbackRate", "paused") == [2, False] and page.inner_text("#rate") == "2×"
    page.keyboard.press("l")
    assert video(page, "playbackRate") == 2
    page.keyboard.press("k")
    assert video(page, "paused") is True
    # J, paused: one second back (the picture shows that frame); again: not before the clip's first frame
    page.keyboard.press("End")
    assert shown_frame_mark(page) == clip["end_frame"] - 1
    page.keyboard.press("j")
    assert video(page, "paused") is True and frame_of(page) == frames - 1 - second
    assert shown_frame_mark(page) == clip["end_frame"] - 1 - second
    page.keyboard.press("j")
    assert frame_of(page) == 0 and shown_frame_mark(page) == clip["start_frame"]
    # J, playing (at a quarter speed, near the end): it pauses, a second before where it was
    page.keyboard.press("End")
    for _ in range(5):
        page.keyboard.press(",")
    page.keyboard.press("1")
    page.keyboard.press("l")
    assert video(page, "playbackRate") == 0.25  # L from paused plays at the speed set, not twice it
    wait_for(page, f"{ACTIVE}.currentTime > {(frames - 5 + 0.5) / fps + 0.5 / fps}")
    page.keyboard.press("j")
    assert video(page, "paused") is True
    landed = frame_of(page)
    assert frames - 5 - second <= landed <= frames - 1 - second, landed
    assert shown_frame_mark(page) == clip["start_frame"] + landed


def test_speeds_by_key_and_by_button_govern_playback_and_the_next_clip_keeps_them(room_server, context):
    page = context.new_page()
    sign_in(page, room_server["base"], ADMIN)
    ids = card_ids(page)
    open_clip(page)
    for key, rate in (("1", 0.25), ("2", 0.5), ("3", 1), ("2", 0.5)):
        page.keyboard.press(key)
        assert video(page, "playbackRate") == rate, key
        assert pressed_speeds(page) == [str(rate).removesuffix(".0")] and page.inner_text("#rate") == f"{rate:g}×"
    for speed in ("0.25", "1", "0.5"):
        page.click(f"[data-speed='{speed}']")
        assert video(page, "playbackRate") == float(speed) and pressed_speeds(page) == [speed]
    # the speed is the speed the picture moves at: a clip's second takes two at 0.5x, four at 0.25x
    for speed, rate in (("0.5", 0.5), ("0.25", 0.25)):
        page.click(f"[data-speed='{speed}']")  # the button keeps the focus: space is still play / pause
        page.keyboard.press("Home")
        page.keyboard.press(" ")
        assert video(page, "paused", "playbackRate") == [False, rate]
        wait_for(page, f"{ACTIVE}.currentTime > 0.05")
        t0, w0 = video(page, "currentTime"), time.monotonic()
        page.wait_for_timeout(700)
        t1, w1 = video(page, "currentTime"), time.monotonic()
        assert (t1 - t0) / (w1 - w0) == pytest.approx(rate, rel=0.45), (speed, t0, t1, w1 - w0)
    # the next clip (N) plays at the speed chosen, its button still the pressed one
    page.keyboard.press("n")
    wait_for(page, f"{PANEL} === {ids[1]!r} && {ACTIVE}.currentTime > 0.02")
    assert video(page, "playbackRate", "paused") == [0.25, False] and pressed_speeds(page) == ["0.25"]


def _loops(page, clip_id: str, start: float, end: float) -> None:
    """The active video reaches the clip's end, then starts it again, playing, the page on the same clip."""
    wait_for(page, f"{ACTIVE}.currentTime > {end - 0.3}", timeout_s=20)
    wrapped = wait_for(page, f"({ACTIVE}.currentTime < {start + 0.3} || {PANEL} !== {clip_id!r}) && "
                             f"[{ACTIVE}.currentTime, {PANEL}, {CURRENT}, {ACTIVE}.paused]", timeout_s=20)
    assert wrapped[1:] == [clip_id, clip_id, False], wrapped
    assert start <= wrapped[0] < start + 0.3


def test_loop_starts_the_clip_again_at_its_end_and_stays_on_it(room_server, context):
    page = context.new_page()
    sign_in(page, room_server["base"], ADMIN)
    ids = card_ids(page)
    open_clip(page, 2)
    page.keyboard.press("r")
    assert video(page, "loop") is True and page.get_attribute("#loop", "aria-pressed") == "true"
    duration = video(page, "duration")
    for _ in range(2):
        _loops(page, ids[1], 0, duration)
    assert parse_qs(urlsplit(page.url).query)["clip"] == [ids[1]]
    # the Loop button turns it off: the clip plays to its end and stops there
    page.click("#loop")
    assert video(page, "loop") is False and page.get_attribute("#loop", "aria-pressed") == "false"
    wait_for(page, f"{ACTIVE}.ended", timeout_s=10)
    assert video(page, "paused") is True and page.evaluate(PANEL) == ids[1]


def test_a_looped_clip_in_a_clip_by_clip_reel_replays_instead_of_advancing(room_server, context):
    page = context.new_page()
    mp4_reels_only(page)
    sign_in(page, room_server["base"], ADMIN, path="/?team=WSH")
    ids = card_ids(page)
    wait_for(page, "document.body.dataset.reelMode === 'mp4'")
    page.click("#play-all")
    wait_for(page, f"{PANEL} === {ids[0]!r} && {ACTIVE}.currentTime > 0.05")
    page.click("#loop")  # by the button
    assert video(page, "loop") is True
    duration = video(page, "duration")
    _loops(page, ids[0], 0, duration)
    assert page.evaluate("document.body.dataset.reel") == f"1/{len(ids)}"
    page.keyboard.press("r")  # loop off: the reel goes on to the next clip
    wait_for(page, f"{PANEL} === {ids[1]!r} && {CURRENT} === {ids[1]!r}", timeout_s=10)
    assert page.evaluate("document.body.dataset.reel") == f"2/{len(ids)}"


def test_the_hls_reel_keeps_the_speed_chosen_and_replays_a_looped_clip_inside_the_stream(room_server, context):
    if not HLS_JS.exists():
        problem = f"{HLS_JS} is missing (make install copies it from the npm registry's hls.js)"
        if os.environ.get("HB_REQUIRE_SERVERS") == "1":
            pytest.fail(problem)
        pytest.skip(problem)
    page = context.new_page()
    sign_in(page, room_server["base"], ADMIN, path="/?team=WSH")
    ids = card_ids(page)
    wait_for(page, "document.body.dataset.reelMode === 'hls.js'")
    open_clip(page, 2)
    page.keyboard.press("2")  # half speed, chosen before "play all": the stream plays at it (the page says so)
    page.click("#play-all")
    wait_for(page, f"{PANEL} === {ids[0]!r} && {ACTIVE}.src.startsWith('blob:') && {ACTIVE}.currentTime > 0.05")
    assert video(page, "playbackRate") == 0.5 and page.inner_text("#rate") == "0.5×"
    page.keyboard.press("3")
    page.keyboard.press("r")
    clip = api_clip(room_server, ids[0])
    end = (clip["end_frame"] - clip["start_frame"]) * clip["fps_den"] / clip["fps_num"]
    _loops(page, ids[0], 0, end)
    assert page.evaluate(f"{ACTIVE}.src").startswith("blob:")  # still the one stream
    page.keyboard.press("r")
    wait_for(page, f"{PANEL} === {ids[1]!r} && {ACTIVE}.currentTime > {end}", timeout_s=10)


def test_the_mp4_link_downloads_the_clips_own_mp4(room_server, context):
    page = context.new_page()
    sign_in(page, room_server["base"], ADMIN, path="/?team=NYR")
    clip = api_clip(room_server, card_ids(page)[1])
    open_clip(page, 2)
    page.keyboard.press("k")
    with page.expect_download() as download:
        page.click("#download")
    saved = open(download.value.path(), "rb").read()
    assert download.value.suggested_filename == (
        f"{clip['event_type']}-{clip['game_id']}-P{clip['period']}-{clip['clip_id'][:8]}.mp4")
    served = httpx.get(clip["assets"]["mp4"]["url"])
    assert served.status_code == 200 and len(saved) == len(served.content) and saved == served.content
    with av.open(io.BytesIO(saved)) as mp4:
        decoded = sum(1 for _ in mp4.decode(video=0))
    assert decoded == clip["end_frame"] - clip["start_frame"]


def test_copy_link_puts_a_link_to_the_clip_on_the_clipboard_that_opens_it(room_server, context):
    base = room_server["base"]
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    page = context.new_page()
    sign_in(page, base, ADMIN, path="/?team=WSH")
    ids = card_ids(page)
    clip = api_clip(room_server, ids[2])
    open_clip(page, 3)
    page.evaluate("navigator.clipboard.writeText('')")
    page.click("#share")
    page.wait_for_selector(".message.info:has-text('copied')")
    link = page.evaluate("navigator.clipboard.readText()")
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}" == base and parts.path == "/"
    assert parse_qs(parts.query) == {"team": ["WSH"], "clip": [clip["clip_id"]]}
    # another tab of the same browser (its session storage is its own: signed in with the same key)
    other = context.new_page()
    sign_in(other, base, ADMIN, path=link.removeprefix(base))
    wait_for(other, f"{PANEL} === {clip['clip_id']!r} && {ACTIVE}.readyState >= 2")
    assert card_ids(other) == ids and other.evaluate(CURRENT) == clip["clip_id"]
    assert other.is_visible("#player-panel") and other.evaluate(f"{ACTIVE}.paused")
    assert shown_frame_mark(other) == clip["start_frame"]
    assert urlsplit(other.evaluate(f"{ACTIVE}.src")).path == urlsplit(clip["assets"]["mp4"]["url"]).path
    # "Copy video link": the signed MP4 link, which plays without a key
    page.click("#share-video")
    wait_for(page, f"navigator.clipboard.readText().then((t) => t !== {link!r})")
    video_link = page.evaluate("navigator.clipboard.readText()")
    assert urlsplit(video_link).path == urlsplit(clip["assets"]["mp4"]["url"]).path
    assert httpx.get(video_link).content == httpx.get(clip["assets"]["mp4"]["url"]).content

