"""Security (issue 7): hostile values through every input, and secrets kept out of every output.

Inputs tried: every CSV field of metrics/shifts/schedule/roster (fields taken from
the contract's own column lists), file names the arrival sensor sees, game ids /
partition paths, every `hb-clips find` flag and `run --game`, and every field of
the query layer (``ClipQuery``, enumerated). The HTTP API is in
``api/test_api_security.py``. Outcomes asserted: a clear rejection (ContractError
naming file and line, exit 2 with a message, QueryError) or a literal no-match;
SQL text accepted as opaque data comes back verbatim; no file is created outside
the store and work folders (``touch`` payloads never create their file); the
media tables still hold the same rows.

Secrets: a real `hb-clips run` on PostgreSQL (password in the URL), a GCS store
(fake-gcs-server) with a service-account signing key in the environment, and API
keys set; then `hb-clips find`, `db current`; every byte of output, log record,
Dagster event, run config, materialization metadata and file under the Dagster
home and work folder is searched for the password, the private key and the keys.
"""
from __future__ import annotations

import contextlib
import csv
import dataclasses
import hashlib
import io
import json
import logging
import os
import re
import tempfile
from fractions import Fraction
from pathlib import Path

import pytest

from hb_clips_assets.cli.main import main
from hb_clips_assets.pipeline.arrivals import ArrivalCursor, decide_arrivals, scan_data_root
from hb_clips_assets.domain.contract import MAX_FIELD_LENGTHS, MAX_TAG_NAME_LENGTH, METRICS_OPTIONAL, METRICS_REQUIRED, ROSTER_REQUIRED, SCHEDULE_REQUIRED, SHIFTS_REQUIRED, ContractError, ContractFileError, read_metrics, snake_case, validate_game_id
from hb_clips_assets.domain.reference import read_roster, read_schedule
from hb_clips_assets.domain.shifts import read_shifts
from hb_clips_assets.storage.index.repository import MediaIndex
from hb_clips_assets.domain.records import AssetRecord, ClipRecord
from hb_clips_assets.retrieval import (
    ClipQuery,
    QueryError,
    References,
    asset_by_key,
    clip_stats,
    find_clips,
    get_clip,
)
from hb_clips_assets.retrieval.language import apply_request
from hb_clips_assets.defs.resources import DataRootResource
from hb_clips_assets.domain.layout import DataRoot

# --------------------------------------------------------------------------- payloads

PWNED = "hb-sec-pwned"  # what every shell payload would create (relative: in the working directory)
TRAVERSAL_TARGET = Path(tempfile.gettempdir()) / "hb-sec-traversal"
PAYLOADS = {
    "traversal": f"../../../../../../..{TRAVERSAL_TARGET}",
    "absolute": "/etc/passwd",
    "pct_encoded": "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "nul": "G1\x00.csv",
    "sql_drop": "'; DROP TABLE media.clips; --",
    "sql_or": "' OR '1'='1",
    "shell_subst": f"$(touch {PWNED}-subst)",
    "backticks": f"`touch {PWNED}-tick`",
    "pipe": f"x | touch {PWNED}-pipe",
    "semicolon": f"x; touch {PWNED}-semi",
    "newline": f"x\ntouch {PWNED}-nl",
    "long": "A" * 100_000,
    "fullwidth": "ＷＳＨ２００３１",
    "lookalike_slash": "..\u2215..\u2215etc\u2215passwd",
    "rtl_override": "evil\u202egpj.exe",
    "cyrillic": "\u041cTL",  # a Cyrillic capital EM, then "TL"
}
PAYLOAD_IDS = list(PAYLOADS)


REPO_ROOT = Path(__file__).resolve().parents[1]


def no_side_effects(*roots: Path) -> None:
    """No payload file anywhere under ``roots`` (nor in the temp folder or the repository), nor where a
    traversal would land."""
    found = [p for root in roots for p in Path(root).rglob(f"{PWNED}*")]
    found += [p for folder in (Path(tempfile.gettempdir()), REPO_ROOT, Path.cwd()) for p in folder.glob(f"{PWNED}*")]
    assert not found, f"a shell payload ran: {found}"
    assert not TRAVERSAL_TARGET.exists(), f"a traversal payload wrote {TRAVERSAL_TARGET}"


