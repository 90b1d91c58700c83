"""The clip room in a real browser (Chromium via Playwright) against a real `hb-clips serve`, over real
cut clips of marked sample video; every request off 127.0.0.1 is refused and fails the test.

What is checked is what the browser shows: the cards the page lists, the time and duration of its
<video>, the frame mark decoded from the picture it paints, the width of the page.
"""
from __future__ import annotations

import re
import time
from fractions import Fraction
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from hb_clips_assets.retrieval.api import media
from hb_clips_tests.retrieval.room.browser import (card_ids, mp4_reels_only, settle_search, shown_frame_mark, sign_in,
                                                  wait_for)
from hb_clips_tests.retrieval.room.server import ADMIN, CHI_COACH, MEDIA_SECRET, WSH_PLAYER

REQUEST = "d-zone exits from WSH vs NYR"
ACTIVE = "document.querySelector('video.active')"


def api_ids(server, key=ADMIN, **params) -> list[str]:
    r = server["api"].get("/api/v2/clips/", params={"limit": 500, **params}, headers={"X-API-Key": key})
    assert r.status_code == 200, r.text
    return [c["clip_id"] for c in r.json()["items"]]


def api_clip(server, clip_id: str) -> dict:
    return server["api"].get(f"/api/v2/clips/{clip_id}").json()


def wait_playing(page, more_than: float = 0.15) -> float:
    wait_for(page, f"{ACTIVE}.currentTime > {more_than}")
    return page.evaluate(f"{ACTIVE}.currentTime")


def test_sign_in_says_who_you_are_and_refuses_a_wrong_key(room_server, context):
    page = context.new_page()
    page.goto(room_server["base"] + "/")
    page.fill("#key", "not-a-key-0123456789abc")
    page.click("#signin-form button[type=submit]")
    page.wait_for_selector("#signin-error:has-text('was not accepted')")
    assert page.is_hidden("#room")
    page.fill("#key", CHI_COACH)
    page.press("#key", "Enter")
    page.wait_for_selector("body[data-ready]")
    assert page.inner_text("#who-role") == "Coach"
    assert page.inner_text("#who-team") == "Chicago Blackhawks"
    # kept for the browser session: a reload stays signed in
    page.reload()
    page.wait_for_selector("body[data-ready]")
    assert page.is_visible("#room") and page.inner_text("#who-role") == "Coach"
    page.click("#sign-out")
    page.wait_for_selector("#signin-form")
    assert page.is_hidden("#room") and page.evaluate("sessionStorage.length") == 0


def test_plain_language_search_shows_the_apis_clips_chips_and_a_link_that_reproduces_it(room_server, context):
    page = context.new_page()
    sign_in(page, room_server["base"], ADMIN)
    assert card_ids(page) == api_ids(room_server)  # everything, in the API's order
    assert page.inner_text("#stat-total") == page.inner_text("#count")
    page.fill("#q", REQUEST)
    page.press("#q", "Enter")
    wait_for(page, f"new URL(location.href).searchParams.get('q') === {REQUEST!r}")
    settle_search(page)
    want = api_ids(room_server, q=REQUEST)
    assert len(want) == 2 and card_ids(page) == want
    chips = page.eval_on_selector_all(".chip.understood .chip-text", "els => els.map(e => e.textContent)")
    assert set(chips) == {"d-zone", "exits", "WSH", "vs NYR"}
    stats = room_server["api"].get("/api/v2/clips/stats/overview", params={"q": REQUEST}).json()
    assert page.inner_text("#count") == f"{stats['clips']} clips, {round(stats['duration_s'])} s"
    assert page.inner_text(".stat-group:has(h3:text('By event')) .stat") == "Zone exit\n2"
    # removing a chip widens the search to what the API says the shorter request finds
    page.click(".chip:has(.chip-text:text-is('vs NYR')) .chip-remove")
    wait_for(page, "new URL(location.href).searchParams.get('q') === 'd-zone exits from WSH'")
    settle_search(page)
    assert card_ids(page) == api_ids(room_server, q="d-zone exits from WSH")
    # a word it does not know is shown as ignored
    page.fill("#q", "gorgeous goals")
    page.press("#q", "Enter")
    page.wait_for_selector(".chip.ignored .chip-text:text-is('gorgeous')")
    # the link reproduces the search, in a new tab signed in with the same key
    link = f"{room_server['base']}/?q=d-zone+exits+from+WSH+vs+NYR"
    other = context.new_page()
    sign_in(other, room_server["base"], ADMIN, path=link.removeprefix(room_server["base"]))
    assert card_ids(other) == want and other.input_value("#q") == REQUEST


