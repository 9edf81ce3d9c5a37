"""Everything that knows bibliographies, ranking, models and resolution (imported as ``startref.citations``).

The public surface is re-exported here. Heavy parts (the engine, which imports torch) load on first access, so
``startref index refs.bib`` or the server's error handling never pay for a model import.
"""

from __future__ import annotations

import importlib
from typing import Any

from .bibindex import BibIndex, BibProblem, Entry, describe_index, load_bibliography, parse_bib_text
from .errors import BibliographyError, ModelError, ModelNotFoundError, StartrefError
from .resolver import Resolution, Resolver
from .suggestion import AnnotateEdit, AnnotateResult, BibliographySummary, Candidate, Edit, Suggestion

_LAZY = {
    "Engine": "engine",
    "EngineConfig": "engine",
    "evaluate_document": "evaluation",
    "EvalReport": "evaluation",
    "train_ranker": "training",
    "LinearRanker": "ranker",
    "load_generator": "generation",
    "load_encoder": "encoder",
}

__all__ = [
    "BibIndex",
    "BibProblem",
    "Entry",
    "describe_index",
    "load_bibliography",
    "parse_bib_text",
    "StartrefError",
    "BibliographyError",
    "ModelError",
    "ModelNotFoundError",
    "Resolution",
    "Resolver",
    "Candidate",
    "Edit",
    "BibliographySummary",
    "Suggestion",
    "AnnotateEdit",
    "AnnotateResult",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'startref.citations' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)
