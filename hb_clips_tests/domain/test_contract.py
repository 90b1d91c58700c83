"""The input side of the data contract: metrics and schedule CSVs (DATA_CONTRACT.md section 1)."""
from __future__ import annotations

from pathlib import Path

import pytest

from hb_clips_assets.domain.contract import ContractError, ContractFileError, MetricsFile, Rejection, normalize_period, read_metrics, validate_game_id
from hb_clips_assets.domain.reference import read_schedule
from hb_clips_assets.domain.timecode import Timecode

GAME = "20031"
HEADER = "event_id,game_id,period,timecode,event_type,player_id,team"
GOOD = [
    "e1,20031,1,00:00:10:00,shot,8480018,MTL",
    "e2,20031,2,00:01:00;02,goal,8478483,MTL",
    "e3,20031,3,00:19:59:29,hit,8471214,WSH",
]


def write(tmp_path: Path, text: str | bytes, name: str = f"{GAME}.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_bytes(text.encode("utf-8"))
    else:
        path.write_bytes(text)
    return path


def lines(*rows: str, header: str = HEADER) -> str:
    return "\n".join((header, *rows)) + "\n"


# --------------------------------------------------------------------------- good rows


def test_good_rows_are_read(tmp_path):
    path = write(tmp_path, lines(*GOOD))
    mf = read_metrics(path, GAME)
    assert isinstance(mf, MetricsFile)
    assert mf.path == str(path)
    assert mf.rejected == []
    assert [e.event_id for e in mf.events] == ["e1", "e2", "e3"]
    assert [e.period for e in mf.events] == ["1", "2", "3"]
    assert [e.line for e in mf.events] == [2, 3, 4]
    e2 = mf.events[1]
    assert e2.game_id == GAME
    assert e2.timecode == Timecode(0, 1, 0, 2, True)
    assert e2.event_type == "goal"
    assert e2.player_id == "8478483"
    assert e2.team == "MTL"
    assert e2.opponent is None and e2.zone is None and e2.strength is None
    assert e2.tags == {}


@pytest.mark.parametrize("raw, canonical", [("4", "OT"), ("OT", "OT"), ("ot", "OT"), ("1", "1"), (" 3 ", "3"),
                                            ("P1", "1"), ("p2", "2"), ("1st", "1"), ("2nd", "2"), ("3rd", "3"),
                                            ("OT1", "OT"), ("overtime", "OT")])
def test_normalize_period(raw, canonical):
    assert normalize_period(raw) == canonical


@pytest.mark.parametrize("raw", ["5", "0", "", "P5", "OT2", "4th", "first"])
def test_normalize_period_rejects(raw):
    with pytest.raises(ContractError, match="unknown period"):
        normalize_period(raw)


def test_period_4_read_as_ot(tmp_path):
    mf = read_metrics(write(tmp_path, lines("e1,20031,4,00:02:00:00,goal,1,MTL")), GAME)
    assert mf.rejected == []
    assert mf.events[0].period == "OT"


@pytest.mark.parametrize(
    "raw, snake",
    [("Zone Exit", "zone_exit"), ("zone_exit", "zone_exit"), ("Blocked-Shot", "blocked_shot"),
     ("  Puck Recovery ", "puck_recovery"), ("DUMP IN", "dump_in"), ("teleport", "teleport")],
)
def test_event_type_snake_case(tmp_path, raw, snake):
    mf = read_metrics(write(tmp_path, lines(f'e1,20031,1,00:00:01:00,"{raw}",1,MTL')), GAME)
    assert mf.rejected == []
    assert mf.events[0].event_type == snake


def test_optional_and_extra_columns(tmp_path):
    header = HEADER + ",opponent,zone,strength,outcome,x,y,detail,shot_type,video_note"
    row = "e1,20031,2,00:05:00:00,shot,8480018,mtl,wsh,o,PP,on_net,12.5,-30,slot,wrist,"
    mf = read_metrics(write(tmp_path, lines(row, header=header)), GAME)
    assert mf.rejected == []
    (e,) = mf.events
    assert e.team == "MTL"
    assert e.opponent == "WSH"
    assert e.zone == "O"
    assert e.strength == "PP"
    # optional columns other than opponent/zone/strength, and any extra column, are tags;
    # empty values are not tags
    assert e.tags == {"outcome": "on_net", "x": "12.5", "y": "-30", "detail": "slot", "shot_type": "wrist"}


def test_header_columns_in_any_order_with_spaces(tmp_path):
    header = " team , player_id , event_type , timecode , period , game_id , event_id "
    mf = read_metrics(write(tmp_path, lines("MTL,7,faceoff,00:00:00:05,1,20031,f1", header=header)), GAME)
    assert mf.rejected == []
    (e,) = mf.events
    assert (e.event_id, e.team, e.player_id, e.event_type) == ("f1", "MTL", "7", "faceoff")


# --------------------------------------------------------------------------- bad rows


BAD_ROWS = [
    ("malformed timecode", "bad1,20031,1,00:00:1:00,shot,1,MTL", "malformed timecode", "1"),
    ("unknown period", "bad1,20031,5,00:00:01:00,shot,1,MTL", "unknown period", None),
    ("missing timecode", "bad1,20031,2,,shot,1,MTL", "missing required field(s) timecode", "2"),
    ("missing player and team", "bad1,20031,1,00:00:01:00,shot,,", "missing required field(s) player_id, team", "1"),
    ("missing period", "bad1,20031,,00:00:01:00,shot,1,MTL", "missing required field(s) period", None),
    ("other game", "bad1,20032,1,00:00:01:00,shot,1,MTL", "does not match", "1"),
    ("too few fields", "bad1,20031,1,00:00:01:00,shot,1", "6 fields, header has 7", None),
    ("too many fields", "bad1,20031,1,00:00:01:00,shot,1,MTL,x", "8 fields, header has 7", None),
]


@pytest.mark.parametrize("name, bad, reason, period", BAD_ROWS, ids=[b[0] for b in BAD_ROWS])
def test_bad_row_set_aside_good_rows_pass(tmp_path, name, bad, reason, period):
    path = write(tmp_path, lines(GOOD[0], bad, *GOOD[1:]))
    mf = read_metrics(path, GAME)
    assert [e.event_id for e in mf.events] == ["e1", "e2", "e3"]
    assert [e.line for e in mf.events] == [2, 4, 5]
    (rej,) = mf.rejected
    assert isinstance(rej, Rejection)
    assert rej.file == str(path)
    assert rej.line == 3
    assert reason in rej.reason
    assert rej.period == period
    assert str(rej).startswith(f"{path}, line 3: ")


def test_duplicate_event_id_in_one_period_names_first_line(tmp_path):
    path = write(tmp_path, lines(*GOOD, "e2,20031,2,00:02:00:00,shot,1,MTL"))
    mf = read_metrics(path, GAME)
    assert [e.event_id for e in mf.events] == ["e1", "e2", "e3"]
    assert mf.events[1].timecode == Timecode(0, 1, 0, 2, True)  # the first one wins
    (rej,) = mf.rejected
    assert (rej.line, rej.period, rej.event_id) == (5, "2", "e2")
    assert rej.reason == "duplicate event_id 'e2' (first on line 3)"


def test_event_ids_restarted_each_period_are_made_unique_per_period(tmp_path):
    rows = ["1,20031,1,00:00:01:00,shot,1,MTL", "2,20031,1,00:00:02:00,shot,1,MTL",
            "1,20031,2,00:00:01:00,shot,1,MTL", "1,20031,4,00:00:01:00,goal,1,MTL", "2,20031,3,00:00:02:00,hit,1,MTL",
            "9,20031,3,00:00:09:00,hit,1,MTL"]
    mf = read_metrics(write(tmp_path, lines(*rows)), GAME)
    assert mf.rejected == []
    assert [(e.event_id, e.period, e.tags) for e in mf.events] == [
        ("1", "1", {}), ("2", "1", {}), ("P2-1", "2", {"event_id_raw": "1"}), ("OT-1", "OT", {"event_id_raw": "1"}),
        ("P3-2", "3", {"event_id_raw": "2"}), ("9", "3", {})]


def test_a_period_added_later_never_renames_the_earlier_periods_events(tmp_path):
    """The earliest period keeps the plain id, whatever order the rows come in: a file that grows a
    period at a time keeps the ids (so the clip ids) of the periods already indexed."""
    first = read_metrics(write(tmp_path, lines("e1,20031,1,00:00:01:00,shot,1,MTL")), GAME)
    grown = read_metrics(write(tmp_path, lines("e1,20031,2,00:00:01:00,shot,1,MTL", "e1,20031,1,00:00:01:00,shot,1,MTL")), GAME)
    assert [e.event_id for e in first.events] == ["e1"]
    assert [(e.event_id, e.period, e.line) for e in grown.events] == [("P2-e1", "2", 2), ("e1", "1", 3)]
    assert grown.for_period("1").events == [e for e in grown.events if e.period == "1"]
    assert grown.for_period("1").events[0].tags == first.events[0].tags == {}


def test_a_written_id_that_collides_with_a_period_qualified_one_is_rejected(tmp_path):
    rows = ["e1,20031,1,00:00:01:00,shot,1,MTL", "e1,20031,2,00:00:01:00,shot,1,MTL", "P2-e1,20031,2,00:00:02:00,shot,1,MTL",
            f"{'x' * 127},20031,1,00:00:03:00,shot,1,MTL", f"{'x' * 127},20031,2,00:00:03:00,shot,1,MTL"]
    mf = read_metrics(write(tmp_path, lines(*rows)), GAME)
    assert [e.event_id for e in mf.events] == ["e1", "P2-e1", "x" * 127]
    assert [(r.line, r.period, r.event_id, r.reason) for r in mf.rejected] == [
        (4, "2", "P2-e1", "duplicate event_id 'P2-e1': line 3's event is stored under it"),
        (6, "2", "x" * 127, f"event_id with its period ({('P2-' + 'x' * 37)!r}...) is 130 characters long; at most 128"),
    ]


@pytest.mark.parametrize("raw, stored, raw_tag", [
    ("d-zone exit", "zone_exit", "d-zone exit"), ("DZ Exit", "zone_exit", "DZ Exit"), ("Zone Exit", "zone_exit", None),
    ("Zone Exits", "zone_exit", "Zone Exits"), ("Breakouts", "zone_exit", "Breakouts"), ("shot", "shot", None),
    ("Shots", "shot", "Shots"), ("OZ Faceoff", "faceoff", "OZ Faceoff"), ("turnovers", "turnovers", None),
    ("Shot Attempts", "shot_attempts", None), ("teleport", "teleport", None), ("Neutral Zone Entry", "zone_entry", "Neutral Zone Entry"),
])
def test_event_types_go_through_the_vocabulary(tmp_path, raw, stored, raw_tag):
    mf = read_metrics(write(tmp_path, lines(f"e1,20031,1,00:00:01:00,{raw},1,MTL")), GAME)
    (e,) = mf.events
    assert e.event_type == stored
    assert e.tags == ({"event_type_raw": raw} if raw_tag else {})


def test_a_column_named_like_a_derived_tag_keeps_the_files_value(tmp_path):
    header = HEADER + ",event_type_raw,event_id_raw"
    mf = read_metrics(write(tmp_path, lines("e1,20031,1,00:00:01:00,DZ Exit,1,MTL,theirs,mine",
                                            "e1,20031,2,00:00:01:00,DZ Exit,1,MTL,,", header=header)), GAME)
    assert [e.tags for e in mf.events] == [{"event_type_raw": "theirs", "event_id_raw": "mine"},
                                           {"event_type_raw": "DZ Exit", "event_id_raw": "e1"}]


@pytest.mark.parametrize("header", [
    "Event ID,Game ID,Period,Timecode,Event Type,Player ID,Team,Zone,Outcome",
    "event-id,game-id,period,time-code,event-type,player-id,team,ZONE,OUTCOME",
    "EVENT_ID,GAME_ID,PERIOD,TIMECODE,EVENT_TYPE,PLAYER_ID,TEAM, zone , outcome ",
    "EventID,GameID,Period,TimeCode,EventType,PlayerID,Team,Zone,Outcome",
])
def test_header_spellings_match_the_contract_columns(tmp_path, header):
    mf = read_metrics(write(tmp_path, lines("e1,20031,1,00:00:01:00,shot,1,mtl,o,won", header=header)), GAME)
    assert mf.rejected == []
    (e,) = mf.events
    assert (e.event_id, e.team, e.zone, e.tags) == ("e1", "MTL", "O", {"outcome": "won"})


def test_extra_columns_keep_their_name_as_written(tmp_path):
    mf = read_metrics(write(tmp_path, lines("e1,20031,1,00:00:01:00,shot,1,MTL,wrist,x",
                                            header=HEADER + ", Shot Type ,video-note")), GAME)
    assert mf.events[0].tags == {"Shot Type": "wrist", "video-note": "x"}


def test_for_period_keeps_the_encoding_and_delimiter(tmp_path):
    text = lines(*GOOD).replace(",", "\t")
    mf = read_metrics(write(tmp_path, b"\xff\xfe" + text.encode("utf-16-le")), GAME)
    assert [e.event_id for e in mf.events] == ["e1", "e2", "e3"]
    p2 = mf.for_period("2")
    assert (mf.encoding, mf.delimiter) == (p2.encoding, p2.delimiter) == ("UTF-16 LE with BOM", "tab")


@pytest.mark.parametrize("zone, ok", [("O", True), ("d", True), ("N", True), ("X", False), ("OZ", False)])
def test_zone(tmp_path, zone, ok):
    header = HEADER + ",zone"
    mf = read_metrics(write(tmp_path, lines(f"e1,20031,1,00:00:01:00,hit,1,MTL,{zone}", header=header)), GAME)
    if ok:
        assert mf.rejected == []
        assert mf.events[0].zone == zone.upper()
    else:
        assert mf.events == []
        (rej,) = mf.rejected
        assert rej.line == 2 and "unknown zone" in rej.reason and rej.period == "1"


def test_many_bad_rows_each_counted(tmp_path):
    rows = [GOOD[0]] + [row for _, row, _, _ in BAD_ROWS] + [GOOD[1]]
    mf = read_metrics(write(tmp_path, lines(*rows)), GAME)
    assert [e.event_id for e in mf.events] == ["e1", "e2"]
    assert [r.line for r in mf.rejected] == list(range(3, 3 + len(BAD_ROWS)))


def test_quoted_newline_keeps_line_numbers(tmp_path):
    header = HEADER + ",detail"
    text = lines(
        'e1,20031,1,00:00:01:00,shot,1,MTL,"a note\nover\nthree lines"',
        "e2,20031,1,00:00:02:00,shot,1,MTL,",
        "e3,20031,9,00:00:03:00,shot,1,MTL,",
        header=header,
    )
    mf = read_metrics(write(tmp_path, text), GAME)
    assert [(e.event_id, e.line) for e in mf.events] == [("e1", 2), ("e2", 5)]
    assert mf.events[0].tags == {"detail": "a note\nover\nthree lines"}
    assert [r.line for r in mf.rejected] == [6]


def test_blank_lines_skipped_but_counted(tmp_path):
    text = HEADER + "\n" + GOOD[0] + "\n\n,,,,,,\n" + "e9,20031,7,00:00:01:00,shot,1,MTL\n"
    mf = read_metrics(write(tmp_path, text), GAME)
    assert [e.line for e in mf.events] == [2]
    assert [r.line for r in mf.rejected] == [5]


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["no-bom", "bom"])
@pytest.mark.parametrize("eol", [b"\n", b"\r\n"], ids=["lf", "crlf"])
def test_bom_and_crlf(tmp_path, bom, eol):
    raw = bom + eol.join(s.encode() for s in (HEADER, *GOOD, "x,20031,5,00:00:01:00,shot,1,MTL")) + eol
    mf = read_metrics(write(tmp_path, raw), GAME)
    assert [e.event_id for e in mf.events] == ["e1", "e2", "e3"]
    assert [e.line for e in mf.events] == [2, 3, 4]
    assert mf.events[2].team == "WSH"  # no stray '\r'
    assert [r.line for r in mf.rejected] == [5]


