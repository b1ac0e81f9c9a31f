"""Typed button ids: each action a small dataclass that encodes to a custom_id and back.

A button carries all its state in its custom_id (at most 100 characters), so it keeps working
after a restart. The format is ``lx:<action>:<fields…>``, the one messages already posted in
Discord carry::

    lx:prev|next|open|share|more|whole:<passage-id>   from a passage
    lx:card|sharecard:<passage-id>                     its quote card; post that card
    lx:again:<state-key or ->                          another random passage, same filters
    lx:pp:<passage-id>:<page>:<owner>                  page of a long passage
    lx:dp:<document-slug>:<page>:<owner>               page of a whole document
    lx:sp:<state-key>:<page>:<owner>                   page of search results
    lx:lk:<state-key>:<page>:<owner>                   page of "Passages like this"
    lx:src:<page>:<owner>                              page of /sources

``owner`` is the user who ran the command: they turn pages in place, anyone else gets a copy.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import ClassVar

PREFIX = "lx"

_PATTERNS = {
    "passage_id": r"[a-z0-9]+(?:-[a-z0-9]+)*",
    "slug": r"[a-z0-9]+(?:-[a-z0-9]+)*",
    "key": r"[0-9a-f]{16}",
    "filters": r"[0-9a-f]{16}|-",
    "page": r"-?[0-9]{1,6}",
    "owner": r"[0-9]{1,20}",
}


@dataclass(frozen=True, slots=True)
class ButtonId:
    """A button action; subclasses name their ``action`` and fields."""

    action: ClassVar[str]

    def encode(self) -> str:
        values = [str(getattr(self, f.name)) for f in dataclasses.fields(self)]
        return ":".join([PREFIX, self.action, *values])

    @classmethod
    def pattern(cls) -> re.Pattern[str]:
        groups = [f"(?P<{f.name}>{_PATTERNS[f.name]})" for f in dataclasses.fields(cls)]
        return re.compile(":".join([re.escape(f"{PREFIX}:{cls.action}"), *groups]))


@dataclass(frozen=True, slots=True)
class OnPassage(ButtonId):
    passage_id: str


@dataclass(frozen=True, slots=True)
class Previous(OnPassage):
    action = "prev"


@dataclass(frozen=True, slots=True)
class Next(OnPassage):
    action = "next"


@dataclass(frozen=True, slots=True)
class Open(OnPassage):
    action = "open"


@dataclass(frozen=True, slots=True)
class Share(OnPassage):
    action = "share"


@dataclass(frozen=True, slots=True)
class MoreLikeThis(OnPassage):
    action = "more"


@dataclass(frozen=True, slots=True)
class WholeDocument(OnPassage):
    action = "whole"


@dataclass(frozen=True, slots=True)
class CardOf(OnPassage):
    """The passage's quote card (private when the passage was shown privately)."""

    action = "card"


@dataclass(frozen=True, slots=True)
class ShareCard(OnPassage):
    """Post a privately shown card to the channel."""

    action = "sharecard"


@dataclass(frozen=True, slots=True)
class Another(ButtonId):
    action = "again"
    filters: str  # the ui_state key of the filters, or "-" for none


@dataclass(frozen=True, slots=True)
class PassagePage(ButtonId):
    action = "pp"
    passage_id: str
    page: int
    owner: int


@dataclass(frozen=True, slots=True)
class DocumentPage(ButtonId):
    action = "dp"
    slug: str
    page: int
    owner: int


@dataclass(frozen=True, slots=True)
class SearchPage(ButtonId):
    action = "sp"
    key: str
    page: int
    owner: int


@dataclass(frozen=True, slots=True)
class LikeThisPage(ButtonId):
    """A page of "Passages like this": ``key`` holds the right-clicked message's text."""

    action = "lk"
    key: str
    page: int
    owner: int


@dataclass(frozen=True, slots=True)
class SourcesPage(ButtonId):
    action = "src"
    page: int
    owner: int


PageButton = PassagePage | DocumentPage | SearchPage | LikeThisPage | SourcesPage

_KINDS: tuple[type[ButtonId], ...] = (
    Previous,
    Next,
    Open,
    Share,
    MoreLikeThis,
    WholeDocument,
    CardOf,
    ShareCard,
    Another,
    PassagePage,
    DocumentPage,
    SearchPage,
    LikeThisPage,
    SourcesPage,
)
_BY_ACTION = {kind.action: (kind, kind.pattern()) for kind in _KINDS}


def parse_button(custom_id: str) -> ButtonId | None:
    """The action a custom_id encodes, or None for anything malformed, forged or retired."""
    parts = custom_id.split(":", 2)
    if len(parts) < 2 or parts[0] != PREFIX or parts[1] not in _BY_ACTION:
        return None
    kind, pattern = _BY_ACTION[parts[1]]
    match = pattern.fullmatch(custom_id)
    if match is None:
        return None
    values: dict[str, str | int] = {}
    for f in dataclasses.fields(kind):
        text = match.group(f.name)
        values[f.name] = int(text) if f.type in (int, "int") else text
    return kind(**values)


def with_page(button: PageButton, page: int) -> PageButton:
    """The same pager pointing at ``page``."""
    return dataclasses.replace(button, page=page)
