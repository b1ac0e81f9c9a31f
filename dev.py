#!/usr/bin/env python3
"""Set up and run Lectern with nothing but Python 3.11+ and pip.

    python3 dev.py run [ARGS...]   create .venv if needed, install Lectern, run `lectern ARGS`
                                   (no ARGS: `lectern run`, the bot or, with no token, the console)
    python3 dev.py test [ARGS...]  install the dev tools too, then ruff, mypy and pytest ARGS

The virtual environment lives in .venv; it is (re)installed only when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def _ensure_env(extra: str) -> None:
    """Create the venv and install the project (editable) unless already up to date."""
    if not PYTHON.exists():
        print("Creating .venv ...", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    spec = f".[{extra}]" if extra else "."
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + spec.encode()).hexdigest()
    stamp = VENV / f".lectern-installed-{extra or 'base'}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    print(
        f"Installing Lectern{f' with [{extra}]' if extra else ''} into .venv ...", file=sys.stderr
    )
    pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "-e", spec], cwd=ROOT, check=True)
    stamp.write_text(digest)


def _run(*cmd: str) -> int:
    return subprocess.run(cmd, cwd=ROOT).returncode


def main(argv: list[str]) -> int:
    verb, rest = (argv[0], argv[1:]) if argv else ("run", [])
    if verb == "run":
        _ensure_env("meaning")
        return _run(str(BIN / "lectern"), *(rest or ["run"]))
    if verb == "test":
        _ensure_env("dev,meaning")
        steps = [
            [str(PYTHON), "-m", "ruff", "check", "."],
            [str(PYTHON), "-m", "ruff", "format", "--check", "."],
            [str(PYTHON), "-m", "mypy"],
            [str(PYTHON), "-m", "pytest", *rest],
        ]
        for step in steps:
            print("$ python", *step[1:], file=sys.stderr, flush=True)
            code = _run(*step)
            if code:
                return code
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