def tree(root: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """rel path -> sha256 (or 'dir') of everything under ``root`` but the ``skip`` folders."""
    out = {}
    for p in sorted(Path(root).rglob("*")):
        rel = p.relative_to(root).as_posix()
        if any(rel == s or rel.startswith(s + "/") for s in skip):
            continue
        out[rel] = "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """A sentinel tree and a working directory in it; after the test nothing was created outside the
    folders the test names as outputs, and no payload file exists."""
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text("SENTINEL-SECRET\n")
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    no_side_effects(tmp_path)
    assert (tmp_path / "outside" / "secret.txt").read_text() == "SENTINEL-SECRET\n"
    assert sorted(p.name for p in (tmp_path / "outside").iterdir()) == ["secret.txt"]


# --------------------------------------------------------------------------- CSV fields

GOOD = {
    "metrics": {"event_id": "e1", "game_id": "G1", "period": "1", "timecode": "00:00:01:00", "event_type": "shot",
                "player_id": "8478402", "team": "MTL", "opponent": "CHI", "zone": "O", "strength": "5v5",
                "outcome": "won", "x": "1", "y": "2", "detail": "d", "extra_col": "v"},
    "shifts": {"player_id": "8478402", "period": "1", "start_timecode": "00:00:01:00", "end_timecode": "00:00:09:00"},
    "schedule": {"game_id": "G1", "date": "2026-01-05", "home": "MTL", "away": "CHI"},
    "roster": {"player_id": "8478402", "name": "Nick Suzuki", "team": "MTL", "position": "C", "aliases": "Suzy"},
}
FIELDS = {  # from the contract's own column lists, so a new column is tried too
    "metrics": [*METRICS_REQUIRED, *METRICS_OPTIONAL, "extra_col"],
    "shifts": list(SHIFTS_REQUIRED),
    "schedule": list(SCHEDULE_REQUIRED),
    "roster": [*ROSTER_REQUIRED, "aliases"],
}
# Fields whose hostile value must never be accepted (they are checked, or become paths or keys).
VALIDATED = {("metrics", "game_id"), ("metrics", "period"), ("metrics", "timecode"), ("metrics", "zone"),
             ("shifts", "period"), ("shifts", "start_timecode"), ("shifts", "end_timecode"),
             ("schedule", "game_id"), ("schedule", "date")}


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def read(kind: str, path: Path):
    return {"metrics": lambda: read_metrics(path, "G1"), "shifts": lambda: read_shifts(path, "G1"),
            "schedule": lambda: read_schedule(path), "roster": lambda: read_roster(path)}[kind]()


def accepted_value(kind: str, field: str, parsed):
    """Where the field's value ends up once the row is accepted."""
    if kind == "metrics":
        (e,) = parsed.events
        if field in ("event_id", "event_type", "player_id", "team", "opponent", "zone", "strength"):
            return getattr(e, field)
        if field == "game_id":
            return e.game_id
        if field in ("period", "timecode"):
            return str(getattr(e, field))
        return e.tags.get(field)
    if kind == "shifts":
        (s,) = parsed.shifts
        return {"player_id": s.player_id, "period": s.period, "start_timecode": str(s.start),
                "end_timecode": str(s.end)}[field]
    (item,) = parsed.values()
    if kind == "schedule":
        return {"game_id": item.game_id, "date": item.date, "home": item.home, "away": item.away}[field]
    return {"player_id": item.player_id, "name": item.name, "team": item.team, "position": item.position,
            "aliases": "|".join(item.aliases)}[field]


def expected_accepted(kind: str, field: str, value: str) -> str:
    """The documented normalisation of an opaque value (upper-cased codes, snake_case types)."""
    value = value.strip()
    if field in ("team", "opponent", "home", "away", "position"):
        return value.upper()
    if field == "event_type":
        return snake_case(value)
    if field == "aliases":
        return "|".join(a.strip() for a in value.split("|") if a.strip())
    return value


@pytest.mark.parametrize("kind,field", [(k, f) for k, fields in FIELDS.items() for f in fields])
def test_every_csv_field_rejects_or_keeps_hostile_values_verbatim(kind, field, sandbox):
    outcomes = {}
    for name, payload in PAYLOADS.items():
        row = dict(GOOD[kind], **{field: payload})
        header = list(row)
        path = write_csv(sandbox / "data" / name / f"{kind}.csv", header, [list(row.values())])
        try:
            parsed = read(kind, path)
        except ContractFileError as exc:  # the whole file: names it, and the line
            assert str(path) in str(exc), str(exc)
            assert exc.line in (1, 2) or (exc.line is None and "binary" in str(exc)), str(exc)
            outcomes[name] = "file rejected"
            continue
        rejected = getattr(parsed, "rejected", [])
        if rejected:
            (r,) = rejected
            assert (r.file, r.line) == (str(path), 2) and r.reason, r
            assert not getattr(parsed, "events", getattr(parsed, "shifts", None))
            outcomes[name] = "row rejected"
            continue
        assert (kind, field) not in VALIDATED, f"{kind}.{field} accepted {payload[:60]!r}"
        assert accepted_value(kind, field, parsed) == expected_accepted(kind, field, payload), name
        outcomes[name] = "kept as data"
    # the NUL byte and the 100,000-character value never get in, in any field
    assert outcomes["nul"] != "kept as data" and outcomes["long"] != "kept as data"
    if (kind, field) in VALIDATED:
        assert "kept as data" not in outcomes.values()


def test_field_widths_match_the_media_index_columns():
    """A value the contract accepts always fits its index column (PostgreSQL refuses longer VARCHARs)."""
    from hb_clips_assets.storage.index.models import Clip, ClipTag

    for name, limit in MAX_FIELD_LENGTHS.items():
        assert Clip.__table__.c[name].type.length == limit, name
    assert ClipTag.__table__.c.tag.type.length == MAX_TAG_NAME_LENGTH
    assert Clip.__table__.c.game_id.type.length == 64  # validate_game_id: 1 to 64 characters


@pytest.mark.parametrize("name", PAYLOAD_IDS)
def test_hostile_extra_column_names_become_tag_names_verbatim_or_a_file_error(name, sandbox):
    payload = PAYLOADS[name]
    row = dict(GOOD["metrics"], **{payload: "v"})
    path = write_csv(sandbox / "data" / "metrics.csv", list(row), [list(row.values())])
    try:
        parsed = read_metrics(path, "G1")
    except ContractFileError as exc:
        assert str(path) in str(exc)
        assert (name, exc.line) in (("nul", None), ("long", 1)), str(exc)  # binary / wider than a field may be
        return
    (e,) = parsed.events
    assert e.tags[payload.strip()] == "v"


def test_a_line_break_in_a_value_cannot_break_the_metadata_table(sandbox):
    """A quoted CR in an event_id (any value shown in a metadata table) stays one cell of one row:
    tables are structured (MetadataValue.table), so a value cannot add rows or headings."""
    from dagster import TableMetadataValue

    from hb_clips_assets.defs.metadata import rejection_metadata
    from hb_clips_tests.resources import table_rows

    evil = "e9\r# injected heading\r| fake | row |"
    path = write_csv(sandbox / "data" / "metrics.csv", list(GOOD["metrics"]),
                     [list(dict(GOOD["metrics"], event_id=evil, timecode="bogus").values())])
    parsed = read_metrics(path, "G1")
    table = rejection_metadata(parsed.rejected)["rejected_first"]
    assert isinstance(table, TableMetadataValue)
    assert parsed.rejected[0].event_id == evil
    (row,) = table_rows(table)
    assert row["event_id"] == evil and row["line"] == 2 and "timecode" in row["reason"]


# --------------------------------------------------------------------------- file names (arrival sensor)

def filename_payloads() -> dict[str, str]:
    """The payloads a file system can hold as one name component (no "/", no NUL, short enough for a ".csv" after it)."""
    out = {k: v for k, v in PAYLOADS.items() if "/" not in v and "\x00" not in v and len(v.encode()) <= 250}
    out.update({"long": "A" * 250, "dots": "...", "pct_dots": "%2e%2e", "space_dots": " ..", "plus": "G1+G2",
                "fullwidth_one": "\uff11", "trailing_newline": "G1\n"})
    return out


def test_arrival_sensor_never_turns_hostile_file_names_into_games(sandbox):
    root = sandbox / "data"
    names = filename_payloads()
    for name in names.values():
        for rel in (f"video/{name}/1.mp4", f"video/G1/{name}.mp4", f"metrics/{name}.csv"):
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(b"x")
    before = tree(sandbox)
    scan = scan_data_root(root)
    assert scan.videos == {} and scan.metrics == {}
    for name in names.values():
        if name.startswith("."):  # hidden: skipped quietly, like a file still being written
            assert not {f"video/{name}", f"video/G1/{name}.mp4", f"metrics/{name}.csv"} & set(scan.rejected)
            continue
        assert f"video/{name}" in scan.rejected and f"metrics/{name}.csv" in scan.rejected, repr(name)
        assert f"video/G1/{name}.mp4" in scan.rejected, repr(name)
        assert "invalid game_id" in scan.rejected[f"video/{name}"]
    cursor = ArrivalCursor()
    for _ in range(2):  # two ticks: files settle; still nothing to run
        decision = decide_arrivals(scan, cursor, video_problem_of=lambda p: pytest.fail(f"probed {p}"))
        assert decision.requests == []
        cursor = decision.cursor
    assert DataRoot(root).games() == ["G1"]  # the one valid folder, made for the period names
    assert tree(sandbox) == before  # listing never writes, never follows a name anywhere


def test_real_sensor_tick_adds_no_partition_for_hostile_names(sandbox):
    from dagster import build_sensor_context, instance_for_test

    from hb_clips_assets.definitions import defs
    from hb_clips_assets.defs.partitions import game_partitions
    from hb_clips_assets.defs.resources import MediaIndexResource
    from hb_clips_assets.defs.sensors import ARRIVAL_SENSOR

    root = sandbox / "data"
    for name in filename_payloads().values():
        (root / "video" / name).mkdir(parents=True, exist_ok=True)
        (root / "video" / name / "1.mp4").write_bytes(b"x")
        (root / "metrics").mkdir(exist_ok=True)
        (root / "metrics" / f"{name}.csv").write_text("x")
    sensor = defs.resolve_sensor_def(ARRIVAL_SENSOR)
    resources = {"data_root": DataRootResource(path=str(root)),
                 "media_index": MediaIndexResource(url=f"sqlite:///{sandbox / 'work' / 'media.db'}")}
    cursor = None
    with instance_for_test() as instance:
        for _ in range(2):
            with build_sensor_context(instance=instance, cursor=cursor, resources=resources) as context:
                result = sensor(context)
            cursor = result.cursor
            assert result.run_requests == [] and not result.dynamic_partitions_requests
        assert instance.get_dynamic_partitions(game_partitions.name) == []


# --------------------------------------------------------------------------- game ids, partition paths, `run --game`

@pytest.mark.parametrize("name", PAYLOAD_IDS)
def test_hostile_game_id_and_period_never_become_paths(name, sandbox):
    payload = PAYLOADS[name]
    data = DataRoot(sandbox / "data")
    for call in (lambda: validate_game_id(payload), lambda: data.metrics(payload), lambda: data.shifts(payload),
                 lambda: data.video(payload, "1"), lambda: data.video("G1", payload),
                 lambda: read_metrics(sandbox / "outside" / "secret.txt", payload),
                 lambda: read_shifts(sandbox / "outside" / "secret.txt", payload)):
        with pytest.raises(ContractError, match="invalid game_id|unknown period"):
            call()


def test_run_game_argument_is_refused_before_anything_is_written(sandbox, capsys, monkeypatch):
    (sandbox / "data").mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(sandbox / "dagster_home"))
    monkeypatch.setenv("HB_DATA_ROOT", str(sandbox / "data"))  # `run` sets it: restored after the test
    before = tree(sandbox)
    for name, payload in PAYLOADS.items():
        assert main(["run", "--data-root", "data", "--game", payload]) == 2, name
        err = capsys.readouterr().err
        assert "invalid game_id" in err and "Traceback" not in err, name
    assert tree(sandbox) == before  # no Dagster home, no store, no index


