"""The offline console: Discord-style commands typed in a terminal, answered as Discord shows them.

``/search query:attention`` runs the same :class:`~bot.reading.service.ReadingService` method
as the slash command; the reply prints as a box (the embed) with its buttons listed, and typing
a button's name (``next``, ``more``, ``share``, ``>`` …) presses it, exactly as clicking would.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import TextIO

from .cards.service import DEFAULT_THEME
from .console_view import WIDTH, reply_renderables, terminal
from .core.errors import APOLOGY, UserError
from .core.reply import Button, Reply, error_reply
from .core.text import clip
from .reading.commands import BY_NAME, READING_COMMANDS
from .reading.service import Clicker, ReadingService

log = logging.getLogger(__name__)

#: The console's reader, as a user id (Discord ids are never this small).
CONSOLE_USER = 1


def help_text() -> str:
    """The console's help, from the same command table as the slash commands."""
    width = max(len(c.typed_usage) for c in READING_COMMANDS) + 2
    lines = ["Commands (type them as in Discord):"]
    lines += [f"  {c.typed_usage:<{width}} {c.description}" for c in READING_COMMANDS]
    lines += [
        'Search: "exact phrase", prefix*, -exclude.',
        "Buttons under an answer: type their name (next, previous, whole, more, another, share,",
        "read), a result number (1-5), or < and > to turn pages. help shows this; quit leaves.",
    ]
    return "\n".join(lines)


_OPTION = re.compile(r"(?:^|\s)([a-z_]+):")


def parse_command(line: str) -> tuple[str, dict[str, str]]:
    """``/search query:the weights`` → ``("search", {"query": "the weights"})``.

    A value runs until the next ``name:`` option; quotes around it are removed, except from
    a search's words (``query``, ``about``), where they mean a phrase, as typed into Discord:
    ``query:""`` is then a search for nothing, not a missing option.
    """
    line = line.strip()
    name, _, rest = line.removeprefix("/").partition(" ")
    name = name.lower()
    spec = BY_NAME.get(name)
    if spec is None:
        known = ", ".join(f"/{c.name}" for c in READING_COMMANDS)
        raise UserError(f"There is no command /{clip(name, 40)}. Commands: {known}.")
    names = [o.name for o in spec.options]
    quoted = {o.name for o in spec.options if o.quoted}
    options: dict[str, str] = {}
    matches = [m for m in _OPTION.finditer(rest) if m.group(1) in names]
    if rest.strip() and (not matches or rest[: matches[0].start()].strip()):
        raise UserError(
            f"Give options as name:value, e.g. /{name} "
            + (" ".join(f"{o}:…" for o in names) or "(it takes none)")
        )
    for match, following in zip(matches, [*matches[1:], None], strict=False):
        end = following.start() if following else len(rest)
        value = rest[match.end() : end].strip()
        verbatim = match.group(1) in quoted
        if not verbatim and len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]  # one pair of surrounding quotes; what is inside stays as typed
        options[match.group(1)] = value
    for option in spec.options:
        if option.required and not options.get(option.name):
            raise UserError(f"/{name} needs {option.name}:…")
    return name, options


def button_names(button: Button) -> set[str]:
    """What a user may type to press ``button``."""
    label = button.label.casefold()
    words = re.sub(r"[◀▶]", " ", label).split()
    names = set()
    if words in ([], ["page"]):  # the page turners: ◀ ▶ and ◀ Page / Page ▶
        names.update({"<"} if "◀" in label else {">"})
    if words:
        names.update({" ".join(words), words[0]})
    if words and words[0] == "previous":
        names.add("prev")
    return names


class Console:
    """A conversation with Lectern in a terminal."""

    def __init__(
        self,
        reading: ReadingService,
        *,
        out: TextIO = sys.stdout,
        today: Callable[[], date] = date.today,
        width: int = WIDTH,
        files: Path | None = None,
    ) -> None:
        self.reading = reading
        self.out = out
        self.screen = terminal(out, width)
        self.today = today
        self.width = width
        #: Where cards are written (the working folder unless told otherwise).
        self.files = files or Path.cwd()
        self.last: Reply | None = None

    async def execute(self, line: str) -> bool:
        """Run one input line and print the answer. False when the user asked to leave."""
        text = line.strip()
        if not text:
            return True
        if text.lower() in {"quit", "exit", "q"}:
            return False
        if text.lower() in {"help", "?", "/help"}:
            print(help_text(), file=self.out)
            return True
        try:
            reply = await (self._command(text) if text.startswith("/") else self._press(text))
        except UserError as error:
            reply = error_reply(str(error))
        except Exception:  # the console must outlive a bug, like the bot does
            log.exception("Error while answering %r", text)
            reply = error_reply(APOLOGY)
        else:
            self.last = reply  # its buttons are the ones the next line can press
        for part in reply_renderables(reply):
            self.screen.print(part)
        for attachment in reply.attachments:  # a card: write it where the reader can open it
            if attachment.filename.endswith(".png"):
                path = self.files / attachment.filename
                path.write_bytes(attachment.data)
                self.screen.print(f"Card written to {path}", soft_wrap=True, highlight=False)
        return True

    def _command(self, text: str) -> Awaitable[Reply]:
        name, options = parse_command(text)
        service = self.reading
        user = CONSOLE_USER
        runs: dict[str, Callable[[], Awaitable[Reply]]] = {
            "quote": lambda: service.quote(user_id=user, **options),
            "search": lambda: service.search(options["query"], user_id=user),
            "passage": lambda: service.passage(options["id"], user_id=user),
            "poem": lambda: service.poem(user_id=user, title=options.get("title")),
            "read": lambda: service.read(options["document"], user_id=user),
            "card": lambda: service.card(
                options["id"], user_id=user, theme=options.get("theme") or DEFAULT_THEME
            ),
            "reflection": lambda: service.reflection(day=self.today(), guild_id=None, user_id=user),
            "sources": lambda: service.sources(user_id=user),
            "about": service.about,
        }
        return runs[name]()

    async def _press(self, text: str) -> Reply:
        wanted = " ".join(text.casefold().split())
        buttons = self.last.buttons if self.last else []
        for button in buttons:
            if wanted in button_names(button) or wanted == button.label.casefold():
                if button.disabled:
                    raise UserError(f"“{button.label}” is not available here.")
                clicker = Clicker(
                    CONSOLE_USER, private_message=bool(self.last and self.last.ephemeral)
                )
                return await self.reading.press(button.custom_id, clicker)
        if not buttons:
            raise UserError("Type a command such as /quote, or help.")
        names = ", ".join(
            sorted({min(button_names(b), key=len) for b in buttons if not b.disabled})
        )
        raise UserError(f"No button “{text}” here. Try: {names}, or a command such as /quote.")

    async def repl(self, stdin: TextIO = sys.stdin) -> None:
        """Read lines until EOF or ``quit``; prompts (with line editing and history, through
        readline) only when a person is typing."""
        interactive = stdin.isatty() and stdin is sys.stdin
        if interactive:
            with contextlib.suppress(ImportError):  # not on every platform
                import readline  # noqa: F401 - input() gains editing and history
        while True:
            if interactive:
                try:
                    # On this thread, on purpose: nothing else runs in the console, and Ctrl-C
                    # must interrupt input() (a worker thread would keep the process alive).
                    line = input("lectern> ")  # noqa: ASYNC250
                except EOFError:
                    break
            else:
                line = stdin.readline()
                if not line:
                    break
            if not await self.execute(line):
                break
