"""The engine's configuration and the values its ranking hands on.

Why a module of its own: the LM stage, the library merge, the cross-encoder, evaluation and annotation all
take ``RankedEntry`` rows; they can name the type here without importing the ``Engine`` module.
``startref.citations.engine`` re-exports all three, so either import works.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from startref.citations.bibindex import BibIndex, Entry
from startref.citations.features import Query
from startref.filerules import ANY_FILE, FileRules
from startref.latex.context import CursorContext

__all__ = ["EngineConfig", "RankedEntry", "CursorRanking"]


def softmax(x: np.ndarray) -> np.ndarray:
    """Probabilities of a list's logits (an empty list stays empty)."""
    if x.size == 0:
        return x
    z = np.exp(x - x.max())
    return z / z.sum()


@dataclass(frozen=True)
class EngineConfig:
    """How the engine is built; every field has a working embedded default."""

    generator: str | None = None
    use_generator: bool | None = None
    device: str = "cpu"
    encoder: str | None = None
    model_dir: str | None = None
    lm_weight: float | None = None
    lm_mode: str = "score"
    #: Which files a request may make the engine read (the server passes ``FileRules.server(...)``): every path,
    #: however it is named (``bib``, ``path``, ``\bibliography``, ``\input``, ``% !TEX root``), goes through it.
    file_rules: FileRules = ANY_FILE
    #: A model server for the LM stage (a ``startref.citations.remote.RemoteConfig``); None = in-process LM.
    remote: Any = None
    #: Library sources (a .bib, a zotero.sqlite, "zotero"): ranked with the paper's .bib (``citations.library``).
    library: tuple[str, ...] = ()


@dataclass(frozen=True)
class RankedEntry:
    """An entry with its ranker score (a logit) and probability within the list; ``gates`` are the list's
    query-level gates, which an explanation of this one row needs."""

    entry: Entry
    logit: float
    prob: float
    features: np.ndarray
    gates: np.ndarray
    generated: str | None = None
    #: False for a library entry the paper's .bib lacks; ``source`` names the file (or database) it comes from.
    in_bib: bool = True
    source: str = ""


@dataclass
class CursorRanking:
    """What ``rank_at`` found: the cursor's context, the query, the bibliography and every entry best first."""

    context: CursorContext
    query: Query
    index: BibIndex
    ranked: list[RankedEntry]
    unresolved: list[str]
    started: float
    timing_ms: dict[str, float]
    #: Why the LM stage was skipped (model server down or slow); the order is then the ranker's alone.
    generator_error: str | None = None
    #: Whether library entries were ranked in (those rows have ``in_bib`` False), and why not when asked for.
    library_used: bool = False
    warnings: list[str] = field(default_factory=list)
