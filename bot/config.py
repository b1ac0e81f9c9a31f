"""Settings: one frozen, validated object built at start-up from the environment and ``.env``.

Nothing reads the environment at import time. Every variable is documented in ``.env.example``.
"""

from __future__ import annotations

import io
import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

#: The corpus shipped with Lectern.
BUNDLED_PASSAGES = Path(__file__).resolve().parent.parent / "passages"
DEFAULT_DB = Path("data") / "lectern.sqlite3"
_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(Exception):
    """A setting is malformed; the message names the variable and says what is expected."""


@dataclass(frozen=True, slots=True)
class Settings:
    token: str | None = field(default=None, repr=False)  # never shown in logs or reprs
    db_path: Path = DEFAULT_DB
    passages_dir: Path = BUNDLED_PASSAGES
    owner_ids: frozenset[int] = frozenset()
    dev_guild_id: int | None = None
    log_level: str = "INFO"
    log_file: Path | None = None
    cooldown_seconds: float = 3.0
    cooldown_burst: int = 5
    daily_grace_hours: float = 6.0
    daily_max_schedules: int = 10
    shard_count: int | None = None  # None: as many shards as Discord recommends
    shard_ids: tuple[int, ...] | None = None  # None: every shard, in this process
    search_meaning: bool = True  # search by meaning too, when the meaning extra is installed

    @property
    def has_token(self) -> bool:
        return bool(self.token)


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
) -> Settings:
    """Build Settings from ``environ`` (default: the process environment) over ``env_file``.

    Real environment variables win over ``.env``, as with python-dotenv's default.
    """
    values: dict[str, str] = {}
    if env_file is not None and (env_file.exists() or env_file.is_symlink()):
        text = _read_env_file(env_file)
        loaded = dotenv_values(stream=io.StringIO(text))
        values.update({k: v for k, v in loaded.items() if v is not None})
    values.update(os.environ if environ is None else environ)

    def get(name: str) -> str | None:
        value = values.get(name)
        if value is not None and "\x00" in value:
            raise ConfigError(f"{name} contains a NUL byte; write the value as plain text")
        return value.strip() if value is not None and value.strip() else None

    token = get("DISCORD_TOKEN")
    if token is not None and (
        not token.isascii() or any(c.isspace() for c in token) or len(token) < 20
    ):
        raise ConfigError(
            "DISCORD_TOKEN does not look like a bot token (copy it again from the Developer "
            "Portal's Bot page, without quotes or spaces)"
        )
    level = (get("LECTERN_LOG_LEVEL") or "INFO").upper()
    if level not in _LEVELS:
        raise ConfigError(f"LECTERN_LOG_LEVEL must be one of {', '.join(_LEVELS)}, not {level!r}")
    # Not checked here: a broken passages folder must not stop a bot that has a corpus stored.
    passages = _path("LECTERN_PASSAGES_DIR", get("LECTERN_PASSAGES_DIR")) or BUNDLED_PASSAGES
    db_path = _file_setting("LECTERN_DB", _path("LECTERN_DB", get("LECTERN_DB")) or DEFAULT_DB)
    log_file = _path("LECTERN_LOG_FILE", get("LECTERN_LOG_FILE"))
    if log_file:
        _file_setting("LECTERN_LOG_FILE", log_file)
    return Settings(
        token=token,
        db_path=db_path,
        passages_dir=passages,
        owner_ids=frozenset(_ids("LECTERN_OWNER_IDS", get("LECTERN_OWNER_IDS"))),
        dev_guild_id=_snowflake("LECTERN_DEV_GUILD_ID", get("LECTERN_DEV_GUILD_ID")),
        log_level=level,
        log_file=log_file,
        cooldown_seconds=_number(
            "LECTERN_COOLDOWN_SECONDS", get("LECTERN_COOLDOWN_SECONDS"), 3.0, 0, 3600
        ),
        cooldown_burst=_whole("LECTERN_COOLDOWN_BURST", get("LECTERN_COOLDOWN_BURST"), 5, 1, 1000),
        daily_grace_hours=_number(
            "LECTERN_DAILY_GRACE_HOURS", get("LECTERN_DAILY_GRACE_HOURS"), 6.0, 0, 24
        ),
        daily_max_schedules=_whole(
            "LECTERN_DAILY_MAX_SCHEDULES", get("LECTERN_DAILY_MAX_SCHEDULES"), 10, 1, 100
        ),
        **_shards(get("LECTERN_SHARD_COUNT"), get("LECTERN_SHARD_IDS")),
        search_meaning=_flag("LECTERN_SEARCH_MEANING", get("LECTERN_SEARCH_MEANING"), True),
    )


