"""Lectern wherever a reader is: through a user install in a server without the bot, in a group
DM and in the bot's DM; and the message command "Passages like this"."""

from __future__ import annotations

import pytest

from bot.core.errors import APOLOGY
from tests.fakediscord import FakeDiscord
from tests.lectern_harness import button, run_lectern, shown

EPHEMERAL = 64
CHANNEL_POSTS = "/channels/{channel_id}/messages"


@pytest.fixture
def elsewhere(fake_discord: FakeDiscord):
    """A server that never installed Lectern: only a reader's user install reaches it."""
    return fake_discord.add_guild("Elsewhere", channels=["chat"], bot_member=False)


def footer(reply) -> str:  # type: ignore[no-untyped-def]
    return str(shown(reply.data).subtext)


async def test_every_reading_command_and_button_works_where_the_bot_is_not(
    fake_discord, tmp_path, elsewhere
) -> None:
    reader = elsewhere.add_member("reader")
    as_user = {"guild": elsewhere, "user": reader, "install": "user"}
    async with run_lectern(fake_discord, tmp_path) as bot:
        assert bot.get_guild(elsewhere.id) is None  # never heard of it
        quote = await fake_discord.slash("quote", **as_user)
        passage = await fake_discord.slash("passage", options={"id": "metaphor-3"}, **as_user)
        following = await fake_discord.click(button(passage.data, "Next ▶"), user=reader)
        shared = await fake_discord.click(button(following.data, "Share"), user=reader)
        whole = await fake_discord.click(button(quote.data, "Whole document"), user=reader)
        more = await fake_discord.click(button(quote.data, "More like this"), user=reader)
        another = await fake_discord.click(button(quote.data, "Another"), user=reader)
        search = await fake_discord.slash("search", options={"query": "attention"}, **as_user)
        page_two = await fake_discord.click(button(search.data, "▶"), user=reader)
        poem = await fake_discord.slash("poem", **as_user)
        read = await fake_discord.slash("read", options={"document": "metaphor"}, **as_user)
        reflection = await fake_discord.slash("reflection", **as_user)
        dm_reflection = await fake_discord.slash(
            "reflection", user=fake_discord.add_user("friend"), install="user"
        )
        sources = await fake_discord.slash("sources", **as_user)
        about = await fake_discord.slash("about", **as_user)
        choices = await fake_discord.autocomplete(
            "read", focused="document", value="meta", **as_user
        )
    assert quote.payload["authorizing_integration_owners"] == {"1": str(reader.user.id)}
    for reply in (quote, following, whole, more, another, search, page_two, poem, read,
                  passage, reflection, sources, about):  # fmt: skip
        assert reply.callback["type"] in (4, 7), reply.data
        assert APOLOGY not in str(reply.data)  # a passage may itself say "Sorry"
    assert not shared.data.get("flags", 0) & EPHEMERAL  # Share posts through the interaction
    assert fake_discord.calls("POST", CHANNEL_POSTS) == []  # never through the channel API
    assert "metaphor-3" in footer(passage) and "metaphor-4" in footer(following)
    assert shown(reflection.data) == shown(dm_reflection.data)  # the day's one reflection
    assert [c["value"] for c in choices.choices] == ["metaphor"]


async def test_group_dms_and_the_bots_dm_through_a_user_install(fake_discord, tmp_path) -> None:
    ada, bo = fake_discord.add_user("ada"), fake_discord.add_user("bo")
    group = fake_discord.group_dm(ada, bo)
    async with run_lectern(fake_discord, tmp_path):
        in_group = await fake_discord.slash(
            "passage", channel=group, user=ada, install="user", options={"id": "metaphor-1"}
        )
        pressed = await fake_discord.click(button(in_group.data, "Next ▶"), user=bo)
        in_dm = await fake_discord.slash("about", user=ada, install="user")
    assert in_group.payload["context"] == 2 and in_dm.payload["context"] == 1
    assert shown(in_group.data).body and shown(pressed.data).body
    assert in_dm.data["embeds"][0]["title"] == "About Lectern"


