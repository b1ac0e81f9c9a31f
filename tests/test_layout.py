"""The shape the README promises: discord.py only in the cogs and bot/discord/, small modules,
and every extension listed."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).parent.parent / "bot"
MAX_LINES = 320  # "under ~300": a little slack, no god-files


def _modules() -> list[Path]:
    return sorted(BOT.rglob("*.py"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(BOT)))
def test_discord_py_is_imported_only_by_cogs_and_bot_discord(path: Path) -> None:
    relative = path.relative_to(BOT)
    allowed = relative.parts[0] == "discord" or relative.name == "cog.py"
    if not allowed:
        assert not _imports(path) & {"discord", "aiohttp"}, f"{relative} imports discord.py"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(BOT)))
def test_modules_stay_small(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(BOT)} has {lines} lines"


def test_every_cog_is_a_listed_extension() -> None:
    from bot.discord.bot import EXTENSIONS

    cogs = {".".join(p.relative_to(BOT.parent).with_suffix("").parts) for p in BOT.glob("*/cog.py")}
    assert cogs == set(EXTENSIONS)
