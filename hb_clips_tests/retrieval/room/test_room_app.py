"""The clip room without a browser: the page and its files are served (and shipped as package data), the
JavaScript modules it imports exist and stay short, the API docs are the offline ones, and the two routes
the room adds (who a key is; fresh signed links) answer what each key may know."""
from __future__ import annotations

import re
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import httpx
import pytest

from hb_clips_assets.retrieval.api.app import create_app
from hb_clips_assets.retrieval.api.settings import ApiKey, ApiSettings
from hb_clips_assets.retrieval.room import STATIC
from hb_clips_tests.retrieval.api.server import serve
from hb_clips_tests.retrieval_sample import index_sample, shared_sample

ROOT = Path(__file__).resolve().parents[3]
ADMIN, CHI, WSH = "admin-key-0123456789abcdef", "chi-coach-key-0123456789ab", "wsh-player-key-0123456789a"
KEYS = {ADMIN: ApiKey("admin"), CHI: ApiKey("coach", "CHI"), WSH: ApiKey("player", "WSH", "8471214")}
IMPORT = re.compile(r"""^import\s.*?from\s+"(\./[\w.-]+)";""", re.MULTILINE)


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    data = shared_sample(tmp_path_factory)
    work = tmp_path_factory.mktemp("room-app")
    sample = index_sample(data, work / "store", f"sqlite:///{work / 'media.db'}")
    settings = ApiSettings(data_root=str(data), db_url=sample.db_url, store_url=str(sample.store_root), keys=KEYS,
                           media_secret=b"room-secret", media_url_expiry_s=900)
    with serve(create_app(settings)) as base:
        with httpx.Client(base_url=base, timeout=10) as client:
            yield client


def get(api, path, key=ADMIN, **params):
    return api.get(path, params=params, headers={"X-API-Key": key} if key else {})


def test_the_page_and_its_files_are_served_with_a_same_origin_policy(api):
    page = api.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp and "unsafe" not in csp
    html = page.text
    for ref in re.findall(r'(?:src|href)="(/[^"]*)"', html):
        assert api.get(ref).status_code == 200, ref  # every file the page names is there
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html)  # and nothing from another host
    js = api.get("/room/js/app.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert api.get("/room/../mount.py").status_code == 404 and api.get("/room/js/nope.js").status_code == 404


def test_every_module_the_app_imports_exists_and_is_short():
    seen, todo = set(), ["app.js"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        text = (STATIC / "js" / name).read_text(encoding="utf-8")
        seen.add(name)
        todo += [m.removeprefix("./") for m in IMPORT.findall(text)]
        assert "http://" not in text and "https://" not in text and "//cdn" not in text, name
    files = {p.name for p in (STATIC / "js").glob("*.js")}
    assert seen == files  # no dead module, none missing
    for path in STATIC.rglob("*"):  # the room's own files (vendor/: hls.js's build, copied by `make install`)
        if path.suffix in (".js", ".css", ".html") and "vendor" not in path.relative_to(STATIC).parts:
            assert len(path.read_text(encoding="utf-8").splitlines()) <= 250, path.name


def test_the_static_files_are_package_data():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["hb_clips_assets.retrieval.room"]
    for path in STATIC.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            rel = path.relative_to(STATIC.parent).as_posix()
            assert any(fnmatch(rel, g) for g in globs), rel


def test_docs_and_redoc_are_served_from_this_host(api):
    for path in ("/docs", "/redoc"):
        page = api.get(path)
        assert page.status_code == 200
        refs = re.findall(r'(?:src|href|url)\s*[=:]\s*["\']([^"\']+)', page.text)
        assert refs and all(r.startswith("/") for r in refs), (path, refs)
        for ref in refs:
            assert api.get(ref).status_code == 200, ref
        assert "img-src 'self' data:" in page.headers["content-security-policy"]


def test_whoami_names_the_role_team_and_player_of_the_key(api):
    assert get(api, "/api/v2/whoami").json() == {"role": "admin", "team": None, "team_name": None, "player": None,
                                                "player_name": None, "sees": "every team's games"}
    chi = get(api, "/api/v2/whoami", CHI).json()
    assert (chi["role"], chi["team"], chi["team_name"], chi["sees"]) == (
        "coach", "CHI", "Chicago Blackhawks", "Chicago Blackhawks games only")
    wsh = get(api, "/api/v2/whoami", WSH).json()
    assert (wsh["player"], wsh["player_name"]) == ("8471214", "Alex Ovechkin")
    for key in (None, "wrong-key-0123456789abcdef"):
        assert get(api, "/api/v2/whoami", key).status_code == 401
    assert get(api, "/api/v2/whoami", who="x").status_code == 422


def test_links_are_fresh_signed_urls_of_the_clips_the_key_may_see(api):
    chi_game = get(api, "/api/v2/clips/", game="20031", limit=2).json()["items"]
    wsh_game = get(api, "/api/v2/clips/", game="20038", limit=1).json()["items"]
    ids = [c["clip_id"] for c in chi_game + wsh_game]
    body = get(api, "/api/v2/links", clip=ids + ids[:1] + ["0" * 32]).json()
    assert body["expires_in_s"] == 900
    assert [c["clip_id"] for c in body["clips"]] == ids  # each once, in order; unknown ids left out
    for clip in body["clips"]:
        assert set(clip["urls"]) == {"mp4", "thumbnail"}
        assert api.get(clip["urls"]["mp4"]).status_code == 200  # the link works without a key
    # a team key gets only its own team's clips: another team's is as if it did not exist
    chi = get(api, "/api/v2/links", CHI, clip=ids).json()
    assert [c["clip_id"] for c in chi["clips"]] == ids[:2]
    assert get(api, "/api/v2/links", CHI, clip=ids[2:]).status_code == 404  # none it may see
    assert get(api, "/api/v2/links", None, clip=ids).status_code == 401
    assert get(api, "/api/v2/links", clip=["NOTHEX00"]).status_code == 422  # not a clip id
    assert get(api, "/api/v2/links").status_code == 422  # no clip named
    assert get(api, "/api/v2/links", clip=["a"] * 101).status_code == 422  # at most 100
    assert get(api, "/api/v2/links", clip=ids[0], limit=3).status_code == 422
    assert get(api, "/api/v2/links", clip="../../etc").status_code == 422


def test_without_chromium_the_browser_tests_fail_where_servers_are_required(monkeypatch):
    from _pytest.outcomes import Failed, Skipped

    from hb_clips_tests.retrieval.room import browser

    monkeypatch.setattr(browser, "CHROMIUM", Path("/nonexistent/chromium"))
    monkeypatch.setenv("HB_REQUIRE_SERVERS", "1")
    with pytest.raises(Failed, match="Chromium is not at /nonexistent/chromium"):
        browser.chromium_or_skip()
    monkeypatch.delenv("HB_REQUIRE_SERVERS")
    with pytest.raises(Skipped):
        browser.chromium_or_skip()