def test_a_click_plays_the_clip_and_its_duration_is_its_frames(room_server, context, screenshots):
    page = context.new_page()
    sign_in(page, room_server["base"], ADMIN, path="/?q=nice+Caps+vs+NYR")
    assert card_ids(page) == api_ids(room_server, q="nice Caps vs NYR")
    page.screenshot(path=str(screenshots / "clip-room-results.png"))
    first = api_clip(room_server, card_ids(page)[0])
    page.click("#results li:first-child button")
    assert wait_playing(page) > 0.15
    duration = page.evaluate(f"{ACTIVE}.duration")
    frames = first["end_frame"] - first["start_frame"]
    assert duration == pytest.approx(frames * first["fps_den"] / first["fps_num"], abs=0.5 / 59.94)
    assert page.get_attribute("#results li.current", "data-clip-id") == first["clip_id"]
    # the event frame is marked on the scrub bar where it lies in the clip
    at = float(page.evaluate("getComputedStyle(document.getElementById('event-mark')).getPropertyValue('--at')"))
    assert at == pytest.approx((first["event_frame"] - first["start_frame"] + 0.5) / frames, abs=1e-6)
    page.keyboard.press("e")  # to the event frame, for the screenshot
    assert shown_frame_mark(page) == first["event_frame"]
    # the whole player, its controls too (an element screenshot stops at the viewport's edge)
    box = page.locator("#player-panel").bounding_box()
    scroll = page.evaluate("scrollY")
    page.screenshot(path=str(screenshots / "clip-room-player.png"), full_page=True,
                    clip={"x": box["x"], "y": box["y"] + scroll, "width": box["width"], "height": box["height"]})


def test_frame_steps_land_on_the_next_frame_read_from_the_picture(room_server, context):
    page = context.new_page()
    sign_in(page, room_server["base"], ADMIN)
    clip = api_clip(room_server, card_ids(page)[2])
    page.focus("#results li:nth-child(3) button")
    page.keyboard.press("Enter")  # keyboard alone: open the clip, then the coach's keys
    wait_playing(page, 0.05)
    page.keyboard.press("k")
    page.keyboard.press("Home")
    assert shown_frame_mark(page) == clip["start_frame"]
    for key, frame in ((".", 1), ("ArrowRight", 2), ("ArrowRight", 3), (",", 2), ("ArrowLeft", 1)):
        page.keyboard.press(key)
        assert shown_frame_mark(page) == clip["start_frame"] + frame, key
        assert page.get_attribute("#readout", "data-frame") == str(frame)
    assert page.evaluate(f"{ACTIVE}.paused")
    page.keyboard.press("1")
    assert page.evaluate(f"{ACTIVE}.playbackRate") == 0.25
    page.keyboard.press(" ")
    wait_playing(page, 1.5 / 59.94)
    page.keyboard.press(" ")
    page.keyboard.press("3")
    assert page.evaluate(f"[{ACTIVE}.paused, {ACTIVE}.playbackRate]") == [True, 1]
    page.keyboard.press("r")
    assert page.evaluate(f"{ACTIVE}.loop") is True


