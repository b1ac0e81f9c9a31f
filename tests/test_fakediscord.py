"""Tests of the fake Discord itself, driving a minimal real discord.py bot through it."""

from __future__ import annotations

import asyncio
import io
import time
import zlib

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from tests.fakediscord import FakeDiscord, rules

WORDS = [f"shakespeare-{i:02d}" for i in range(40)]


class PageView(discord.ui.View):
    """A persistent view: timeout None and a fixed custom_id, re-registered at every start."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Next", custom_id="mini:next", style=discord.ButtonStyle.primary)
    async def next_page(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.edit_message(content="page 2")


class MiniBot(commands.Bot):
    """The smallest bot exercising what Lectern does: embeds, autocomplete, buttons, groups."""

    def __init__(self, *, late: float = 0.0, choices: int = 5, oversize: bool = False) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
        )
        self.late, self.choices, self.oversize = late, choices, oversize
        self.ready_count = 0
        self.tree.add_command(quote)
        self.tree.add_command(Daily())

    async def setup_hook(self) -> None:
        self.add_view(PageView())

    async def on_ready(self) -> None:
        self.ready_count += 1


@app_commands.command(name="quote", description="Post a passage")
@app_commands.describe(document="Which document")
async def quote(interaction: discord.Interaction[MiniBot], document: str) -> None:
    bot = interaction.client
    if bot.late:
        await asyncio.sleep(bot.late)
    description = "x" * (5000 if bot.oversize else 100)
    embed = discord.Embed(title=f"From {document}", description=description)
    await interaction.response.send_message(embed=embed, view=PageView())


@quote.autocomplete("document")
async def quote_document(
    interaction: discord.Interaction[MiniBot], current: str
) -> list[app_commands.Choice[str]]:
    found = [w for w in WORDS if w.startswith(current)]
    return [app_commands.Choice(name=w, value=w) for w in found[: interaction.client.choices]]


class Daily(app_commands.Group, name="daily", description="Daily passages"):
    @app_commands.command(name="set", description="Post a daily passage here")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def set_(self, interaction: discord.Interaction, hour: int) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        assert interaction.channel is not None
        await interaction.channel.send(f"daily post at {hour}:00", nonce="daily-1")  # type: ignore[union-attr]
        await interaction.followup.send(f"Scheduled at {hour}:00", ephemeral=True)

    @set_.error
    async def set_error(self, interaction: discord.Interaction, error: Exception) -> None:
        text = (
            "You need Manage Server."
            if isinstance(error, app_commands.MissingPermissions)
            else "I cannot post here."
        )
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)


@pytest.fixture
def guild(fake_discord: FakeDiscord):
    return fake_discord.add_guild("Test", channels=["general", "quotes"])


async def test_slash_command_embed_button_and_autocomplete(fake_discord, guild):
    started = time.perf_counter()
    bot = MiniBot()
    async with fake_discord.running(bot):
        bot.tree.copy_global_to(guild=discord.Object(guild.id))
        await bot.tree.sync(guild=discord.Object(guild.id))
        assert {c["name"] for c in fake_discord.commands(guild)} == {"quote", "daily"}
        assert bot.get_guild(guild.id) is not None
        assert bot.get_channel(guild.channel("quotes").id) is not None

        member = guild.add_member("reader")
        reply = await fake_discord.slash(
            "quote",
            guild=guild,
            channel=guild.channel("quotes"),
            user=member,
            options={"document": "hamlet"},
        )
        assert reply.callback["type"] == 4
        assert reply.embeds()[0]["title"] == "From hamlet"
        assert reply.original is not None
        assert reply.elapsed is not None
        assert reply.elapsed < 1
        # the original response is a message in the channel, with the view's button
        posted = fake_discord.messages(guild.channel("quotes"))
        assert [m["id"] for m in posted] == [reply.original["id"]]

        ac = await fake_discord.autocomplete(
            "quote", focused="document", value="shakespeare-1", guild=guild, user=member
        )
        assert ac.callback["type"] == 8
        assert [c["value"] for c in ac.choices] == [f"shakespeare-1{i}" for i in range(5)]

        click = await fake_discord.click("mini:next", user=member)
        assert click.callback["type"] == 7
        assert fake_discord.message(reply.original["id"])["content"] == "page 2"
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"start-interact-stop took {elapsed:.2f}s"
    assert not fake_discord.unexpected
    # discord.py's start-up calls: login, application info, then the sync
    routes = [f"{r.method} {r.route}" for r in fake_discord.requests]
    assert routes[:2] == ["GET /users/@me", "GET /oauth2/applications/@me"]


async def test_subcommand_defer_followup_and_channel_post(fake_discord, guild):
    bot = MiniBot()
    async with fake_discord.running(bot):
        await bot.tree.sync()
        admin = guild.add_member("admin", permissions=discord.Permissions(manage_guild=True))
        reply = await fake_discord.slash("daily set", guild=guild, user=admin, options={"hour": 9})
        assert reply.callback == {"type": 5, "data": {"flags": 64}}
        follow = await reply.followup(0)
        assert follow["content"] == "Scheduled at 9:00"
        assert follow["flags"] & 64
        posts = [m for m in fake_discord.messages(guild.channels[0]) if not m["flags"] & 64]
        assert [m["content"] for m in posts] == ["daily post at 9:00"]
        assert posts[0]["nonce"] == "daily-1"

        # a member without Manage Server gets the error reply instead
        pleb = guild.add_member("pleb", permissions=0)
        denied = await fake_discord.slash("daily set", guild=guild, user=pleb, options={"hour": 9})
        assert denied.data["content"] == "You need Manage Server."


async def test_dm_interaction(fake_discord, guild):
    bot = MiniBot()
    async with fake_discord.running(bot):
        await bot.tree.sync()  # global commands
        user = fake_discord.add_user("stranger")
        reply = await fake_discord.slash("quote", user=user, options={"document": "lear"})
        assert reply.payload["context"] == 1
        assert "user" in reply.payload
        assert reply.embeds()[0]["title"] == "From lear"


async def test_oversize_embed_is_a_breach(fake_discord, guild):
    bot = MiniBot(oversize=True)
    async with fake_discord.running(bot):
        fake_discord.register_commands(bot.tree)
        reply = await fake_discord.slash("quote", guild=guild, options={"document": "x"})
        assert reply.attempts[0]["status"] == 400  # Discord rejects it; discord.py raises
    taken = fake_discord.take_breaches("callback")
    assert any("description" in b.message and "4096" in b.message for b in taken), taken
    assert not fake_discord.breaches


async def test_too_many_autocomplete_choices_is_a_breach(fake_discord, guild):
    bot = MiniBot(choices=30)
    async with fake_discord.running(bot):
        fake_discord.register_commands(bot.tree)
        ac = await fake_discord.autocomplete("quote", focused="document", guild=guild)
        assert ac.attempts[0]["status"] == 400
    assert fake_discord.take_breaches("callback", contains="30 autocomplete choices")
    assert not fake_discord.breaches


async def test_late_answer_is_a_breach(fake_discord, guild):
    fake_discord.deadline = 0.05
    bot = MiniBot(late=0.2)
    async with fake_discord.running(bot):
        fake_discord.register_commands(bot.tree)
        reply = await fake_discord.slash("quote", guild=guild, options={"document": "x"})
        assert reply.attempts[0]["status"] == 404
        assert reply.accepted is None
        assert reply.elapsed is not None
        assert reply.elapsed >= 0.2
    assert fake_discord.take_breaches("deadline")
    assert not fake_discord.breaches


async def test_double_response_is_a_breach(fake_discord, guild):
    bot = MiniBot()

    @bot.tree.command(name="twice", description="Answers twice")
    async def twice(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("one")
        # bypass discord.py's own guard to hit Discord's 40060
        interaction.response._response_type = None
        await interaction.response.send_message("two")

    async with fake_discord.running(bot):
        fake_discord.register_commands(bot.tree)
        reply = await fake_discord.slash("twice", guild=guild)
        await fake_discord.wait_for(lambda: len(reply.attempts) == 2)
        assert [a["status"] for a in reply.attempts] == [200, 400]
    assert fake_discord.take_breaches("interaction", contains="40060")


async def test_resume_after_dropped_connection(fake_discord, guild):
    bot = MiniBot()
    async with fake_discord.running(bot):
        fake_discord.register_commands(bot.tree)
        await fake_discord.drop_connection()
        assert fake_discord.resume_count == 1
        assert fake_discord.identify_count == 1
        assert fake_discord.heartbeat_count == 2  # one right after each HELLO, all ACKed
        assert bot.ready_count == 1
        # resume_gateway_url from READY was used, and the bot still answers
        assert fake_discord.gateway_log[-1]["resumed"]
        reply = await fake_discord.slash("quote", guild=guild, options={"document": "y"})
        assert reply.callback["type"] == 4

        # events sent while disconnected are replayed on RESUME
        async with fake_discord.disconnected():
            assert not fake_discord.connected
            pending = await fake_discord.slash(
                "quote", guild=guild, options={"document": "z"}, wait=False
            )
        await pending.wait_callback()
        assert pending.callback["type"] == 4
        assert fake_discord.resume_count == 2


async def test_invalid_session_reidentifies(fake_discord, guild):
    admin = fake_discord.add_user("maintainer")
    fake_discord.set_team(fake_discord.owner, admin)
    bot = MiniBot()
    async with fake_discord.running(bot):
        assert await bot.is_owner(admin)  # type: ignore[arg-type]
        await fake_discord.invalidate_session()
        await fake_discord.wait_for(lambda: bot.ready_count == 2)
        assert fake_discord.identify_count == 2


async def test_gateway_compression_negotiated(fake_discord, guild):
    bot = MiniBot()
    async with fake_discord.running(bot):
        pass
    query = fake_discord.gateway_log[0]["query"]
    assert query["v"] == "10"
    assert query["encoding"] == "json"
    expected = discord.utils._ActiveDecompressionContext.COMPRESSION_TYPE
    assert query["compress"] == expected


async def test_channel_failures_and_rate_limits(fake_discord, guild):
    bot = MiniBot()
    general, quotes = guild.channel("general"), guild.channel("quotes")
    async with fake_discord.running(bot):
        fake_discord.fail_channel(general, status=403, code=50013)
        with pytest.raises(discord.Forbidden) as forbidden:
            await bot.get_channel(general.id).send("hi")  # type: ignore[union-attr]
        assert forbidden.value.code == 50013
        fake_discord.fail_channel(quotes, status=404)
        with pytest.raises(discord.NotFound) as missing:
            await bot.http.get_channel(quotes.id)
        assert missing.value.code == 10003

        fake_discord.heal_channel(general)
        fake_discord.rate_limit("/channels/{channel_id}/messages", retry_after=0.01, times=1)
        msg = await bot.get_channel(general.id).send("after 429")  # type: ignore[union-attr]
        assert msg.content == "after 429"
        statuses = [r.status for r in fake_discord.calls("POST", "/channels/{channel_id}/messages")]
        assert statuses == [403, 429, 200]
        assert [m["content"] for m in fake_discord.messages(general)] == ["after 429"]


async def test_files_threads_and_unknown_routes(fake_discord, guild):
    bot = MiniBot()
    async with fake_discord.running(bot):
        channel = bot.get_channel(guild.channels[0].id)

        msg = await channel.send("with file", file=discord.File(io.BytesIO(b"abc"), "a.txt"))  # type: ignore[union-attr]
        assert msg.attachments[0].filename == "a.txt"
        assert fake_discord.files[0]["size"] == 3
        thread = await msg.create_thread(name="discussion")
        assert thread.id == msg.id
        await thread.send("in thread")
        assert [m["content"] for m in fake_discord.messages(thread.id)] == ["in thread"]
        with pytest.raises(discord.NotFound):
            await bot.http.request(discord.http.Route("GET", "/guilds/{g}/bans", g=guild.id))
    unexpected = fake_discord.take_unexpected()
    assert [f"{r.method} {r.path}" for r in unexpected] == [f"GET /guilds/{guild.id}/bans"]


async def test_persistent_view_survives_restart(fake_discord, guild):
    bot = MiniBot()
    async with fake_discord.running(bot):
        fake_discord.register_commands(bot.tree)
        reply = await fake_discord.slash("quote", guild=guild, options={"document": "a"})
    restarted = MiniBot()
    async with fake_discord.running(restarted):
        click = await fake_discord.click("mini:next", message=reply.original)
        assert click.callback["type"] == 7


def test_rules_limits() -> None:
    ok = {"content": "hi", "embeds": [{"title": "t", "description": "d"}]}
    assert rules.check_message(rules.MESSAGE_CREATE, ok) == []
    big = {"embeds": [{"description": "x" * 4000}, {"description": "y" * 2001}]}
    assert any("6000" in e for e in rules.check_message(rules.MESSAGE_CREATE, big))
    assert rules.check_message(rules.MESSAGE_CREATE, {"content": "x" * 2001})
    rows = [{"type": 1, "components": [{"type": 2, "style": 1, "custom_id": "a"}]}] * 6
    errs = rules.check_message(rules.MESSAGE_CREATE, {"components": rows})
    assert any("6 action rows" in e for e in errs)
    assert any("used twice" in e for e in errs)
    am = {"content": "x", "allowed_mentions": {"parse": ["users"], "users": ["1"]}}
    assert rules.check_message(rules.MESSAGE_CREATE, am)
    assert rules.check_message(rules.MESSAGE_CREATE, {"content": "x", "nonce": "n" * 26})
    fields = {"embeds": [{"fields": [{"name": "n", "value": "v"}] * 26}]}
    assert rules.check_message(rules.MESSAGE_CREATE, fields)
    assert rules.check_commands([{"name": "Bad", "description": "d", "type": 1}])
    assert rules.check_commands([{"name": "ok", "description": "", "type": 1}])
    assert rules.check_commands([{"name": "ok", "description": "d", "type": 1}]) == []
    long_choice = {"name": "c", "value": "v" * 101}
    opt = {"type": 3, "name": "o", "description": "d", "choices": [long_choice]}
    assert rules.check_commands([{"name": "ok", "description": "d", "options": [opt]}])
    assert rules.check_files([("big.bin", rules.FILE_SIZE_MAX + 1)])


def test_zlib_stream_framing() -> None:
    """What the fake sends decodes with discord.py's own zlib-stream decompressor."""
    c = zlib.compressobj()
    frames = [c.compress(b'{"op":10}') + c.flush(zlib.Z_SYNC_FLUSH) for _ in range(2)]
    d = zlib.decompressobj()
    assert all(f.endswith(b"\x00\x00\xff\xff") for f in frames)
    assert [d.decompress(f) for f in frames] == [b'{"op":10}', b'{"op":10}']