# --------------------------------------------------------------------------- a media index with hostile rows

SQL_OPAQUE = ["sql_drop", "sql_or", "shell_subst", "backticks", "pipe", "semicolon", "newline", "rtl_override"]
_INDEXES: dict[str, dict] = {}


def hostile_records() -> list[ClipRecord]:
    """One clip per opaque payload in game GSEC: the payload as event_id, player_id, strength (cut to the
    column widths the contract enforces) and tags."""
    out = []
    for i, name in enumerate(SQL_OPAQUE):
        value = PAYLOADS[name]
        cid = hashlib.sha256(f"hostile/{name}".encode()).hexdigest()[:32]
        assets = tuple(AssetRecord(kind, f"{folder}/GSEC/1/{cid}.{ext}", f"file:///nowhere/{cid}.{ext}", 10, "0" * 64, ct)
                       for kind, folder, ext, ct in (("mp4", "clips", "mp4", "video/mp4"),
                                                     ("thumbnail", "thumbnails", "jpg", "image/jpeg")))
        out.append(ClipRecord(
            clip_id=cid, game_id="GSEC", period="1", event_id=value, event_type="shot", player_id=value,
            team="MTL", opponent="CHI", zone="O", strength=value[:16], timecode="00:00:01:00", event_frame=10 + i,
            start_frame=i, end_frame=20 + i, fps_num=25, fps_den=1, source_uri="file:///nowhere/1.mp4",
            source_sha256="0" * 64, tags={"detail": value, "outcome": value}, assets=assets))
    return out


