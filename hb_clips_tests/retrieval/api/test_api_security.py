"""Security of the HTTP API (issue 7): every query, path and header parameter of every route, listed
from the app itself, gets every hostile payload over real HTTP (raw request targets, so nothing is
normalised by the client). Outcomes: 401/404/422 with a message, or a literal no-match; never a 5xx,
never a byte of a file outside the store (even with a valid signature for a traversal key), the index
tables unchanged, no payload file created; keys and secrets never echoed."""
from __future__ import annotations

import http.client
import json
import urllib.parse

import pytest
from fastapi.dependencies.utils import get_flat_params
from fastapi.routing import APIRoute

from hb_clips_assets.retrieval.api import media
from hb_clips_assets.retrieval.api.app import create_app
from hb_clips_assets.retrieval.api.settings import ApiKey, ApiSettings
from hb_clips_tests.retrieval.api.server import serve
from hb_clips_tests.test_security import (
    PAYLOADS,
    SQL_OPAQUE,
    expected_matches,
    hostile_index,
    no_side_effects,
    table_counts,
)

ADMIN = "sec-api-admin-key-0123456789"
COACH = "sec-api-coach-key-0123456789"
SECRET = b"sec-api-media-secret"
SENTINEL = "SENTINEL-OUTSIDE-THE-STORE"

# The parameters the app has today, by route; the test fails when one appears that is not listed, so a
# new parameter gets an expectation instead of being tried blindly.
KNOWN = {
    "/api/v2/clips/": {"q", "player", "team", "opponent", "game", "event", "period", "zone", "strength", "outcome",
                       "date_from", "date_to", "last_games", "last_games_of", "newest_first", "limit", "offset",
                       "after", "X-API-Key"},
    "/api/v2/clips/stats/overview": {"q", "player", "team", "opponent", "game", "event", "period", "zone", "strength",
                                     "outcome", "date_from", "date_to", "last_games", "last_games_of", "newest_first",
                                     "X-API-Key"},
    "/api/v2/clips/export/{fmt}": {"fmt", "q", "player", "team", "opponent", "game", "event", "period", "zone",
                                   "strength", "outcome", "date_from", "date_to", "last_games", "last_games_of",
                                   "newest_first", "limit", "timeline", "reel", "X-API-Key"},
    "/api/v2/clips/{clip_id}": {"clip_id", "X-API-Key"},
    "/api/v2/clips/reel.m3u8": {"q", "player", "team", "opponent", "game", "event", "period", "zone", "strength",
                                "outcome", "date_from", "date_to", "last_games", "last_games_of", "newest_first",
                                "limit", "X-API-Key"},
    "/api/v2/media/{object_key}": {"object_key", "exp", "sig", "shift", "bytes", "X-API-Key"},
    "/api/v2/health": set(),
    "/api/v2/whoami": {"X-API-Key"},
    "/api/v2/links": {"clip", "X-API-Key"},
}
FILTER_FIELD = {"player": "players", "outcome": "outcomes", "strength": "strengths"}


