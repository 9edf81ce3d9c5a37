"""Features from what the document already did and where the cursor stands.

Why a module of its own: these columns read the document's citation history (how often and how recently an entry
was cited, the words around its earlier citations, what was cited just before and what stands next to it in the
.bib, whether the author is introducing new references) and the outline (the section that discussed an entry, the
kind of section the cursor is in). ``features.compute_features`` calls them; they know nothing of the encoder.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from startref.citations.text import tokenize

if TYPE_CHECKING:
    from startref.citations.features import IndexFeatures, Query

__all__ = [
    "SECTION_KINDS", "history_features", "section_features", "recent_anchors", "bib_local", "recent_neighbours",
    "citing_rhythm", "cited_windows", "hist_words", "hist_lexical",
]

# The words around earlier citations are compared with the context lexically only (``hist_words``, ``hist_lex``).
# An encoder cosine with those windows was a feature until measured: each window costs ~20-26 ms on a laptop core
# (a request at a new place in a document met ~5 new ones: p50 196 ms against 68 ms without), and the same ranker
# scored 42.4% / 65.5% on the dev set with the 8 most recent windows embedded, 42.2% / 65.5% with none.

#: The lexical history features look this far back (characters around an earlier citation).
_HIST_SEEN = 400

# What a section is for, from words of its title (shared/train: 28% of the cites in introductions re-cite an entry,
# 67% in experiments and results); checked in this order, so "Background and Results" counts as related work.
SECTION_KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("query_section_intro", ("introduc", "overview", "motivation")),
    ("query_section_related", ("related", "background", "prior work", "previous work", "literature", "preliminar",
                               "state of the art")),
    ("query_section_results", ("experiment", "result", "evaluat", "empirical", "simulation", "setup", "dataset",
                               "benchmark", "numerical")),
    ("query_section_closing", ("conclu", "discussion", "future", "limitation", "summary", "outlook")),
)


def history_features(query: Query, fx: IndexFeatures, n: int) -> dict[str, np.ndarray]:
    """Re-citation, co-citation and .bib-order features from the earlier cite commands."""
    count = np.zeros(n, np.float32)
    last_cmd = np.full(n, -1, np.int64)
    last_off = np.full(n, -1, np.int64)
    first_seen: list[int] = []  # positions of entries in order of first citation
    seen: set[int] = set()
    for ordinal, cite in enumerate(query.history):
        for key in cite.keys:
            i = fx.key_pos.get(key)
            if i is None:
                continue
            count[i] += 1
            last_cmd[i] = ordinal
            last_off[i] = cite.start
            if i not in seen:
                seen.add(i)
                first_seen.append(i)
    cited = (count > 0).astype(np.float32)
    n_cmds = len(query.history)
    recency = np.where(last_cmd >= 0, 1.0 / (1.0 + (n_cmds - 1 - last_cmd)), 0.0).astype(np.float32)
    near = np.where(last_off >= 0, np.exp(-(query.cursor - last_off) / 3000.0), 0.0).astype(np.float32)

    # Co-citation: entries that appeared in the same command as the keys of the last three commands.
    recent_keys = {k for cite in query.history[-3:] for k in cite.keys}
    cocite = np.zeros(n, np.float32)
    if recent_keys:
        together: Counter[str] = Counter()
        for cite in query.history[:-1]:
            if len(cite.keys) > 1 and recent_keys.intersection(cite.keys):
                together.update(k for k in cite.keys if k not in recent_keys)
        for key, c in together.items():
            i = fx.key_pos.get(key)
            if i is not None:
                cocite[i] = math.log1p(c)

    # .bib order: is the document introducing entries in the order they stand in the .bib?
    uncited = 1.0 - cited
    bib_next = np.zeros(n, np.float32)
    bib_near = np.zeros(n, np.float32)
    order = 0.0
    if first_seen:
        steps = [b - a for a, b in zip(first_seen, first_seen[1:])]
        if steps:
            order = sum(1 for s in steps if 0 < s <= 3) / len(steps)
        last_new = first_seen[-1]
        after = np.arange(n) - last_new
        bib_near = np.where((after > 0) & (uncited > 0), np.exp(-np.abs(after - 1) / 3.0), 0.0).astype(np.float32)
        candidates = np.nonzero((after > 0) & (uncited > 0))[0]
        if candidates.size:
            bib_next[candidates[0]] = 1.0
    elif n:
        bib_next[0] = 1.0  # nothing cited yet: the first entry of the .bib
    progress = len(seen) / max(n, 1)
    return {
        "cited": cited,
        "cited_log_count": np.log1p(count),
        "cited_recency": recency,
        "cited_near": near,
        "cocite": cocite,
        "uncited_x_progress": uncited * progress,
        "bib_next": bib_next,
        "bib_near": bib_near,
        "bib_next_x_order": bib_next * order,
        "bib_near_x_order": bib_near * order,
    }


@dataclass(frozen=True)
class CitedWindow:
    """An earlier cite command with words around it, and the entry positions it cites."""

    positions: list[int]
    window: str


def cited_windows(query: Query, fx: IndexFeatures) -> list[CitedWindow]:
    """The last ``_HIST_SEEN`` cite commands that cite an entry of ``fx`` and have words around them, oldest first
    (computed once per query for the history-word features)."""
    out: list[CitedWindow] = []
    for cite in query.history[-_HIST_SEEN:]:
        positions = [fx.key_pos[k] for k in cite.keys if k in fx.key_pos]
        if positions and cite.window:
            out.append(CitedWindow(positions, cite.window))
    return out


@lru_cache(maxsize=4096)  # a window is a few hundred characters: a few MB at most
def _window_words(window: str) -> frozenset[str]:
    return frozenset(tokenize(window))


def hist_words(cited: Sequence[CitedWindow], near: set[str], n: int) -> np.ndarray:
    """Max share of the words near the cursor that also stand around one earlier citation of each entry."""
    out = np.zeros(n, np.float32)
    if not near:
        return out
    for c in cited:
        share = len(near.intersection(_window_words(c.window))) / len(near)
        for i in c.positions:
            if share > out[i]:
                out[i] = share
    return out


def hist_lexical(query: Query, cited: Sequence[CitedWindow], n: int) -> np.ndarray:
    """Idf-weighted share of the context's words that stand around some earlier citation of each entry.

    Why: the author describes an entry in the same words each time ("the transformer", "our simulator"); the idf comes
    from the document's own citation windows, so words around every citation ("model", "data") weigh little.
    """
    out = np.zeros(n, np.float32)
    owners: list[tuple[list[int], frozenset[str]]] = []
    df: Counter[str] = Counter()
    for c in cited:
        words = _window_words(c.window)
        owners.append((c.positions, words))
        df.update(words)
    context = set(tokenize(query.context_text))
    if not owners or not context:
        return out
    total = len(owners)
    idf = {w: math.log(1.0 + total / (1.0 + df.get(w, 0))) for w in context}
    norm = sum(idf.values())
    union: dict[int, set[str]] = {}
    for idx, words in owners:
        shared = context & words
        for i in idx:
            union.setdefault(i, set()).update(shared)
    for i, words in union.items():
        out[i] = sum(idf[w] for w in words) / norm
    return out


def recent_anchors(query: Query, fx: IndexFeatures) -> list[int]:
    """Entry positions cited by the last three cite commands (what "the entries cited just before" means below)."""
    return sorted({fx.key_pos[k] for cite in query.history[-3:] for k in cite.keys if k in fx.key_pos})


def bib_local(anchors: list[int], n: int) -> np.ndarray:
    """Closeness in the .bib to the entries of the last three cite commands: entries added to a .bib together are
    often cited together (exports grouped by collection, files grown one section at a time)."""
    if not anchors:
        return np.zeros(n, np.float32)
    positions = np.arange(n)
    dist = np.min(np.abs(positions[:, None] - np.array(anchors)[None, :]), axis=1)
    return np.where(dist > 0, np.exp(-(dist - 1) / 3.0), 0.0).astype(np.float32)


def recent_neighbours(anchors: list[int], fx: IndexFeatures, n: int) -> tuple[np.ndarray, np.ndarray]:
    """How close each entry is in topic (title embedding) and authorship to the entries cited just before: a run of
    citations in a related-work paragraph tends to stay on one subject and one group's papers."""
    sim = np.zeros(n, np.float32)
    author = np.zeros(n, np.float32)
    if not anchors:
        return sim, author
    cos = fx.emb @ fx.emb[anchors].T  # n x anchors
    cos[anchors, np.arange(len(anchors))] = -1.0  # an entry is not its own neighbour
    sim = np.maximum(cos.max(axis=1), 0.0).astype(np.float32)
    names = frozenset().union(*(fx.author_tokens[i] for i in anchors))
    if names:
        author = np.array([1.0 if toks & names else 0.0 for toks in fx.author_tokens], np.float32)
        for i in anchors:  # only other entries' authors count
            others = frozenset().union(*(fx.author_tokens[j] for j in anchors if j != i))
            author[i] = 1.0 if fx.author_tokens[i] & others else 0.0
    return sim, author