def test_play_all_plays_the_results_back_to_back_with_the_next_preloaded(room_server, context):
    page = context.new_page()
    mp4_reels_only(page)  # the MP4 mode (the HLS reel: test_room_reel.py)
    sign_in(page, room_server["base"], ADMIN, path="/?team=WSH")
    ids = card_ids(page)
    assert ids == api_ids(room_server, team="WSH") and len(ids) >= 3
    page.click("#play-all")
    wait_for(page, f"document.querySelector('#player-panel').dataset.clipId === {ids[0]!r}")
    # while the first plays, the second is already loading in the other <video>
    wait_for(page, f"document.querySelector('video:not(.active)').dataset.clipId === {ids[1]!r}")
    wait_for(page, f"document.querySelector('#player-panel').dataset.clipId === {ids[1]!r}")
    wait_playing(page, 0.05)
    assert page.get_attribute("#results li.current", "data-clip-id") == ids[1]
    assert page.evaluate("document.body.dataset.reel") == f"2/{len(ids)}"
    wait_for(page, f"document.querySelector('video:not(.active)').dataset.clipId === {ids[2]!r}")


def test_a_coach_key_never_sees_another_teams_clip(room_server, context):
    page = context.new_page()
    wsh_clip = api_ids(room_server, game="20038")[0]
    sign_in(page, room_server["base"], CHI_COACH, path=f"/?clip={wsh_clip}")
    shown = card_ids(page)
    assert shown == api_ids(room_server, game="20031") == api_ids(room_server, key=CHI_COACH)
    assert not set(shown) & set(api_ids(room_server, game="20038"))
    page.wait_for_selector(".message.error:has-text(\"not your team's\")")
    assert page.is_hidden("#player-panel")
    page.fill("#q", "Caps vs Rangers")
    page.press("#q", "Enter")
    page.wait_for_selector("#count:has-text('No clips match')")
    assert card_ids(page) == []


def _expired(url: str) -> str:
    """The same media link signed (with the server's secret) to have expired a minute ago."""
    parts = urlsplit(url)
    key = parts.path.removeprefix("/api/v2/media/")
    exp = int(time.time()) - 60
    return f"{parts.scheme}://{parts.netloc}{parts.path}?exp={exp}&sig={media.sign(MEDIA_SECRET.encode(), key, exp)}"


def test_expired_and_refused_links_are_renewed(room_server, context):
    page = context.new_page()

    stale = {}

    def age_links(route):
        body = route.fetch().json()
        first, second = body["items"][0]["assets"], body["items"][1]["assets"]
        for kind, asset in first.items():
            asset["url"] = stale[kind] = _expired(asset["url"])
        second["mp4"]["url"] = second["mp4"]["url"].replace("sig=", "sig=A")  # refused though not expired
        route.fulfill(json=body)

    page.route("**/api/v2/clips/?*", age_links)
    sign_in(page, room_server["base"], ADMIN, path="/?team=NYR")
    page.unroute("**/api/v2/clips/?*")
    ids = card_ids(page)
    assert {httpx.get(url).status_code for url in stale.values()} == {401}  # the server refuses those links
    # the thumbnail that was refused is shown from a renewed link
    thumb = "document.querySelector('#results li img')"
    wait_for(page, f"{thumb}.complete && {thumb}.naturalWidth > 0")
    assert page.evaluate(f"{thumb}.src") != stale["thumbnail"]
    page.click("#results li:nth-child(1) button")
    wait_playing(page)
    src = page.evaluate(f"{ACTIVE}.src")
    assert int(parse_qs(urlsplit(src).query)["exp"][0]) > time.time() + 600 and httpx.get(src).status_code == 200
    page.click("#results li:nth-child(2) button")
    wait_for(page, f"document.querySelector('#player-panel').dataset.clipId === {ids[1]!r}")
    # Right after the click the active element may still be the one the refused link went into: wait
    # until the second clip plays from a renewed link (a link never renewed times out here).
    wait_for(page, f"!{ACTIVE}.src.includes('sig=A') && {ACTIVE}.readyState >= 2")
    wait_playing(page)
    assert "sig=A" not in page.evaluate(f"{ACTIVE}.src")
    assert int(page.evaluate("document.documentElement.dataset.linkRenewals")) >= 2


