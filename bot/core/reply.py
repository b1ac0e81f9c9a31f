"""What a command answers with, as plain values within Discord's limits (no discord.py here).

The Discord side (``bot/discord/convert.py``) turns a :class:`Reply` into embeds and views; the
offline console prints the same value. Every limit Discord enforces is applied where replies
are built, and checked here, so no passage, however long, can produce a payload Discord rejects.
"""

from __future__ import annotations

from dataclasses import dataclass

# Discord's documented limits (message, embed, component and autocomplete resources).
CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
EMBED_TOTAL_LIMIT = 6000
BUTTONS_PER_ROW = 5
MAX_ROWS = 5
CUSTOM_ID_LIMIT = 100
CHOICES_LIMIT = 25
CHOICE_NAME_LIMIT = 100
#: Discord: 10 MiB per file, 25 MiB per request, 10 files per message.
FILE_LIMIT = 10 * 1024 * 1024
REQUEST_FILES_LIMIT = 25 * 1024 * 1024
MAX_FILES = 10
#: What Lectern puts in one file: under Discord's limit with room for the request around it.
FILE_PART_BYTES = 8 * 1024 * 1024

ACCENT = 0x8B5CF6
ERROR_COLOR = 0xE5484D
OK_COLOR = 0x30A46C


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    value: str
    inline: bool = False


@dataclass(frozen=True, slots=True)
class Card:
    """An embed: every part already within Discord's limits."""

    description: str
    title: str | None = None
    url: str | None = None
    author: str | None = None
    footer: str | None = None
    fields: tuple[Field, ...] = ()
    color: int = ACCENT

    def __post_init__(self) -> None:
        # Built only through the reply builders; this guards against a future mistake.
        if len(self) > EMBED_TOTAL_LIMIT or len(self.description) > DESCRIPTION_LIMIT:
            raise ValueError(f"card over Discord's limits ({len(self)} characters)")

    def __len__(self) -> int:
        """Characters that count towards Discord's 6000 per message, as discord.py counts."""
        parts = [self.description, self.title or "", self.author or "", self.footer or ""]
        parts += [f.name + f.value for f in self.fields]
        return sum(len(p) for p in parts)


#: Discord's total for the text of a Components V2 message.
PANEL_TEXT_LIMIT = 4000
#: Accent colours of passage panels, by the kind of document.
KIND_ACCENTS = {"poem": 0x8B5CF6, "essay": 0x0EA5E9, "journal": 0xF59E0B, "thread": 0x10B981}


@dataclass(frozen=True, slots=True)
class Panel:
    """A passage as a Components V2 container: a heading, the text, a small subtext line,
    optionally a link button to its source. The buttons are the reply's ``rows``, inside."""

    heading: str  # "**The Shape of Attention** · Kenneth Reitz"
    body: str  # the passage (or one page of it), Markdown
    subtext: str  # "stanza 7 of 24 · shape-of-attention-7"
    accent: int = ACCENT
    link: str | None = None  # the source URL, shown as a link button
    #: Files this panel shows (File components): a long document's text on every page.
    files: tuple[str, ...] = ()
    #: An attached image shown in a media gallery under the heading (a quote card).
    image: str | None = None

    def __len__(self) -> int:
        """Characters of text shown, as Discord counts them against 4,000."""
        return len(self.texts()[0]) + len(self.body) + len(self.texts()[1])

    def texts(self) -> tuple[str, str]:
        """The heading and subtext lines as sent (Markdown heading and ``-#`` subtext)."""
        return f"### {self.heading}", f"-# {self.subtext}"


@dataclass(frozen=True, slots=True)
class Button:
    """A button whose ``custom_id`` carries all its state, so it works after a restart."""

    label: str
    custom_id: str
    style: str = "secondary"  # primary, secondary, success, danger
    disabled: bool = False

    def __post_init__(self) -> None:
        if not 0 < len(self.custom_id) <= CUSTOM_ID_LIMIT:
            raise ValueError(f"custom_id of {len(self.custom_id)} characters: {self.custom_id}")


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Reply:
    """What a command or button answers with."""

    cards: tuple[Card, ...] = ()
    content: str | None = None
    rows: tuple[tuple[Button, ...], ...] = ()
    ephemeral: bool = False
    attachments: tuple[Attachment, ...] = ()
    #: For buttons: replace the message that was clicked rather than answering anew.
    edit: bool = False
    #: A passage shown as Components V2 (then no ``cards``; ``content`` is a line above it).
    panel: Panel | None = None

    def __post_init__(self) -> None:
        if self.content is not None and len(self.content) > CONTENT_LIMIT:
            raise ValueError("content over 2000 characters")
        if sum(len(c) for c in self.cards) > EMBED_TOTAL_LIMIT:
            raise ValueError("embeds over 6000 characters in total")
        if len(self.rows) > MAX_ROWS or any(len(r) > BUTTONS_PER_ROW for r in self.rows):
            raise ValueError("more buttons than Discord allows")
        if self.panel is not None:
            if self.cards:
                raise ValueError("a Components V2 panel cannot carry embeds")
            shown = len(self.panel) + len(self.content or "")
            if shown > PANEL_TEXT_LIMIT:
                raise ValueError(f"panel text of {shown} characters (max {PANEL_TEXT_LIMIT})")
        sizes = [len(a.data) for a in self.attachments]
        if len(sizes) > MAX_FILES or any(n > FILE_LIMIT for n in sizes):
            raise ValueError("more or larger files than Discord allows")
        if sum(sizes) > REQUEST_FILES_LIMIT:
            raise ValueError("files over Discord's 25 MiB per message")

    @property
    def buttons(self) -> list[Button]:
        return [b for row in self.rows for b in row]


@dataclass(frozen=True, slots=True)
class Choice:
    """An autocomplete choice."""

    name: str
    value: str


def error_reply(message: str) -> Reply:
    """A private note for a miss, a mistake or an apology (clipped to fit, whatever it says)."""
    text = message if len(message) <= DESCRIPTION_LIMIT else message[: DESCRIPTION_LIMIT - 1] + "…"
    return Reply(cards=(Card(description=text, color=ERROR_COLOR),), ephemeral=True)


def as_private(reply: Reply, *, edit: bool) -> Reply:
    """``reply`` shown only to the clicker; ``edit`` replaces the clicked message instead."""
    return Reply(reply.cards, reply.content, reply.rows, True, reply.attachments, edit, reply.panel)


def text_files(stem: str, suffix: str, text: str) -> tuple[Attachment, ...]:
    """``text`` as files Discord accepts: one ``stem.suffix`` when it fits in FILE_PART_BYTES,
    else ``stem.part1.suffix``… cut at line breaks, as many as one message may carry. A text
    too large even for that is cut after the last part that fits (callers say so)."""
    data = text.encode("utf-8")
    if len(data) <= FILE_PART_BYTES:
        return (Attachment(f"{stem}{suffix}", data),)
    parts: list[bytes] = []
    while data and len(parts) < REQUEST_FILES_LIMIT // FILE_PART_BYTES:
        cut = len(data) if len(data) <= FILE_PART_BYTES else data.rfind(b"\n", 0, FILE_PART_BYTES)
        if cut <= 0:  # no line break: cut at a character boundary
            cut = FILE_PART_BYTES
            while cut and (data[cut] & 0xC0) == 0x80:
                cut -= 1
        else:
            cut += 1 if cut < len(data) else 0
        parts.append(data[:cut])
        data = data[cut:]
    return tuple(Attachment(f"{stem}.part{i}{suffix}", p) for i, p in enumerate(parts, 1))