def test_for_period(tmp_path):
    rows = [
        GOOD[0],
        "e4,20031,1,00:00:1:00,shot,1,MTL",  # line 3: bad timecode, period 1
        GOOD[1],
        "e5,20031,5,00:00:01:00,shot,1,MTL",  # line 5: unknown period -> no period
        "e6,20031,2,00:00:01:00,shot,1",  # line 6: wrong field count -> no period
        "e7,20031,2,bad,shot,1,MTL",  # line 7: bad timecode, period 2
        "e8,20031,4,00:00:01:00,shot,1,MTL",  # line 8: OT
    ]
    mf = read_metrics(write(tmp_path, lines(*rows)), GAME)
    p1 = mf.for_period("1")
    assert [e.event_id for e in p1.events] == ["e1"]
    assert [r.line for r in p1.rejected] == [3, 5, 6]
    p2 = mf.for_period("2")
    assert [e.event_id for e in p2.events] == ["e2"]
    assert [r.line for r in p2.rejected] == [5, 6, 7]
    pot = mf.for_period("OT")
    assert [e.event_id for e in pot.events] == ["e8"]
    assert [r.line for r in pot.rejected] == [5, 6]
    assert p1.path == mf.path
    # the original is not modified
    assert len(mf.events) == 3 and len(mf.rejected) == 4


