"""The contract's CSV files as people write them: the encoding, the delimiter and the
header's spelling are read from the file, and said (shared/DATA_CONTRACT.md section 1).

Analysts' files come from Excel (UTF-8 with a BOM, Windows-1252, semicolons in
European locales, "Unicode text" as tab-separated UTF-16), Sportscode (UTF-16)
and scripts (plain UTF-8). Rather than refuse all but one of those, the reader
decides from the bytes, and only where the bytes leave no doubt:

- encoding: a byte order mark names UTF-8, UTF-16 LE or UTF-16 BE. Without one,
  UTF-16 is read where the first 8 KiB show its pattern unmistakably (one byte of
  every pair NUL in most pairs, the other never, no control characters once
  decoded); then UTF-8; then Windows-1252, but only when nothing before the first
  byte that is not UTF-8 was UTF-8 multibyte text: a UTF-8 file with one corrupt
  byte stays an error naming its line, rather than being read as mojibake.
- delimiter: comma, semicolon or tab, whichever splits the header into the most
  required columns (comma on a tie, and when none does: its error names the columns).
- header: a known column is matched ignoring case, surrounding spaces and ``-``,
  ``_`` and spaces inside (``Event ID``, ``event-id``, ``EVENT_ID`` are ``event_id``);
  other columns keep their name as written (stripped): they become tags.

Also here: the file of all rejected rows a materialization writes, and its log summary.
"""
from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

# Largest CSV field we accept: a longer one fails the file (naming the line), like
# the csv module's own limit (128 KiB by default), which is process-wide state
# we leave alone.
MAX_FIELD = 64 * 1024
_SNIFF_BYTES = 8192
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8", "UTF-8 with BOM"),
    (b"\xff\xfe", "utf-16-le", "UTF-16 LE with BOM"),
    (b"\xfe\xff", "utf-16-be", "UTF-16 BE with BOM"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# A drop-frame timecode split in two by an unquoted ';' of a semicolon-separated file.
_HMS = re.compile(r"\d{1,2}:\d{2}:\d{2}")
_FRAMES = re.compile(r"\d{1,3}")


class ContractError(ValueError):
    """Input that breaks the data contract."""


class ContractFileError(ContractError):
    """A whole file that cannot be read: names the file, the line and the problem."""

    def __init__(self, path: Path | str, problem: str, line: int | None = None):
        self.path, self.problem, self.line = str(path), problem, line
        where = f"{path}, line {line}" if line else str(path)
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class CsvTable:
    """A contract CSV read: its header (known columns by their contract name), its rows as
    ``(line number, row)`` pairs, and the encoding and delimiter it was read with."""

    header: list[str]
    rows: list[tuple[int, dict[str, str]]]
    encoding: str  # e.g. "UTF-8", "UTF-8 with BOM", "UTF-16 LE without BOM", "Windows-1252"
    delimiter: str  # "comma", "semicolon" or "tab"


def _decode_as(path: Path, data: bytes, codec: str, problem: str) -> str:
    """``data`` decoded, or a file error naming the line: ``problem`` with ``{detail}`` for what was wrong."""
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].decode(codec, errors="replace").count("\n") + 1
        detail = exc.reason if codec.startswith("utf-16") else f"byte 0x{data[exc.start]:02x}"
        raise ContractFileError(path, problem.format(detail=detail), line) from None