def test_a_page_left_open_renews_its_links_before_they_expire(room_server, context):
    page = context.new_page()
    page.clock.install()
    sign_in(page, room_server["base"], ADMIN, path="/?team=CHI")
    before = page.evaluate("document.querySelector('#results li img').src")
    assert page.evaluate("document.documentElement.dataset.linkRenewals") is None
    page.clock.fast_forward("59:00")  # an hour's links (the default lifetime): renewed with time to spare
    wait_for(page, "Number(document.documentElement.dataset.linkRenewals) >= 1")
    page.click("#results li:first-child button")
    wait_playing(page)
    src = page.evaluate(f"{ACTIVE}.src")
    assert httpx.get(src).status_code == 200 and src != before


def test_exports_download_the_result_set(room_server, context):
    page = context.new_page()
    sign_in(page, room_server["base"], WSH_PLAYER, path="/?q=my+zone+exits")
    n = len(card_ids(page))
    assert n >= 1
    with page.expect_download() as sportscode:
        page.click("[data-export=sportscode]")
    xml = open(sportscode.value.path(), encoding="utf-8").read()
    assert sportscode.value.suggested_filename == "clips.xml" and xml.count("<instance>") == n
    with page.expect_download() as otio:
        page.click("[data-export=otio]")
    assert '"OTIO_SCHEMA"' in open(otio.value.path(), encoding="utf-8").read()


def test_api_errors_are_messages_not_a_blank_page(room_server, context):
    page = context.new_page()
    sign_in(page, room_server["base"], ADMIN, path="/?period=7")
    page.wait_for_selector(".message.error:has-text('The search could not be run')")
    assert page.inner_text("#count") == "The search did not run." and page.is_visible("#search-form")


def test_tablet_width_has_no_horizontal_scroll_and_more_clips_come_as_you_scroll(room_server, context):
    page = context.new_page()
    page.set_viewport_size({"width": 768, "height": 1024})
    # pages of 5 (the API's default is larger than the sample), to see the next pages come by scrolling
    listing = re.compile(r"/api/v2/clips/(\?|$)")
    page.route(listing, lambda route: route.continue_(
        url=route.request.url + ("&" if "?" in route.request.url else "?") + "limit=5"))
    pages = []
    page.on("request", lambda r: pages.append(r.url) if listing.search(r.url) else None)
    sign_in(page, room_server["base"], ADMIN)
    every = api_ids(room_server)
    assert len(every) > 10
    for _ in range(100):  # the screen fills, then each scroll to the end brings the next page
        if len(card_ids(page)) == len(every):
            break
        page.mouse.wheel(0, 2000)
        page.wait_for_timeout(100)
    assert card_ids(page) == every and page.is_hidden("#more")
    assert len(pages) == -(-len(every) // 5) and all("after=" in url for url in pages[1:])
    page.click("[data-view=list]")
    assert page.evaluate("new URL(location.href).searchParams.get('view')") == "list"
    no_scroll = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    assert page.evaluate(no_scroll)
    page.click("[data-view=grid]")
    page.evaluate("scrollTo(0, 0)")
    page.click("#filters summary")
    page.click("#results li:first-child button")
    wait_playing(page, 0.05)
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth, innerWidth]")
    assert widths[0] <= widths[1] == 768, widths


def test_api_docs_render_with_the_network_blocked(room_server, context):
    page = context.new_page()
    page.goto(room_server["base"] + "/")
    page.click("text=API docs")
    page.wait_for_selector(".swagger-ui .opblock-summary-path", timeout=20_000)
    paths = page.eval_on_selector_all(".opblock-summary-path", "els => els.map(e => e.textContent)")
    assert "/api/v2/clips/" in paths and "/api/v2/whoami" in paths
    page.goto(room_server["base"] + "/redoc")
    page.wait_for_selector("h1:has-text('hb-clips')", timeout=20_000)
    assert page.locator("h2:has-text('find clips')").count() == 1
    assert context.off_host.refused == []
