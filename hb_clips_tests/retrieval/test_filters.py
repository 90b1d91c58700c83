"""Queries over the indexed sample, on SQLite and on PostgreSQL, checked against
the clips computed directly from the metrics and shifts CSVs (same clips, same order)."""
from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from hb_clips_assets.storage.index.repository import MediaIndex
from hb_clips_assets.retrieval import ClipQuery, QueryError, References, clip_stats, find_clips, get_clip, iter_clips
from hb_clips_assets.retrieval.language import parse_request
from hb_clips_assets.storage.store.local import LocalObjectStore
from hb_clips_tests.retrieval_sample import Expected, expected_clips, index_sample, shared_sample
from hb_clips_tests.servers.postgres import postgres_server  # noqa: F401  (fixture)

OVI = "8471214"
AS_OF = dt.date(2026, 11, 25)


@dataclasses.dataclass
class Env:
    index: MediaIndex
    refs: References
    expected: list[Expected]
    store_root: Path
    schedule_games: dict


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def env(request, tmp_path_factory):
    data = shared_sample(tmp_path_factory)
    work = tmp_path_factory.mktemp(f"query-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{work / 'media.db'}"
        cleanup = None
    else:
        server = request.getfixturevalue("postgres_server")
        name = server.create_database("query")
        url, cleanup = server.url(name), lambda: server.drop_database(name)
    index_sample(data, work / "store", url)
    index = MediaIndex(url)
    refs = References.load(data)
    yield Env(index, refs, expected_clips(data), work / "store", refs.schedule)
    index.dispose()
    if cleanup:
        cleanup()


def ids(items) -> list[str]:
    return [c.event_id for c in items]


def find_all(env: Env, query: ClipQuery, **kwargs) -> list:
    return list(iter_clips(env.index, query, env.refs, as_of=AS_OF, **kwargs))


def last_games_of(env: Env, team: str | None, n: int) -> set[str]:
    """The team's n latest games of schedule.csv played by AS_OF, computed directly."""
    games = sorted(
        (g for g in env.schedule_games.values() if (team is None or team in (g.home, g.away)) and g.date <= AS_OF.isoformat()),
        key=lambda g: (g.date, g.game_id),
    )
    return {g.game_id for g in games[-n:]}


def test_every_clip_in_order_page_by_page(env):
    assert len(env.expected) > 60  # events and shifts of both games
    seen = []
    offset = 0
    while True:
        page = find_clips(env.index, ClipQuery(limit=7, offset=offset), env.refs, as_of=AS_OF)
        assert page.total == len(env.expected)
        assert len(page.items) == min(7, len(env.expected) - offset)
        seen += page.items
        if page.next_offset is None:
            break
        assert page.next_offset == offset + 7
        offset = page.next_offset
    assert ids(seen) == [e.event_id for e in env.expected]
    for got, want in zip(seen, env.expected):
        assert (got.game_id, got.game_date, got.period, got.event_type, got.player_id, got.team, got.opponent,
                got.zone, got.strength, got.event_frame) == (
            want.game_id, want.date, want.period, want.event_type, want.player_id, want.team, want.opponent,
            want.zone, want.strength, want.event_frame)


CASES = [
    # query, predicate on the expected clips
    (ClipQuery(teams=("WSH",), opponents=("NYR",), zones=("D",), event_types=("zone_exit",)),
     lambda e: (e.team, e.opponent, e.zone, e.event_type) == ("WSH", "NYR", "D", "zone_exit")),
    (ClipQuery(players=("Ovi",)), lambda e: e.player_id == OVI),
    (ClipQuery(players=("Nick Suzuki", "bedard")), lambda e: e.player_id in ("8480018", "8484144")),
    (ClipQuery(teams=("Habs",), periods=("2", "3")), lambda e: e.team == "MTL" and e.period in ("2", "3")),
    (ClipQuery(opponents=("MTL",)), lambda e: e.opponent == "MTL"),
    (ClipQuery(event_types=("shifts",)), lambda e: e.event_type == "shift"),
    (ClipQuery(event_types=("turnovers",)), lambda e: e.event_type in ("giveaway", "takeaway")),
    (ClipQuery(event_types=("checks",)), lambda e: e.event_type == "hit"),
    (ClipQuery(event_types=("goal", "shot")), lambda e: e.event_type in ("goal", "shot")),
    (ClipQuery(zones=("offensive",)), lambda e: e.zone == "O"),
    (ClipQuery(strengths=("pp", "PK")), lambda e: e.strength in ("PP", "PK")),
    (ClipQuery(strengths=("5v5",), zones=("N",)), lambda e: e.strength == "5v5" and e.zone == "N"),
    (ClipQuery(outcomes=("controlled",)), lambda e: e.outcome == "controlled"),
    (ClipQuery(game_ids=("20031",), periods=("1",)), lambda e: e.game_id == "20031" and e.period == "1"),
    (ClipQuery(date_from=dt.date(2026, 11, 19)), lambda e: e.date >= "2026-11-19"),
    (ClipQuery(date_to="2026-11-18"), lambda e: e.date <= "2026-11-18"),
    (ClipQuery(periods=("OT",)), lambda e: False),
    (ClipQuery(teams=("TOR",)), lambda e: False),
]


@pytest.mark.parametrize("query, keep", CASES, ids=[q.describe() for q, _ in CASES])
def test_filters_match_the_csvs(env, query, keep):
    want = [e.event_id for e in env.expected if keep(e)]
    got = find_all(env, query)
    assert ids(got) == want
    assert find_clips(env.index, query, env.refs, as_of=AS_OF).total == len(want)


def test_last_games_of_a_team_a_player_or_anyone(env):
    # MTL's last game is 20031 (the schedule's MTL games after it: none); WSH's is 20038
    mtl_last = last_games_of(env, "MTL", 1)
    assert mtl_last == {"20031"}
    got = find_all(env, ClipQuery(teams=("MTL",), last_games=1))
    assert ids(got) == [e.event_id for e in env.expected if e.team == "MTL" and e.game_id in mtl_last]
    # of a player: his team's games
    got = find_all(env, ClipQuery(players=(OVI,), last_games=5, event_types=("shift",)))
    wsh5 = last_games_of(env, "WSH", 5)
    assert len(wsh5) == 5 and "20038" in wsh5
    assert ids(got) == [e.event_id for e in env.expected if e.player_id == OVI and e.event_type == "shift"
                        and e.game_id in wsh5]
    # last_games_of names the subject explicitly; the filters still apply
    page = find_clips(env.index, ClipQuery(last_games=1, last_games_of="Suzuki", zones=("O",)), env.refs, as_of=AS_OF)
    assert page.games == ("20031",)
    assert ids(page.items) == [e.event_id for e in env.expected if e.game_id == "20031" and e.zone == "O"]
    # no subject: the most recent games of anyone
    page = find_clips(env.index, ClipQuery(last_games=2, limit=500), env.refs, as_of=AS_OF)
    assert set(page.games) == last_games_of(env, None, 2) == {"20031", "20038"}
    # last N games against an opponent: NYR's games against WSH only
    page = find_clips(env.index, ClipQuery(teams=("NYR",), opponents=("WSH",), last_games=2), env.refs, as_of=AS_OF)
    assert set(page.games) == {"20038", "20011"}


def test_a_game_counts_as_played_once_it_has_clips_even_if_dated_later(env):
    early = dt.date(2026, 11, 19)  # 20038 (2026-11-20) is "in the future" but indexed
    page = find_clips(env.index, ClipQuery(teams=("WSH",), last_games=1), env.refs, as_of=early)
    assert page.games == ("20038",)
    page = find_clips(env.index, ClipQuery(teams=("BOS",), last_games=1), env.refs, as_of=dt.date(2026, 10, 8))
    assert page.games == ("20002",) and page.total == 0  # played, but not indexed


@pytest.mark.parametrize("request_text, keep", [
    ("Show me my shifts from the last five games",
     lambda env, e: e.player_id == OVI and e.event_type == "shift" and e.game_id in last_games_of(env, "WSH", 5)),
    ("Show me all ozone clips from the last game",
     lambda env, e: e.zone == "O" and e.game_id in last_games_of(env, None, 1)),
    ("Show me d-zone exits from WSH vs NYR",
     lambda env, e: (e.zone, e.event_type, e.team, e.opponent) == ("D", "zone_exit", "WSH", "NYR")),
])
def test_the_issue_requests_on_the_sample(env, request_text, keep):
    parsed = parse_request(request_text, env.refs, user_player=OVI)
    assert parsed.ignored == []
    got = find_all(env, parsed.query)
    want = [e.event_id for e in env.expected if keep(env, e)]
    assert want and ids(got) == want


def test_newest_first_reverses_games_not_the_clips_within_them(env):
    got = find_all(env, ClipQuery(newest_first=True))
    by_game = {}
    for e in env.expected:
        by_game.setdefault(e.game_id, []).append(e.event_id)
    assert ids(got) == by_game["20038"] + by_game["20031"]


def test_page_across_a_game_boundary(env):
    n31 = sum(e.game_id == "20031" for e in env.expected)
    page = find_clips(env.index, ClipQuery(offset=n31 - 2, limit=5), env.refs, as_of=AS_OF)
    assert ids(page.items) == [e.event_id for e in env.expected[n31 - 2 : n31 + 3]]
    beyond = find_clips(env.index, ClipQuery(offset=len(env.expected) + 10), env.refs, as_of=AS_OF)
    assert beyond.items == [] and beyond.total == len(env.expected) and beyond.next_offset is None


def test_visible_teams_limit_to_that_teams_games(env):
    got = find_all(env, ClipQuery(), visible_teams=["CHI"])
    assert ids(got) == [e.event_id for e in env.expected if e.game_id == "20031"]
    assert find_all(env, ClipQuery(), visible_teams=["TOR"]) == []
    assert find_all(env, ClipQuery(), visible_teams=[]) == []
    one = find_all(env, ClipQuery(game_ids=("20038",), limit=1))[0]
    assert get_clip(env.index, one.clip_id, env.refs, visible_teams=["NYR"]) is not None
    assert get_clip(env.index, one.clip_id, env.refs, visible_teams=["MTL"]) is None


def test_urls_tags_and_assets(env):
    class SigningStore(LocalObjectStore):
        calls = []

        def signed_url(self, key, expires_s=None):
            self.calls.append((key, expires_s))
            return f"https://signed.example/{key}?exp={expires_s}"

    class PlainStore:
        def uri(self, key):
            return f"plain://{key}"

    query = ClipQuery(game_ids=("20038",), event_types=("zone_exit",), limit=3)
    page = find_clips(env.index, query, env.refs, store=SigningStore(env.store_root), url_expires_s=600)
    clip = page.items[0]
    key = clip.assets["mp4"].object_key
    assert key == f"clips/20038/{clip.period}/{clip.clip_id}.mp4"
    assert clip.url("mp4") == f"https://signed.example/{key}?exp=600"
    assert (key, 600) in SigningStore.calls
    assert find_clips(env.index, query, env.refs, store=PlainStore()).items[0].url("thumbnail").startswith("plain://thumbnails/")
    recorded = find_clips(env.index, query, env.refs).items[0]
    assert recorded.url("mp4") == (env.store_root / key).resolve().as_uri()
    assert Path(recorded.url("mp4")[len("file://"):]).stat().st_size == recorded.assets["mp4"].bytes
    # tags: the CSV's extra columns; the detail view has the same
    assert clip.tags["outcome"] in ("controlled", "uncontrolled", "failed")
    detail = get_clip(env.index, clip.clip_id, env.refs)
    assert detail.tags == clip.tags and detail.assets.keys() == {"mp4", "thumbnail"}
    assert detail.player_name and detail.game_date == "2026-11-20"
    assert get_clip(env.index, "0" * 32, env.refs) is None


def test_shift_clips_span_the_shift_padded_one_second(env):
    shifts = find_all(env, ClipQuery(event_types=("shift",)))
    assert len(shifts) == sum(e.event_type == "shift" for e in env.expected) > 10
    pad = round(1.0 * shifts[0].fps)
    for clip in shifts:
        start, end = int(clip.tags["shift_start_frame"]), int(clip.tags["shift_end_frame"])
        assert clip.event_frame == start
        assert clip.start_frame == max(0, start - pad)
        assert clip.end_frame == min(round(8 * clip.fps), end + pad)


def test_stats_overview(env):
    stats = clip_stats(env.index, ClipQuery(), env.refs, as_of=AS_OF)
    assert stats["clips"] == len(env.expected)
    assert {g["game_id"]: g["clips"] for g in stats["by_game"]} == {
        g: sum(e.game_id == g for e in env.expected) for g in ("20031", "20038")}
    types = {t["event_type"]: t["clips"] for t in stats["by_event_type"]}
    assert types == {t: sum(e.event_type == t for e in env.expected) for t in {e.event_type for e in env.expected}}
    assert stats["by_player"][0]["clips"] == max(
        sum(e.player_id == p for e in env.expected) for p in {e.player_id for e in env.expected})
    every = find_all(env, ClipQuery())
    assert stats["bytes"] == sum(a.bytes for c in every for a in c.assets.values())
    assert stats["duration_s"] == pytest.approx(sum(c.duration_s for c in every), abs=1e-3)
    only = clip_stats(env.index, ClipQuery(), env.refs, visible_teams=["CHI"])
    assert [g["game_id"] for g in only["by_game"]] == ["20031"]


@pytest.mark.parametrize("query, message", [
    (ClipQuery(periods=("5",)), "unknown period"),
    (ClipQuery(teams=("Springfield Isotopes",)), "unknown team"),
    (ClipQuery(game_ids=("../etc",)), "invalid game_id"),
    (ClipQuery(limit=0), "limit"),
    (ClipQuery(limit=501), "limit"),
    (ClipQuery(offset=-1), "offset"),
    (ClipQuery(last_games=0), "last_games"),
    (ClipQuery(zones=("Z",)), "unknown zone"),
    (ClipQuery(event_types=("flurbs",)), "no clip has event type 'flurbs': known types are .*zone_exit"),
    (ClipQuery(date_from="2026-11-31"), "not a date"),
    (ClipQuery(date_from="2026-11-20", date_to="2026-11-01"), "after"),
    (ClipQuery(last_games=1, last_games_of="Nobody Atall"), "neither a team nor a player"),
])
def test_bad_filters_raise_query_errors(env, query, message):
    with pytest.raises(QueryError, match=message):
        find_clips(env.index, query, env.refs)
