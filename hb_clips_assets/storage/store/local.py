"""A local folder as object store: the embedded default."""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from hb_clips_assets.domain.hashing import sha256_file
from hb_clips_assets.video.scratch import pid_alive
from hb_clips_assets.storage.store.base import StoredObject, StoreError, validate_key


class LocalObjectStore:
    def __init__(self, root: Path | str):
        self.root = Path(root).resolve()

    def __repr__(self) -> str:
        return f"LocalObjectStore({str(self.root)!r})"

    def path_of(self, key: str) -> Path:
        return self.root / validate_key(key)

    def uri(self, key: str) -> str:
        return self.path_of(key).as_uri()

    def signed_url(self, key: str, expires_s: int | None = None) -> str:
        """The ``file://`` URI: a local folder has nothing to sign and no expiry."""
        return self.uri(key)

    def put_file(self, key: str, path: Path, content_type: str) -> StoredObject:
        final = self.path_of(key)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            # The writer's pid is in the name, so a sweep can tell an orphan from a write in progress.
            fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.{os.getpid()}.", suffix=".tmp", dir=final.parent)
        except OSError as exc:
            raise StoreError(f"cannot write to object store {self.root}: {exc.strerror or exc}") from None
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as dst, open(path, "rb") as src:
                shutil.copyfileobj(src, dst, 1 << 20)
                dst.flush()
                os.fsync(dst.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, final)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise StoreError(f"cannot write {final}: {exc.strerror or exc}") from None
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return StoredObject(key, final.as_uri(), final.stat().st_size, sha256_file(final), content_type)

    def stat(self, key: str) -> StoredObject | None:
        path = self.path_of(key)
        if not path.is_file():
            return None
        return StoredObject(key, path.as_uri(), path.stat().st_size, sha256_file(path))

    def sweep_temporaries(self, prefix: str, older_than_s: float = 3600.0) -> int:
        """Remove temporary files under ``prefix`` left by writers that died
        (killed mid-``put_file``): those whose process is gone, or that are older
        than ``older_than_s`` (a writer on another host). Returns how many went."""
        folder = self.path_of(prefix)
        if not folder.is_dir():
            return 0
        removed = 0
        for tmp in folder.rglob(".*.tmp"):
            parts = tmp.name.split(".")  # "", <name>, <ext>, <pid>, <random>, "tmp"
            pid = int(parts[-3]) if len(parts) >= 4 and parts[-3].isdigit() else None
            try:
                stale = time.time() - tmp.stat().st_mtime > older_than_s or (pid is not None and not pid_alive(pid))
                if stale:
                    tmp.unlink()
                    removed += 1
            except FileNotFoundError:  # its writer just renamed or removed it
                continue
        return removed

    def get_bytes(self, key: str) -> bytes:
        return self.path_of(key).read_bytes()

    def delete(self, key: str) -> None:
        self.path_of(key).unlink(missing_ok=True)
