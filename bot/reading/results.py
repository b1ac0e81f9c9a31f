"""Reply builders for search results and "More like this" (pure)."""

from __future__ import annotations

from ..core.reply import TITLE_LIMIT, Button, Card, Field, Reply
from ..core.text import clip, escape_markdown, highlight
from ..corpus.rows import StoredPassage
from ..corpus.search import HIGHLIGHT_END, HIGHLIGHT_START, SearchResults
from .buttons import LikeThisPage, Open, SearchPage
from .replies import FIELD_NAME_CHARS, FIELD_VALUE_CHARS, pager

RESULTS_PER_PAGE = 5


def result_name(number: int, passage: StoredPassage) -> str:
    """``3. The Shape of Attention — stanza 7 of 24 · Kenneth Reitz``."""
    by = f" · {passage.author}" if passage.author else ""
    return f"{number}. {passage.title} — {passage.label}{by}"


def snippet_value(snippet: str, passage_id: str) -> str:
    """A highlighted snippet and the passage id, within FIELD_VALUE_CHARS whatever the text."""
    suffix = f"\n`{passage_id}`"
    value = highlight(clip(snippet, 300), HIGHLIGHT_START, HIGHLIGHT_END)
    if len(value) + len(suffix) > FIELD_VALUE_CHARS:  # text dense with Markdown characters
        plain = snippet.replace(HIGHLIGHT_START, "").replace(HIGHLIGHT_END, "")
        value = clip(" ".join(plain.split()), (FIELD_VALUE_CHARS - len(suffix)) // 2)
        value = escape_markdown(value)
    return value + suffix


def search_reply(
    results: SearchResults,
    key: str,
    page: int,
    *,
    user_id: int,
    title: str | None = None,
    pager_kind: type[SearchPage | LikeThisPage] = SearchPage,
    advice: bool = True,
) -> Reply:
    """One page of results: count, notes, five snippets, a button per result, the pager."""
    count = f"{results.total:,}" + ("+" if results.capped else "")
    first, last = results.offset + 1, results.offset + len(results.hits)
    one = results.total == 1 and not results.capped
    matches = "passage matches" if one else "passages match"
    shown = f"{first}" if first == last else f"{first}–{last}"
    description = f"{count} {matches}. Showing {shown}."
    if results.capped and advice:
        description += " That is a lot: add words to narrow it."
    if results.query.notes:
        description += "\n" + " ".join(results.query.notes)
    fields = tuple(
        Field(
            clip(result_name(i, hit.passage), FIELD_NAME_CHARS),
            snippet_value(hit.snippet, hit.passage.id),
        )
        for i, hit in enumerate(results.hits, first)
    )
    card = Card(
        title=clip(title or f"Search: {results.query}", TITLE_LIMIT),
        description=description,
        fields=fields,
    )
    opens = tuple(
        Button(str(i), Open(h.passage.id).encode()) for i, h in enumerate(results.hits, first)
    )
    pages = -(-results.reachable // RESULTS_PER_PAGE)
    rows = [opens, *pager(pager_kind(key, page, user_id), pages)]
    return Reply(cards=(card,), rows=tuple(r for r in rows if r), ephemeral=True)


def related_reply(source: StoredPassage, related: list[StoredPassage]) -> Reply:
    """ "More like this": up to five passages sharing words with ``source``, each openable."""
    fields = tuple(
        Field(
            clip(result_name(i, p), FIELD_NAME_CHARS),
            escape_markdown(clip(" ".join(p.text.split()), 300)) + f"\n`{p.id}`",
        )
        for i, p in enumerate(related, 1)
    )
    card = Card(
        title="More like this",
        description=f"Passages sharing words with `{source.id}`:",
        fields=fields,
    )
    row = tuple(Button(str(i), Open(p.id).encode()) for i, p in enumerate(related, 1))
    return Reply(cards=(card,), rows=(row,), ephemeral=True)


def nothing_like_reply(empty: bool) -> Reply:
    """ "Passages like this" found nothing: say so kindly (it is not an error)."""
    text = (
        "That message has no text to compare (only an image, an embed or a sticker?)."
        if empty
        else "Nothing in the corpus is close to that message. Try /search with a few of its "
        "words, or /quote for a passage at random."
    )
    return Reply(cards=(Card(title="Passages like this", description=text),), ephemeral=True)
