"""Text a user typed and Lectern echoes back is escaped: a typed masked link is not a link, a
lone backtick does not turn the rest of the message into code."""

from __future__ import annotations

import pytest

from bot.core.errors import UserError
from bot.daily.timing import ScheduleError, parse_hhmm, resolve_zone
from bot.services import Services

LINK = "[ZQX](https://evil.example)"
TICK = "`ZQY"
HOSTILE = f"{LINK} {TICK} **bold** _it_ ~~s~~ ||spoiler|| > quote # head"


def assert_escaped(text: str) -> None:
    assert "[ZQX](" not in text.replace("\\[ZQX\\](", ""), text  # no masked link
    assert "`ZQY" not in text.replace("\\`ZQY", ""), text  # no code span opened


async def _answer(work) -> str:  # type: ignore[no-untyped-def]
    try:
        reply = await work
    except UserError as error:
        return str(error)
    return "\n".join(
        [reply.content or ""]
        + [c.description + "".join(f.name + f.value for f in c.fields) for c in reply.cards]
    )


@pytest.mark.parametrize(
    "ask",
    [
        lambda s: s.reading.search(HOSTILE, user_id=1),
        lambda s: s.reading.search(f"{LINK}a* {TICK}", user_id=1),
        lambda s: s.reading.quote(user_id=1, about=HOSTILE),
        lambda s: s.reading.quote(user_id=1, document=HOSTILE),
        lambda s: s.reading.quote(user_id=1, author=HOSTILE),
        lambda s: s.reading.passage(HOSTILE, user_id=1),
        lambda s: s.reading.read(HOSTILE, user_id=1),
        lambda s: s.reading.poem(user_id=1, title=HOSTILE),
        lambda s: s.reading.card(HOSTILE, user_id=1),
        lambda s: s.reading.card("metaphor-1", user_id=1, theme=HOSTILE),
    ],
)
async def test_reading_answers_escape_what_was_typed(store: Services, ask) -> None:  # type: ignore[no-untyped-def]
    assert_escaped(await _answer(ask(store)))


@pytest.mark.parametrize("parse", [parse_hhmm, resolve_zone])
def test_daily_answers_escape_what_was_typed(parse) -> None:  # type: ignore[no-untyped-def]
    for typed in (LINK, TICK + " 9:00", f"{TICK}{LINK}"):
        with pytest.raises(ScheduleError) as caught:
            parse(typed)
        assert_escaped(str(caught.value))