# --------------------------------------------------------------------------- file-level errors


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00"
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom\x00\x00\x00\x08free"


@pytest.mark.parametrize(
    "content, pattern, line",
    [
        (PNG, "binary", None),
        (MP4, "binary", None),
        # UTF-8 text ("café") then a byte that is not: a corrupt UTF-8 file, not Windows-1252 (see test_csvfile.py)
        ((HEADER + "\ne1,20031,1,00:00:01:00,café,1,MTL\n").encode() + b"e2,20031,1,00:00:01:00,caf\xe9,1,MTL\n",
         "not UTF-8", 3),
        (b"", "empty file", 1),
        (b"\n\n", "empty file", 1),
        (b"event_id,game_id,period,event_type,player_id,team\ne1,20031,1,shot,1,MTL\n", "timecode", 1),
        ((HEADER + ",team\n").encode(), "duplicated column", 1),
        ((HEADER + "\n" + 'e1,20031,1,00:00:01:00,"shot"x,1,MTL\n').encode(), "broken CSV", 2),
    ],
    ids=["png", "mp4", "corrupt-utf8", "empty", "blank", "missing-column", "dup-column", "bad-quote"],
)
def test_file_errors(tmp_path, content, pattern, line):
    path = write(tmp_path, content)
    with pytest.raises(ContractFileError, match=pattern) as info:
        read_metrics(path, GAME)
    err = info.value
    assert isinstance(err, ContractError) and isinstance(err, ValueError)
    assert str(path) in str(err)
    assert err.path == str(path)
    assert err.line == line
    if line:
        assert f"line {line}" in str(err)


