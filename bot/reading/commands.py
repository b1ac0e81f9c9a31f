"""The reading commands' names, options and descriptions: the one table the slash commands,
the offline console (its parser and ``help``), ``/about`` and the README are checked against."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OptionSpec:
    name: str
    description: str
    required: bool = False
    #: Quotes are part of the value (search syntax: "exact phrase"); the console keeps them.
    quoted: bool = False


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    description: str  # the slash command's description (at most 100 characters)
    options: tuple[OptionSpec, ...] = ()

    @property
    def usage(self) -> str:
        """``/quote [document] [author] [about]``, as the README's table writes it."""
        parts = [o.name if o.required else f"[{o.name}]" for o in self.options]
        return " ".join([f"/{self.name}", *parts])

    @property
    def typed_usage(self) -> str:
        """``/quote [document:…] …``, as typed in the console."""
        parts = [f"{o.name}:…" if o.required else f"[{o.name}:…]" for o in self.options]
        return " ".join([f"/{self.name}", *parts])

    def option_descriptions(self) -> dict[str, str]:
        return {o.name: o.description for o in self.options}


QUOTE = CommandSpec(
    "quote",
    "A random passage, optionally from one document, by one author or about some words.",
    (
        OptionSpec("document", "Only from this document"),
        OptionSpec("author", "Only by this author (the thread's commenters are authors)"),
        OptionSpec("about", "Only passages with these words", quoted=True),
    ),
)
SEARCH = CommandSpec(
    "search",
    "Search every passage; open any result in full.",
    (
        OptionSpec(
            "query", 'Words to find; "exact phrase", prefix*, -exclude', required=True, quoted=True
        ),
    ),
)
PASSAGE_ID = OptionSpec(
    "id", "The passage id, e.g. shape-of-attention-7 (start typing to pick)", required=True
)
PASSAGE = CommandSpec("passage", "One passage by its id.", (PASSAGE_ID,))
POEM = CommandSpec(
    "poem",
    "A whole poem, every line break kept.",
    (OptionSpec("title", "Which poem (default: The Shape of Attention)"),),
)
READ = CommandSpec(
    "read",
    "A whole document, in order, page by page.",
    (OptionSpec("document", "The document to read", required=True),),
)
CARD = CommandSpec(
    "card",
    "A passage as an image worth sharing.",
    (PASSAGE_ID, OptionSpec("theme", "light (default), dark, paper or night")),
)
REFLECTION = CommandSpec(
    "reflection", "Today's reflection: the same passage for everyone here today."
)
SOURCES = CommandSpec("sources", "The documents, their authors, kinds, sources and passage counts.")
ABOUT = CommandSpec("about", "What Lectern is and how to use it.")

READING_COMMANDS: tuple[CommandSpec, ...] = (
    QUOTE,
    SEARCH,
    PASSAGE,
    POEM,
    READ,
    CARD,
    REFLECTION,
    SOURCES,
    ABOUT,
)
BY_NAME = {c.name: c for c in READING_COMMANDS}
#: The message command (right-click a message → Apps): the passages most like its text.
LIKE_THIS = "Passages like this"
