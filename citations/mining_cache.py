"""Mined training features, one file per paper, reused between training runs.

Why: mining (one encoder call per case, features through the request path) is most of ``startref train``'s time —
tens of minutes for the shared corpus on two cores — while fitting a ranker on the mined features takes minutes. A
learning curve, an ablation or a second seed re-fits on the same features; with a cache they do not re-mine.

A paper's file is valid only for the exact inputs that produced it: the paper's flattened text and bibliography,
the encoder (its adapter digest), the feature names, the sampling seed, the number of cases and the drafting share,
and ``MINING_VERSION`` (bump it when a feature's definition changes without changing its name). Anything else
re-mines that paper. Files are written atomically (temporary file, then rename), so an interrupted run leaves no
half file behind.

Drafting cases: someone writing left to right has nothing after the cursor. For a seeded share of each paper's cases
the features are also computed with the text after the cursor removed; a fit may use those instead of the full ones
(``drafting=True``) so the ranker learns both situations.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from startref.citations.encoder import SentenceEncoder
from startref.citations.evaluation import Case, Paper, mine_cases
from startref.citations.features import (
    FEATURE_NAMES, IndexFeatures, Query, compute_features, index_features, query_encoder_texts,
)

__all__ = [
    "MINING_VERSION", "MinedPaper", "mine_paper", "cached_mine", "paper_fingerprint", "features_batched", "drafting_positions",
]

MINING_VERSION = 2  # 2: masking with all cite commands (server path), drafting variants


@dataclass
class MinedPaper:
    """The mined cases of one paper: per case the feature matrix and gold mask; ``drafting`` maps a case's position
    to its features with nothing after the cursor (only for the sampled drafting share)."""

    name: str
    feats: list[np.ndarray]
    golds: list[np.ndarray]
    drafting: dict[int, np.ndarray]

    def groups(self, drafting: bool = False) -> list[tuple[np.ndarray, np.ndarray]]:
        """(features, gold) per case; with ``drafting`` the drafting share's cases see nothing after the cursor."""
        return [(self.drafting.get(i, f) if drafting else f, g) for i, (f, g) in enumerate(zip(self.feats, self.golds))]


def _sample(cases: list[Case], name: str, seed: int, max_cases: int) -> list[Case]:
    rng = random.Random(f"{seed}:{name}")  # per paper: the sample does not depend on order or split
    if len(cases) > max_cases:
        cases = sorted(rng.sample(cases, max_cases), key=lambda c: c.ordinal)
    return cases


def drafting_positions(n: int, name: str, seed: int, share: float) -> list[int]:
    """The seeded positions (of ``n`` cases) that also get drafting features."""
    k = int(round(share * n))
    return sorted(random.Random(f"{seed}:drafting:{name}").sample(range(n), k)) if k else []


def mine_paper(
    name: str, loaded: Paper, encoder: SentenceEncoder, *, max_cases: int = 300, seed: int = 0, drafting_share: float = 0.0
) -> MinedPaper:
    """Mine one paper with the leave-one-out protocol (the sample of ``train_ranker``)."""
    cases = _sample(list(mine_cases(loaded.text, loaded.index)), name, seed, max_cases)
    fx = index_features(loaded.index, encoder)
    queries = [c.query for c in cases]
    positions = drafting_positions(len(cases), name, seed, drafting_share)
    all_feats = features_batched([*queries, *(replace(queries[i], after="") for i in positions)], fx, encoder)
    feats = all_feats[: len(queries)]
    golds = [np.array([k in c.gold for k in fx.keys], dtype=bool) for c in cases]
    drafting = dict(zip(positions, all_feats[len(queries):]))
    return MinedPaper(name, feats, golds, drafting)


def features_batched(queries: Sequence[Query], fx: IndexFeatures, encoder: SentenceEncoder) -> list[np.ndarray]:
    """``compute_features`` of each query, with every text the encoder will see embedded first in one batched call
    (several times faster on CPU than one call per query; the features then read the encoder's cache)."""
    encoder.encode([t for q in queries for t in query_encoder_texts(q)])
    return [compute_features(q, fx, encoder) for q in queries]