def citing_rhythm(query: Query) -> tuple[float, float]:
    """Is the author introducing new references here (a related-work run: each recent cite brought a new entry, cites
    are dense) or pointing back to ones already discussed? Query-level numbers the ranker weighs cited entries by."""
    seen: set[str] = set()
    introduced: list[bool] = []
    for cite in query.history:
        introduced.append(any(k not in seen for k in cite.keys))
        seen.update(cite.keys)
    recent = introduced[-5:]
    new_rate = sum(recent) / len(recent) if recent else 1.0
    dense = sum(1 for cite in query.history[-50:] if query.cursor - cite.start <= 1500)
    return new_rate, math.log1p(dense)


def section_features(query: Query, fx: IndexFeatures, n: int) -> dict[str, np.ndarray]:
    """Was the entry cited in this section / under this heading / in this paragraph, and what is the section for."""
    outline = query.outline
    spans = {
        "cited_in_section": outline.section_start,
        "cited_in_subsection": outline.subsection_start,
        "cited_in_paragraph": outline.paragraph_start,
    }
    out = {name: np.zeros(n, np.float32) for name in spans}
    in_section = 0
    for cite in reversed(query.history):
        if cite.start < outline.section_start:
            break
        in_section += 1
        for name, start in spans.items():
            if cite.start >= start:
                for key in cite.keys:
                    pos = fx.key_pos.get(key)
                    if pos is not None:
                        out[name][pos] = 1.0
    out["query_section_cites"] = np.full(n, math.log1p(in_section), np.float32)
    title = outline.section_title.lower()
    kind = next((name for name, words in SECTION_KINDS if any(w in title for w in words)), None)
    for name, _ in SECTION_KINDS:
        out[name] = np.full(n, 1.0 if name == kind else 0.0, np.float32)
    heading_words = " ".join(dict.fromkeys((outline.section_title, outline.subsection_title)))
    out["bm25_heading"] = np.log1p(fx.bm25.scores(heading_words)) if heading_words.strip() else np.zeros(n, np.float32)
    return out
