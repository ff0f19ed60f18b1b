"""Where uploaded files wait on disk until they are imported, and how they go away.

An upload is a shop's own orders: it must not outlive its use. DuckDB reads a file by its path, so an
upload is written to a folder of its own under one parent; the folder goes when the upload is
imported or removed, when the browser session that made it ends (its `Folder` is garbage with the
session's state), and, for folders a stopped server left behind, when any later upload finds them
unused for `STALE_AFTER_S`. A session whose folder was swept writes its upload again from memory
(the Data page checks that its files exist before using them). No Streamlit here.
"""

from __future__ import annotations

import shutil
import tempfile
import time
import weakref
from pathlib import Path

PARENT_NAME = "cancellation-lab-uploads"
STALE_AFTER_S = 3600.0


def parent() -> Path:
    return Path(tempfile.gettempdir()) / PARENT_NAME


class Folder:
    """One set of uploads on disk; removed when `remove` is called or when this object is collected."""

    def __init__(self, root: Path | None = None):
        root = root or parent()
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        sweep(root)
        self.path = Path(tempfile.mkdtemp(prefix="upload-", dir=root))
        self._finalizer = weakref.finalize(self, shutil.rmtree, str(self.path), True)

    def touch(self) -> None:
        """Mark the folder as in use, so that a sweep leaves it."""
        if self.path.exists():
            self.path.touch()

    def remove(self) -> None:
        self._finalizer()

    @property
    def removed(self) -> bool:
        return not self._finalizer.alive


def sweep(root: Path | None = None, older_than_s: float = STALE_AFTER_S, now: float | None = None) -> list[Path]:
    """Remove the upload folders under `root` not used for `older_than_s` seconds; the ones removed."""
    root = root or parent()
    now = time.time() if now is None else now
    gone = []
    for folder in root.glob("upload-*"):
        try:
            if folder.is_dir() and now - folder.stat().st_mtime > older_than_s:
                shutil.rmtree(folder, ignore_errors=True)
                gone.append(folder)
        except OSError:
            continue    # another server removed it first
    return gone
