"""Human-readable reasons for a candidate ("cited 3 times earlier; title matches 'residual'").

Why from the features: the ranker says how much each feature moved this entry (value x weight for the linear part,
gradient x value for the hidden layer); we phrase the largest positive contributions, the way a colleague would
justify the pick.
"""

from __future__ import annotations

import numpy as np

from startref.citations.bibindex import Entry
from startref.citations.features import FEATURE_NAMES, Query
from startref.citations.ranker import Ranker
from startref.citations.text import tokenize

__all__ = ["explain"]

_F = {name: i for i, name in enumerate(FEATURE_NAMES)}


def _shared_words(entry: Entry, query: Query, limit: int = 3) -> list[str]:
    title_words = set(tokenize(entry.title))
    seen: list[str] = []
    for word in reversed(tokenize(query.context_text)):
        if word in title_words and word not in seen:
            seen.append(word)
        if len(seen) >= limit:
            break
    return seen


def explain(
    features: np.ndarray, gates: np.ndarray, ranker: Ranker, entry: Entry, query: Query, max_reasons: int = 3
) -> str:
    """The top reasons, most important first, joined by '; ' ("" when nothing stands out); ``features`` is the
    entry's row, ``gates`` the query-level gates of the whole candidate list (``query_gates`` in ranker.py)."""
    contrib = ranker.contributions(features[None, :], gates)[0]
    reasons: list[tuple[float, str]] = []

    def add(names: tuple[str, ...], text: str) -> None:
        value = float(sum(contrib[_F[n]] for n in names))
        if value > 0.05 and text:
            reasons.append((value, text))

    count = int(round(np.expm1(features[_F["cited_log_count"]])))
    if count:
        since = features[_F["cited_recency"]]
        ago = int(round(1 / since - 1)) if since > 0 else 0
        when = "in the previous cite" if ago == 0 else f"{ago} cites ago"
        add(("cited", "cited_log_count", "cited_recency", "cited_near"), f"cited {count} time{'s' if count > 1 else ''} earlier (last {when})")
    add(("hist_words", "hist_lex"), "the text here resembles the text around its earlier citations")
    if features[_F["cited_in_paragraph"]] > 0:
        add(("cited_in_paragraph", "cited_in_subsection", "cited_in_section"), "cited earlier in this paragraph")
    elif features[_F["cited_in_section"]] > 0:
        add(("cited_in_subsection", "cited_in_section"), "cited earlier in this section")
    add(("bm25_heading",), "title matches the section's heading")
    words = _shared_words(entry, query)
    if words:
        add(("bm25", "bm25_z", "bm25_near", "bm25_sentence", "bm25_last", "bm25_after"), "title matches " + ", ".join(f"'{w}'" for w in words))
    add(("enc_sim", "enc_z", "enc_top", "enc_sentence", "enc_near"), "title is semantically close to the sentence")
    if features[_F["author_near"]] > 0:
        add(("author_near", "author_adjacent"), f"author {entry.first_author} is named next to the cursor")
    if features[_F["acronym_near"]] > 0:
        add(("acronym_near",), f"'{entry.title.split(':', 1)[0].strip()}' is named next to the cursor")
    add(("key_near",), f"words of its key '{entry.key}' stand next to the cursor")
    if features[_F["year_near"]] > 0:
        add(("year_near",), f"year {entry.year} is named next to the cursor")
    add(("cocite",), "often cited together with the entries cited just before")
    add(("bib_next", "bib_near", "bib_next_x_order", "bib_near_x_order"), "next uncited entry in your .bib's order")
    add(("bib_local",), "stands in your .bib next to the entries cited just before")
    reasons.sort(key=lambda r: -r[0])
    return "; ".join(text for _, text in reasons[:max_reasons])
