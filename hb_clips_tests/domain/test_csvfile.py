"""The CSV reader's rules for what people write (domain/csvfile.py): encoding, delimiter, header
spelling, and the file of rejected rows."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from hb_clips_assets.domain.contract import METRICS_OPTIONAL, METRICS_REQUIRED, SHIFTS_REQUIRED, Rejection
from hb_clips_assets.domain.csvfile import (
    ContractFileError,
    column_key,
    read_csv_table,
    summarize_rejections,
    write_rejections,
)

HEADER = "event_id,game_id,period,timecode,event_type,player_id,team,detail"
ROWS = ["e1,G1,1,00:00:01:00,shot,1,MTL,Montréal", "e2,G1,2,00:00:02;00,goal,2,CHI,Québec"]
TEXT = "\r\n".join([HEADER, *ROWS]) + "\r\n"


def read(tmp_path: Path, raw: bytes, required=METRICS_REQUIRED, known=METRICS_OPTIONAL):
    path = tmp_path / "in.csv"
    path.write_bytes(raw)
    return read_csv_table(path, required, known)


def error(tmp_path: Path, raw: bytes) -> ContractFileError:
    with pytest.raises(ContractFileError) as info:
        read(tmp_path, raw)
    assert str(info.value).startswith(str(tmp_path / "in.csv"))
    return info.value


@pytest.mark.parametrize("raw, encoding", [
    (TEXT.encode("utf-8"), "UTF-8"),
    (b"\xef\xbb\xbf" + TEXT.encode("utf-8"), "UTF-8 with BOM"),
    (b"\xff\xfe" + TEXT.encode("utf-16-le"), "UTF-16 LE with BOM"),
    (b"\xfe\xff" + TEXT.encode("utf-16-be"), "UTF-16 BE with BOM"),
    (TEXT.encode("utf-16-le"), "UTF-16 LE without BOM"),
    (TEXT.encode("utf-16-be"), "UTF-16 BE without BOM"),
    (TEXT.encode("cp1252"), "Windows-1252"),
], ids=["utf8", "utf8-bom", "utf16le-bom", "utf16be-bom", "utf16le", "utf16be", "cp1252"])
def test_every_encoding_reads_the_same_rows_and_says_which(tmp_path, raw, encoding):
    table = read(tmp_path, raw)
    assert (table.encoding, table.delimiter) == (encoding, "comma")
    assert table.header == HEADER.split(",")
    assert [(line, row["event_id"], row["detail"]) for line, row in table.rows] == [(2, "e1", "Montréal"),
                                                                                      (3, "e2", "Québec")]


def test_bomless_utf16_with_many_non_latin_characters_is_still_recognized(tmp_path):
    text = HEADER + "\n" + "\n".join(f"e{i},G1,1,00:00:01:00,shot,{i},MTL,Слафковский Ковальчук" for i in range(50)) + "\n"
    table = read(tmp_path, text.encode("utf-16-le"))
    assert table.encoding == "UTF-16 LE without BOM" and len(table.rows) == 50


@pytest.mark.parametrize("raw", [
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00",
    (HEADER + "\ne1,G1\x00,1,00:00:01:00,shot,1,MTL,\n").encode(),  # one NUL in an ASCII file
    b"ab\x00c" * 100,  # NUL in a quarter of the pairs' first bytes, never the second: not the UTF-16 pattern
    b"\x01\x00\x02\x00" * 100,  # the UTF-16 pattern, but control characters once decoded
], ids=["png", "nul-in-ascii", "binary", "utf16-shaped-binary"])
def test_binary_content_is_not_mistaken_for_utf16(tmp_path, raw):
    assert error(tmp_path, raw).problem == "not a CSV file (binary content)"


def test_utf32_is_refused_by_name(tmp_path):
    err = error(tmp_path, b"\xff\xfe\x00\x00" + TEXT.encode("utf-32-le"))
    assert (err.problem, err.line) == ("UTF-32 text is not read: save the file as UTF-8 (or UTF-16)", None)


def test_windows1252_only_when_nothing_before_the_bad_byte_is_utf8(tmp_path):
    ascii_then_1252 = (HEADER + "\ne1,G1,1,00:00:01:00,shot,1,MTL,it\x92s\n").encode("latin-1")
    assert read(tmp_path, ascii_then_1252).rows[0][1]["detail"] == "it\u2019s"
    utf8_then_bad = (HEADER + "\ne1,G1,1,00:00:01:00,shot,1,MTL,Montréal\n").encode() + b"e2,G1,1,00:00:01:00,shot,1,MTL,\x92\n"
    err = error(tmp_path, utf8_then_bad)
    assert err.line == 3
    assert err.problem == "not UTF-8 text (byte 0x92): the lines before it are UTF-8, so the file is not read as Windows-1252"
    undefined = (HEADER + "\n").encode() + b"e1,G1,1,00:00:01:00,shot,1,MTL,\x9d\n"
    err = error(tmp_path, undefined)
    assert (err.line, err.problem) == (2, "neither UTF-8 nor Windows-1252 text (byte 0x9d)")


def test_broken_utf16_names_the_line(tmp_path):
    raw = b"\xff\xfe" + (HEADER + "\ne1\n").encode("utf-16-le") + "\ud800".encode("utf-16-le", "surrogatepass") + b"x\x00"
    err = error(tmp_path, raw)
    assert (err.line, err.problem) == (3, "not UTF-16 LE text (illegal UTF-16 surrogate)")


@pytest.mark.parametrize("delimiter, name", [(",", "comma"), (";", "semicolon"), ("\t", "tab")])
def test_the_delimiter_is_the_one_that_finds_the_columns(tmp_path, delimiter, name):
    text = "\n".join(line.replace(",", delimiter) for line in [HEADER, *ROWS]) + "\n"
    table = read(tmp_path, text.encode())
    assert table.delimiter == name
    assert [row["team"] for _, row in table.rows] == ["MTL", "CHI"]


def test_a_comma_file_with_semicolons_and_tabs_in_its_values_stays_comma(tmp_path):
    text = HEADER + "\n" + 'e1,G1,1,"00:00:01;00",shot,1,MTL,a;b\tc\n'
    table = read(tmp_path, text.encode())
    assert table.delimiter == "comma" and table.rows[0][1]["detail"] == "a;b\tc"


def test_a_header_without_the_columns_is_still_a_comma_error_listing_them(tmp_path):
    err = error(tmp_path, b"a;b;c\n1;2;3\n")
    assert (err.line, err.problem) == (1, "header lacks required column(s) event_id, game_id, period, timecode, "
                                          "event_type, player_id, team; found a;b;c")


def test_unquoted_drop_frame_timecodes_of_a_semicolon_file_are_joined_back(tmp_path):
    text = ("player_id;period;start_timecode;end_timecode;note\n8480018;1;00:00:10;00;00:00:45;12;x\n"
            "1;1;00:00:10;00;00:00:45;12;x;y\n")
    table = read(tmp_path, text.encode(), SHIFTS_REQUIRED, ("note",))
    assert table.rows == [
        (2, {"player_id": "8480018", "period": "1", "start_timecode": "00:00:10;00", "end_timecode": "00:00:45;12",
             "note": "x"}),
        (3, {"__error__": "8 fields, header has 5"}),  # joined only where that makes the field count right
    ]


@pytest.mark.parametrize("written", ["event_id", "Event ID", "event-id", "EVENT_ID", " Event_Id ", "eventid", "Event\u00a0ID"])
def test_header_names_match_ignoring_case_spaces_dashes_and_underscores(written):
    assert column_key(written) == column_key("event_id")


def test_a_column_written_twice_in_two_spellings_names_both(tmp_path):
    err = error(tmp_path, ("Team," + HEADER + "\n").encode())
    assert (err.line, err.problem) == (1, "duplicated column(s) team ('Team', 'team') in header")


# --------------------------------------------------------------------------- rejected rows


def rejections(n: int) -> list[Rejection]:
    return [Rejection("metrics/G1.csv", i + 2, f"bad {i}", "1" if i % 2 else None, f"e{i}") for i in range(n)]


def test_the_summary_counts_all_and_shows_the_first_few():
    assert summarize_rejections(rejections(7), shown=2) == (
        "7 row(s) set aside from metrics/G1.csv: line 2: bad 0; line 3: bad 1; and 5 more")
    assert summarize_rejections(rejections(1)) == "1 row(s) set aside from metrics/G1.csv: line 2: bad 0"
    mixed = [*rejections(1), Rejection("shifts/G1.csv", 4, "no roster")]
    assert summarize_rejections(mixed) == "2 row(s) set aside: metrics/G1.csv, line 2: bad 0; shifts/G1.csv, line 4: no roster"


def test_all_rejected_rows_are_written_and_a_rewrite_replaces_the_file(tmp_path):
    path = tmp_path / "rejected" / "metrics" / "G1" / "1.csv"
    write_rejections(path, rejections(1000))
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 1000
    assert rows[1] == {"file": "metrics/G1.csv", "line": "3", "period": "1", "event_id": "e1", "reason": "bad 1"}
    assert rows[0]["period"] == ""
    write_rejections(path, [Rejection("metrics/G1.csv", 9, "=cmd|' /C calc'!A0\nsecond line", "2", "e\r9")])
    with open(path, newline="", encoding="utf-8") as fh:
        assert list(csv.DictReader(fh)) == [{"file": "metrics/G1.csv", "line": "9", "period": "2", "event_id": "e\r9",
                                             "reason": "=cmd|' /C calc'!A0\nsecond line"}]  # verbatim, one row
    assert sorted(p.name for p in path.parent.iterdir()) == ["1.csv"]  # no temporary file left beside it
