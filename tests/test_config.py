"""Settings from the environment and .env: defaults, validation, and the token kept secret."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.config import BUNDLED_PASSAGES, ConfigError, load_settings

TOKEN = "MTAx.fake-token-for-tests.abcdefghijklmnop"


def test_defaults_without_any_variable() -> None:
    settings = load_settings({}, env_file=None)
    assert settings.token is None and not settings.has_token
    assert settings.passages_dir == BUNDLED_PASSAGES
    assert settings.db_path == Path("data/lectern.sqlite3")
    assert settings.owner_ids == frozenset() and settings.dev_guild_id is None
    assert settings.log_level == "INFO"


def test_values_are_parsed(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "DISCORD_TOKEN": f"  {TOKEN} ",
            "LECTERN_DB": str(tmp_path / "x.db"),
            "LECTERN_OWNER_IDS": "123456789012345678, 223456789012345678",
            "LECTERN_DEV_GUILD_ID": "323456789012345678",
            "LECTERN_LOG_LEVEL": "debug",
            "LECTERN_COOLDOWN_SECONDS": "1.5",
            "LECTERN_COOLDOWN_BURST": "8",
        },
        env_file=None,
    )
    assert settings.token == TOKEN
    assert settings.owner_ids == {123456789012345678, 223456789012345678}
    assert settings.dev_guild_id == 323456789012345678
    assert settings.log_level == "DEBUG" and settings.cooldown_seconds == 1.5
    assert settings.cooldown_burst == 8
    assert load_settings({}, env_file=None).cooldown_burst == 5


def test_env_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text(f"DISCORD_TOKEN={TOKEN}\nLECTERN_LOG_LEVEL=WARNING\n")
    settings = load_settings({"LECTERN_LOG_LEVEL": "ERROR"}, env_file=env)
    assert settings.token == TOKEN and settings.log_level == "ERROR"


def test_the_token_never_appears_in_the_repr() -> None:
    settings = load_settings({"DISCORD_TOKEN": TOKEN}, env_file=None)
    assert TOKEN not in repr(settings) and TOKEN not in str(settings)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("LECTERN_OWNER_IDS", "12, abc", "LECTERN_OWNER_IDS must be a Discord id"),
        ("LECTERN_DEV_GUILD_ID", "guild", "LECTERN_DEV_GUILD_ID must be a Discord id"),
        ("LECTERN_LOG_LEVEL", "loud", "LECTERN_LOG_LEVEL must be one of"),
        ("LECTERN_DB", "/", "LECTERN_DB: / is a folder"),
        ("LECTERN_COOLDOWN_SECONDS", "soon", "LECTERN_COOLDOWN_SECONDS must be a number"),
        ("LECTERN_COOLDOWN_SECONDS", "-1", "between 0 and 3600"),
        ("LECTERN_DB", "~no-such-user-here/db", "LECTERN_DB: cannot expand"),
        ("LECTERN_LOG_FILE", "~0", "LECTERN_LOG_FILE: cannot expand"),
        ("LECTERN_COOLDOWN_BURST", "0", "LECTERN_COOLDOWN_BURST must be a whole number from 1"),
        ("LECTERN_COOLDOWN_BURST", "2.5", "LECTERN_COOLDOWN_BURST must be a whole number"),
        ("LECTERN_COOLDOWN_BURST", "²", "LECTERN_COOLDOWN_BURST must be a whole number"),
        ("LECTERN_COOLDOWN_BURST", "100000", "from 1 to 1000"),
        ("DISCORD_TOKEN", "short", "DISCORD_TOKEN does not look like a bot token"),
    ],
)
def test_malformed_values_name_the_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")) as caught:
        load_settings({name: value}, env_file=None)
    assert "\n" not in str(caught.value)
    if name == "DISCORD_TOKEN":
        assert value not in str(caught.value)


VARIABLES = [
    "DISCORD_TOKEN",
    "LECTERN_DB",
    "LECTERN_PASSAGES_DIR",
    "LECTERN_OWNER_IDS",
    "LECTERN_DEV_GUILD_ID",
    "LECTERN_LOG_LEVEL",
    "LECTERN_LOG_FILE",
    "LECTERN_COOLDOWN_SECONDS",
    "LECTERN_COOLDOWN_BURST",
    "LECTERN_DAILY_GRACE_HOURS",
]
# What hosts paste: digits of other scripts, signs, spaces, paths, control characters.
values = st.text(
    alphabet=st.sampled_from(list("0123456789-+.,;: /\\x\x00\t²①٣𝟙eE_~")) | st.characters(),
    max_size=40,
)


@settings(max_examples=400, deadline=None)
@given(name=st.sampled_from(VARIABLES), value=values)
def test_any_value_is_a_setting_or_one_line_naming_the_variable(name: str, value: str) -> None:
    if "\x00" in value:
        return  # the environment cannot hold a NUL byte; .env parsing drops it
    message = ""
    try:
        load_settings({name: value}, env_file=None)
    except ConfigError as error:
        message = str(error)
    assert "\n" not in message
    assert not message or message.startswith(name)


@pytest.mark.parametrize(
    ("count", "ids", "expected"),
    [
        ("4", None, (4, None)),
        ("8", "0-3", (8, (0, 1, 2, 3))),
        ("16", " 8, 0-3 ,12-12", (16, (0, 1, 2, 3, 8, 12))),
        ("1", "0", (1, (0,))),
    ],
)
def test_shard_count_and_ids(count: str, ids: str | None, expected: tuple) -> None:
    environ = {"LECTERN_SHARD_COUNT": count} | ({"LECTERN_SHARD_IDS": ids} if ids else {})
    settings = load_settings(environ, env_file=None)
    assert (settings.shard_count, settings.shard_ids) == expected
    assert load_settings({}, env_file=None).shard_count is None  # Discord's recommendation


@pytest.mark.parametrize(
    ("count", "ids", "message"),
    [
        (None, "0-3", "LECTERN_SHARD_IDS needs LECTERN_SHARD_COUNT"),
        ("0", None, "LECTERN_SHARD_COUNT must be a whole number from 1"),
        ("two", None, "LECTERN_SHARD_COUNT must be a whole number"),
        ("4", "0-4", "shard 4 is outside LECTERN_SHARD_COUNT=4"),
        ("4", "0,,1", "LECTERN_SHARD_IDS has an empty item"),
        ("4", ",", "LECTERN_SHARD_IDS has an empty item"),
        ("4", "3-1", "the range '3-1' runs backwards"),
        ("8", "0-3,2-5", "lists shard 2, 3 more than once"),
        ("8", "1,1", "lists shard 1 more than once"),
        ("8", "a-b", "'a-b' is not a shard id or a range"),
        ("8", "-1", "'-1' is not a shard id or a range"),
        ("8", "٣", "'٣' is not a shard id or a range"),
    ],
)
def test_bad_shard_settings_are_one_line_naming_the_variable(
    count: str | None, ids: str | None, message: str
) -> None:
    environ = {k: v for k, v in (("LECTERN_SHARD_COUNT", count), ("LECTERN_SHARD_IDS", ids)) if v}
    with pytest.raises(ConfigError, match=re.escape(message)) as caught:
        load_settings(environ, env_file=None)
    assert "\n" not in str(caught.value)
