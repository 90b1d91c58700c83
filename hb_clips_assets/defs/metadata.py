"""Materialization metadata shared by the assets: readable tables and previews."""
from __future__ import annotations

import base64
import io
import re

from dagster import MetadataValue
from PIL import Image

from hb_clips_assets.domain.contract import Rejection

MAX_ROWS = 20


# Line breaks of Markdown (\r too) and of str.splitlines: a value holding one would end its table row.
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def _cell(value) -> str:
    return _LINE_BREAKS.sub(" ", str(value if value is not None else "")).replace("|", "\\|")


def markdown_table(headers: list[str], rows: list[list], total: int | None = None) -> MetadataValue:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows[:MAX_ROWS]]
    total = len(rows) if total is None else total
    if total > MAX_ROWS:
        lines.append(f"\n_first {MAX_ROWS} of {total}_")
    return MetadataValue.md("\n".join(lines) if rows else "_none_")


def rejection_metadata(rejected: list[Rejection], prefix: str = "rejected") -> dict:
    return {
        f"{prefix}_rows": len(rejected),
        f"{prefix}_first": markdown_table(
            ["file", "line", "event_id", "reason"], [[r.file, r.line, r.event_id, r.reason] for r in rejected]
        ),
    }


def thumbnail_preview(jpeg: bytes, width: int = 240) -> MetadataValue:
    """A small inline JPEG, so the UI shows what was cut without leaving the page."""
    image = Image.open(io.BytesIO(jpeg))
    image.thumbnail((width, width))
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="JPEG", quality=70)
    return MetadataValue.md(f"![thumbnail](data:image/jpeg;base64,{base64.b64encode(buf.getvalue()).decode()})")