def test_missing_file(tmp_path):
    path = tmp_path / "nope.csv"
    with pytest.raises(ContractFileError, match="cannot read") as info:
        read_metrics(path, GAME)
    assert str(path) in str(info.value)


def test_missing_column_message_lists_all(tmp_path):
    path = write(tmp_path, b"event_id,period\n")
    with pytest.raises(ContractFileError) as info:
        read_metrics(path, GAME)
    for col in ("game_id", "timecode", "event_type", "player_id", "team"):
        assert col in str(info.value)


# --------------------------------------------------------------------------- game ids


@pytest.mark.parametrize("bad", ["..", "a/b", "a|b", "a,b", "a\x00b", "", "x" * 65, "a b", "é", "../20031", None])
def test_validate_game_id_rejects(bad):
    with pytest.raises(ContractError, match="invalid game_id"):
        validate_game_id(bad)


@pytest.mark.parametrize("bad", ["20031\n", "G_1-x\n"])
def test_validate_game_id_rejects_trailing_newline(bad):
    with pytest.raises(ContractError):
        validate_game_id(bad)


@pytest.mark.parametrize("good", ["20031", "G_1-x", "x" * 64, "a", "-_-"])
def test_validate_game_id_accepts(good):
    assert validate_game_id(good) == good


def test_read_metrics_validates_game_id(tmp_path):
    with pytest.raises(ContractError, match="invalid game_id"):
        read_metrics(write(tmp_path, lines(*GOOD)), "a/b")