def _utf16_without_bom(sample: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' where the sample can be nothing else, else None."""
    n = len(sample) - len(sample) % 2
    if n < 8:
        return None
    for codec, low, high in (("utf-16-le", sample[0:n:2], sample[1:n:2]), ("utf-16-be", sample[1:n:2], sample[0:n:2])):
        if low.count(0) == 0 and high.count(0) * 2 > n // 2:
            if not _CONTROL.search(sample[:n].decode(codec, errors="replace")):
                return codec
    return None


def decode(path: Path, raw: bytes) -> tuple[str, str]:
    """The file's text and the name of the encoding it was read with (see the module's rules)."""
    if raw.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        raise ContractFileError(path, "UTF-32 text is not read: save the file as UTF-8 (or UTF-16)")
    for bom, codec, name in _BOMS:
        if raw.startswith(bom):
            problem = (f"not {name.removesuffix(' with BOM')} text ({{detail}})"
                       + (": the file starts with a UTF-8 byte order mark" if codec == "utf-8" else ""))
            return _decode_as(path, raw[len(bom):], codec, problem), name
    codec = _utf16_without_bom(raw[:_SNIFF_BYTES])
    if codec:
        name = f"UTF-16 {codec[-2:].upper()} without BOM"
        return _decode_as(path, raw, codec, f"not {name.removesuffix(' without BOM')} text ({{detail}})"), name
    if b"\x00" in raw[:_SNIFF_BYTES]:
        raise ContractFileError(path, "not a CSV file (binary content)")
    try:
        return raw.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError as exc:
        if not raw[: exc.start].isascii():  # UTF-8 text before the bad byte: a corrupt UTF-8 file
            line = raw[: exc.start].count(b"\n") + 1
            raise ContractFileError(
                path, f"not UTF-8 text (byte 0x{raw[exc.start]:02x}): the lines before it are UTF-8, "
                "so the file is not read as Windows-1252", line) from None
    return _decode_as(path, raw, "cp1252", "neither UTF-8 nor Windows-1252 text ({detail})"), "Windows-1252"


def column_key(name: str) -> str:
    """A header name compared: case, surrounding spaces and ``-``/``_``/spaces inside ignored."""
    return re.sub(r"[\s_\-]+", "", name.replace("\ufeff", "").lower())


def canonical_header(header: Sequence[str], known: Iterable[str]) -> list[str]:
    """Known columns by their contract name, the others as written (stripped)."""
    by_key = {column_key(k): k for k in known}
    return [by_key.get(column_key(h), h.strip()) for h in header]


def sniff_delimiter(text: str, required: Sequence[str]) -> str:
    """The delimiter that splits the header into the most required columns; comma on a tie."""
    wanted = {column_key(c) for c in required}
    best, best_found = ",", 0
    for delimiter in DELIMITERS:
        try:  # the header only: a bounded slice, so a huge file is not copied three times
            first = next(csv.reader(io.StringIO(text[: 1 << 20], newline=""), delimiter=delimiter), [])
        except csv.Error:
            continue
        found = len(wanted & {column_key(h) for h in first})
        if found > best_found:
            best, best_found = delimiter, found
    return best


def _rejoin_drop_frame(values: list[str], header: list[str]) -> list[str] | None:
    """The row with each timecode column's ``HH:MM:SS`` + ``FF`` pair joined back by ';',
    where that makes the field count right; None where it does not."""
    out, k, surplus = [], 0, len(values) - len(header)
    for name in header:
        if k >= len(values):
            return None
        if (surplus and name.endswith("timecode") and k + 1 < len(values)
                and _HMS.fullmatch(values[k].strip()) and _FRAMES.fullmatch(values[k + 1].strip())):
            out.append(f"{values[k].strip()};{values[k + 1].strip()}")
            k, surplus = k + 2, surplus - 1
        else:
            out.append(values[k])
            k += 1
    return out if k == len(values) else None


def _check_header(path: Path, written: list[str], header: list[str], required: Sequence[str]) -> None:
    if not header or not any(h.strip() for h in header):
        raise ContractFileError(path, "empty file: expected a header line", 1)
    missing = [c for c in required if c not in header]
    if missing:
        raise ContractFileError(
            path, f"header lacks required column(s) {', '.join(missing)}; found {', '.join(h.strip() for h in written)}", 1
        )
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if duplicated:
        spelled = []
        for name in duplicated:
            spellings = [w.strip() for w, h in zip(written, header) if h == name]
            spelled.append(name if len(set(spellings)) == 1 else f"{name} ({', '.join(map(repr, spellings))})")
        raise ContractFileError(path, f"duplicated column(s) {', '.join(spelled)} in header", 1)


def read_csv_table(path: Path, required: Sequence[str], known: Iterable[str] = ()) -> CsvTable:
    """A contract CSV: header, ``(line number, row)`` pairs, encoding and delimiter.

    ``known``: the optional columns matched like the required ones. The line number is
    where the record starts, so quoted newlines do not shift it. A row that cannot be a
    row (wrong field count, a NUL byte) comes as ``{"__error__": reason}``.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ContractFileError(path, f"cannot read file: {exc.strerror or exc}") from None
    text, encoding = decode(path, raw)
    delimiter = sniff_delimiter(text, required)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        written = next(reader, None) or []
    except csv.Error as exc:
        raise ContractFileError(path, f"unreadable header: {exc}", 1) from None
    if written and max(map(len, written)) > MAX_FIELD:
        raise ContractFileError(path, f"unreadable header: field larger than field limit ({MAX_FIELD})", 1)
    header = canonical_header(written, (*required, *known))
    _check_header(path, written, header, required)
    rows: list[tuple[int, dict[str, str]]] = []
    start = reader.line_num + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ContractFileError(path, f"broken CSV: {exc}", start) from None
        if values and max(map(len, values)) > MAX_FIELD:
            raise ContractFileError(path, f"broken CSV: field larger than field limit ({MAX_FIELD})", start)
        if values and any(v.strip() for v in values):
            if len(values) > len(header) and delimiter == ";":
                values = _rejoin_drop_frame(values, header) or values
            if any("\x00" in v for v in values):
                rows.append((start, {"__error__": "a field contains a NUL byte"}))
            elif len(values) != len(header):
                rows.append((start, {"__error__": f"{len(values)} fields, header has {len(header)}"}))
            else:
                rows.append((start, {k: v.strip() for k, v in zip(header, values)}))
        start = reader.line_num + 1
    return CsvTable(header, rows, encoding, DELIMITERS[delimiter])


# --------------------------------------------------------------------------- rejected rows, all of them

REJECTION_COLUMNS = ("file", "line", "period", "event_id", "reason")


def summarize_rejections(rejected: Sequence, shown: int = 5) -> str:
    """One line for a log: how many rows were set aside, and the first ``shown`` (file, line, reason).

    ``rejected``: :class:`~hb_clips_assets.domain.contract.Rejection` records. One log event
    per row took 17 minutes for 100,000 bad rows; the file of :func:`write_rejections` has them all.
    """
    more = f"; and {len(rejected) - shown:,} more" if len(rejected) > shown else ""
    files = {r.file for r in rejected}
    if len(files) == 1:  # the usual case: name the file once
        first = "; ".join(f"line {r.line}: {r.reason}" for r in rejected[:shown])
        return f"{len(rejected):,} row(s) set aside from {next(iter(files))}: {first}{more}"
    first = "; ".join(str(r) for r in rejected[:shown])
    return f"{len(rejected):,} row(s) set aside: {first}{more}"


def write_rejections(path: Path, rejected: Iterable) -> Path:
    """Every rejected row as a UTF-8 CSV (``REJECTION_COLUMNS``), written beside ``path`` and
    renamed over it, so a reader never sees half a file. Values are written verbatim, as read."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(REJECTION_COLUMNS)
            writer.writerows((r.file, r.line, r.period or "", r.event_id or "", r.reason) for r in rejected)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