def hostile_index(tmp_path_factory) -> dict:
    """The retrieval sample (two games) plus game GSEC with hostile values; built once per session."""
    if "index" not in _INDEXES:
        from hb_clips_tests.retrieval_sample import index_sample, shared_sample

        data = shared_sample(tmp_path_factory)
        work = tmp_path_factory.mktemp("security-index")
        sample = index_sample(data, work / "store", f"sqlite:///{work / 'media.db'}")
        index = MediaIndex(sample.db_url)
        index.write_partition("GSEC", "1", hostile_records())
        index.dispose()
        _INDEXES["index"] = {"data": data, "db_url": sample.db_url, "store": sample.store_root, "work": work}
    return _INDEXES["index"]


def table_counts(db_url: str) -> dict[str, int]:
    from hb_clips_assets.storage.index.db import create_media_engine

    engine = create_media_engine(db_url)
    try:
        with engine.connect() as conn:
            return {t: conn.exec_driver_sql(f"select count(*) from media.{t}").scalar_one()
                    for t in ("clips", "clip_assets", "clip_tags")}
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    info = hostile_index(tmp_path_factory)
    counts = table_counts(info["db_url"])
    assert counts["clips"] > len(SQL_OPAQUE)
    yield info | {"counts": counts}
    assert table_counts(info["db_url"]) == counts  # every table intact, same rows, after the whole module


