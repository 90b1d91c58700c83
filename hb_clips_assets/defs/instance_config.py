"""The Dagster instance's dagster.yaml, seeded from the project's template.

``./dagster.yaml`` is the template; :func:`seed_dagster_home` writes it into
``$DAGSTER_HOME`` with ``concurrency.pools.default_limit`` set to this
machine's CPU count (the ffmpeg pool then runs at most one cutting step per
core). A seeded file starts with :data:`MARKER` and is rewritten whenever the
template (or the CPU count) changes; remove the marker line to keep local
edits. ``python -m hb_clips_assets.defs.instance_config DIR`` seeds DIR.
"""
from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = PROJECT_ROOT / "dagster.yaml"
MARKER = "# seeded by hb-clips from the project's dagster.yaml; delete this line to keep local edits"
_DEFAULT_LIMIT = re.compile(r"^(?P<indent>\s+)default_limit:\s*\d+\s*$", re.MULTILINE)


def render_instance_yaml(template: str, cpus: int | None = None) -> str:
    cpus = max(1, cpus or os.cpu_count() or 1)
    text, count = _DEFAULT_LIMIT.subn(lambda m: f"{m['indent']}default_limit: {cpus}", template)
    if count != 1:
        raise ValueError("dagster.yaml template: expected one `default_limit:` line under concurrency.pools")
    if yaml.safe_load(text)["concurrency"]["pools"]["default_limit"] != cpus:
        raise ValueError("dagster.yaml template: default_limit is not under concurrency.pools")
    return f"{MARKER}\n{text}"


def seed_dagster_home(home: Path | str, template: Path = TEMPLATE, cpus: int | None = None, extra: str = "") -> Path:
    """Write ``home/dagster.yaml`` from the template unless the file there was edited by hand
    (has no marker). ``extra`` is YAML appended to it (tests use it)."""
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    target = home / "dagster.yaml"
    if not template.exists():
        return target
    text = render_instance_yaml(template.read_text(encoding="utf-8"), cpus) + extra
    if target.exists():
        current = target.read_text(encoding="utf-8")
        if current == text or not current.startswith(MARKER):
            return target
    fd, tmp = tempfile.mkstemp(prefix=".dagster.yaml.", dir=home)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, target)
    return target


if __name__ == "__main__":  # pragma: no cover
    print(seed_dagster_home(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("DAGSTER_HOME", "var/dagster_home")))
