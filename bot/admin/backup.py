"""Where a backup may go: never over the live database or its journal, never a file that
exists, never into a folder that is missing or cannot be written."""

from __future__ import annotations

import os
from pathlib import Path


def backup_refusal(target: Path, live: Path) -> str | None:
    """Why ``target`` cannot take a backup of the database at ``live``, if it cannot."""
    try:
        wanted = target.resolve()
        database = live.resolve()
        if wanted in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
            return f"{target} is the live database (or its journal); choose another file"
        if target.exists() or target.is_symlink():
            return f"{target} exists; choose a new file name"
        folder = wanted.parent
        if not folder.exists():
            return f"the folder {folder} does not exist; create it first"
        if not folder.is_dir():
            return f"{folder} is a file, not a folder"
        if not os.access(folder, os.W_OK | os.X_OK):
            return f"cannot write in {folder} (permission denied)"
    except OSError as error:
        return f"{target} cannot be used: {error.strerror or error}"
    return None