def test_sql_text_is_stored_and_found_verbatim_never_evaluated(indexed):
    from hb_clips_assets.storage.index.db import create_media_engine

    refs = References.load(indexed["data"])
    index = MediaIndex(indexed["db_url"])
    try:
        for name in SQL_OPAQUE:
            value = PAYLOADS[name]
            page = find_clips(index.engine, ClipQuery(players=(value,), limit=500), refs)
            # exactly the one clip holding the text: "' OR '1'='1" evaluated as SQL would match every clip
            assert [(c.event_id, c.player_id) for c in page.items] == [(value, value)], name
            assert page.items[0].tags == {"detail": value, "outcome": value}
            page = find_clips(index.engine, ClipQuery(outcomes=(value,), limit=500), refs)
            assert [c.event_id for c in page.items] == [value], name
            page = find_clips(index.engine, ClipQuery(strengths=(value[:16],), limit=500), refs)
            assert value in [c.event_id for c in page.items], name
    finally:
        index.dispose()
    engine = create_media_engine(indexed["db_url"])
    with engine.connect() as conn:
        stored = dict(conn.exec_driver_sql("select event_id, player_id from media.clips where game_id = 'GSEC'").all())
    engine.dispose()
    assert stored == {PAYLOADS[n]: PAYLOADS[n] for n in SQL_OPAQUE}


# --------------------------------------------------------------------------- the query layer, field by field

def expected_matches(field: str, name: str) -> int:
    """Clips of the hostile index a filter holding PAYLOADS[name] matches: the one clip holding the same
    text as player, outcome or strength (stored cut to 16 characters), else none."""
    value = PAYLOADS[name].strip()
    if name not in SQL_OPAQUE or field not in ("players", "outcomes", "strengths"):
        return 0
    if field == "strengths":
        return int(len(value) <= 16)
    return 1


def _query_with(field: dataclasses.Field, payload: str) -> ClipQuery:
    if field.name in ("limit", "offset", "last_games"):
        return ClipQuery(**{field.name: payload})
    if field.name == "last_games_of":  # only read with last_games
        return ClipQuery(last_games=3, last_games_of=payload)
    if field.name == "newest_first":
        return ClipQuery(newest_first=payload)
    if field.name in ("date_from", "date_to", "after"):  # one value, not a list
        return ClipQuery(**{field.name: payload})
    return ClipQuery(**{field.name: (payload,)})


def test_every_query_field_rejects_or_matches_nothing(indexed):
    refs = References.load(indexed["data"])
    index = MediaIndex(indexed["db_url"])
    total = indexed["counts"]["clips"]
    tried = 0
    try:
        for field in dataclasses.fields(ClipQuery):
            for name, payload in PAYLOADS.items():
                query = _query_with(field, payload)
                for call in (lambda q: find_clips(index.engine, q, refs).total,
                             lambda q: clip_stats(index.engine, q, refs)["clips"]):
                    tried += 1
                    try:
                        n = call(query)
                    except QueryError as exc:
                        assert str(exc), (field.name, name)
                        continue
                    if field.name in ("newest_first", "after"):  # order and paging, never a filter: a truthy
                        assert n == total  # flag only reverses the order; stats ignore a page cursor (find refuses it)
                    else:
                        assert n == expected_matches(field.name, name), (field.name, name, n)
        for name, payload in PAYLOADS.items():
            assert get_clip(index.engine, payload, refs) is None
            assert asset_by_key(index.engine, payload) is None
            assert get_clip(index.engine, "x' OR '1'='1", refs) is None
    finally:
        index.dispose()
    assert tried == len(dataclasses.fields(ClipQuery)) * len(PAYLOADS) * 2


@pytest.mark.parametrize("name", PAYLOAD_IDS)
def test_plain_language_requests_report_what_they_ignore(name, indexed):
    payload = PAYLOADS[name]
    refs = References.load(indexed["data"])
    parsed = apply_request(payload, ClipQuery(), refs, user_player="")
    # nothing silently dropped: every word is understood, ignored or filler, and all come from the request
    for word in parsed.ignored + [u.text for u in parsed.understood]:
        assert word in payload or word.casefold() in payload.casefold(), (word, name)


# --------------------------------------------------------------------------- `hb-clips find`, flag by flag

FIND_FLAGS = ["--player", "--team", "--opponent", "--game", "--event", "--period", "--zone", "--strength",
              "--outcome", "--since", "--until", "--last-games-of", "--user-player", "--after", "request"]


def test_find_covers_every_text_flag_of_the_parser():
    """The list above is every flag of `find` that takes free text: a new one must be added here."""
    import argparse

    from hb_clips_assets.cli.retrieval import add_retrieval_commands

    parser = argparse.ArgumentParser()
    add_retrieval_commands(parser.add_subparsers(dest="command"))
    find = parser._subparsers._group_actions[0].choices["find"]  # noqa: SLF001
    text = {a.option_strings[0] if a.option_strings else a.dest for a in find._actions  # noqa: SLF001
            if a.type is None and a.nargs != 0 and a.choices is None and a.dest != "help"}
    config = {"--out", "--data-root", "--db-url", "--store-url", "--reel-url"}  # the operator's own paths and URLs
    assert text - config == set(FIND_FLAGS)


