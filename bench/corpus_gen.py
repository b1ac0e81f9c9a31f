"""Deterministic synthetic corpora for the store benchmark.

``generate(n)`` writes exactly ``n`` passages as Lectern Markdown documents (TOML front matter,
``+++`` fenced) into ``bench/.cache/corpus-N/`` and returns the folder. A marker file records the
parameters, so a second call with the same size reuses the folder.

The text is English-like: words drawn from a vocabulary with a Zipf distribution (rank r has
weight 1/(r+1)), headed by real function words, so ``the`` is in nearly every passage; the long
tail is made of pronounceable pseudo-words, several hundred of which start with ``st``. Documents
mix the four kinds (poem stanzas, essay paragraphs, journal entries, thread comments with many
commenters), hold ~100-900 passages each, and passages run ~100-600 characters.

    python bench/corpus_gen.py 100000      # writes bench/.cache/corpus-100000/
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import shutil
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"
SEED = 20240601
GENERATOR_VERSION = 1
MARKER = ".complete.json"
KINDS = ("poem", "essay", "journal", "thread")

# Real English words, most frequent first: they take the head of the Zipf distribution.
COMMON = """
the of and to a in is that it was for on as with he be at by i this had not are but from or
have an they which one you were her all she there would their we him been has when who will
more no if out so said what up its about into than them can only other new some could time
these two may then do first any my now such like our over man me even most made after also did
many before must through back years where much your way well down should because each just
those people how too little state good very make world still own see men work long get here
between both life being under never day same another know while last might us great old year
off come since against go came right used take three light night water stone heart word voice
silence river morning hand house window road earth fire name body small face mind thing place
story storm star street stand stood strange stream step stair steady stay stir strong strength
stranger stretch study stop stuff stone grass bread field wind snow rain sea shore ship sky
dark white black green blue red bright cold warm deep quiet slow fast open close turn keep hold
leave find give tell ask seem feel try call need become begin show hear play run move live
believe bring happen write sit lose pay meet include continue set learn change lead understand
watch follow speak read spend grow walk win offer remember love consider appear buy wait serve
die send expect build fall cut reach kill remain suggest raise pass sell require report decide
pull return explain hope develop carry break receive agree support hit produce eat cover catch
draw choose wish dream sleep sing wake forget answer mother father child friend city country
door table paper book letter song memory question reason moment evening shadow garden winter
summer autumn spring wall floor bed tree flower bird dog horse glass iron gold silver salt
""".split()

_ONSETS = [
    *"b c d f g h j k l m n p r s t v w y br cr dr fr gr pr tr st str sp sk sh ch th wh cl pl bl "
    "fl gl sl sm sn sw tw qu".split(),
    "",
    "",
]
_VOWELS = "a e i o u a e i o ea ai ou oo ie ay ee oa".split()
_CODAS = ["", "", "", "n", "r", "l", "s", "t", "nd", "st", "ng", "rk", "th", "m", "ck", "ll", "ss"]

FIRST_NAMES = """Ada Alan Alma Amos Anna Arlo Ava Beth Bram Cara Cora Dale Dana Dora Eli Ella
Emil Esme Ezra Fay Finn Gil Greta Hal Hana Ida Ines Ira Iris Ivo Jada Jon Jude June Kai Kit Lars
Lena Leo Lila Lou Luca Mae Mara Max Mina Nell Nico Noor Olga Omar Otto Pia Rafe Rhea Rosa Ruth
Sami Sara Saul Tess Theo Una Uri Vera Wren Yara Zane Zora""".split()
LAST_NAMES = """Abbot Ames Bell Birch Blake Brand Brook Carr Cole Crane Dale Dunn Ellis Ford
Frost Gale Gray Hale Hart Hayes Holt Hope Ince Ives Kerr Knox Lake Lane Lowe Marsh Moss Nash
Noble Oakes Park Pike Pratt Quill Reed Rhodes Rowe Sage Shaw Stone Swift Thorn Vance Wade Ward
West Wolfe Wren York""".split()


def vocabulary(size: int = 20_000, seed: int = SEED) -> list[str]:
    """Common words first (frequency order), then pseudo-words; deterministic."""
    rng = random.Random(seed)
    words = list(dict.fromkeys(COMMON))
    seen = set(words)
    while len(words) < size:
        syllables = rng.choice((1, 1, 2, 2, 2, 3))
        word = "".join(
            rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(syllables)
        )
        if 3 <= len(word) <= 10 and word not in seen:
            seen.add(word)
            words.append(word)
    return words


VOCAB = vocabulary()
CUM_WEIGHTS = list(itertools.accumulate(1.0 / (rank + 1) for rank in range(len(VOCAB))))


def _words(rng: random.Random, count: int) -> list[str]:
    return rng.choices(VOCAB, cum_weights=CUM_WEIGHTS, k=count)


def _sentences(rng: random.Random, words: list[str]) -> str:
    """Capitalised sentences with some commas, from a list of words."""
    out: list[str] = []
    i = 0
    while i < len(words):
        length = rng.randint(6, 18)
        sentence = words[i : i + length]
        i += length
        if len(sentence) > 6 and rng.random() < 0.4:
            cut = rng.randint(2, len(sentence) - 3)
            sentence[cut] += ","
        sentence[0] = sentence[0].capitalize()
        out.append(" ".join(sentence) + rng.choice("....?!;"))
    return " ".join(out)


def _prose(rng: random.Random, low: int = 16, high: int = 90) -> str:
    return _sentences(rng, _words(rng, rng.randint(low, high)))


def _stanza(rng: random.Random) -> str:
    lines = []
    for _ in range(rng.randint(2, 6)):
        line = _words(rng, rng.randint(4, 9))
        line[0] = line[0].capitalize()
        lines.append(" ".join(line) + rng.choice(["", "", ",", ".", ";"]))
    return "\n".join(lines)


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def _document(index: int, passages: int, seed: int) -> tuple[str, str]:
    """The file name and text of document ``index`` with exactly ``passages`` passages."""
    rng = random.Random(seed * 1_000_003 + index)
    kind = KINDS[rng.randrange(len(KINDS))]
    title_words = _words(rng, rng.randint(2, 5))
    title = " ".join(w.capitalize() for w in title_words)
    slug = f"{kind}-{index:05d}-{title_words[-1]}"
    meta = ["+++", f'title = "{title}"', f'kind = "{kind}"']
    meta.append(f'source = "Synthetic {kind} #{index}, generated by bench/corpus_gen.py"')
    # A pool of 60 document authors; some documents name none.
    doc_author = None
    if kind != "thread" and rng.random() < 0.85:
        author_rng = random.Random(seed + rng.randrange(60))
        doc_author = _name(author_rng)
        meta.append(f'author = "{doc_author}"')
    if rng.random() < 0.3:
        meta.append(f'note = "{_prose(rng)[:150]}"')
    meta.append("+++")
    afterword = kind in ("poem", "essay") and passages > 1 and rng.random() < 0.3
    main = passages - 1 if afterword else passages
    blocks: list[str] = []
    if kind == "thread":
        # A few hundred commenters across the corpus; each thread has a regular cast.
        cast = [_name(random.Random(seed + 1000 + rng.randrange(400))) for _ in range(12)]
        for _ in range(main):
            if rng.random() < 0.25:
                text = _prose(rng, 8, 45) + "\n\n" + _prose(rng, 8, 45)
            else:
                text = _prose(rng)
            blocks.append(f"## {rng.choice(cast)}\n\n{text}")
    elif kind == "poem":
        blocks = [_stanza(rng) for _ in range(main)]
    else:
        blocks = [_prose(rng) for _ in range(main)]
    if afterword:
        blocks.append("---\n\n" + _prose(rng))
    return f"{slug}.md", "\n".join(meta) + "\n\n" + "\n\n".join(blocks) + "\n"


def _write_batch(args: tuple[Path, list[tuple[int, int]], int]) -> int:
    folder, jobs, seed = args
    for index, passages in jobs:
        name, text = _document(index, passages, seed)
        (folder / name).write_text(text, encoding="utf-8")
    return sum(p for _, p in jobs)


def plan(n: int, seed: int = SEED) -> list[tuple[int, int]]:
    """(document index, passage count) for a corpus of exactly ``n`` passages."""
    rng = random.Random(seed)
    sizes: list[tuple[int, int]] = []
    left = n
    while left > 0:
        size = min(left, rng.randint(100, 900))
        sizes.append((len(sizes) + 1, size))
        left -= size
    return sizes


def generate(n: int, *, seed: int = SEED, cache: Path = CACHE, workers: int = 2) -> Path:
    """Write (or reuse) the corpus of ``n`` passages; return its folder."""
    folder = cache / f"corpus-{n}"
    params = {"passages": n, "seed": seed, "version": GENERATOR_VERSION}
    marker = folder / MARKER
    if marker.exists():
        try:
            if json.loads(marker.read_text())["params"] == params:
                return folder
        except (ValueError, KeyError):
            pass
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    jobs = plan(n, seed)
    chunks = [(folder, jobs[i::workers], seed) for i in range(workers)]
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            written = sum(pool.map(_write_batch, chunks))
    else:
        written = sum(map(_write_batch, chunks))
    assert written == n, (written, n)
    size = sum(p.stat().st_size for p in folder.glob("*.md"))
    marker.write_text(json.dumps({"params": params, "documents": len(jobs), "bytes": size}))
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", type=int, nargs="+", help="passage counts")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    for n in args.sizes:
        folder = generate(n, seed=args.seed)
        info = json.loads((folder / MARKER).read_text())
        print(f"{folder}: {n:,} passages, {info['documents']:,} documents, {info['bytes']:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