def api_routes(app) -> list[tuple[str, object]]:
    """(path, dependant) of every API route, those of included routers too: newer FastAPI keeps an
    included router as one lazy entry of ``app.routes``, and ``iter_route_contexts`` opens it."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: the routers' APIRoutes are copied into app.routes
        return [(r.path_format, r.dependant) for r in app.routes if isinstance(r, APIRoute)]
    return [(rc.path_format, rc.dependant) for rc in iter_route_contexts(app.routes)
            if isinstance(rc.original_route, APIRoute)]


def parameters(app) -> dict[str, dict[str, str]]:
    """route path -> {parameter name (alias): where it goes (query, path, header)}."""
    out: dict[str, dict[str, str]] = {}
    for path, dependant in api_routes(app):
        params = out.setdefault(path, {})
        flat = get_flat_params(dependant)
        for field in flat:
            where = type(field.field_info).__name__.lower()  # Query, Path, Header
            params[field.alias] = where
        stack = list(dependant.dependencies)  # security schemes (the X-API-Key header), at any depth
        while stack:
            d = stack.pop()
            stack += d.dependencies
            name = getattr(getattr(d.call, "model", None), "name", None)
            if name:
                params[name] = "header"
    return out


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    info = hostile_index(tmp_path_factory)
    outside = info["store"].parent / "outside.txt"
    outside.write_text(SENTINEL)
    settings = ApiSettings(data_root=str(info["data"]), db_url=info["db_url"], store_url=str(info["store"]),
                           keys={ADMIN: ApiKey("admin"), COACH: ApiKey("coach", "MTL")}, media_secret=SECRET)
    app = create_app(settings)
    counts = table_counts(info["db_url"])
    with serve(app) as base:
        host, port = urllib.parse.urlsplit(base).netloc.split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        yield {"app": app, "conn": conn, "counts": counts, "info": info}
        conn.close()
    assert table_counts(info["db_url"]) == counts  # every table intact, the same rows
    no_side_effects(info["work"])


def call(api, target: str, key: str | None = ADMIN, headers: dict | None = None) -> tuple[int, bytes]:
    """GET the raw request target (sent as written: no client normalisation of ../ or %2e)."""
    conn = api["conn"]
    h = {"X-API-Key": key} if key else {}
    h.update(headers or {})
    try:
        conn.request("GET", target, headers=h)
        r = conn.getresponse()
        return r.status, r.read()
    except (http.client.HTTPException, OSError):
        conn.close()  # the server refused the request line itself: a rejection; reconnect
        return 400, b""


def q(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def test_every_parameter_of_every_route_is_known(api):
    found = parameters(api["app"])
    assert {path: set(p) for path, p in found.items() if path.startswith("/api/")} == KNOWN


def test_every_parameter_rejects_hostile_values_or_matches_nothing(api):
    found = parameters(api["app"])
    tried = 0
    for path, params in found.items():
        if not path.startswith("/api/"):
            continue
        for param, where in params.items():
            for name, payload in PAYLOADS.items():
                tried += 1
                extra = ""
                if param == "last_games_of":
                    extra = "&last_games=3"
                if where == "path":
                    target = path.replace("{" + param + "}", q(payload))
                    target = target.replace("{fmt}", "sportscode").replace("{clip_id}", "0" * 32)
                    status, body = call(api, target)
                elif where == "header":
                    target = path.replace("{fmt}", "sportscode").replace("{clip_id}", "0" * 32)
                    target = target.replace("{object_key}", "clips/x/1/" + "0" * 32 + ".mp4")
                    try:
                        status, body = call(api, target, key=payload)
                    except (ValueError, UnicodeEncodeError):  # the client itself refuses to send such a header
                        continue
                    assert status in (400, 401) or (path == "/api/v2/media/{object_key}" and status == 404), (path, name)
                    assert ADMIN.encode() not in body and payload.encode("utf-8", "replace") not in body
                    continue
                else:
                    target = path.replace("{fmt}", "sportscode").replace("{clip_id}", "0" * 32)
                    target = target.replace("{object_key}", "clips/x/1/" + "0" * 32 + ".mp4")
                    target += f"?{param}={q(payload)}{extra}"
                    status, body = call(api, target)
                assert status < 500, (path, param, name, status, body[:300])
                assert SENTINEL.encode() not in body
                assert ADMIN.encode() not in body and SECRET not in body
                if status != 200:
                    assert status in (400, 401, 404, 422), (path, param, name, status)
                    if status in (404, 422):
                        assert json.loads(body)["detail"], (path, param, name)
                    continue
                data = body.decode()
                if path == "/api/v2/clips/export/{fmt}":
                    total = int(data.count("<instance>"))
                else:
                    doc = json.loads(body)
                    total = doc.get("total", doc.get("clips"))
                if param == "q":  # words it does not understand come back as ignored, never silently dropped
                    if path != "/api/v2/clips/export/{fmt}":
                        assert doc["parsed"]["request"] == payload.strip(), (path, name)
                    continue
                if param == "newest_first":
                    pytest.fail(f"newest_first accepted {payload!r}")
                assert total == expected_matches(FILTER_FIELD.get(param, param), name), (path, param, name, total)
    assert tried >= sum(len(p) for p in KNOWN.values()) * len(PAYLOADS)


TRAVERSALS = [
    "../outside.txt", "../../outside.txt", "%2e%2e/outside.txt", "%2e%2e%2foutside.txt", "..%2foutside.txt",
    "clips/..%2f..%2foutside.txt", "clips/../../outside.txt", "%2Fetc%2Fpasswd", "/etc/passwd",
    "clips%5c..%5c..%5coutside.txt", "..%5coutside.txt", "clips/%252e%252e/%252e%252e/outside.txt",
    "clips/%00/../outside.txt", "..\u2215outside.txt", ".%2e/outside.txt", "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
]


@pytest.mark.parametrize("raw", TRAVERSALS)
def test_media_route_never_serves_a_file_outside_the_store(api, raw):
    target = "/api/v2/media/" + urllib.parse.quote(raw, safe="/%")
    key = urllib.parse.unquote(raw)
    signed = media.signed_query(SECRET, key, 600)  # even a valid signature for the traversal key
    for t, k in ((target, ADMIN), (f"{target}?{signed}", None), (f"{target}?{signed}", ADMIN)):
        status, body = call(api, t, key=k)
        assert status in (400, 404, 422), (t, status)
        assert SENTINEL.encode() not in body and b"root:" not in body


def test_sql_text_in_an_api_filter_is_literal(api):
    """The one clip whose player is "' OR '1'='1" and nothing else (evaluated SQL would match every clip)."""
    for name in SQL_OPAQUE:
        status, body = call(api, f"/api/v2/clips/?player={q(PAYLOADS[name])}&limit=500")
        if "\n" in PAYLOADS[name]:  # control characters are refused outright
            assert status == 422 and "pattern" in body.decode()
            continue
        assert status == 200
        assert [c["event_id"] for c in json.loads(body)["items"]] == [PAYLOADS[name]]
    # a team key does not see the hostile game's clips of another team... and a payload key sees nothing
    status, _ = call(api, "/api/v2/clips/?limit=1", key=PAYLOADS["sql_or"])
    assert status == 401


def test_errors_never_echo_the_key(api):
    for target in ("/api/v2/clips/?plyer=x", "/api/v2/clips/?limit=x", "/api/v2/clips/" + "f" * 70):
        status, body = call(api, target)
        assert status in (404, 422) and ADMIN.encode() not in body
    status, body = call(api, "/api/v2/clips/", key="wrong-key-but-long-enough-0000")
    assert status == 401 and b"wrong-key" not in body
