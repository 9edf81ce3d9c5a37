"""The LM stage: Galactica-style generation at the cursor, resolved against the bibliography, used to re-rank.

Why it re-ranks instead of deciding: a small LM knows few papers by name, and a large one may invent them. So the
LM (1) scores the retrieval stage's top titles as continuations of ``... [START_REF]`` — its knowledge of what
fits here — and (2) writes its own citation text, which only counts when the resolver maps it to an existing
entry; text that maps to nothing is reported as ``unresolved`` (a possibly missing reference), never as a key.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from startref.citations.bibindex import BibIndex
from startref.citations.resolver import Resolver
from startref.latex.cites import CiteCommand
from startref.latex.commands import syntax_with_user_wrappers
from startref.latex.plaintext import galactica_ref, to_plain_text

if TYPE_CHECKING:
    from startref.citations.engine import RankedEntry

__all__ = ["lm_prompt", "lm_rerank", "RERANK_TOP", "LM_MODES"]

RERANK_TOP = 10
LM_MODES = ("score", "constrained", "free")
_PROMPT_CHARS = 800
_RESOLVERS: dict[str, Resolver] = {}
_RESOLVERS_LOCK = threading.Lock()


def _resolver(index: BibIndex) -> Resolver:
    with _RESOLVERS_LOCK:
        r = _RESOLVERS.get(index.fingerprint)
        if r is None:
            r = _RESOLVERS[index.fingerprint] = Resolver(index)
            while len(_RESOLVERS) > 16:
                _RESOLVERS.pop(next(iter(_RESOLVERS)))
        return r


def lm_prompt(text: str, cursor: int, index: BibIndex) -> str:
    """Plain text before the cursor, earlier cites written as ``[START_REF] Title, Author[END_REF]``."""
    window = text[max(0, cursor - _PROMPT_CHARS) : cursor]
    cut = window.find("\n")
    if cursor > _PROMPT_CHARS and 0 <= cut < 200:
        window = window[cut + 1 :]

    def render(cite: CiteCommand) -> str:
        refs = []
        for key in cite.keys:
            entry = index.get(key)
            if entry is not None and entry.title:
                refs.append(galactica_ref(entry.title, entry.first_author))
        return " ".join(refs)

    return to_plain_text(window, render, syntax=syntax_with_user_wrappers(window)).rstrip()


def lm_rerank(
    generator: Any,
    text: str,
    cursor: int,
    ranked: Sequence["RankedEntry"],
    index: BibIndex,
    *,
    k: int = 5,
    weight: float = 2.0,
    mode: str = "score",
    top: int = RERANK_TOP,
) -> tuple[list["RankedEntry"], list[str]]:
    """Re-rank the first ``top`` entries by ranker logit + ``weight`` x LM evidence; return (ranking, unresolved).

    LM evidence for an entry is the z-scored mean log-likelihood of "Title, Author" after the prompt, plus 1 when
    the LM's own generation names it. ``mode``: "score" only scores the head; "constrained" also lets the LM write
    k titles with beam search over a token trie of the bibliography's titles (it can only write existing titles);
    "free" lets it write one citation freely (greedy), resolved by the resolver — what matches nothing is returned
    as unresolved.
    """
    if mode not in LM_MODES:
        raise ValueError(f"unknown LM mode {mode!r}; one of {', '.join(LM_MODES)}")
    from startref.citations.generation import GenerationOptions

    if not ranked:
        return list(ranked), []
    prompt = lm_prompt(text, cursor, index)
    unresolved: list[str] = []
    generated_for: dict[str, str] = {}
    if mode == "constrained":
        from startref.citations.title_trie import TitleChoice

        titles = [TitleChoice(e.key, f"{e.title}, {e.first_author}".strip(", ")) for e in index.entries if e.title]
        options = GenerationOptions(num_return=k, num_beams=k, constrained=True)
        for gen in generator.generate(prompt, options, titles):
            if gen.key is not None:
                generated_for.setdefault(gen.key, gen.text)
    elif mode == "free":
        options = GenerationOptions(num_return=1, num_beams=1, max_new_tokens=40)
        resolver = _resolver(index)
        for gen in generator.generate(prompt, options):
            res = resolver.resolve(gen.text)
            if res.entry is None:
                unresolved.append(gen.text)
            else:
                generated_for.setdefault(res.entry.key, gen.text)
    # The head: the retrieval stage's best entries, plus any entry the LM wrote itself (it exists: it resolved).
    head = list(ranked[:top]) + [r for r in ranked[top:] if r.entry.key in generated_for]
    rest = [r for r in ranked[top:] if r.entry.key not in generated_for]
    continuations = [f"{r.entry.title}, {r.entry.first_author}".strip(", ") for r in head]
    lm = np.asarray(generator.score(prompt, continuations), dtype=np.float64)
    sd = lm.std()
    evidence = (lm - lm.mean()) / sd if sd > 1e-9 else np.zeros_like(lm)
    for i, r in enumerate(head):
        if r.entry.key in generated_for:
            evidence[i] += 1.0
    logits = np.array([r.logit for r in head]) + weight * evidence
    order = np.argsort(-logits, kind="stable")
    mass = float(sum(r.prob for r in head))
    z = np.exp(logits[order] - logits[order].max())
    new_probs = mass * z / z.sum()
    reranked = [
        replace(head[i], logit=float(logits[i]), prob=float(p), generated=generated_for.get(head[i].entry.key))
        for i, p in zip(order, new_probs)
    ]
    return reranked + rest, unresolved
