"""Training lists for the cross-encoder re-ranker: (context, gold entry, the shipped ranker's hard negatives).

Why lists built from the mined caches: the cross-encoder only ever re-orders the ranker's top few, so what it has to
learn is telling the cited entry from the entries the ranker confuses it with, not from random ones. The mined
feature caches (``scripts/mine_features.py``) already hold every training case's feature matrix; scoring them with
the shipped ranker gives the hard negatives without running the encoder again. The cases' texts are rebuilt with the
same sampling as the mining (``mining_cache._sample``, ``drafting_positions``), and a paper whose rebuilt cases do not
match its cached matrix (another corpus version) is skipped, never mixed up.

Texts are short on purpose (``pair_texts``): the re-ranker runs on the hotkey's path, on one CPU core.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from startref.citations.bibindex import Entry
from startref.citations.evaluation import Paper, mine_cases
from startref.citations.features import Query, entry_text
from startref.citations.mining_cache import _sample, drafting_positions
from startref.citations.ranker import Ranker

__all__ = ["CaseList", "query_text", "candidate_text", "pair_texts", "case_lists", "save_lists", "load_lists",
           "held_out"]

#: Characters of context the cross-encoder sees: the end of the text before the cursor and the start of the text
#: after it (about 50 + 20 tokens: with a title the pair fits in ``MAX_TOKENS`` of the re-ranker).
BEFORE_CHARS = 240
AFTER_CHARS = 90
TITLE_CHARS = 160
CURSOR_MARK = "[CITE]"


def _tail(text: str, n: int) -> str:
    """The last ``n`` characters of ``text``, starting at a word."""
    text = " ".join(text.split())
    if len(text) <= n:
        return text
    cut = text[-n:]
    space = cut.find(" ")
    return cut[space + 1:] if 0 <= space < 30 else cut


def _head(text: str, n: int) -> str:
    text = " ".join(text.split())
    if len(text) <= n:
        return text
    cut = text[:n]
    space = cut.rfind(" ")
    return cut[:space] if space > n - 30 else cut


def query_text(before: str, after: str) -> str:
    """The context side of a pair: text before the cursor, a mark where the citation goes, text after."""
    return f"{_tail(before, BEFORE_CHARS)} {CURSOR_MARK} {_head(after, AFTER_CHARS)}".strip()


def candidate_text(entry: Entry) -> str:
    """The entry side of a pair: its title, then up to three authors' last names and the year (a context often
    names the authors: "as Smith et al. showed")."""
    authors = ", ".join(entry.authors[:3]) + (" et al." if len(entry.authors) > 3 else "")
    tail = " ".join(x for x in (authors, entry.year) if x)
    title = _head(entry_text(entry), TITLE_CHARS)
    return f"{title} | {tail}" if tail else title


def pair_texts(query: Query, entries: Sequence[Entry]) -> tuple[str, list[str]]:
    """The context text of ``query`` and the candidate text of each entry."""
    return query_text(query.before, query.after), [candidate_text(e) for e in entries]


@dataclass
class CaseList:
    """One training case: the context, the ranker's top candidates (best first) with their ranker scores, and
    which of them are cited. ``gold`` may be all False: the cited entry was not in the ranker's top."""

    paper: str
    drafting: bool
    query: str
    candidates: list[str]
    scores: list[float]
    gold: list[bool]


def _top(scores: np.ndarray, keep: np.ndarray, depth: int) -> np.ndarray:
    idx = np.nonzero(keep)[0]
    return idx[np.argsort(-scores[idx], kind="stable")][:depth]


def case_lists(
    name: str, loaded: Paper, feats: Sequence[np.ndarray], drafting: dict[int, np.ndarray], ranker: Ranker, *,
    max_cases: int = 300, seed: int = 0, drafting_share: float = 0.3, depth: int = 16,
) -> list[CaseList]:
    """The lists of one mined paper (default protocol for every case, and the drafting one for the drafting
    share): the ranker's ``depth`` best candidates of each. Empty when the rebuilt cases do not match the cache."""
    cases = _sample(list(mine_cases(loaded.text, loaded.index)), name, seed, max_cases)
    entries = loaded.index.entries
    if len(cases) != len(feats) or (feats and feats[0].shape[0] != len(entries)):
        return []
    positions = set(drafting_positions(len(cases), name, seed, drafting_share))
    if set(drafting) != positions:
        return []
    texts = [candidate_text(e) for e in entries]
    keys = [e.key for e in entries]
    out: list[CaseList] = []
    for i, case in enumerate(cases):
        keep = np.array([k not in case.query.exclude for k in keys])
        variants = [(False, feats[i], case.query.after)]
        if i in drafting:
            variants.append((True, drafting[i], ""))
        for is_drafting, f, after in variants:
            scores = ranker.score(f)
            top = _top(scores, keep, depth)
            out.append(CaseList(name, is_drafting, query_text(case.query.before, after), [texts[j] for j in top],
                                [float(scores[j]) for j in top], [keys[j] in case.gold for j in top]))
    return out


def held_out(name: str, share: float = 0.15, salt: str = "cross-encoder") -> bool:
    """Whether a training paper is kept out of the cross-encoder's fit (to choose K and the weight on): a seeded
    hash of its name, so the split does not depend on order or on which papers exist."""
    digest = hashlib.sha256(f"{salt}:{name}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < share


def save_lists(path: Path, lists: Sequence[CaseList]) -> None:
    """JSON lines, written atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as fh:
        for cl in lists:
            fh.write(json.dumps(asdict(cl), ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def load_lists(path: Path) -> list[CaseList]:
    with open(path, encoding="utf-8") as fh:
        return [CaseList(**json.loads(line)) for line in fh if line.strip()]


def mined_arrays(path: Path) -> tuple[list[np.ndarray], dict[int, np.ndarray]] | None:
    """The feature matrices and drafting variants of a mined cache file (its fingerprint is not checked here:
    ``case_lists`` checks that the rebuilt cases match instead)."""
    try:
        with np.load(path) as data:
            feats = list(data["feats"]) if "feats" in data else []
            idx = [int(i) for i in data["drafting_idx"]]
            drafting = dict(zip(idx, data["drafting"])) if idx else {}
    except (OSError, ValueError, KeyError):
        return None
    return feats, drafting


def corpus_lists(
    papers: Iterator[tuple[str, Paper]], cache: Path, ranker: Ranker, progress: Callable[[str], None] | None = None,
    **kw: object,
) -> list[CaseList]:
    """``case_lists`` of every paper that has a mined file in ``cache``."""
    out: list[CaseList] = []
    for name, loaded in papers:
        arrays = mined_arrays(Path(cache) / f"{name}.npz")
        if arrays is None:
            continue
        lists = case_lists(name, loaded, *arrays, ranker, **kw)  # type: ignore[arg-type]
        if progress:
            stale = not lists and bool(arrays[0])
            progress(f"{name}: {len(lists)} lists" + (" (cache does not match: skipped)" if stale else ""))
        out.extend(lists)
    return out
