"""The REST API over real HTTP (uvicorn on a free port) on the indexed sample."""
from __future__ import annotations

import hashlib
import json
import time
import urllib.parse

import httpx
import pytest

from hb_clips_assets.retrieval.api.app import create_app
from hb_clips_assets.retrieval.api.settings import ApiKey, ApiSettings, parse_keys_env, read_keys_file
from hb_clips_assets.retrieval.export.sportscode import read_sportscode
from hb_clips_tests.retrieval.api.server import serve
from hb_clips_tests.retrieval_sample import expected_clips, index_sample, shared_sample

ADMIN = "admin-key-0123456789abcdef"
CHI_COACH = "chi-coach-key-0123456789ab"
WSH_PLAYER = "wsh-player-key-0123456789a"
KEYS = {
    ADMIN: ApiKey("admin"),
    CHI_COACH: ApiKey("coach", "CHI"),
    WSH_PLAYER: ApiKey("player", "WSH", "8471214"),
}


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    data = shared_sample(tmp_path_factory)
    work = tmp_path_factory.mktemp("api")
    sample = index_sample(data, work / "store", f"sqlite:///{work / 'media.db'}")
    settings = ApiSettings(data_root=str(data), db_url=sample.db_url, store_url=str(sample.store_root), keys=KEYS,
                           media_secret=b"test-secret")
    app = create_app(settings)
    with serve(app) as base:
        with httpx.Client(base_url=base, timeout=10) as client:
            yield {"client": client, "base": base, "expected": expected_clips(data), "store": sample.store_root}


def get(api, path, key=ADMIN, **params):
    headers = {"X-API-Key": key} if key else {}
    return api["client"].get(path, params=params, headers=headers)


def event_ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [c["event_id"] for c in response.json()["items"]]


def test_no_key_no_data(api):
    one = get(api, "/api/v2/clips/", limit=1).json()["items"][0]
    for path in ("/api/v2/clips/", f"/api/v2/clips/{one['clip_id']}", "/api/v2/clips/stats/overview",
                 "/api/v2/clips/export/sportscode", f"/api/v2/media/{one['assets']['mp4']['object_key']}"):
        for key in (None, "wrong-key-0123456789abcdef"):
            r = get(api, path, key=key)
            assert r.status_code == 401, (path, key, r.status_code)
            assert r.headers["www-authenticate"] == "ApiKey"
    assert get(api, "/api/v2/health", key=None).json() == {"status": "ok"}


def test_admin_sees_every_clip_in_order(api):
    r = get(api, "/api/v2/clips/", limit=500)
    assert event_ids(r) == [e.event_id for e in api["expected"]]
    assert r.json()["total"] == len(api["expected"]) and r.json()["next_offset"] is None


def test_filters_and_pages(api):
    want = [e.event_id for e in api["expected"]
            if (e.team, e.opponent, e.zone, e.event_type) == ("WSH", "NYR", "D", "zone_exit")]
    params = {"team": "Caps", "opponent": "NYR", "zone": "D", "event": "zone exits"}
    assert event_ids(get(api, "/api/v2/clips/", **params)) == want
    first = get(api, "/api/v2/clips/", limit=3, **params).json()
    assert [c["event_id"] for c in first["items"]] == want[:3] and first["next_offset"] == 3 and first["total"] == len(want)
    second = get(api, "/api/v2/clips/", limit=3, offset=3, **params).json()
    assert [c["event_id"] for c in second["items"]] == want[3:6]
    # repeated parameters are alternatives
    r = get(api, "/api/v2/clips/", period=["1", "3"], event=["goal", "shot"], limit=500)
    assert event_ids(r) == [e.event_id for e in api["expected"] if e.period in "13" and e.event_type in ("goal", "shot")]
    r = get(api, "/api/v2/clips/", date_from="2026-11-19", limit=500)
    assert event_ids(r) == [e.event_id for e in api["expected"] if e.game_id == "20038"]


def test_plain_language_q(api):
    r = get(api, "/api/v2/clips/", q="Show me d-zone exits from WSH vs NYR")
    body = r.json()
    assert event_ids(r) == [e.event_id for e in api["expected"]
                            if (e.team, e.opponent, e.zone, e.event_type) == ("WSH", "NYR", "D", "zone_exit")]
    assert body["parsed"]["ignored"] == [] and body["query"]["teams"] == ["WSH"]
    assert {u["text"] for u in body["parsed"]["understood"]} == {"d-zone", "exits", "WSH", "vs NYR"}
    # "my" is the key's player
    r = get(api, "/api/v2/clips/", key=WSH_PLAYER, q="my shifts from the last five games")
    assert event_ids(r) == [e.event_id for e in api["expected"] if e.player_id == "8471214" and e.event_type == "shift"]
    # unknown words come back as ignored; an explicit parameter overrides the request
    r = get(api, "/api/v2/clips/", q="gorgeous goals in the second", period="3")
    assert r.json()["parsed"]["ignored"] == ["gorgeous"] and r.json()["query"]["periods"] == ["3"]
    # "first 5" sets the page size when no limit is given
    assert len(get(api, "/api/v2/clips/", q="first 5 shifts").json()["items"]) == 5