def _read_env_file(path: Path) -> str:
    """The text of ``.env``; anything that is not a readable UTF-8 file is one clear line."""
    try:
        if not path.is_file():  # a folder, a named pipe (reading it would wait forever), ...
            kind = "a folder" if path.is_dir() else "not a regular file"
            raise ConfigError(f"{path} is {kind}; .env must be a file of NAME=value lines")
        raw = path.read_bytes()
    except IsADirectoryError:
        raise ConfigError(f"{path} is a folder; .env must be a file of NAME=value lines") from None
    except PermissionError:
        raise ConfigError(f"{path} cannot be read (permission denied)") from None
    except OSError as error:
        raise ConfigError(f"{path} cannot be read: {error.strerror or error}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ConfigError(f"{path} is not UTF-8 text (line {line}): save it as UTF-8") from None


def _path(name: str, value: str | None) -> Path | None:
    """A path setting, ``~`` expanded; ``~nobody-here`` is one clear line, not a crash."""
    if value is None:
        return None
    try:
        return Path(value).expanduser()
    except RuntimeError:
        raise ConfigError(f"{name}: cannot expand {value!r}: no such user's home") from None


def _file_setting(name: str, path: Path) -> Path:
    """A file Lectern will create or write: refuse what can be seen to be impossible already.
    (Whether it can really be written is found out when it is opened, and named there too.)"""
    try:
        if path.is_dir():
            raise ConfigError(f"{name}: {path} is a folder; give the path of a file")
        if path.exists() and not path.is_file():
            raise ConfigError(f"{name}: {path} is not a regular file (a device or pipe)")
        for parent in path.parents:
            if parent.exists():
                if not parent.is_dir():
                    raise ConfigError(f"{name}: {parent} is a file, so {path} cannot be created")
                break
    except OSError as error:  # e.g. a name too long for the filesystem
        raise ConfigError(f"{name}: {path} cannot be used: {error.strerror or error}") from None
    return path


def _snowflake(name: str, value: str | None) -> int | None:
    if value is None:
        return None
    if not (value.isascii() and value.isdigit()) or not 15 <= len(value) <= 21:
        raise ConfigError(f"{name} must be a Discord id (15-21 digits), not {value!r}")
    return int(value)


def _ids(name: str, value: str | None) -> list[int]:
    if value is None:
        return []
    parts = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
    return [i for p in parts if (i := _snowflake(name, p)) is not None]


def _number(name: str, value: str | None, default: float, low: float, high: float) -> float:
    if value is None:
        return default
    try:
        if not value.isascii():  # float() would take other scripts' digits: be plain
            raise ValueError(value)
        number = float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number (digits 0-9), not {value!r}") from None
    if not low <= number <= high:
        raise ConfigError(f"{name} must be between {low:g} and {high:g}, not {value}")
    return number


_YES = {"1", "true", "yes", "on"}
_NO = {"0", "false", "no", "off"}


def _flag(name: str, value: str | None, default: bool) -> bool:
    if value is None:
        return default
    if value.lower() in _YES | _NO:
        return value.lower() in _YES
    raise ConfigError(f"{name} must be on or off (1/0, true/false, yes/no), not {value[:20]!r}")


def _whole(name: str, value: str | None, default: int, low: int, high: int) -> int:
    if value is None:
        return default
    if not (value.isascii() and value.isdigit()):
        raise ConfigError(f"{name} must be a whole number from {low} to {high}, not {value!r}")
    number = int(value)
    if not low <= number <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}, not {value}")
    return number


MAX_SHARDS = 100_000


def _shards(count_text: str | None, ids_text: str | None) -> dict[str, Any]:
    """LECTERN_SHARD_COUNT and LECTERN_SHARD_IDS as Settings fields."""
    if count_text is None:
        if ids_text is not None:
            raise ConfigError(
                "LECTERN_SHARD_IDS needs LECTERN_SHARD_COUNT, the number of shards of the whole "
                "cluster (e.g. LECTERN_SHARD_COUNT=8 LECTERN_SHARD_IDS=0-3)"
            )
        return {}
    count = _whole("LECTERN_SHARD_COUNT", count_text, 1, 1, MAX_SHARDS)
    if ids_text is None:
        return {"shard_count": count}
    return {"shard_count": count, "shard_ids": parse_shard_ids(ids_text, count)}


def parse_shard_ids(text: str, count: int) -> tuple[int, ...]:
    """``"0-3,8"`` as ``(0, 1, 2, 3, 8)``: ids and ranges, each id below ``count``, none twice."""
    name = "LECTERN_SHARD_IDS"
    form = "comma-separated shard ids and ranges such as 0-3,8"
    ids: list[int] = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            raise ConfigError(f"{name} has an empty item; use {form}")
        low_text, dash, high_text = item.partition("-")
        parts = (low_text.strip(), high_text.strip()) if dash else (item, item)
        if not all(p.isascii() and p.isdigit() for p in parts):
            raise ConfigError(f"{name}: {item!r} is not a shard id or a range; use {form}")
        low, high = int(parts[0]), int(parts[1])
        if low > high:
            raise ConfigError(f"{name}: the range {item!r} runs backwards; write {high}-{low}")
        if high >= count:
            raise ConfigError(
                f"{name}: shard {high} is outside LECTERN_SHARD_COUNT={count} (ids are 0 to "
                f"{count - 1})"
            )
        ids.extend(range(low, high + 1))
    repeated = sorted(i for i, n in Counter(ids).items() if n > 1)
    if repeated:
        listed = ", ".join(map(str, repeated[:5]))
        raise ConfigError(f"{name} lists shard {listed} more than once (ranges overlap?)")
    return tuple(sorted(ids))
