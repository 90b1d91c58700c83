"""Pages on a generated league (42 games, some without clips, two the schedule does not list), on
SQLite and PostgreSQL: offset pages and keyset pages (``after``) both concatenate to the clips
computed from the records and the schedule alone - same clips, same order - with exact totals
where they are exact; bounded counts say so; cursors are checked; the API and the CLI page too.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json

import httpx
import pytest

from hb_clips_assets.cli.main import main
from hb_clips_assets.domain.reference import ScheduledGame
from hb_clips_assets.retrieval import ClipQuery, QueryError, References, find_clips, iter_clips
from hb_clips_assets.retrieval import pages
from hb_clips_assets.retrieval.api.app import create_app
from hb_clips_assets.retrieval.api.settings import ApiKey, ApiSettings
from hb_clips_assets.storage.index import MediaIndex
from hb_clips_tests.retrieval.api.server import serve
from hb_clips_tests.retrieval.league import League, clip, league
from hb_clips_tests.servers.postgres import postgres_server  # noqa: F401  (fixture)

ADMIN = "admin-key-0123456789abcdef"
P_WSH = "84000"  # a WSH player


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def env(request, tmp_path_factory):
    work = tmp_path_factory.mktemp(f"keyset-{request.param}")
    if request.param == "sqlite":
        url, cleanup = f"sqlite:///{work / 'media.db'}", None
    else:
        server = request.getfixturevalue("postgres_server")
        name = server.create_database("keyset")
        url, cleanup = server.url(name), lambda: server.drop_database(name)
    index = MediaIndex(url)
    built = league(index)
    yield index, built, url, work
    index.dispose()
    if cleanup:
        cleanup()


def visible(lg: League, teams: set[str]):
    games = {g.game_id for g in lg.refs.schedule.values() if g.home in teams or g.away in teams}
    return lambda r: r.team in teams or r.opponent in teams or r.game_id in games


CASES = [
    ("every clip", ClipQuery(), lambda lg: lambda r: True, {}),
    ("newest first", ClipQuery(newest_first=True), lambda lg: lambda r: True, {}),
    ("goals", ClipQuery(event_types=("goal",)), lambda lg: lambda r: r.event_type == "goal", {}),
    ("goals and shots", ClipQuery(event_types=("goal", "shot")), lambda lg: lambda r: r.event_type in ("goal", "shot"), {}),
    ("one player", ClipQuery(players=(P_WSH,)), lambda lg: lambda r: r.player_id == P_WSH, {}),
    ("player's hits", ClipQuery(players=(P_WSH,), event_types=("hit",)),
     lambda lg: lambda r: r.player_id == P_WSH and r.event_type == "hit", {}),
    ("team", ClipQuery(teams=("WSH",)), lambda lg: lambda r: r.team == "WSH", {}),
    ("opponent", ClipQuery(opponents=("NYR",)), lambda lg: lambda r: r.opponent == "NYR", {}),
    ("power play, any case", ClipQuery(strengths=("PP",)), lambda lg: lambda r: (r.strength or "").lower() == "pp", {}),
    ("power-play zone entries", ClipQuery(event_types=("zone_entry",), strengths=("pp",)),
     lambda lg: lambda r: r.event_type == "zone_entry" and (r.strength or "").lower() == "pp", {}),
    ("offensive zone", ClipQuery(zones=("O",)), lambda lg: lambda r: r.zone == "O", {}),
    ("overtime", ClipQuery(periods=("OT",)), lambda lg: lambda r: r.period == "OT", {}),
    ("won", ClipQuery(outcomes=("won",)), lambda lg: lambda r: r.tags["outcome"] == "won", {}),
    ("WSH d-zone, newest first", ClipQuery(teams=("WSH",), zones=("D",), newest_first=True),
     lambda lg: lambda r: r.team == "WSH" and r.zone == "D", {}),
    ("games by id, one unscheduled", ClipQuery(game_ids=("20007", "20003", "90001")),
     lambda lg: lambda r: r.game_id in ("20007", "20003", "90001"), {}),
    ("dates", ClipQuery(date_from=dt.date(2026, 10, 5), date_to=dt.date(2026, 10, 9)),
     lambda lg: lambda r: "2026-10-05" <= (lg.date_of(r.game_id) or "") <= "2026-10-09", {}),
    ("a CHI key", ClipQuery(), lambda lg: visible(lg, {"CHI"}), {"visible_teams": ["CHI"]}),
    ("a WSH key, hits", ClipQuery(event_types=("hit",)),
     lambda lg: (lambda v: lambda r: v(r) and r.event_type == "hit")(visible(lg, {"WSH"})), {"visible_teams": ["WSH"]}),
    ("nobody's team", ClipQuery(teams=("TOR",)), lambda lg: lambda r: False, {}),
]
IDS = [c[0] for c in CASES]


def keys(items) -> list[tuple[str, str]]:
    return [(c.game_id, c.event_id) for c in items]


def by_offset(index, lg, query, limit, **kwargs) -> list:
    seen, offset = [], 0
    while True:
        page = find_clips(index, dataclasses.replace(query, limit=limit, offset=offset), lg.refs, **kwargs)
        assert page.offset == offset
        seen += page.items
        if page.next_offset is None:
            assert page.next_after is None
            return seen
        assert page.next_offset == offset + limit and len(page.items) == limit
        offset = page.next_offset


def by_cursor(index, lg, query, limit, **kwargs) -> list:
    seen, after = [], None
    while True:
        page = find_clips(index, dataclasses.replace(query, limit=limit, after=after), lg.refs, **kwargs)
        assert page.offset == (0 if after is None else None)
        seen += page.items
        if page.next_after is None:
            return seen
        assert len(page.items) == limit
        after = page.next_after


@pytest.mark.parametrize("label, query, keep, kwargs", CASES, ids=IDS)
def test_offset_and_keyset_pages_give_the_computed_clips(env, label, query, keep, kwargs):
    index, lg, _url, _work = env
    want = keys(lg.expected(keep(lg), newest_first=query.newest_first))
    first = find_clips(index, query, lg.refs, **kwargs)
    assert first.total_is_exact and first.total == len(want)
    assert keys(first.items) == want[:50]
    for limit in (1, 7, 50) if len(want) <= 80 else (7, 50):  # a page of 1 on the small ones (time)
        assert keys(by_offset(index, lg, query, limit, **kwargs)) == want
        assert keys(by_cursor(index, lg, query, limit, **kwargs)) == want
    assert keys(iter_clips(index, query, lg.refs, **kwargs)) == want


def test_pages_after_the_last_and_past_the_end(env):
    index, lg, _url, _work = env
    want = lg.expected(lambda r: r.event_type == "goal")
    page = find_clips(index, ClipQuery(event_types=("goal",), limit=len(want)), lg.refs)
    assert len(page.items) == len(want) and page.next_after is None and page.next_offset is None
    beyond = find_clips(index, ClipQuery(event_types=("goal",), offset=len(want) + 5), lg.refs)
    assert beyond.items == [] and beyond.total == len(want) and beyond.next_after is None


@pytest.mark.parametrize("query, keep", [
    (ClipQuery(zones=("O",)), lambda r: r.zone == "O"),
    (ClipQuery(teams=("WSH",), outcomes=("lost",)), lambda r: r.team == "WSH" and r.tags["outcome"] == "lost"),
], ids=["broad", "narrowed to a team's games"])
def test_bounded_count_says_so_and_pages_stay_complete(env, monkeypatch, query, keep):
    """Past COUNT_CAP matches (made small here) the clips are not counted to the end: the total is a
    lower bound, total_is_exact false - and the pages, by offset or cursor, still hold every clip."""
    index, lg, _url, _work = env
    want = keys(lg.expected(keep))
    monkeypatch.setattr(pages, "COUNT_CAP", 5)
    page = find_clips(index, dataclasses.replace(query, limit=3), lg.refs)
    assert len(want) > 5 and not page.total_is_exact and 5 <= page.total <= len(want)
    assert page.next_offset == 3 and page.next_after is not None
    assert keys(by_cursor(index, lg, query, 4)) == want
    seen, offset = [], 0
    while True:  # next_offset, not total, says whether there is more
        page = find_clips(index, dataclasses.replace(query, limit=4, offset=offset), lg.refs)
        seen += page.items
        if page.next_offset is None:
            break
        offset = page.next_offset
    assert keys(seen) == want


def test_cursor_checks(env):
    index, lg, _url, _work = env
    cursor = find_clips(index, ClipQuery(limit=2), lg.refs).next_after
    with pytest.raises(QueryError, match="another search"):
        find_clips(index, ClipQuery(event_types=("goal",), after=cursor), lg.refs)
    with pytest.raises(QueryError, match="another search"):  # the order is part of the search
        find_clips(index, ClipQuery(newest_first=True, after=cursor), lg.refs)
    for bad in ("x", "AAAA", cursor[:-3], "W1sxXQ"):
        with pytest.raises(QueryError, match="not a page cursor"):
            find_clips(index, ClipQuery(after=bad), lg.refs)
    with pytest.raises(QueryError, match="not both"):
        find_clips(index, ClipQuery(after=cursor, offset=3), lg.refs)
    # the page size may change from page to page: it is not part of the search
    assert find_clips(index, ClipQuery(limit=9, after=cursor), lg.refs).items


def test_cursor_outlives_its_game_leaving_the_last_n_games(tmp_path):
    """The cursor's game is no longer among "the last 3 games" (a later game was played meanwhile):
    the next page goes on with the first game after it that still is."""
    schedule = {g: ScheduledGame(g, f"2026-10-0{d}", "MTL", "BOS") for d, g in enumerate(("30001", "30002", "30003",
                                                                                         "30004"), start=1)}
    refs = References(schedule, {})
    index = MediaIndex(f"sqlite:///{tmp_path / 'media.db'}")
    try:
        def play(game_id: str) -> list:
            records = [clip(f"{game_id}{k}", game_id, "1", f"e{k}", "shot", "p1", "MTL", "BOS", frame=100 * k)
                       for k in range(3)]
            index.write_partition(game_id, "1", records)
            return records

        a, b, c = play("30001"), play("30002"), play("30003")
        query = ClipQuery(teams=("MTL",), last_games=3, limit=2)
        first = find_clips(index, query, refs, as_of=dt.date(2026, 10, 3))
        assert first.games == ("30001", "30002", "30003") and keys(first.items) == keys(a[:2])
        d = play("30004")
        later = find_clips(index, dataclasses.replace(query, after=first.next_after, limit=50), refs,
                           as_of=dt.date(2026, 10, 4))
        assert later.games == ("30002", "30003", "30004")
        assert keys(later.items) == keys(b + c + d) and later.next_after is None
    finally:
        index.dispose()


def test_api_pages_by_after(env):
    index, lg, url, work = env
    root = work / "refs"
    root.mkdir(exist_ok=True)
    (root / "schedule.csv").write_text("game_id,date,home,away\n" + "".join(
        f"{g.game_id},{g.date},{g.home},{g.away}\n" for g in lg.refs.schedule.values()))
    (root / "roster.csv").write_text("player_id,name,team,position,aliases\n" + "".join(
        f"{p.player_id},{p.name},{p.team},{p.position},\n" for p in lg.refs.roster.values()))
    want = keys(lg.expected(lambda r: r.team == "WSH"))
    app = create_app(ApiSettings(data_root=str(root), db_url=url, store_url=str(work / "store"),
                                 keys={ADMIN: ApiKey("admin")}))
    seen, params = [], {"team": "WSH", "limit": 6}
    with serve(app) as base, httpx.Client(base_url=base, timeout=10) as client:
        while True:
            r = client.get("/api/v2/clips/", params=params, headers={"X-API-Key": ADMIN})
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["total"] == len(want) and body["total_is_exact"] is True
            seen += [(c["game_id"], c["event_id"]) for c in body["items"]]
            if body["next_after"] is None:
                break
            params = {"team": "WSH", "limit": 6, "after": body["next_after"]}
        assert seen == want
        for bad in ({"after": "!!"}, {"after": "eyJ4IjoxfQ"}, {"after": body.get("next_after") or "AAAA", "offset": 5}):
            r = client.get("/api/v2/clips/", params={"team": "WSH", **bad}, headers={"X-API-Key": ADMIN})
            assert r.status_code == 422, (bad, r.text)


def test_cli_find_after(env, capsys, monkeypatch):
    index, lg, url, work = env
    root = work / "refs"
    if not (root / "schedule.csv").exists():
        pytest.skip("written by test_api_pages_by_after")
    monkeypatch.setenv("HB_STORE_URL", str(work / "store"))
    base = ["find", "--team", "WSH", "--limit", "5", "--db-url", url, "--data-root", str(root)]
    assert main([*base, "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert main([*base, "--json", "--after", first["next_after"]]) == 0
    second = json.loads(capsys.readouterr().out)
    want = keys(lg.expected(lambda r: r.team == "WSH"))
    assert [(c["game_id"], c["event_id"]) for c in first["items"] + second["items"]] == want[:10]
    assert second["offset"] is None and second["total"] == len(want)
    assert main(base) == 0
    out = capsys.readouterr().out
    assert f"{len(want)} clips found; showing 1-5" in out and f"more: add --offset 5 or --after {first['next_after']}" in out
    monkeypatch.setattr(pages, "COUNT_CAP", 3)
    assert main(["find", "--zone", "O", "--limit", "2", "--db-url", url, "--data-root", str(root)]) == 0
    assert "at least 3 clips found; showing 1-2" in capsys.readouterr().out


def test_an_index_before_the_counts_asks_for_an_upgrade(tmp_path, capsys):
    """Reading never migrates: an index still at revision 0002 is refused with what to run."""
    from hb_clips_assets.storage.index.db import create_media_engine
    from hb_clips_assets.storage.index.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'media.db'}"
    engine = create_media_engine(url)
    upgrade(engine, "0002_pending_deletions")
    engine.dispose()
    assert main(["find", "--db-url", url, "--data-root", str(tmp_path)]) == 2
    assert "predates the per-game counts: run `hb-clips db upgrade`" in capsys.readouterr().err
    assert main(["db", "upgrade", "--url", url]) == 0
    capsys.readouterr()
    assert main(["find", "--db-url", url, "--data-root", str(tmp_path)]) == 0
    assert "0 clips found" in capsys.readouterr().out
