"""`hb-clips find`: plain-language and explicit filters, table and JSON, exports, errors."""
from __future__ import annotations

import json

import opentimelineio as otio
import pytest

from hb_clips_assets.cli.main import main
from hb_clips_assets.retrieval.export.sportscode import read_sportscode
from hb_clips_tests.retrieval_sample import expected_clips, index_sample, shared_sample

OVI = "8471214"


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    data = shared_sample(tmp_path_factory)
    work = tmp_path_factory.mktemp("cli-find")
    sample = index_sample(data, work / "store", f"sqlite:///{work / 'media.db'}")
    return {"data": data, "store": sample.store_root, "db": sample.db_url, "expected": expected_clips(data)}


@pytest.fixture
def env(indexed, monkeypatch):
    monkeypatch.setenv("HB_DATA_ROOT", str(indexed["data"]))
    monkeypatch.setenv("HB_MEDIA_DB_URL", indexed["db"])
    monkeypatch.setenv("HB_STORE_URL", str(indexed["store"]))
    monkeypatch.setenv("HB_USER_PLAYER_ID", OVI)
    return indexed


def run_json(capsys, *argv) -> dict:
    assert main(["find", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_plain_language_table(env, capsys):
    assert main(["find", "Show me d-zone exits from WSH vs NYR"]) == 0
    out = capsys.readouterr().out
    want = [e for e in env["expected"] if (e.team, e.opponent, e.zone, e.event_type) == ("WSH", "NYR", "D", "zone_exit")]
    assert "understood: 'd-zone' = zone D (defensive zone); 'exits' = event type zone_exit" in out
    assert "ignored:    nothing" in out
    assert f"{len(want)} clips found; showing 1-{len(want)}" in out
    lines = out.splitlines()
    header = next(i for i, l in enumerate(lines) if l.startswith("#  date"))
    rows = lines[header + 2 : header + 2 + len(want)]
    assert [r.split()[2] for r in rows] == [e.game_id for e in want]
    assert all("zone_exit" in r and " WSH " in r and " NYR " in r and "file://" in r for r in rows)


def test_json_output_matches_the_csvs(env, capsys):
    out = run_json(capsys, "Show me my shifts from the last five games")
    want = [e.event_id for e in env["expected"] if e.player_id == OVI and e.event_type == "shift"]
    assert [c["event_id"] for c in out["items"]] == want and out["total"] == len(want)
    assert out["parsed"]["ignored"] == [] and out["query"]["last_games"] == 5
    assert all(c["assets"]["mp4"]["url"].startswith("file://") for c in out["items"])
    out = run_json(capsys, "Show me all ozone clips from the last game")
    assert [c["event_id"] for c in out["items"]] == [e.event_id for e in env["expected"]
                                                     if e.zone == "O" and e.game_id == "20038"]


def test_explicit_flags_alone_and_over_a_request(env, capsys):
    out = run_json(capsys, "--player", "Suzy", "--event", "faceoffs", "--period", "1,2")
    assert [c["event_id"] for c in out["items"]] == [
        e.event_id for e in env["expected"] if e.player_id == "8480018" and e.event_type == "faceoff" and e.period in "12"]
    assert out["parsed"] is None
    out = run_json(capsys, "Caps goals in the second", "--period", "3", "--team", "NYR")
    assert out["query"]["periods"] == ["3"] and out["query"]["teams"] == ["NYR"]
    out = run_json(capsys, "--limit", "5", "--offset", "10")
    assert [c["event_id"] for c in out["items"]] == [e.event_id for e in env["expected"][10:15]]
    assert out["next_offset"] == 15
    out = run_json(capsys, "--game", "20031", "--last-games", "1", "--last-games-of", "CHI", "--zone", "N",
                   "--strength", "5v5", "--opponent", "MTL")
    assert [c["event_id"] for c in out["items"]] == [
        e.event_id for e in env["expected"] if e.game_id == "20031" and e.zone == "N" and e.strength == "5v5"
        and e.opponent == "MTL"]


def test_unknown_words_are_printed_as_ignored(env, capsys):
    assert main(["find", "gorgeous", "dangles", "by", "Panarin", "--limit", "1"]) == 0
    out = capsys.readouterr().out
    assert "ignored:    'gorgeous', 'dangles'" in out and "player 8478550 (Artemi Panarin)" in out


def test_exports(env, capsys, tmp_path):
    xml = tmp_path / "exits.xml"
    assert main(["find", "d-zone exits from WSH vs NYR", "--export", "sportscode", "--out", str(xml)]) == 0
    want = [e.event_id for e in env["expected"] if (e.team, e.zone, e.event_type) == ("WSH", "D", "zone_exit")]
    assert [i.label("Event ID") for i in read_sportscode(xml.read_bytes())] == want
    assert f"{len(want)} clips exported" in capsys.readouterr().out
    path = tmp_path / "shifts.otio"
    assert main(["find", "--event", "shift", "--export", "otio", "--out", str(path)]) == 0
    clips = list(otio.adapters.read_from_file(str(path)).find_clips())
    assert len(clips) == sum(e.event_type == "shift" for e in env["expected"])  # every one, not one page


@pytest.mark.parametrize("argv, message", [
    (["--period", "7"], "unknown period"),
    (["--team", "Springfield Isotopes"], "unknown team"),
    (["--limit", "0"], "limit"),
    (["--export", "otio"], "--export needs --out"),
])
def test_bad_input_exits_2(env, capsys, argv, message):
    assert main(["find", *argv]) == 2
    assert message in capsys.readouterr().err


def test_missing_index_exits_2(env, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("HB_MEDIA_DB_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    assert main(["find", "goals"]) == 2
    assert "has no clips yet: run `hb-clips run`" in capsys.readouterr().err


@pytest.mark.parametrize("word, types", [("turnovers", {"giveaway", "takeaway"}), ("checks", {"hit"})])
def test_a_flag_means_what_the_same_word_means_in_a_request(env, capsys, word, types):
    """`--event turnovers` once found giveaways only and `--event checks` nothing, while the
    same words in a request found giveaways and takeaways, and hits."""
    want = [e.event_id for e in env["expected"] if e.event_type in types]
    assert {e.event_type for e in env["expected"] if e.event_type in types} == types  # the sample has each
    flag = run_json(capsys, "--event", word)
    request = run_json(capsys, word)
    assert flag["total"] == request["total"] == len(want) > 0
    assert [c["event_id"] for c in flag["items"]] == [c["event_id"] for c in request["items"]] == want
    assert sorted(flag["query"]["event_types"]) == sorted(request["query"]["event_types"]) == sorted(types)
    assert main(["find", "--event", word]) == 0
    assert f"{len(want)} clips found" in capsys.readouterr().out


def test_turnovers_and_checks_are_five_and_two_clips_of_the_sample(env, capsys):
    # the sample's own counts (3 giveaways, 2 takeaways, 2 hits), as the issue reported them
    assert run_json(capsys, "--event", "turnovers")["total"] == 5
    assert run_json(capsys, "--event", "giveaways")["total"] == 3
    assert run_json(capsys, "--event", "checks")["total"] == 2


def test_an_unknown_event_type_is_an_error_not_an_empty_result(env, capsys):
    assert main(["find", "--event", "flurbs"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.strip()
    assert err.startswith("error: no clip has event type 'flurbs': known types are ")
    assert "zone_exit" in err and "shift" in err and "turnover" not in err  # stored types, not names
    assert "Traceback" not in err and len(err.splitlines()) == 1
    # the same in a request: an unknown word is reported as ignored, never an error
    assert main(["find", "flurbs"]) == 0
    assert "ignored:    'flurbs'" in capsys.readouterr().out