async def test_server_commands_are_not_offered_to_a_user_install(
    fake_discord, tmp_path, elsewhere
) -> None:
    reader = elsewhere.add_member("reader", permissions=None)
    async with run_lectern(fake_discord, tmp_path):
        with pytest.raises(AssertionError, match="not installed that way"):
            await fake_discord.slash("daily status", guild=elsewhere, user=reader, install="user")
        with pytest.raises(AssertionError, match="not offered in context 1"):
            await fake_discord.slash("daily status", user=fake_discord.add_user("x"))


async def test_passages_like_this_finds_what_a_message_talks_about(fake_discord, tmp_path) -> None:
    guild = fake_discord.add_guild("Readers", channels=["general"])
    reader, writer = guild.add_member("reader"), guild.add_member("writer")
    general = guild.channel("general")
    talk = fake_discord.user_message(
        general, writer, "The weights stay the same while the running pass is transient; "
        "attention heads compute queries and keys over the residual stream.",
    )  # fmt: skip
    image_only = fake_discord.user_message(
        general, writer, "", attachments=[{"id": "1", "filename": "cat.png", "size": 10,
                                           "url": "https://cdn.example/cat.png",
                                           "proxy_url": "https://cdn.example/cat.png"}],
    )  # fmt: skip
    unrelated = fake_discord.user_message(general, writer, "zzqx vvbn pplk")
    async with run_lectern(fake_discord, tmp_path):
        found = await fake_discord.message_command("Passages like this", talk, user=reader)
        opened = await fake_discord.click(button(found.data, "1"), user=reader)
        paged = await fake_discord.click(button(found.data, "▶"), user=reader)
        empty = await fake_discord.message_command("Passages like this", image_only, user=reader)
        nothing = await fake_discord.message_command("Passages like this", unrelated, user=reader)
    assert found.data["flags"] & EPHEMERAL
    results = found.data["embeds"][0]
    assert results["title"] == "Passages like this message" and len(results["fields"]) == 5
    # the essay that says exactly this (weights stay, the running pass is transient) is found
    assert any("permanent-thing" in f["value"] for f in results["fields"])
    assert shown(opened.data).subtext
    assert paged.data["embeds"][0]["title"] == "Passages like this message"
    assert "6." in paged.data["embeds"][0]["fields"][0]["name"]
    for reply, says in ((empty, "no text to compare"), (nothing, "Nothing in the corpus is close")):
        assert reply.data["flags"] & EPHEMERAL
        assert says in reply.data["embeds"][0]["description"]


async def test_passages_like_this_reads_lectern_s_own_v2_messages(fake_discord, tmp_path) -> None:
    guild = fake_discord.add_guild("Readers", channels=["general"])
    reader = guild.add_member("reader")
    async with run_lectern(fake_discord, tmp_path):
        passage = await fake_discord.slash(
            "passage", guild=guild, user=reader, options={"id": "permanent-thing-2"}
        )
        message = fake_discord.message(passage.original["id"])  # text only in components
        assert not message["content"]
        found = await fake_discord.message_command("Passages like this", message, user=reader)
    assert found.data["embeds"][0]["title"] == "Passages like this message"


async def test_passages_like_this_through_a_user_install_and_throttled_like_reading(
    fake_discord, tmp_path, elsewhere
) -> None:
    reader = elsewhere.add_member("reader")
    note = fake_discord.user_message(elsewhere.channel("chat"), reader, "attention and weights")
    async with run_lectern(fake_discord, tmp_path, cooldown=60, cooldown_burst=1):
        first = await fake_discord.message_command(
            "Passages like this", note, user=reader, install="user"
        )
        second = await fake_discord.message_command(
            "Passages like this", note, user=reader, install="user"
        )
    assert first.data["embeds"][0]["title"] == "Passages like this message"
    assert "Easy there" in second.data["embeds"][0]["description"]
