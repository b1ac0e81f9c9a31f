"""The days of the week a schedule posts on, without I/O: parsing what a user typed, and saying it.

A set of days is a bit mask, Monday bit 0 to Sunday bit 6 (``date.weekday()`` order), so it
fits one integer column and "is today one of them" is one shift.
"""

from __future__ import annotations

from datetime import date

from ..core.text import clip, escape_markdown

NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
EVERY_DAY = 0b111_1111
WEEKDAYS = 0b001_1111
WEEKENDS = 0b110_0000
_WORDS = {"every day": EVERY_DAY, "everyday": EVERY_DAY, "daily": EVERY_DAY}
_WORDS |= {"weekdays": WEEKDAYS, "weekends": WEEKENDS}
_BY_NAME = {name: 1 << i for i, name in enumerate(NAMES)} | {
    name[:3]: 1 << i for i, name in enumerate(NAMES)
}
ACCEPTED = "`every day`, `weekdays`, `weekends`, or days such as `mon,wed,fri` or `Monday Thursday`"


class DaysError(ValueError):
    """What the user typed is not a set of days; the message shows the accepted forms."""


def parse_days(text: str | None) -> int:
    """``"weekdays"``, ``"mon,wed,fri"``, ``"Monday Thursday"`` ... as a bit mask.

    Empty or missing means every day. Items are separated by commas or spaces; an empty item
    between commas (``"mon,,wed"``, ``"mon,"``) is an error rather than silently skipped.
    """
    if text is None or not text.strip():
        return EVERY_DAY
    typed = " ".join(text.split()).casefold()
    if typed in _WORDS:
        return _WORDS[typed]
    mask = 0
    for item in typed.split(","):
        words = item.split()
        if not words:
            raise DaysError(_problem(text, "has an empty item between commas"))
        for word in words:
            bit = _BY_NAME.get(word)
            if bit is None:
                shown = escape_markdown(clip(word, 20))
                raise DaysError(_problem(text, f"has “{shown}”, which is not a day"))
            mask |= bit
    return mask


def _problem(text: str, what: str) -> str:
    typed = escape_markdown(clip(" ".join(text.split()), 60))
    return f"“{typed}” {what}. Use {ACCEPTED}."


def posts_on(mask: int, day: date) -> bool:
    """True when a schedule with days ``mask`` posts on ``day`` (a local date)."""
    return bool(mask >> day.weekday() & 1)


def describe_days(mask: int) -> str:
    """``every day``, ``weekdays``, ``weekends`` or ``Mon, Wed, Fri``."""
    for words, value in (("every day", EVERY_DAY), ("weekdays", WEEKDAYS), ("weekends", WEEKENDS)):
        if mask == value:
            return words
    return ", ".join(name[:3].title() for i, name in enumerate(NAMES) if mask >> i & 1)


def valid_mask(mask: int) -> bool:
    return 0 < mask <= EVERY_DAY