async def test_original_response_edit_followups_and_delete(fake_discord, guild):
    bot = MiniBot()

    @bot.tree.command(name="tour", description="Every response route")
    async def tour(interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.edit_original_response(content="edited")
        original = await interaction.original_response()
        assert original.content == "edited"
        extra = await interaction.followup.send("second", wait=True)
        await extra.edit(content="second, edited")
        gone = await interaction.followup.send("to delete", wait=True)
        await gone.delete()
        file = discord.File(io.BytesIO(b"hello"), "passage.txt")
        await interaction.followup.send("with file", file=file)

    async with fake_discord.running(bot):
        fake_discord.register_commands(bot.tree)
        reply = await fake_discord.slash("tour", guild=guild)
        assert reply.callback == {"type": 5}
        await reply.followup(2)
        assert reply.original is not None
        assert reply.original["content"] == "edited"
        assert not reply.original["flags"] & (1 << 7)  # no longer "thinking"
        assert [m["content"] for m in reply.followups] == [
            "second, edited",
            "to delete",
            "with file",
        ]
        assert reply.followups[2]["attachments"][0]["filename"] == "passage.txt"
        visible = [m["content"] for m in fake_discord.messages(guild.channels[0])]
        assert visible == ["edited", "second, edited", "with file"]


async def test_permissions_in_payloads(fake_discord):
    guild = fake_discord.add_guild(
        "Perms",
        channels=["open"],
        announcement_channels=["news"],
        bot_permissions=discord.Permissions(view_channel=True, send_messages=True),
    )
    news = guild.channel("news")
    fake_discord.deny(news, guild.me, discord.Permissions(send_messages=True))  # type: ignore[arg-type]
    mods = guild.add_role("mods", discord.Permissions(manage_guild=True))
    mod = guild.add_member("mod", roles=[mods])
    bot = MiniBot()
    async with fake_discord.running(bot):
        fake_discord.register_commands(bot.tree)
        channel = bot.get_channel(news.id)
        assert isinstance(channel, discord.TextChannel)
        assert channel.is_news()
        me = channel.guild.me
        assert not channel.permissions_for(me).send_messages
        assert channel.permissions_for(me).view_channel
        with pytest.raises(discord.Forbidden):
            await channel.send("news!")
        reply = await fake_discord.slash("daily set", channel=news, user=mod, options={"hour": 7})
        perms = discord.Permissions(int(reply.payload["member"]["permissions"]))
        assert perms.manage_guild
        assert not discord.Permissions(int(reply.payload["app_permissions"])).send_messages
        # the bot cannot post in #news: its channel.send inside the command fails with 403
        await fake_discord.wait_for(
            lambda: fake_discord.calls("POST", "/channels/{channel_id}/messages")[1:] or None
        )
        posts = fake_discord.calls("POST", "/channels/{channel_id}/messages")
        assert [r.status for r in posts] == [403, 403]
        assert (await reply.followup(0))["content"] == "I cannot post here."


async def test_invalid_command_registration_is_a_breach(fake_discord, guild):
    bot = MiniBot()
    async with fake_discord.running(bot):
        payload = [{"name": "Quote", "description": "d" * 101, "type": 1}]
        with pytest.raises(discord.HTTPException) as err:
            await bot.http.bulk_upsert_global_commands(bot.application_id, payload)
        assert err.value.code == 50035
    taken = fake_discord.take_breaches("commands")
    assert any("lowercase" in b.message for b in taken)
    assert any("100" in b.message for b in taken)
    assert fake_discord.commands() == []


async def test_channel_history_and_the_nonce_window(fake_discord, guild):
    bot = MiniBot()
    general = guild.channel("general")
    async with fake_discord.running(bot):
        channel = bot.get_channel(general.id)
        assert isinstance(channel, discord.TextChannel)
        first = await channel.send("one", nonce="n-1")
        again = await channel.send("one again", nonce="n-1")  # within the window: the same
        await channel.send("two")
        newest = [m.content async for m in channel.history(limit=2)]
        older = [m.content async for m in channel.history(before=discord.Object(first.id + 1))]
        read_back = [m async for m in channel.history(limit=5)]
        fake_discord.advance_clock(fake_discord.nonce_window + 1)
        later = await channel.send("one, much later", nonce="n-1")
        fake_discord.deny(general, guild.me, discord.Permissions(read_message_history=True))
        hidden = [m async for m in channel.history(limit=5)]
        with pytest.raises(discord.HTTPException):
            await bot.http.logs_from(general.id, 101)
    assert again.id == first.id and later.id != first.id
    assert newest == ["two", "one"] and older == ["one"]
    assert all(m.nonce is None for m in read_back)  # a message read back carries no nonce
    assert hidden == []  # no Read Message History: Discord answers an empty list
    assert fake_discord.take_breaches("history", contains="limit")


def _v2(*components: dict, **body: object) -> list[str]:
    return rules.check_message_limits(
        {"flags": rules.IS_COMPONENTS_V2, "components": list(components), **body}
    )


def _text(content: str) -> dict:
    return {"type": 10, "content": content}


def test_components_v2_rules() -> None:
    row = {"type": 1, "components": [{"type": 2, "style": 2, "label": "a", "custom_id": "x"}]}
    good = {"type": 17, "accent_color": 0x8B5CF6, "components": [_text("hi"), {"type": 14}, row]}
    assert _v2(good) == []
    assert _v2(good, content="no") == ["IS_COMPONENTS_V2 messages cannot have content or embeds"]
    assert _v2(good, embeds=[], content=None) == []  # clearing an older message is fine
    nested = {"type": 17, "components": [good]}
    assert any("type 17 not allowed here" in e for e in _v2(nested))
    assert any("accent_color" in e for e in _v2({**good, "accent_color": 0x1000000}))
    too_long = {"type": 17, "components": [_text("x" * 2500), _text("y" * 1600)]}
    assert any("4100 characters (max 4000)" in e for e in _v2(too_long))
    assert any("more than 40 components" in e for e in _v2(*[_text("t")] * 41))
    assert any("file component" in e for e in _v2({"type": 13, "file": {"url": "https://x"}}))
    # without the flag, only action rows may stand at the top
    plain = rules.check_message_limits({"components": [_text("hi")]})
    assert any("must be an action row" in e for e in plain)


async def test_forum_posts_are_threads_with_a_starter_message(fake_discord, guild):
    """Start Thread in Forum or Media Channel, as Discord documents it: a public thread whose
    first message has the thread's id; no nonce (so no de-duplication); Send Messages is
    "Create Posts"; a forum holds no messages of its own; the post is listed among the
    server's active threads."""
    forum = guild.add_channel("ideas", type=15)
    bot = MiniBot()
    async with fake_discord.running(bot):
        channel = bot.get_channel(forum.id)
        assert isinstance(channel, discord.ForumChannel) and not channel.is_media()
        first = await channel.create_thread(name="Day one", content="hello")
        second = await channel.create_thread(name="Day one", content="hello")  # posts twice
        starter = await first.thread.fetch_message(first.thread.id)
        active = await channel.guild.active_threads()
        with pytest.raises(discord.HTTPException) as into_forum:
            await bot.http.send_message(forum.id, params=_params("straight into the forum"))
        fake_discord.deny(forum, guild.me, discord.Permissions(send_messages=True))
        with pytest.raises(discord.Forbidden):
            await channel.create_thread(name="Day two", content="no")
    assert first.message.id == first.thread.id == starter.id and starter.content == "hello"
    assert first.thread.type is discord.ChannelType.public_thread
    assert first.thread.parent_id == forum.id and second.thread.id != first.thread.id
    assert {t.id for t in active} >= {first.thread.id, second.thread.id}
    assert into_forum.value.code == 50024
    assert fake_discord.take_breaches("message", contains="forum")
    assert fake_discord.breaches == []


def _params(content: str) -> discord.http.MultipartParameters:
    return discord.http.handle_message_parameters(content=content)


async def test_a_forum_may_require_a_tag_on_each_post(fake_discord, guild):
    forum = guild.add_channel("club", type=15, tags=["news", "chat"], require_tag=True)
    bot = MiniBot()
    async with fake_discord.running(bot):
        channel = bot.get_channel(forum.id)
        assert isinstance(channel, discord.ForumChannel) and channel.flags.require_tag
        assert [t.name for t in channel.available_tags] == ["news", "chat"]
        with pytest.raises(discord.HTTPException) as untagged:
            await channel.create_thread(name="no tag", content="hi")
        chat = channel.get_tag(forum.tags["chat"])
        assert chat is not None
        post = await channel.create_thread(name="tagged", content="hi", applied_tags=[chat])
    assert untagged.value.code == 40067
    assert [t.id for t in post.thread.applied_tags] == [forum.tags["chat"]]
