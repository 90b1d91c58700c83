"""Per-process scratch folders for cutting, and the sweep of those a killed
process left behind.

Cuts are written next to the pipeline's other working files (``HB_WORK_DIR``),
not into the system temporary folder: a SIGKILLed run cannot clean up after
itself, and a folder named after its process can be recognised and removed by
the next run once that process is gone.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

PREFIX = "hb-cut-"


def pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _owner(folder: Path) -> int | None:
    """The pid in ``hb-cut-<pid>-<random>``, or None for any other name."""
    rest = folder.name[len(PREFIX):] if folder.name.startswith(PREFIX) else ""
    pid = rest.split("-", 1)[0]
    return int(pid) if pid.isdigit() else None


def sweep_scratch(root: Path) -> int:
    """Remove the scratch folders under ``root`` whose process is gone; the number removed."""
    removed = 0
    if not root.is_dir():
        return 0
    for folder in root.iterdir():
        pid = _owner(folder)
        if pid is not None and folder.is_dir() and not pid_alive(pid):
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


@contextmanager
def scratch_folder(root: Path | None) -> Iterator[Path]:
    """A fresh folder ``root/hb-cut-<pid>-<random>`` (system temp folder when
    ``root`` is None), removed on exit."""
    if root is not None:
        root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"{PREFIX}{os.getpid()}-", dir=root) as tmp:
        yield Path(tmp)
