"""The one hockey vocabulary: every synonym means the same as a flag and in a request;
event types nobody has are refused, types the data brings are accepted."""
from __future__ import annotations

import hashlib

import pytest

from hb_clips_assets.retrieval import ClipQuery, QueryError, References, clip_stats, find_clips
from hb_clips_assets.domain import vocabulary
from hb_clips_assets.retrieval.language import parse_request
from hb_clips_assets.retrieval.query import normalize_query
from hb_clips_assets.storage.index.repository import MediaIndex
from hb_clips_assets.domain.records import ClipRecord

FIELDS = {"event": "event_types", "zone": "zones", "strength": "strengths", "outcome": "outcomes"}
SYNONYMS = list(vocabulary.synonyms())


def flag_filter(field: str, text: str) -> tuple[str, ...]:
    """What a CLI flag / API parameter holding ``text`` filters on."""
    query, _ = normalize_query(ClipQuery(**{field: (text,)}), References())
    return getattr(query, field)


def request_query(text: str) -> ClipQuery:
    parsed = parse_request(text, References(), user_player="")
    assert parsed.ignored == [] and parsed.filler == [], parsed.summary()
    return parsed.query


def test_the_walk_covers_every_kind_and_the_bug_words():
    kinds = {kind for kind, _, _ in SYNONYMS}
    assert kinds == set(FIELDS)
    phrases = {phrase for _, phrase, _ in SYNONYMS}
    assert {"turnovers", "checks", "exits", "d zone", "power play", "EN", "without control"} <= phrases
    assert len(SYNONYMS) > 150


@pytest.mark.parametrize("kind, phrase, values", SYNONYMS, ids=[f"{k}:{p}" for k, p, _ in SYNONYMS])
def test_every_synonym_is_the_same_filter_as_a_flag_and_in_plain_language(kind, phrase, values):
    field = FIELDS[kind]
    # the flag: as written, in snake_case, in capitals, hyphenated
    for written in {phrase, phrase.replace(" ", "_"), phrase.upper(), phrase.replace(" ", "-"), phrase.lower()}:
        assert flag_filter(field, written) == values, written
    # the request: nothing but the phrase, understood as exactly that filter (capitals-only forms as written)
    parsed = request_query(phrase)
    assert parsed == ClipQuery(**{field: values})
    normalized, _ = normalize_query(parsed, References())
    assert getattr(normalized, field) == values


PERIODS = (
    [(w, f"{w} period", code) for w, code in vocabulary.PERIOD_ORDINALS.items()]
    + [(w, w, code) for w, code in vocabulary.PERIOD_CODES.items()]
    + [(w, f"period {w}", code) for w, code in vocabulary.PERIOD_NUMBERS.items()]
)


@pytest.mark.parametrize("flag, request_text, code", PERIODS, ids=[r for _, r, _ in PERIODS])
def test_every_period_name_is_the_same_as_a_flag_and_in_plain_language(flag, request_text, code):
    assert flag_filter("periods", flag) == (code,)
    assert flag_filter("periods", request_text) == (code,)
    assert request_query(request_text) == ClipQuery(periods=(code,))


def test_canonical_values_stay_themselves():
    """A parsed request merged with flags is normalized again: the canonical forms must not move."""
    for kind, field in FIELDS.items():
        for _, _, values in (s for s in SYNONYMS if s[0] == kind):
            for value in values:
                assert flag_filter(field, value) == (value,), (field, value)


def test_a_capitals_only_form_in_lower_case_is_a_word_of_the_request():
    parsed = parse_request("en goals", References(), user_player="")
    assert parsed.query == ClipQuery(event_types=("goal",)) and parsed.ignored == ["en"]
    assert flag_filter("strengths", "en") == ("EN",)


def test_the_two_bugs_one_name_several_types():
    assert flag_filter("event_types", "turnovers") == ("giveaway", "takeaway")
    assert flag_filter("event_types", "checks") == ("hit",)
    assert request_query("turnovers").event_types == ("giveaway", "takeaway")
    assert flag_filter("event_types", "shot attempts") == ("shot", "missed_shot", "blocked_shot", "goal")
    # unknown names keep the CSVs' snake_case form (the plan checks them against the index)
    assert flag_filter("event_types", "Line Change") == ("line_change",)


# --------------------------------------------------------------------------- event types against the index


def _record(n: int, event_type: str, team: str, opponent: str) -> ClipRecord:
    cid = hashlib.sha256(f"vocab/{n}".encode()).hexdigest()[:32]
    return ClipRecord(
        clip_id=cid, game_id="G1", period="1", event_id=f"e{n}", event_type=event_type, player_id=f"p{n}",
        team=team, opponent=opponent, zone="N", strength="5v5", timecode="00:00:01:00", event_frame=10 + n,
        start_frame=n, end_frame=20 + n, fps_num=25, fps_den=1, source_uri="file:///nowhere/1.mp4",
        source_sha256="0" * 64, tags={},
    )


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('vocab') / 'media.db'}"
    index = MediaIndex(url)
    index.write_partition("G1", "1", [_record(0, "shot", "MTL", "CHI"), _record(1, "line_change", "MTL", "CHI"),
                                      _record(2, "hit", "BOS", "TOR")])
    yield index
    index.dispose()


def test_a_type_the_data_brings_is_a_filter(index):
    for written in ("line_change", "Line Change", "line-change"):
        page = find_clips(index, ClipQuery(event_types=(written,)), References())
        assert [c.event_id for c in page.items] == ["e1"], written
    assert clip_stats(index, ClipQuery(event_types=("line_change", "shots")), References())["clips"] == 2


def test_a_type_nobody_has_is_an_error_naming_the_known_ones(index):
    with pytest.raises(QueryError) as err:
        find_clips(index, ClipQuery(event_types=("goal", "flurbs")), References())
    message = str(err.value)
    assert message.startswith("no clip has event type 'flurbs': known types are ")
    listed = message.split("known types are ")[1].split(" (")[0].split(", ")
    assert listed == sorted(vocabulary.EVENT_TYPES | {"line_change"})
    assert "plurals and other names" in message
    with pytest.raises(QueryError, match="no clip has event type 'flurbs'"):
        clip_stats(index, ClipQuery(event_types=("flurbs",)), References())
    # a known type with no clip is simply nothing found
    assert find_clips(index, ClipQuery(event_types=("goal",)), References()).total == 0


def test_the_types_listed_and_accepted_are_those_the_caller_may_see(index):
    # a key of TOR sees the BOS-TOR clip only: another team's own event types are neither found nor listed
    with pytest.raises(QueryError) as err:
        find_clips(index, ClipQuery(event_types=("line_change",)), References(), visible_teams=["TOR"])
    assert "line_change" not in str(err.value).split("known types are ")[1]
    assert find_clips(index, ClipQuery(event_types=("line_change",)), References(), visible_teams=["MTL"]).total == 1