def test_find_flags_reject_or_match_nothing(indexed, capsys, sandbox):
    base = ["find", "--json", "--limit", "500", "--data-root", str(indexed["data"]),
            "--db-url", indexed["db_url"], "--store-url", str(indexed["store"])]
    everything = indexed["counts"]["clips"]
    tried = 0
    for flag in FIND_FLAGS:
        for name, payload in PAYLOADS.items():
            if flag == "request":
                args = base + [payload]
            elif flag == "--user-player":
                args = base + ["--user-player", payload, "my goals"]
            elif flag == "--last-games-of":
                args = base + ["--last-games", "3", "--last-games-of", payload]
            else:
                args = base + [f"{flag}={payload}"]
            code = main(args)
            tried += 1
            out, err = capsys.readouterr()
            assert "Traceback" not in out + err
            if code == 2:
                assert err.startswith("error: ") and out == "", (flag, name)
                continue
            assert code == 0, (flag, name, err[-300:])
            result = json.loads(out)
            found = {c["event_id"] for c in result["items"]}
            if flag == "request":  # words it does not know are reported, never silently dropped
                assert result["parsed"]["request"] == payload.strip()
                assert result["total"] in (0, everything) or result["parsed"]["understood"], name
            else:
                field = {"--player": "players", "--outcome": "outcomes", "--strength": "strengths"}.get(flag, flag)
                assert result["total"] == expected_matches(field, name), (flag, name, result["total"])
                assert found <= {PAYLOADS[name]}
    assert tried == len(FIND_FLAGS) * len(PAYLOADS)


def test_find_export_writes_only_the_file_it_was_given(indexed, sandbox, capsys):
    out = sandbox / "out" / "clips.xml"
    out.parent.mkdir()
    before = tree(sandbox, skip=("out",))
    code = main(["find", "--player", PAYLOADS["sql_or"], "--export", "sportscode", "--out", str(out),
                 "--data-root", str(indexed["data"]), "--db-url", indexed["db_url"], "--store-url", str(indexed["store"])])
    assert code == 0 and "1 clips exported" in capsys.readouterr().out
    from hb_clips_assets.retrieval.export.sportscode import read_sportscode

    (inst,) = read_sportscode(out.read_bytes())
    assert inst.label("Event ID") == PAYLOADS["sql_or"]
    assert tree(sandbox, skip=("out",)) == before


# --------------------------------------------------------------------------- secrets

DB_PASSWORD = "Pg-Secr3t-" + "q7Zr0x"
API_KEYS = {"sec-admin-key-9f8e7d6c5b4a3": "admin", "sec-coach-key-1a2b3c4d5e6f7": "coach:MTL"}
MEDIA_SECRET = "media-secret-" + "Hx81kq0Zt"
SEC_GAME = "GSEC"


def _key_lines(sa_key) -> list[str]:
    return [line for line in sa_key.info["private_key"].splitlines() if line and "PRIVATE KEY" not in line]


def assert_no_secret(text: str, sa_key, where: str) -> None:
    assert DB_PASSWORD not in text, f"database password in {where}"
    assert "PRIVATE KEY" not in text, f"private key in {where}"
    leaked = [line for line in _key_lines(sa_key) if line in text]
    assert not leaked, f"private key material in {where}"
    for key in API_KEYS:
        assert key not in text, f"API key in {where}"
    assert MEDIA_SECRET not in text, f"media URL secret in {where}"


@contextlib.contextmanager
def capture_everything():
    """stdout/stderr at the file-descriptor level (C libraries too) and every log record."""
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            try:
                records.append(self.format(record))
            except Exception:  # noqa: BLE001
                records.append(repr(record.__dict__))

    handler = Keep(level=logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    out = tempfile.TemporaryFile()
    saved = [os.dup(1), os.dup(2)]
    box: dict[str, str] = {}
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(out.fileno(), 1)
    os.dup2(out.fileno(), 2)
    try:
        with contextlib.redirect_stdout(io.TextIOWrapper(os.fdopen(os.dup(1), "wb"), write_through=True)) as so, \
                contextlib.redirect_stderr(io.TextIOWrapper(os.fdopen(os.dup(2), "wb"), write_through=True)) as se:
            yield box
            so.flush()
            se.flush()
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)
        root.removeHandler(handler)
        root.setLevel(old_level)
        out.seek(0)
        box["output"] = out.read().decode("utf-8", "replace")
        out.close()
        box["logs"] = "\n".join(records)