def test_a_team_key_sees_only_its_games(api):
    r = get(api, "/api/v2/clips/", key=CHI_COACH, limit=500)
    assert event_ids(r) == [e.event_id for e in api["expected"] if e.game_id == "20031"]
    other = get(api, "/api/v2/clips/", game="20038", limit=1).json()["items"][0]
    assert get(api, f"/api/v2/clips/{other['clip_id']}", key=CHI_COACH).status_code == 404
    assert get(api, f"/api/v2/clips/{other['clip_id']}", key=WSH_PLAYER).status_code == 200
    assert get(api, f"/api/v2/clips/{other['clip_id']}").status_code == 200
    stats = get(api, "/api/v2/clips/stats/overview", key=CHI_COACH).json()
    assert [g["game_id"] for g in stats["by_game"]] == ["20031"]
    # the other team's object is not served to the key either (without a signed URL)
    r = get(api, f"/api/v2/media/{other['assets']['mp4']['object_key']}", key=CHI_COACH)
    assert r.status_code == 404


def test_one_clip_has_metadata_tags_and_urls(api):
    listed = get(api, "/api/v2/clips/", event="zone_entry", limit=1).json()["items"][0]
    r = get(api, f"/api/v2/clips/{listed['clip_id']}")
    clip = r.json()
    assert r.status_code == 200 and clip["event_id"] == listed["event_id"]
    assert clip["tags"]["outcome"] in ("controlled", "uncontrolled", "failed")
    assert set(clip["assets"]) == {"mp4", "thumbnail"}
    assert clip["assets"]["mp4"]["url"].startswith(api["base"] + "/api/v2/media/clips/")
    assert get(api, "/api/v2/clips/" + "f" * 32).status_code == 404
    assert get(api, "/api/v2/clips/not-a-clip-id").status_code == 404


def test_stats_overview(api):
    stats = get(api, "/api/v2/clips/stats/overview").json()
    exp = api["expected"]
    assert stats["clips"] == len(exp)
    assert {g["game_id"]: g["clips"] for g in stats["by_game"]} == {"20031": sum(e.game_id == "20031" for e in exp),
                                                                   "20038": sum(e.game_id == "20038" for e in exp)}
    assert {t["event_type"]: t["clips"] for t in stats["by_event_type"]}["shift"] == sum(e.event_type == "shift" for e in exp)
    files = [p for p in api["store"].rglob("*") if p.is_file()]
    assert stats["bytes"] == sum(p.stat().st_size for p in files)
    shifts_only = get(api, "/api/v2/clips/stats/overview", q="shifts").json()
    assert shifts_only["clips"] == sum(e.event_type == "shift" for e in exp)


@pytest.mark.parametrize("params", [
    {"period": "9"}, {"limit": "0"}, {"limit": "501"}, {"offset": "-1"}, {"date_from": "2026-02-30"},
    {"team": "Springfield Isotopes"}, {"zone": "Q"}, {"game": "../x"}, {"last_games": "0"}, {"player": "a\x00b"},
])
def test_bad_filters_are_422(api, params):
    r = get(api, "/api/v2/clips/", **params)
    assert r.status_code == 422, r.text


def mp4_of(api, key=ADMIN, **params) -> tuple[dict, bytes]:
    clip = get(api, "/api/v2/clips/", key=key, limit=1, **params).json()["items"][0]
    asset = clip["assets"]["mp4"]
    return asset, (api["store"] / asset["object_key"]).read_bytes()


def test_media_signed_url_range_and_etag(api):
    asset, content = mp4_of(api, event="goal")
    url = asset["url"]
    client = api["client"]
    r = client.get(url)  # no key: the signed URL is enough
    assert r.status_code == 200 and r.content == content
    assert r.headers["content-type"] == "video/mp4" and r.headers["accept-ranges"] == "bytes"
    assert r.headers["etag"] == f'"{hashlib.sha256(content).hexdigest()}"' == f'"{asset["sha256"]}"'
    assert "max-age" in r.headers["cache-control"]
    assert int(r.headers["content-length"]) == len(content) == asset["bytes"]
    # ranges: exact byte slices
    for header, lo, hi in (("bytes=10-99", 10, 99), ("bytes=0-0", 0, 0), ("bytes=100-", 100, len(content) - 1),
                           ("bytes=-50", len(content) - 50, len(content) - 1),
                           (f"bytes=5-{len(content) + 1000}", 5, len(content) - 1)):
        r = client.get(url, headers={"Range": header})
        assert r.status_code == 206, header
        assert r.content == content[lo : hi + 1], header
        assert r.headers["content-range"] == f"bytes {lo}-{hi}/{len(content)}"
        assert int(r.headers["content-length"]) == hi - lo + 1
    r = client.get(url, headers={"Range": f"bytes={len(content)}-"})
    assert r.status_code == 416 and r.headers["content-range"] == f"bytes */{len(content)}"
    r = client.get(url, headers={"Range": "bytes=0-1,5-6"})  # several ranges: the whole object
    assert r.status_code == 200 and r.content == content
    # caching: 304 on a matching ETag, the full object on another
    etag = r.headers["etag"]
    r = client.get(url, headers={"If-None-Match": etag})
    assert r.status_code == 304 and r.content == b"" and r.headers["etag"] == etag
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    # If-Range with a stale ETag: the whole object instead of the range
    r = client.get(url, headers={"Range": "bytes=0-9", "If-Range": '"stale"'})
    assert r.status_code == 200 and r.content == content
    r = client.get(url, headers={"Range": "bytes=0-9", "If-Range": etag})
    assert r.status_code == 206 and r.content == content[:10]
    # HEAD: headers only
    r = client.head(url)
    assert r.status_code == 200 and r.content == b"" and int(r.headers["content-length"]) == len(content)


