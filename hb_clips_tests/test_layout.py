"""The package's shape, as docs/architecture.md describes it.

- Only ``defs/`` and ``definitions.py`` import Dagster: the domain, video,
  storage, retrieval, pipeline, sample and CLI code works without the
  orchestrator (checked statically over every module, and by running the read
  side in a fresh interpreter and looking at what it loaded).
- No module is longer than about 350 lines unless its docstring says why
  (a line starting with ``Long module:``).
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "hb_clips_assets"
ORCHESTRATION = ("defs", "definitions.py")
DAGSTER_MODULES = ("dagster", "dagster_gcp", "dagster_postgres", "dagster_celery", "dagster_webserver", "dagster_dg_cli")
MAX_LINES = 350
# `hb-clips run` materializes through Dagster: its command imports the runner when it runs (never at import
# time), so the other commands, the read side above all, stay free of the orchestrator.
LAZY_ORCHESTRATION_IMPORTS = {"cli/pipeline.py": {"hb_clips_assets.defs.runner"}}


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


def _outside_orchestration() -> list[Path]:
    return [p for p in _modules() if p.relative_to(PACKAGE).parts[0] not in ORCHESTRATION]


def _imported_names(path: Path, skip_lazy: set[str] = frozenset()) -> set[str]:
    """Modules ``path`` imports anywhere; ``skip_lazy``: names allowed when imported inside a function."""
    tree = ast.parse(path.read_text(), filename=str(path))
    lazy = {
        id(node) for fn in ast.walk(tree) if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
        for node in ast.walk(fn) if isinstance(node, ast.ImportFrom) and node.module in skip_lazy
    }
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in lazy:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_the_layout_has_one_orchestration_folder_and_plain_python_elsewhere():
    top = {p.name for p in PACKAGE.iterdir() if not p.name.startswith(("_", "."))}
    assert {"defs", "domain", "video", "storage", "retrieval", "pipeline", "cli", "sample",
            "definitions.py", "settings.py"} <= top
    # Nothing Dagster-flavoured left at the top level.
    assert not top & {"assets", "resources.py", "sensors.py", "schedules.py", "checks.py", "partitions.py"}


def test_no_module_outside_defs_imports_dagster():
    offenders = {}
    for path in _outside_orchestration():
        bad = sorted(
            n for n in _imported_names(path, LAZY_ORCHESTRATION_IMPORTS.get(str(path.relative_to(PACKAGE)), set()))
            if n.split(".")[0] in DAGSTER_MODULES or n.startswith(("hb_clips_assets.defs", "hb_clips_assets.definitions"))
        )
        if bad:
            offenders[str(path.relative_to(PACKAGE))] = bad
    assert offenders == {}, f"Dagster imported outside defs/: {offenders}"


def test_the_static_check_would_catch_an_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from dagster import asset\n    import hb_clips_assets.defs.resources\n"
                      "    from hb_clips_assets.defs.runner import run_partitions\n"
                      "from hb_clips_assets.defs.runner import plan_partitions\n")
    assert {"dagster", "hb_clips_assets.defs.resources", "hb_clips_assets.defs.runner"} <= _imported_names(module)
    # the one lazy import allowed is still caught at module level
    assert "hb_clips_assets.defs.runner" in _imported_names(module, {"hb_clips_assets.defs.runner"})


_READ_SIDE = """
import json, sys
import hb_clips_assets.domain.contract, hb_clips_assets.domain.timecode, hb_clips_assets.domain.segments
import hb_clips_assets.video.probe, hb_clips_assets.video.cut
import hb_clips_assets.storage.store, hb_clips_assets.storage.index
import hb_clips_assets.retrieval, hb_clips_assets.retrieval.language, hb_clips_assets.retrieval.export
import hb_clips_assets.pipeline.cutting, hb_clips_assets.pipeline.arrivals
import hb_clips_assets.settings, hb_clips_assets.sample
from hb_clips_assets.retrieval.api.app import create_app
from hb_clips_assets.cli.main import main
code = main(["find", "d-zone exits", "--json"])
print(json.dumps({"code": code, "dagster": sorted(m for m in sys.modules if m.split(".")[0].startswith("dagster"))}))
"""


def test_the_read_side_and_the_cli_run_without_loading_dagster(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HB_MEDIA_DB_URL": f"sqlite:///{tmp_path / 'media.db'}",
           "HB_DATA_ROOT": str(tmp_path / "data"), "HB_STORE_URL": str(tmp_path / "store")}
    proc = subprocess.run([sys.executable, "-c", _READ_SIDE], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    # An empty index: `find` says what to run, with exit code 2, and never needed the orchestrator.
    assert result["code"] == 2
    assert "hb-clips run" in proc.stderr
    assert result["dagster"] == []


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_are_short_or_say_why(path):
    lines = path.read_text().count("\n")
    if lines <= MAX_LINES:
        return
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    assert any(line.startswith("Long module:") for line in doc.splitlines()), (
        f"{path.relative_to(PACKAGE)} has {lines} lines (> {MAX_LINES}): split it, or say why in a "
        "'Long module:' line of its docstring"
    )