def write_secret_run_data(root: Path) -> None:
    from hb_clips_assets.sample import write_marked_video

    write_marked_video(root / "video" / SEC_GAME / "1.mp4", 50, Fraction(25), 160, 96, audio=False, gop=25)
    write_csv(root / "schedule.csv", list(GOOD["schedule"]), [[SEC_GAME, "2026-01-05", "MTL", "CHI"],
                                                             ["GX", "2026-01-06", PAYLOADS["sql_drop"][:16], "NYR"]])
    write_csv(root / "roster.csv", list(GOOD["roster"]), [
        [PAYLOADS["sql_or"], PAYLOADS["sql_drop"], "MTL", "C", f"{PAYLOADS['shell_subst']}|{PAYLOADS['backticks']}"]])
    header = [*METRICS_REQUIRED, "strength", "outcome", "detail", "note"]
    rows = []
    for i, name in enumerate(SQL_OPAQUE):
        v = PAYLOADS[name]
        rows.append([v, SEC_GAME, "1", f"00:00:01:{5 + 2 * i:02d}", "shot", v, "MTL", v[:16], v, v, v])
    rows.append(["bad\r# injected", SEC_GAME, "1", "bogus", "shot", "p1", "MTL", "", "", "", ""])
    # wider than the index columns: rows set aside (PostgreSQL would refuse the whole partition's write)
    rows.append(["wide-strength", SEC_GAME, "1", "00:00:01:00", "shot", "p1", "MTL", PAYLOADS["sql_drop"], "", "", ""])
    rows.append(["E" * 129, SEC_GAME, "1", "00:00:01:01", "shot", "p1", "MTL", "", "", "", ""])
    write_csv(root / "metrics" / f"{SEC_GAME}.csv", header, rows)


@pytest.fixture(scope="module")
def secret_run(tmp_path_factory, postgres_server, fake_gcs):
    from dagster import DagsterInstance
    from dagster._serdes import serialize_value

    from hb_clips_tests.storage.store.conftest import make_service_account_key

    base = tmp_path_factory.mktemp("secret-run")
    data = base / "data"
    write_secret_run_data(data)
    sa_key = make_service_account_key()
    db_name = postgres_server.create_database("security")
    url = postgres_server.admin_url.set(database=db_name, password=DB_PASSWORD, drivername="postgresql+psycopg")
    db_url = url.render_as_string(hide_password=False)
    bad_port_url = f"postgresql+psycopg://{url.username}:{DB_PASSWORD}@{url.host}:{url.port or 5432}:x/{db_name}"
    bucket = fake_gcs.new_bucket()
    env = {"HB_DATA_ROOT": str(data), "HB_MEDIA_DB_URL": db_url, "HB_STORE_URL": f"gs://{bucket}/lib",
           "HB_GCS_ENDPOINT": fake_gcs.url, "HB_SIGNING_KEY_JSON": sa_key.json_text, "HB_WORK_DIR": str(base / "work"),
           "DAGSTER_HOME": str(base / "dagster_home"), "HB_CUT_WORKERS": "2", "HB_API_MEDIA_SECRET": MEDIA_SECRET,
           "HB_API_KEYS": ";".join(f"{k}={v}" for k, v in API_KEYS.items()), "HB_USER_PLAYER_ID": ""}
    outside_before = None
    mp = pytest.MonkeyPatch()
    try:
        for k, v in env.items():
            mp.setenv(k, v)
        mp.chdir(base)
        outside_before = tree(base, skip=("work", "dagster_home"))
        with capture_everything() as run_out:
            code = main(["run", "--data-root", str(data), "--game", SEC_GAME])
        with capture_everything() as find_out:
            find_code = main(["find", "--json", "--player", PAYLOADS["sql_or"]])
            main(["find", "goals"])
            main(["db", "current"])
            main(["db", "current", "--url", bad_port_url])  # unparsable: the error shows the URL
            main(["find", "--db-url", db_url.replace("postgresql+psycopg", "postgresql+nodriver")])
        instance = DagsterInstance.from_config(str(base / "dagster_home"))
        runs = instance.get_runs()
        events = [serialize_value(r) for run in runs for r in instance.all_logs(run.run_id)]
        run_meta = [serialize_value(run) for run in runs]
        instance.dispose()
        files = {}
        for folder in (base / "dagster_home", base / "work"):
            for p in folder.rglob("*"):
                if p.is_file():
                    files[str(p)] = p.read_bytes().decode("latin-1")
        yield {"code": code, "run": run_out, "find_code": find_code, "find": find_out, "events": events,
               "runs": run_meta, "files": files, "sa_key": sa_key, "db_url": db_url, "bucket": bucket, "base": base,
               "outside_before": outside_before, "fake_gcs": fake_gcs, "env": env}
    finally:
        mp.undo()
        postgres_server.drop_database(db_name)


from hb_clips_tests.servers.fake_gcs import fake_gcs  # noqa: E402,F401  (fixture)
from hb_clips_tests.servers.postgres import postgres_server  # noqa: E402,F401  (fixture)


