"""The stats overview from the per-game counts equals the overview computed from the records
themselves and the one the clips table gives directly (the path for filters the counts do not
hold), for the filters and team keys of the overview, on SQLite and PostgreSQL - also after
partition writes replace and remove clips."""
from __future__ import annotations

import dataclasses
from collections import defaultdict

import pytest

from hb_clips_assets.retrieval import ClipQuery, clip_stats
from hb_clips_assets.retrieval.plan import Plan
from hb_clips_assets.storage.index import MediaIndex
from hb_clips_tests.retrieval.league import League, league, write
from hb_clips_tests.servers.postgres import postgres_server  # noqa: F401  (fixture)

P_WSH = "84000"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def env(request, tmp_path_factory):
    work = tmp_path_factory.mktemp(f"stats-{request.param}")
    if request.param == "sqlite":
        url, cleanup = f"sqlite:///{work / 'media.db'}", None
    else:
        server = request.getfixturevalue("postgres_server")
        name = server.create_database("stats")
        url, cleanup = server.url(name), lambda: server.drop_database(name)
    index = MediaIndex(url)
    yield index, league(index)
    index.dispose()
    if cleanup:
        cleanup()


def computed(lg: League, keep) -> dict:
    """The overview's numbers from the records alone."""
    chosen = [r for r in lg.records if keep(r)]
    by = defaultdict(lambda: defaultdict(lambda: [0, 0.0]))
    kinds = defaultdict(lambda: [0, 0])
    for r in chosen:
        seconds = (r.end_frame - r.start_frame) * r.fps_den / r.fps_num
        for part, key in (("game", r.game_id), ("type", r.event_type), ("player", r.player_id)):
            by[part][key][0] += 1
            by[part][key][1] += seconds
        for a in r.assets:
            kinds[a.kind][0] += 1
            kinds[a.kind][1] += a.bytes
    return {"clips": len(chosen), "by": {p: {k: (n, round(s, 3)) for k, (n, s) in v.items()} for p, v in by.items()},
            "kinds": {k: tuple(v) for k, v in kinds.items()}}


def summary(stats: dict) -> dict:
    by = {
        "game": {g["game_id"]: (g["clips"], g["duration_s"]) for g in stats["by_game"]},
        "type": {t["event_type"]: (t["clips"], t["duration_s"]) for t in stats["by_event_type"]},
        "player": {p["player_id"]: (p["clips"], p["duration_s"]) for p in stats["by_player"]},
    }
    return {"clips": stats["clips"], "by": {k: v for k, v in by.items() if v},
            "kinds": {k: (v["objects"], v["bytes"]) for k, v in stats["bytes_by_kind"].items()}}


def approx(summary_: dict) -> dict:
    """Seconds are sums of floats in another order: equal to the millisecond."""
    return {**summary_, "by": {p: {k: (n, pytest.approx(s, abs=2e-3)) for k, (n, s) in v.items()}
                              for p, v in summary_["by"].items()}}


def team_key(lg: League, team: str):
    games = {g.game_id for g in lg.refs.schedule.values() if team in (g.home, g.away)}
    return lambda r: team in (r.team, r.opponent) or r.game_id in games


CASES = [
    ("league", ClipQuery(), lambda lg: lambda r: True, None),
    ("one team", ClipQuery(teams=("WSH",)), lambda lg: lambda r: r.team == "WSH", None),
    ("goals", ClipQuery(event_types=("goal",)), lambda lg: lambda r: r.event_type == "goal", None),
    ("a player", ClipQuery(players=(P_WSH,)), lambda lg: lambda r: r.player_id == P_WSH, None),
    ("a player's shots", ClipQuery(players=(P_WSH,), event_types=("shot",)),
     lambda lg: lambda r: r.player_id == P_WSH and r.event_type == "shot", None),
    ("power play", ClipQuery(strengths=("PP",)), lambda lg: lambda r: (r.strength or "").lower() == "pp", None),
    ("vs NYR, hits", ClipQuery(opponents=("NYR",), event_types=("hit",)),
     lambda lg: lambda r: r.opponent == "NYR" and r.event_type == "hit", None),
    ("games", ClipQuery(game_ids=("20003", "20010", "90002")), lambda lg: lambda r: r.game_id in ("20003", "20010", "90002"), None),
    ("offensive zone (not held by the counts)", ClipQuery(zones=("O",)), lambda lg: lambda r: r.zone == "O", None),
    ("a CHI key", ClipQuery(), lambda lg: team_key(lg, "CHI"), ["CHI"]),
    ("a WSH key, goals", ClipQuery(event_types=("goal",)),
     lambda lg: (lambda v: lambda r: v(r) and r.event_type == "goal")(team_key(lg, "WSH")), ["WSH"]),
    ("a WSH key, a player", ClipQuery(players=(P_WSH,)),
     lambda lg: (lambda v: lambda r: v(r) and r.player_id == P_WSH)(team_key(lg, "WSH")), ["WSH"]),
]


