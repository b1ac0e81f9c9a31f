"""The relevance set: what a reader types, over the bundled corpus, and the passages they wanted.

Written from the passages by hand (a reader remembering a line, in five categories), before
measuring, and not trimmed after: ``bench/bench_relevance.py`` prints success@5 and MRR per
category, ``tests/test_relevance.py`` holds the floor those figures reached.
"""

from __future__ import annotations

#: category -> [(query, the passage ids any of which the reader was after)]
RELEVANCE: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "exact": [
        ("convergence", ("shape-of-attention-23",)),
        ('"the permanent thing"', ("permanent-thing-2",)),
        ("thermostat", ("metaphor-6",)),
        ("raccoon", ("essay-comments-13",)),
        ("softmax", ("shape-of-attention-11",)),
        ("hum server room", ("permanent-thing-1",)),
        ('"linear algebra"', ("shape-of-attention-11",)),
        ("human factors engineering", ("essay-comments-4",)),
        ("residual stream", ("metaphor-1",)),
        ("gravitational body", ("shape-of-attention-6",)),
    ],
    "word forms": [
        ("weight tensors", ("metaphor-5",)),
        ("arrives", ("shape-of-attention-2", "shape-of-attention-6", "shape-of-attention-10")),
        ("dissolving", ("metaphor-1", "metaphor-10", "metaphor-11")),
        ("retrieving", ("metaphor-1", "metaphor-2", "metaphor-3")),
        ("compressing", ("permanent-thing-5",)),
        ("trains pulling", ("shape-of-attention-2",)),
        ("fingers closing", ("shape-of-attention-19",)),
        ("metaphor", ("metaphor-11",)),
        ("scrolled", ("shape-of-attention-12",)),
        ("synapses fire", ("shape-of-attention-21",)),
    ],
    "typos": [
        ("atention mechanism", ("shape-of-attention-11", "shape-of-attention-25")),
        ("thermostatt", ("metaphor-6",)),
        ("convergance", ("shape-of-attention-23",)),
        ("raccon", ("essay-comments-13",)),
        ("softmaks", ("shape-of-attention-11",)),
        ("residul stream", ("metaphor-1",)),
        ("gravitasional body", ("shape-of-attention-6",)),
        ("retreival", ("metaphor-1", "metaphor-2", "metaphor-3")),
        ("chimnee", ("essay-comments-13",)),
        ("epistemolgy", ("essay-comments-8",)),
    ],
    "meaning": [
        ("a coffee shop that was waiting for you", ("shape-of-attention-10",)),
        ("the model's parameters stay the same after it runs",
         ("permanent-thing-2", "permanent-thing-6")),
        ("machines that predict text", ("essay-comments-4",)),
        ("experts who think they know everything outside their field",
         ("essay-comments-2", "essay-comments-3")),
        ("reading it at night instead of waiting for the morning", ("essay-comments-12",)),
        ("neurons firing in a brain and numbers changing in a network",
         ("shape-of-attention-21",)),
        ("the sound of cooling fans in a data center", ("permanent-thing-1",)),
        ("a heating controller acts but nothing matters to it", ("metaphor-6",)),
        ("light bending in glass, water cutting a path", ("metaphor-9",)),
        ("words close together in a huge space of meanings", ("shape-of-attention-5",)),
    ],
    "marks": [
        ("CONVERGENCE", ("shape-of-attention-23",)),
        ("café", ("shape-of-attention-10",)),
        ("“linear algebra”", ("shape-of-attention-11",)),
        ("query-key-value", ("metaphor-3",)),
        ("non interchangeable", ("metaphor-12", "metaphor-13", "metaphor-14")),
        ("self attention", ("permanent-thing-3",)),
        ("selfattention", ("permanent-thing-3",)),
        ("Don’t know where I am", ("permanent-thing-1",)),
        ("'retrieval'", ("metaphor-1", "metaphor-2", "metaphor-3")),
        ("THE SHAPE OF ATTENTION", ("shape-of-attention-8", "shape-of-attention-19")),
    ],
}  # fmt: skip


def first_page_ids(reply: object) -> list[str]:
    """The passage ids of a search reply's page, in order (each result's field ends with it)."""
    import re

    card = reply.cards[0]  # type: ignore[attr-defined]
    found = (re.search(r"`([^`]+)`\s*$", f.value) for f in card.fields)
    return [m.group(1) for m in found if m]


async def evaluate(search: object) -> dict[str, tuple[float, float, list[str]]]:
    """category -> (success@5, MRR@5, the queries missed), searching with ``search(query)``,
    an async callable returning the page of passage ids a reader sees first."""
    scores = {}
    for category, items in RELEVANCE.items():
        hits, reciprocal, missed = 0, 0.0, []
        for query, wanted in items:
            ids = (await search(query))[:5]  # type: ignore[operator]
            rank = next((i for i, found in enumerate(ids, 1) if found in wanted), None)
            if rank is None:
                missed.append(query)
            else:
                hits, reciprocal = hits + 1, reciprocal + 1 / rank
        scores[category] = (hits / len(items), reciprocal / len(items), missed)
    return scores