def test_secret_run_succeeds_and_hostile_values_stay_data(secret_run):
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    assert secret_run["code"] == 0, secret_run["run"]["output"][-3000:]
    engine = create_engine(secret_run["db_url"], poolclass=NullPool)
    with engine.connect() as conn:
        rows = conn.execute(text("select event_id, player_id, strength from media.clips where game_id = :g"),
                            {"g": SEC_GAME}).all()
        tags = conn.execute(text("select t.tag, t.value from media.clip_tags t join media.clips c using (clip_id)")).all()
        tables = set(conn.execute(text("select tablename from pg_tables where schemaname = 'media'")).scalars())
        assets = conn.execute(text("select count(*) from media.clip_assets")).scalar_one()
    engine.dispose()
    assert {r[0] for r in rows} == {PAYLOADS[n] for n in SQL_OPAQUE}  # verbatim, through parameters
    events = "\n".join(secret_run["events"])
    assert "strength is 29 characters long; at most 16" in events and "event_id is 129 characters long" in events
    assert all(r[0] == r[1] and r[2] == r[0][:16] for r in rows)
    assert {("note", PAYLOADS[n]) for n in SQL_OPAQUE} <= set(tags)
    assert {"clips", "clip_assets", "clip_tags"} <= tables and assets == 4 * len(rows)  # MP4, thumbnail, HLS fMP4 + playlist
    # objects only under the contract's keys (hex clip ids), nothing named after a value
    names = [b.name for b in secret_run["fake_gcs"].client().list_blobs(secret_run["bucket"])]
    assert names and all(re.fullmatch(rf"lib/((clips|thumbnails)/{SEC_GAME}/1/[0-9a-f]+\.(mp4|jpg)|hls/{SEC_GAME}/1/[0-9a-f]+-h1\.(mp4|m3u8))", n) for n in names)
    # nothing written outside the work folder and the Dagster home; no payload ran
    base = secret_run["base"]
    assert tree(base, skip=("work", "dagster_home")) == secret_run["outside_before"]
    no_side_effects(base, Path(tempfile.gettempdir()))
    # the find that looked up "' OR '1'='1" got that one clip
    assert secret_run["find_code"] == 0
    found = json.loads(_first_json(secret_run["find"]["output"]))
    assert [c["event_id"] for c in found["items"]] == [PAYLOADS["sql_or"]]


def _first_json(text: str) -> str:
    start = text.index("{")
    depth = 0
    for i, ch in enumerate(text[start:], start):
        depth += ch == "{"
        depth -= ch == "}"
        if depth == 0:
            return text[start:i + 1]
    raise AssertionError("no JSON in the output")


def test_secrets_never_appear_in_output_logs_events_metadata_or_files(secret_run):
    key = secret_run["sa_key"]
    for name in ("run", "find"):
        assert_no_secret(secret_run[name]["output"], key, f"the output of hb-clips {name}")
        assert_no_secret(secret_run[name]["logs"], key, f"the log records of hb-clips {name}")
    for i, event in enumerate(secret_run["events"]):
        assert_no_secret(event, key, f"Dagster event {i}")
    for run in secret_run["runs"]:
        assert_no_secret(run, key, "a Dagster run record (config, tags)")
    for path, content in secret_run["files"].items():
        assert_no_secret(content, key, path)
    # not vacuous: the capture holds the run, its metadata and the URLs, shown redacted
    shown = url_redacted(secret_run["db_url"])
    assert f"media index:          {shown}" in secret_run["run"]["output"]
    assert any('"database"' in e and shown in e for e in secret_run["events"])
    assert any("clips_cut" in e for e in secret_run["events"])
    assert "X-Goog-Signature" in secret_run["find"]["output"]  # signed URLs were made with the key
    assert "postgresql+nodriver://postgres:***@" in secret_run["find"]["output"]
    assert re.search(r"postgresql\+psycopg://\*\*\*@[^ ]*:x/", secret_run["find"]["output"])


def url_redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def test_reprs_of_resources_and_settings_hide_secrets(secret_run, tmp_path):
    from dagster import build_resources

    from hb_clips_assets.retrieval.api.settings import ApiSettings
    from hb_clips_assets.defs.resources import MediaIndexResource, ObjectStoreResource, default_resources
    from hb_clips_assets.retrieval.service import open_retrieval

    key = secret_run["sa_key"]
    key_file = tmp_path / "sa.json"
    key_file.write_text(key.json_text)
    shown = []
    with pytest.MonkeyPatch.context() as mp:
        for k, v in secret_run["env"].items():
            mp.setenv(k, v)
        with build_resources({n: r for n, r in default_resources().items()
                              if n in ("object_store", "media_index")}) as res:
            shown += [repr(res.object_store), str(res.object_store), repr(res.object_store.get_store()),
                      repr(res.media_index), str(res.media_index)]
        settings = ApiSettings.from_env(db_url=secret_run["db_url"])
        shown += [repr(settings), str(settings)]
        retrieval = open_retrieval()
        shown += [repr(retrieval), str(retrieval.engine)]
        retrieval.dispose()
    for resource in (ObjectStoreResource(url="gs://b/p", signing_key_json=key.json_text),
                     ObjectStoreResource(url="gs://b/p", signing_key_file=str(key_file)),
                     MediaIndexResource(url=secret_run["db_url"])):
        shown += [repr(resource), str(resource)]
    text = "\n".join(shown)
    assert_no_secret(text, key, "a repr")
    assert "<redacted>" in text and url_redacted(secret_run["db_url"]) in text  # not vacuous