@pytest.mark.parametrize("label, query, keep, teams", CASES, ids=[c[0] for c in CASES])
def test_overview_from_counts_equals_records_and_direct(env, monkeypatch, label, query, keep, teams):
    index, lg = env
    want = computed(lg, keep(lg))
    got = clip_stats(index, query, lg.refs, visible_teams=teams)
    assert summary(got) == approx(want)
    assert [g["game_id"] for g in got["by_game"]] == [
        g for g in sorted(want["by"].get("game", {}), key=lambda g: (lg.date_of(g) is None, lg.date_of(g) or "", g))]
    # the totals across games skipped: every part from the per-game counts ...
    monkeypatch.setattr(Plan, "totals", lambda self, *a, **k: None)
    assert summary(clip_stats(index, query, lg.refs, visible_teams=teams)) == approx(summary(got))
    # ... and from the clips themselves
    monkeypatch.setattr(Plan, "grain", lambda self, *a, **k: None)
    direct = clip_stats(index, query, lg.refs, visible_teams=teams)
    assert summary(direct) == approx(summary(got))


def test_which_table_answers_each_part(env):
    """The parts read the tables the plan says: totals across games where no game filter or team key."""
    index, lg = env
    from hb_clips_assets.retrieval.plan import plan as make_plan

    def tables(query, teams=None):
        planned = make_plan(index.engine, query, lg.refs, teams, None)
        return {c: getattr(planned.totals(c) if c != "game_id" else None, "name", None)
                or getattr(planned.grain(c), "name", None) for c in ("game_id", "event_type", "player_id", "kind")}

    assert tables(ClipQuery(teams=("WSH",))) == {
        "game_id": "clip_stats_game", "event_type": "clip_totals_type", "player_id": "clip_totals_player",
        "kind": "clip_totals_assets"}
    assert tables(ClipQuery(teams=("WSH",), last_games=5)) == {
        "game_id": "clip_stats_game", "event_type": "clip_stats_type", "player_id": "clip_stats_player",
        "kind": "clip_stats_assets"}
    assert tables(ClipQuery(), ["WSH"])["event_type"] == "clip_stats_type"  # a team key: by game
    assert tables(ClipQuery(players=(P_WSH,)))["kind"] is None  # a player's bytes: from the clips
    assert set(tables(ClipQuery(zones=("O",))).values()) == {None}


def test_overview_follows_replacements_and_removals(tmp_path):
    index = MediaIndex(f"sqlite:///{tmp_path / 'media.db'}")
    try:
        lg = league(index, seed=5)
        changed = []
        for r in lg.records:
            if r.game_id in ("20001", "20002"):
                continue  # those games' partitions are rewritten empty below: every clip stale
            if r.event_type == "shot":  # a corrected event type and player
                r = dataclasses.replace(r, event_type="goal", player_id=P_WSH if r.team == "WSH" else r.player_id)
            changed.append(r)
        write(index, changed)
        for period in ("1", "2", "3", "OT"):
            index.write_partition("20001", period, [])
            index.write_partition("20002", period, [])
        after = League(lg.refs, changed)
        for query, keep in ((ClipQuery(), lambda r: True), (ClipQuery(event_types=("goal",)), lambda r: r.event_type == "goal"),
                            (ClipQuery(players=(P_WSH,)), lambda r: r.player_id == P_WSH)):
            assert summary(clip_stats(index, query, lg.refs)) == approx(computed(after, keep))
        assert not {"20001", "20002"} & {g["game_id"] for g in clip_stats(index, ClipQuery(), lg.refs)["by_game"]}
    finally:
        index.dispose()
