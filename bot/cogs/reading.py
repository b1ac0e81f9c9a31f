"""The reading commands: /quote, /search, /passage, /poem, /read, /reflection, /sources, /about."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from ..client import LecternBot
from ..discord_ui import answer
from ..render import Choice, Reply

log = logging.getLogger(__name__)

Interaction = discord.Interaction[LecternBot]
Text100 = app_commands.Range[str, 1, 100]


def _choices(found: list[Choice]) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=c.name, value=c.value) for c in found]


async def _complete(
    interaction: Interaction, lookup: Callable[[], Awaitable[list[Choice]]]
) -> list[app_commands.Choice[str]]:
    """Autocomplete never fails loudly: a broken lookup offers nothing rather than an error."""
    try:
        return _choices(await lookup())
    except Exception:
        log.exception("Autocomplete failed for user %s", interaction.user.id)
        return []


def _everywhere(
    command: app_commands.Command[Any, Any, Any],
) -> app_commands.Command[Any, Any, Any]:
    """Reading commands work in servers and in the bot's DMs (contexts 0 and 1)."""
    command = app_commands.allowed_installs(guilds=True, users=False)(command)
    return app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)(command)


class Reading(commands.Cog):
    """Commands that show passages; they work in servers and in DMs with the bot."""

    def __init__(self, bot: LecternBot) -> None:
        self.bot = bot

    async def _answer(
        self, interaction: Interaction, work: Awaitable[Reply], *, private: bool = False
    ) -> None:
        await answer(interaction, work, bot=self.bot, ephemeral_hint=private)

    async def _documents(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await _complete(interaction, lambda: self.bot.lectern.complete_documents(current))

    async def _authors(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await _complete(interaction, lambda: self.bot.lectern.complete_authors(current))

    @_everywhere
    @app_commands.command()
    @app_commands.describe(
        document="Only from this document",
        author="Only by this author (the thread's commenters are authors)",
        about="Only passages with these words",
    )
    @app_commands.autocomplete(document=_documents, author=_authors)
    async def quote(
        self,
        interaction: Interaction,
        document: Text100 | None = None,
        author: Text100 | None = None,
        about: app_commands.Range[str, 1, 300] | None = None,
    ) -> None:
        """A random passage, optionally from one document, by one author or about some words."""
        work = self.bot.lectern.quote(
            user_id=interaction.user.id, document=document, author=author, about=about
        )
        await self._answer(interaction, work)

    @_everywhere
    @app_commands.command()
    @app_commands.describe(query='Words to find; "exact phrase", prefix*, -exclude')
    async def search(
        self, interaction: Interaction, query: app_commands.Range[str, 1, 300]
    ) -> None:
        """Search every passage; open any result in full."""
        await self._answer(
            interaction, self.bot.lectern.search(query, user_id=interaction.user.id), private=True
        )

    @_everywhere
    @app_commands.command()
    @app_commands.describe(id="The passage id, e.g. shape-of-attention-7 (start typing to pick)")
    async def passage(self, interaction: Interaction, id: Text100) -> None:
        """One passage by its id."""
        await self._answer(interaction, self.bot.lectern.passage(id, user_id=interaction.user.id))

    @passage.autocomplete("id")
    async def _passage_ids(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await _complete(interaction, lambda: self.bot.lectern.complete_passages(current))

    @_everywhere
    @app_commands.command()
    @app_commands.describe(title="Which poem (default: The Shape of Attention)")
    async def poem(self, interaction: Interaction, title: Text100 | None = None) -> None:
        """A whole poem, every line break kept."""
        await self._answer(
            interaction, self.bot.lectern.poem(user_id=interaction.user.id, title=title)
        )

    @poem.autocomplete("title")
    async def _poems(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await _complete(
            interaction, lambda: self.bot.lectern.complete_documents(current, kind="poem")
        )

    @_everywhere
    @app_commands.command()
    @app_commands.describe(document="The document to read")
    @app_commands.autocomplete(document=_documents)
    async def read(self, interaction: Interaction, document: Text100) -> None:
        """A whole document, in order, page by page."""
        await self._answer(
            interaction, self.bot.lectern.read(document, user_id=interaction.user.id)
        )

    @_everywhere
    @app_commands.command()
    async def reflection(self, interaction: Interaction) -> None:
        """Today's reflection: the same passage for everyone here today."""
        day = self.bot.clock().date()
        work = self.bot.lectern.reflection(
            day=day, guild_id=interaction.guild_id, user_id=interaction.user.id
        )
        await self._answer(interaction, work)

    @_everywhere
    @app_commands.command()
    async def sources(self, interaction: Interaction) -> None:
        """The documents, their authors, kinds, sources and passage counts."""
        await self._answer(interaction, self.bot.lectern.sources(user_id=interaction.user.id))

    @_everywhere
    @app_commands.command()
    async def about(self, interaction: Interaction) -> None:
        """What Lectern is and how to use it."""
        await self._answer(interaction, self.bot.lectern.about())


async def setup(bot: LecternBot) -> None:
    await bot.add_cog(Reading(bot))