def paper_fingerprint(
    name: str, loaded: Paper, encoder: SentenceEncoder, *, max_cases: int, seed: int, drafting_share: float
) -> str:
    """Digest of every input a paper's mined features depend on."""
    h = hashlib.sha256()
    h.update(loaded.text.encode("utf-8", "surrogatepass"))
    for entry in loaded.index.entries:
        # Everything of an entry the features can read, but not where its file lives: the same paper reached
        # through ../shared or /work/shared has the same features.
        described = replace(entry, file=os.path.basename(entry.file))
        h.update(repr((described, entry.keywords, entry.abstract, sorted(entry.fields.items()))).encode(
            "utf-8", "surrogatepass"))
    h.update(json.dumps([MINING_VERSION, name, encoder.name, list(FEATURE_NAMES), max_cases, seed,
                         round(drafting_share, 6)]).encode())
    return h.hexdigest()[:20]


def _save(path: Path, mined: MinedPaper, fingerprint: str) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    arrays: dict[str, np.ndarray] = {"fingerprint": np.array(fingerprint)}
    if mined.feats:
        arrays["feats"] = np.stack(mined.feats).astype(np.float32)
        arrays["golds"] = np.stack(mined.golds)
    idx = sorted(mined.drafting)
    arrays["drafting_idx"] = np.array(idx, dtype=np.int64)
    if idx:
        arrays["drafting"] = np.stack([mined.drafting[i] for i in idx]).astype(np.float32)
    with open(tmp, "wb") as fh:
        np.savez(fh, **arrays)
    os.replace(tmp, path)


def _load(path: Path, name: str, fingerprint: str) -> MinedPaper | None:
    try:
        with np.load(path) as data:
            if str(data["fingerprint"]) != fingerprint:
                return None
            feats = list(data["feats"]) if "feats" in data else []
            golds = list(data["golds"]) if "golds" in data else []
            idx = [int(i) for i in data["drafting_idx"]]
            drafting = dict(zip(idx, data["drafting"])) if idx else {}
    except (OSError, ValueError, KeyError):
        return None
    return MinedPaper(name, feats, golds, drafting)


def cached_mine(
    papers: Sequence[tuple[str, Paper]],
    encoder: SentenceEncoder | Callable[[str], SentenceEncoder],
    cache_dir: Path | None,
    *,
    max_cases: int = 300,
    seed: int = 0,
    drafting_share: float = 0.0,
    progress: Callable[[str], None] | None = None,
    mine_missing: bool = True,
) -> Iterator[MinedPaper]:
    """Each paper's mined cases, from ``cache_dir`` when its file matches, else mined (and stored there); with
    ``mine_missing=False`` a paper without a matching file is skipped (an experiment on what is mined so far)."""
    if cache_dir is not None:
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
    for name, loaded in papers:
        if len(loaded.index) < 2:
            continue
        enc = encoder if isinstance(encoder, SentenceEncoder) else encoder(name)
        fp = paper_fingerprint(name, loaded, enc, max_cases=max_cases, seed=seed, drafting_share=drafting_share)
        path = Path(cache_dir) / f"{name}.npz" if cache_dir is not None else None
        mined = _load(path, name, fp) if path is not None and path.is_file() else None
        source = "cache"
        if mined is None and not mine_missing:
            continue
        if mined is None:
            mined = mine_paper(name, loaded, enc, max_cases=max_cases, seed=seed, drafting_share=drafting_share)
            source = "mined"
            if path is not None:
                _save(path, mined, fp)
        if progress:
            progress(f"{name}: {len(mined.feats)} cases ({len(mined.drafting)} drafting), "
                     f"{len(loaded.index)} entries [{source}]")
        if mined.feats:
            yield mined
