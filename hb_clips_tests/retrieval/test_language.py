"""The plain-language parser: a table of requests and the exact filters they must give."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from hb_clips_assets.retrieval import ClipQuery, References
from hb_clips_assets.retrieval.language import apply_request, parse_request
from hb_clips_assets.retrieval.teams import NHL_TEAMS, normalize_team, team_code
from hb_clips_tests.retrieval_sample import shared_sample

OVI, SUZUKI, LAF, FOX, BEDARD, CARLSON = "8471214", "8480018", "8482109", "8479323", "8484144", "8474590"
ME = OVI  # HB_USER_PLAYER_ID in this table


@pytest.fixture(scope="module")
def refs(tmp_path_factory) -> References:
    return References.load(shared_sample(tmp_path_factory))


Q = ClipQuery

# request, the whole query it must become, the words it must report as ignored
TABLE: list[tuple[str, ClipQuery, list[str]]] = [
    # the three requests of the issue
    ("Show me my shifts from the last five games", Q(players=(ME,), event_types=("shift",), last_games=5), []),
    ("Show me all ozone clips from the last game", Q(zones=("O",), last_games=1), []),
    ("Show me d-zone exits from WSH vs NYR", Q(zones=("D",), event_types=("zone_exit",), teams=("WSH",), opponents=("NYR",)), []),
    # zones and their synonyms
    ("defensive zone exits", Q(zones=("D",), event_types=("zone_exit",)), []),
    ("DZ breakouts", Q(zones=("D",), event_types=("zone_exit",)), []),
    ("d zone faceoffs", Q(zones=("D",), event_types=("faceoff",)), []),
    ("o-zone faceoffs", Q(zones=("O",), event_types=("faceoff",)), []),
    ("offensive zone hits", Q(zones=("O",), event_types=("hit",)), []),
    ("OZ takeaways", Q(zones=("O",), event_types=("takeaway",)), []),
    ("neutral zone giveaways", Q(zones=("N",), event_types=("giveaway",)), []),
    ("NZ turnovers", Q(zones=("N",), event_types=("giveaway", "takeaway")), []),
    # event types
    ("zone entries", Q(event_types=("zone_entry",)), []),
    ("controlled zone entries", Q(event_types=("zone_entry",), outcomes=("controlled",)), []),
    ("failed breakouts", Q(event_types=("zone_exit",), outcomes=("failed",)), []),
    ("dump-ins", Q(event_types=("dump_in",)), []),
    ("dump ins and dump outs", Q(event_types=("dump_in", "dump_out")), []),
    ("shots and goals", Q(event_types=("shot", "goal")), []),
    ("shot attempts", Q(event_types=("shot", "missed_shot", "blocked_shot", "goal")), []),
    ("face-offs won", Q(event_types=("faceoff",), outcomes=("won",)), []),
    ("saves by Shesterkin", Q(event_types=("save",), players=("8478048",)), []),
    ("blocked shots", Q(event_types=("blocked_shot",)), []),
    ("missed shots", Q(event_types=("missed_shot",)), []),
    ("body checks", Q(event_types=("hit",)), []),
    ("penalties", Q(event_types=("penalty",)), []),
    ("puck recoveries", Q(event_types=("puck_recovery",)), []),
    ("shifts", Q(event_types=("shift",)), []),
    # strengths
    ("5v5 shots", Q(strengths=("5v5",), event_types=("shot",)), []),
    ("5 on 5 goals", Q(strengths=("5v5",), event_types=("goal",)), []),
    ("even strength goals", Q(strengths=("5v5",), event_types=("goal",)), []),
    ("power play goals", Q(strengths=("PP",), event_types=("goal",)), []),
    ("PP zone entries", Q(strengths=("PP",), event_types=("zone_entry",)), []),
    ("penalty kill clears", Q(strengths=("PK",), event_types=("dump_out",)), []),
    ("PK faceoffs", Q(strengths=("PK",), event_types=("faceoff",)), []),
    ("shorthanded goals", Q(strengths=("PK",), event_types=("goal",)), []),
    ("empty net goals", Q(strengths=("EN",), event_types=("goal",)), []),
    ("4v4 hits", Q(strengths=("4v4",), event_types=("hit",)), []),
    # teams: tricodes, short forms, nicknames
    ("Habs goals", Q(teams=("MTL",), event_types=("goal",)), []),
    ("Caps hits", Q(teams=("WSH",), event_types=("hit",)), []),
    ("Leafs shots", Q(teams=("TOR",), event_types=("shot",)), []),
    ("Bolts power play", Q(teams=("TBL",), strengths=("PP",)), []),
    ("Pens faceoffs", Q(teams=("PIT",), event_types=("faceoff",)), []),
    ("Avs zone exits", Q(teams=("COL",), event_types=("zone_exit",)), []),
    ("Canes hits", Q(teams=("CAR",), event_types=("hit",)), []),
    ("Sens giveaways", Q(teams=("OTT",), event_types=("giveaway",)), []),
    ("Isles blocked shots", Q(teams=("NYI",), event_types=("blocked_shot",)), []),
    ("LA goals", Q(teams=("LAK",), event_types=("goal",)), []),
    ("NJ shots vs SJ", Q(teams=("NJD",), event_types=("shot",), opponents=("SJS",)), []),
    ("TB vs Tampa Bay Lightning", Q(teams=("TBL",), opponents=("TBL",)), []),
    ("Montreal Canadiens against the Chicago Blackhawks", Q(teams=("MTL",), opponents=("CHI",)), []),
    ("New York Rangers goals versus the Islanders", Q(teams=("NYR",), event_types=("goal",), opponents=("NYI",)), []),
    ("St. Louis Blues hits", Q(teams=("STL",), event_types=("hit",)), []),
    ("Golden Knights vs Kraken", Q(teams=("VGK",), opponents=("SEA",)), []),
    ("goals against MTL", Q(event_types=("goal",), opponents=("MTL",)), []),
    ("CAR at NYR", Q(teams=("CAR",), opponents=("NYR",)), []),
    # a capitals-only short form written in lower case is a word, not a team
    ("my car goals", Q(players=(ME,), event_types=("goal",)), ["car"]),
    # players, names, last names, aliases
    ("Ovechkin goals", Q(players=(OVI,), event_types=("goal",)), []),
    ("Ovi's power play goals", Q(players=(OVI,), strengths=("PP",), event_types=("goal",)), []),
    ("The Great 8 shots", Q(players=(OVI,), event_types=("shot",)), []),
    ("Alexis Lafrenière zone entries", Q(players=(LAF,), event_types=("zone_entry",)), []),
    ("lafreniere takeaways", Q(players=(LAF,), event_types=("takeaway",)), []),
    ("Suzy faceoffs in the third period", Q(players=(SUZUKI,), event_types=("faceoff",), periods=("3",)), []),
    ("Johnny Rockets breakouts", Q(players=(CARLSON,), event_types=("zone_exit",)), []),
    ("Fox and Carlson shifts", Q(players=(FOX, CARLSON), event_types=("shift",)), []),
    ("Bedard vs Suzuki", Q(players=(BEDARD,), opponents=("MTL",)), []),
    ("hits against Ovechkin", Q(event_types=("hit",), opponents=("WSH",)), []),
    # "my" and "our"
    ("my goals", Q(players=(ME,), event_types=("goal",)), []),
    ("my team's shots", Q(teams=("WSH",), event_types=("shot",)), []),
    ("our power play", Q(teams=("WSH",), strengths=("PP",)), []),
    # periods
    ("goals in the second period", Q(event_types=("goal",), periods=("2",)), []),
    ("1st period shifts", Q(periods=("1",), event_types=("shift",)), []),
    ("goals in the third", Q(event_types=("goal",), periods=("3",)), []),
    ("first and second period hits", Q(periods=("1", "2"), event_types=("hit",)), []),
    ("OT goals", Q(periods=("OT",), event_types=("goal",)), []),
    ("overtime shots", Q(periods=("OT",), event_types=("shot",)), []),
    ("period 2 faceoffs", Q(periods=("2",), event_types=("faceoff",)), []),
    ("P3 saves", Q(periods=("3",), event_types=("save",)), []),
    # games, last N, dates, page size
    ("game 20038 goals", Q(game_ids=("20038",), event_types=("goal",)), []),
    ("shots 20031", Q(event_types=("shot",), game_ids=("20031",)), []),
    ("Caps goals in the last 3 games", Q(teams=("WSH",), event_types=("goal",), last_games=3), []),
    ("hits from the past ten games", Q(event_types=("hit",), last_games=10), []),
    ("the last couple of games", Q(last_games=2), []),
    ("most recent game", Q(last_games=1), []),
    ("last night's goals", Q(last_games=1, event_types=("goal",)), []),
    ("goals since 2026-11-01", Q(event_types=("goal",), date_from=dt.date(2026, 11, 1)), []),
    ("goals before 2026-11-20", Q(event_types=("goal",), date_to=dt.date(2026, 11, 19)), []),
    ("shots between 2026-11-01 and 2026-11-30",
     Q(event_types=("shot",), date_from=dt.date(2026, 11, 1), date_to=dt.date(2026, 11, 30)), []),
    ("shots on 2026-11-20", Q(event_types=("shot",), date_from=dt.date(2026, 11, 20), date_to=dt.date(2026, 11, 20)), []),
    ("first 10 goals", Q(event_types=("goal",), limit=10), []),
    # unknown words are reported, never dropped
    ("slap shots from the slot", Q(event_types=("shot",)), ["slap", "slot"]),
    ("Show me gorgeous dangles by Panarin", Q(players=("8478550",)), ["gorgeous", "dangles"]),
    ("home goals this season", Q(event_types=("goal",)), ["home", "season"]),
    ("goals not on the power play", Q(event_types=("goal",), strengths=("PP",)), ["not"]),
    ("last 10 goals", Q(event_types=("goal",)), ["last", "10"]),
    ("Show me zone exits vs", Q(event_types=("zone_exit",)), ["vs"]),
    ("game 99999 hits", Q(game_ids=("99999",), event_types=("hit",)), []),
    ("goals 2026-13-45", Q(event_types=("goal",)), ["2026-13-45"]),
    ("", Q(), []),
]


@pytest.mark.parametrize("request_text, expected, ignored", TABLE, ids=[t[0] or "<empty>" for t in TABLE])
def test_parser_table(refs, request_text, expected, ignored):
    parsed = parse_request(request_text, refs, user_player=ME)
    assert parsed.query == expected, parsed.summary()
    assert parsed.ignored == ignored, parsed.summary()
    # every word of the request is accounted for exactly once: understood, filler or ignored
    assert sorted(words(" ".join(u.text for u in parsed.understood)) + parsed.ignored + parsed.filler) == sorted(
        words(request_text)
    )


def words(text: str) -> list[str]:
    return re.findall(r"\d{4}-\d{2}-\d{2}|@|[^\W_]+", re.sub(r"'s\b|'", " ", text))


def test_table_is_big_enough():
    assert len(TABLE) >= 60


def test_what_was_understood_is_said_with_the_requests_own_words(refs):
    parsed = parse_request("Show me d-zone exits from WSH vs NYR", refs, user_player=None)
    assert [(u.text, u.meaning) for u in parsed.understood] == [
        ("d-zone", "zone D (defensive zone)"),
        ("exits", "event type zone_exit"),
        ("WSH", "team WSH (Washington Capitals)"),
        ("vs NYR", "opponent NYR"),
    ]
    assert parsed.filler == ["Show", "me", "from"]
    assert parsed.ignored == [] and parsed.notes == []


def test_my_without_a_configured_player_is_ignored_with_a_note(refs, monkeypatch):
    monkeypatch.delenv("HB_USER_PLAYER_ID", raising=False)
    parsed = parse_request("Show me my shifts from the last five games", refs)
    assert parsed.query == Q(event_types=("shift",), last_games=5)
    assert parsed.ignored == ["my"]
    assert any("HB_USER_PLAYER_ID" in n for n in parsed.notes)


def test_my_reads_the_environment(refs, monkeypatch):
    monkeypatch.setenv("HB_USER_PLAYER_ID", SUZUKI)
    assert parse_request("my faceoffs", refs).query == Q(players=(SUZUKI,), event_types=("faceoff",))
    monkeypatch.setenv("HB_USER_PLAYER_ID", "Suzy")  # a name or alias works too
    assert parse_request("my faceoffs", refs).query.players == (SUZUKI,)


def test_negation_is_reported_as_not_applied(refs):
    parsed = parse_request("hits except in the neutral zone", refs)
    assert "except" in parsed.ignored and any("not supported" in n for n in parsed.notes)


def test_explicit_filters_override_the_request(refs):
    parsed = apply_request("Caps goals in the second", Q(periods=("3",), limit=5), refs)
    assert parsed.query == Q(teams=("WSH",), event_types=("goal",), periods=("3",), limit=5)


def test_without_a_roster_names_are_ignored_but_teams_still_work():
    parsed = parse_request("Ovechkin goals vs Habs", References())
    assert parsed.query == Q(event_types=("goal",), opponents=("MTL",))
    assert parsed.ignored == ["Ovechkin"]


def test_every_nhl_team_by_tricode_city_and_club():
    assert len(NHL_TEAMS) == 32
    for code, (city, club, _others) in NHL_TEAMS.items():
        assert team_code(code) == code
        assert parse_request(f"{code} goals").query.teams == (code,), code
        assert parse_request(f"{club} goals").query.teams == (code,), club
        if city not in ("New York",):
            assert parse_request(f"{city} goals").query.teams == (code,), city
        assert normalize_team(code.lower()) == code


@pytest.mark.parametrize("nick, code", [
    ("Habs", "MTL"), ("Caps", "WSH"), ("Leafs", "TOR"), ("Bolts", "TBL"), ("Pens", "PIT"), ("Avs", "COL"),
    ("Canes", "CAR"), ("Sens", "OTT"), ("Isles", "NYI"), ("Preds", "NSH"), ("Nucks", "VAN"), ("Hawks", "CHI"),
    ("Jackets", "CBJ"), ("Wings", "DET"), ("Philly", "PHI"), ("LA", "LAK"), ("NJ", "NJD"), ("SJ", "SJS"), ("TB", "TBL"),
])
def test_nicknames_and_short_forms(nick, code):
    assert team_code(nick) == code
    assert normalize_team(nick.lower()) == code  # explicit filters take them in any case


def test_unknown_explicit_team_is_an_error_but_a_bare_code_is_kept():
    with pytest.raises(ValueError, match="unknown team"):
        normalize_team("Springfield Isotopes")
    assert normalize_team("hfd") == "HFD"
