"""The reading commands on Discord: each parses its options and hands them to the service.

Names, options and descriptions come from :mod:`bot.reading.commands`, the table the console
and the README follow too. Each member may run a burst of reading commands, refilled over time
(``LECTERN_COOLDOWN_BURST``, ``LECTERN_COOLDOWN_SECONDS``); buttons and autocomplete are free.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import discord
from discord import app_commands
from discord.ext import commands

from ..cards.draw import THEMES
from ..cards.service import DEFAULT_THEME
from ..core.reply import Choice, Reply
from ..discord.answer import answer
from ..discord.bot import LecternBot
from ..discord.convert import shown_text
from .commands import (
    ABOUT,
    CARD,
    LIKE_THIS,
    PASSAGE,
    POEM,
    QUOTE,
    READ,
    REFLECTION,
    SEARCH,
    SOURCES,
)
from .replies import slow_down

log = logging.getLogger(__name__)

Interaction = discord.Interaction[LecternBot]
Text100 = app_commands.Range[str, 1, 100]
Text300 = app_commands.Range[str, 1, 300]
Choices = list[app_commands.Choice[str]]
Everywhere = TypeVar("Everywhere", app_commands.Command[Any, Any, Any], app_commands.ContextMenu)


class Throttled(app_commands.CheckFailure):
    """A member ran reading commands faster than the bucket refills."""


async def _complete(
    interaction: Interaction, lookup: Callable[[], Awaitable[list[Choice]]]
) -> Choices:
    """Autocomplete never fails loudly: a broken lookup offers nothing rather than an error."""
    try:
        return [app_commands.Choice(name=c.name, value=c.value) for c in await lookup()]
    except Exception:
        log.exception("Autocomplete failed for user %s", interaction.user.id)
        return []


def _everywhere(command: Everywhere) -> Everywhere:
    """Reading commands come with a server install and a user install ([0, 1]) and work in
    servers, the bot's DM and private channels such as group DMs (contexts [0, 1, 2])."""
    command = app_commands.allowed_installs(guilds=True, users=True)(command)
    return app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)(command)


class Reading(commands.Cog):
    """Commands that show passages; they work in servers and in DMs with the bot."""

    def __init__(self, bot: LecternBot) -> None:
        self.bot = bot
        self.reading = bot.services.reading
        self.lookup = bot.services.reading.lookup
        self.throttle = bot.services.throttle
        # A message command cannot be a cog method; it is added and removed with the cog.
        self.like_this_menu = _everywhere(
            app_commands.ContextMenu(name=LIKE_THIS, callback=self.passages_like_this)
        )

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.like_this_menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(LIKE_THIS, type=discord.AppCommandType.message)

    async def interaction_check(self, interaction: Interaction) -> bool:  # type: ignore[override]
        wait = self.throttle.take(interaction.user.id)
        if wait > 0:
            retry_at = math.ceil(self.bot.clock().timestamp() + wait)
            raise Throttled(slow_down(retry_at))
        return True

    async def passages_like_this(self, interaction: Interaction, message: discord.Message) -> None:
        """Right-click a message: the passages most related to what it says (only you see)."""
        await self.interaction_check(interaction)  # a reading command, though not in the cog
        work = self.reading.like_this(shown_text(message), user_id=interaction.user.id)
        await self._answer(interaction, work, private=True)

    async def _answer(
        self, interaction: Interaction, work: Awaitable[Reply], *, private: bool = False
    ) -> None:
        await answer(interaction, work, bot=self.bot, ephemeral_hint=private)

    async def _documents(self, interaction: Interaction, current: str) -> Choices:
        return await _complete(interaction, lambda: self.lookup.complete_documents(current))

    async def _authors(self, interaction: Interaction, current: str) -> Choices:
        return await _complete(interaction, lambda: self.lookup.complete_authors(current))

    async def _passage_ids(self, interaction: Interaction, current: str) -> Choices:
        return await _complete(interaction, lambda: self.lookup.complete_passages(current))

    async def _poems(self, interaction: Interaction, current: str) -> Choices:
        return await _complete(
            interaction, lambda: self.lookup.complete_documents(current, kind="poem")
        )

    @_everywhere
    @app_commands.command(name=QUOTE.name, description=QUOTE.description)
    @app_commands.describe(**QUOTE.option_descriptions())
    @app_commands.autocomplete(document=_documents, author=_authors)
    async def quote(
        self,
        interaction: Interaction,
        document: Text100 | None = None,
        author: Text100 | None = None,
        about: Text300 | None = None,
    ) -> None:
        work = self.reading.quote(
            user_id=interaction.user.id, document=document, author=author, about=about
        )
        await self._answer(interaction, work)

    @_everywhere
    @app_commands.command(name=SEARCH.name, description=SEARCH.description)
    @app_commands.describe(**SEARCH.option_descriptions())
    async def search(self, interaction: Interaction, query: Text300) -> None:
        work = self.reading.search(query, user_id=interaction.user.id)
        await self._answer(interaction, work, private=True)

    @_everywhere
    @app_commands.command(name=PASSAGE.name, description=PASSAGE.description)
    @app_commands.describe(**PASSAGE.option_descriptions())
    @app_commands.autocomplete(id=_passage_ids)
    async def passage(self, interaction: Interaction, id: Text100) -> None:
        await self._answer(interaction, self.reading.passage(id, user_id=interaction.user.id))

    @_everywhere
    @app_commands.command(name=POEM.name, description=POEM.description)
    @app_commands.describe(**POEM.option_descriptions())
    @app_commands.autocomplete(title=_poems)
    async def poem(self, interaction: Interaction, title: Text100 | None = None) -> None:
        await self._answer(interaction, self.reading.poem(user_id=interaction.user.id, title=title))

    @_everywhere
    @app_commands.command(name=READ.name, description=READ.description)
    @app_commands.describe(**READ.option_descriptions())
    @app_commands.autocomplete(document=_documents)
    async def read(self, interaction: Interaction, document: Text100) -> None:
        await self._answer(interaction, self.reading.read(document, user_id=interaction.user.id))

    @_everywhere
    @app_commands.command(name=CARD.name, description=CARD.description)
    @app_commands.describe(**CARD.option_descriptions())
    @app_commands.autocomplete(id=_passage_ids)
    @app_commands.choices(theme=[app_commands.Choice(name=t, value=t) for t in THEMES])
    async def card(
        self, interaction: Interaction, id: Text100, theme: app_commands.Choice[str] | None = None
    ) -> None:
        work = self.reading.card(
            id, user_id=interaction.user.id, theme=theme.value if theme else DEFAULT_THEME
        )
        await self._answer(interaction, work)

    @_everywhere
    @app_commands.command(name=REFLECTION.name, description=REFLECTION.description)
    async def reflection(self, interaction: Interaction) -> None:
        work = self.reading.reflection(
            day=self.bot.clock().date(), guild_id=interaction.guild_id, user_id=interaction.user.id
        )
        await self._answer(interaction, work)

    @_everywhere
    @app_commands.command(name=SOURCES.name, description=SOURCES.description)
    async def sources(self, interaction: Interaction) -> None:
        await self._answer(interaction, self.reading.sources(user_id=interaction.user.id))

    @_everywhere
    @app_commands.command(name=ABOUT.name, description=ABOUT.description)
    async def about(self, interaction: Interaction) -> None:
        await self._answer(interaction, self.reading.about())


async def setup(bot: LecternBot) -> None:
    await bot.add_cog(Reading(bot))
