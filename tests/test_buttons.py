"""Typed button ids: every action round-trips, ids already posted in Discord still parse, and
anything else (forged, malformed, retired) parses to None rather than raising."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.reply import CUSTOM_ID_LIMIT
from bot.corpus.model import MAX_SLUG_CHARS
from bot.reading import buttons as b

slugs = st.from_regex(r"[a-z0-9]{1,10}(-[a-z0-9]{1,10}){0,3}", fullmatch=True).filter(
    lambda s: len(s) <= MAX_SLUG_CHARS
)
ids = st.builds(lambda s, n: f"{s}-{n}", slugs, st.integers(1, 100_000)) | slugs.map(
    lambda s: f"{s}-afterword"
)
keys = st.from_regex(r"[0-9a-f]{16}", fullmatch=True)
pages = st.integers(-1, 99_999)
owners = st.integers(1, 2**64 - 1)
buttons = st.one_of(
    *(st.builds(kind, ids) for kind in (b.Previous, b.Next, b.Open, b.Share, b.MoreLikeThis)),
    st.builds(b.WholeDocument, ids),
    st.builds(b.Another, keys | st.just("-")),
    st.builds(b.PassagePage, ids, pages, owners),
    st.builds(b.DocumentPage, slugs, pages, owners),
    st.builds(b.SearchPage, keys, pages, owners),
    st.builds(b.SourcesPage, pages, owners),
)


@given(buttons)
def test_every_button_round_trips_within_the_custom_id_limit(button: b.ButtonId) -> None:
    encoded = button.encode()
    assert len(encoded) <= CUSTOM_ID_LIMIT
    assert b.parse_button(encoded) == button


@pytest.mark.parametrize(
    ("posted", "expected"),
    [  # ids exactly as messages posted before typed ids carry them
        ("lx:next:shape-of-attention-7", b.Next("shape-of-attention-7")),
        ("lx:prev:essay-comments-2", b.Previous("essay-comments-2")),
        ("lx:whole:shape-of-attention-afterword", b.WholeDocument("shape-of-attention-afterword")),
        ("lx:more:metaphor-12", b.MoreLikeThis("metaphor-12")),
        ("lx:open:permanent-thing-1", b.Open("permanent-thing-1")),
        ("lx:share:metaphor-1", b.Share("metaphor-1")),
        ("lx:again:-", b.Another("-")),
        ("lx:again:0f1e2d3c4b5a6978", b.Another("0f1e2d3c4b5a6978")),
        (
            "lx:pp:metaphor-3:1:123456789012345678",
            b.PassagePage("metaphor-3", 1, 123456789012345678),
        ),
        ("lx:dp:shape-of-attention:-1:42", b.DocumentPage("shape-of-attention", -1, 42)),
        ("lx:sp:0f1e2d3c4b5a6978:3:1", b.SearchPage("0f1e2d3c4b5a6978", 3, 1)),
        ("lx:src:0:99", b.SourcesPage(0, 99)),
    ],
)
def test_ids_already_posted_keep_working(posted: str, expected: b.ButtonId) -> None:
    assert b.parse_button(posted) == expected


@pytest.mark.parametrize(
    "forged",
    [
        "",
        "lx",
        "lx:",
        "lx:next",
        "lx:next:",
        "lx:next:UPPER-1",
        "lx:next:a:b",
        "lx:pp:metaphor-3:1",
        "lx:pp:metaphor-3:x:1",
        "lx:pp:metaphor-3:9999999999999:1",  # absurd page
        "lx:pp:metaphor-3:1:" + "9" * 40,  # absurd owner
        "lx:sp:nothex0000000000:0:1",
        "lx:sp:0f1e2d3c4b5a6978:1:2:",  # the pager's disabled indicator
        "lx:again:--",
        "lx:dance:1",
        "xx:next:metaphor-1",
        "lx:next:metaphor-1\n",
    ],
)
def test_forged_or_malformed_ids_parse_to_nothing(forged: str) -> None:
    assert b.parse_button(forged) is None


@given(st.text(max_size=120))
def test_parsing_any_text_never_raises(text: str) -> None:
    b.parse_button(text)
    b.parse_button("lx:" + text)