# --------------------------------------------------------------------------- schedule


SCHEDULE_HEADER = "game_id,date,home,away"


def test_read_schedule(tmp_path):
    path = write(tmp_path, lines("20031,2024-01-13,mtl,WSH", "20032,2024-01-15,CHI,MTL", header=SCHEDULE_HEADER),
                 "schedule.csv")
    games = read_schedule(path)
    assert sorted(games) == ["20031", "20032"]
    g = games["20031"]
    assert (g.game_id, g.date, g.home, g.away) == ("20031", "2024-01-13", "MTL", "WSH")
    assert g.opponent_of("mtl") == "WSH"
    assert g.opponent_of("WSH") == "MTL"
    assert g.opponent_of("NYR") is None


@pytest.mark.parametrize(
    "row, pattern",
    [
        ("20032,13/01/2024,CHI,MTL", "YYYY-MM-DD"),
        ("20032,2024-1-13,CHI,MTL", "YYYY-MM-DD"),
        ("20032,,CHI,MTL", "YYYY-MM-DD"),
        ("a|b,2024-01-13,CHI,MTL", "invalid game_id"),
        ("20032,2024-01-13,CHI", "fields"),
    ],
)
def test_schedule_bad_row_is_file_error(tmp_path, row, pattern):
    path = write(tmp_path, lines("20031,2024-01-13,MTL,WSH", row, header=SCHEDULE_HEADER), "schedule.csv")
    with pytest.raises(ContractFileError, match=pattern) as info:
        read_schedule(path)
    assert info.value.line == 3
    assert str(path) in str(info.value) and "line 3" in str(info.value)


def test_schedule_missing_column(tmp_path):
    path = write(tmp_path, "game_id,date,home\n20031,2024-01-13,MTL\n", "schedule.csv")
    with pytest.raises(ContractFileError, match="away"):
        read_schedule(path)


def test_reading_a_csv_leaves_the_csv_modules_field_limit_alone(tmp_path):
    """The 64 KiB field limit is ours; the csv module's limit is process-wide state that
    other code in the same process (Dagster, pandas readers) relies on."""
    import csv

    from hb_clips_assets.domain.contract import ContractFileError, read_metrics

    before = csv.field_size_limit(131_072)  # the module's default, whatever ran before
    path = tmp_path / "G1.csv"
    path.write_text("game_id,event_id,period,timecode,event_type,player_id,team,opponent\n"
                    "G1,e1,1,00:00:01:00,shot,P1,WSH,NYR\n"
                    f"G1,e2,1,00:00:02:00,shot,P1,WSH,{'x' * 70_000}\n")
    with pytest.raises(ContractFileError) as info:
        read_metrics(path, "G1")
    assert "line 3" in str(info.value) and "field larger than field limit (65536)" in str(info.value)
    try:
        assert csv.field_size_limit() == 131_072
    finally:
        csv.field_size_limit(before)