def test_media_url_signature_is_checked(api):
    asset, content = mp4_of(api, event="goal")
    parts = urllib.parse.urlsplit(asset["url"])
    query = dict(urllib.parse.parse_qsl(parts.query))
    path = parts.path
    client = api["client"]
    assert client.get(path, params={**query, "sig": query["sig"][:-2] + "xx"}).status_code == 401
    assert client.get(path, params={**query, "exp": str(int(query["exp"]) + 1)}).status_code == 401
    assert client.get(path, params={**query, "exp": str(int(time.time()) - 5)}).status_code == 401
    assert client.get(path).status_code == 401
    # a signature for one object does not open another
    other, _ = mp4_of(api, event="shift")
    other_path = urllib.parse.urlsplit(other["url"]).path
    assert client.get(other_path, params=query).status_code == 401
    # the admin key opens it without a signature
    r = client.get(path, headers={"X-API-Key": ADMIN})
    assert r.status_code == 200 and r.content == content
    assert client.get("/api/v2/media/clips/../../etc/passwd", headers={"X-API-Key": ADMIN}).status_code == 404


def test_export_from_the_api(api):
    r = get(api, "/api/v2/clips/export/sportscode", q="d-zone exits from WSH vs NYR")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml")
    instances = read_sportscode(r.content)
    want = [e.event_id for e in api["expected"] if (e.team, e.zone, e.event_type, e.opponent) == ("WSH", "D", "zone_exit", "NYR")]
    assert [i.label("Event ID") for i in instances] == want
    assert int(r.headers["x-clip-count"]) == len(want)
    r = get(api, "/api/v2/clips/export/otio", key=CHI_COACH, event="goal")
    import opentimelineio as otio

    timeline = otio.adapters.read_from_string(r.text, adapter_name="otio_json")
    clips = list(timeline.find_clips())
    assert [c.metadata["hb_clips"]["event_id"] for c in clips] == [
        e.event_id for e in api["expected"] if e.event_type == "goal" and e.game_id == "20031"]
    assert get(api, "/api/v2/clips/export/pdf").status_code == 422


def test_openapi_schema_is_published(api):
    schema = api["client"].get("/openapi.json").json()
    assert {"/api/v2/clips/", "/api/v2/clips/{clip_id}", "/api/v2/clips/stats/overview",
            "/api/v2/clips/export/{fmt}", "/api/v2/media/{object_key}"} <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["APIKeyHeader"]["name"] == "X-API-Key"
    params = {p["name"] for p in schema["paths"]["/api/v2/clips/"]["get"]["parameters"]}
    assert {"q", "player", "team", "opponent", "game", "event", "period", "zone", "strength", "date_from",
            "date_to", "last_games", "limit", "offset"} <= params


def test_keys_from_the_environment_and_a_file(tmp_path, monkeypatch):
    keys = parse_keys_env("aaaaaaaaaaaaaaaa=admin; bbbbbbbbbbbbbbbb=coach:Habs;cccccccccccccccc=player:WSH:8471214")
    assert keys == {"aaaaaaaaaaaaaaaa": ApiKey("admin"), "bbbbbbbbbbbbbbbb": ApiKey("coach", "MTL"),
                    "cccccccccccccccc": ApiKey("player", "WSH", "8471214")}
    for bad, message in (("short=admin", "at least 16"), ("dddddddddddddddd=coach", "needs a team"),
                         ("dddddddddddddddd=king:MTL", "unknown role"), ("dddddddddddddddd", "expected KEY=ROLE")):
        with pytest.raises(ValueError, match=message):
            parse_keys_env(bad)
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"eeeeeeeeeeeeeeee": {"role": "viewer", "team": "nyr"}}))
    assert read_keys_file(path) == {"eeeeeeeeeeeeeeee": ApiKey("viewer", "NYR")}
    monkeypatch.setenv("HB_API_KEYS_FILE", str(path))
    monkeypatch.setenv("HB_API_KEYS", "aaaaaaaaaaaaaaaa=admin")
    settings = ApiSettings.from_env()
    assert settings.lookup("eeeeeeeeeeeeeeee") == ApiKey("viewer", "NYR")
    assert settings.lookup("aaaaaaaaaaaaaaaa").is_admin and settings.lookup("nope") is None
    assert settings.lookup(None) is None



