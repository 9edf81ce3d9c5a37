"""An optional cross-encoder that re-orders the ranker's top few suggestions.

Why: the ranker compares a context with each title through one vector each (and through word overlap), so a new
citation whose nearby words share nothing with the title is often missed. A cross-encoder reads the context and a
candidate's title together, word against word, which costs one network call per candidate: affordable on one CPU
core only for the top few (``k``), with short inputs (``lists.pair_texts``).

The final order of the top ``k``: ranker logit + ``weight`` x cross-encoder logit; entries below ``k`` keep their
place, so the re-ranker can only move an entry the ranker already put in its top ``k``. ``k`` and ``weight`` are
chosen on training papers held out from the cross-encoder's fit and stored beside the weights (``rerank.json``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from startref.citations.errors import ModelError, ModelNotFoundError
from startref.citations.features import Query
from startref.fileio import atomic_write_bytes

if TYPE_CHECKING:
    from startref.citations.engine import RankedEntry

__all__ = ["RERANK_FILE", "HEAD_FILE", "RerankSettings", "CrossEncoder", "build_scorer", "rerank_top", "combined_order"]

RERANK_FILE = "rerank.json"
MAX_TOKENS = 128


@dataclass(frozen=True)
class RerankSettings:
    """How the cross-encoder's scores join the ranker's: over the top ``k`` only, with ``weight``."""

    k: int = 5
    weight: float = 1.0
    max_tokens: int = MAX_TOKENS


def combined_order(ranker_scores: np.ndarray, ce_scores: np.ndarray, weight: float) -> np.ndarray:
    """Positions 0..k-1 of the top ``k`` (given best first by the ranker) in their new order; ties keep the
    ranker's order."""
    total = np.asarray(ranker_scores, np.float64) + weight * np.asarray(ce_scores, np.float64)
    return np.argsort(-total, kind="stable")


HEAD_FILE = "rerank_head.safetensors"


def build_scorer(base: str | Path, layers: int | None = None):  # type: ignore[no-untyped-def]
    """The network: a BERT-style encoder over the (context, candidate) pair, mean-pooled over its tokens, and one
    linear output. Why mean pooling and not ``AutoModelForSequenceClassification``'s [CLS] pooler: MiniLM was trained
    for mean pooling; its pooler gives every pair almost the same vector, and a fine-tune from there barely moved in
    100 steps (every logit equal to three decimals), while the mean-pooled head separates candidates from step one.
    ``layers``: keep only the first ``layers`` of ``base`` (a new model); None: as saved (a trained one)."""
    import torch
    from transformers import AutoModel

    class Scorer(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            extra = {"num_hidden_layers": layers} if layers else {}
            self.encoder = AutoModel.from_pretrained(str(base), local_files_only=True, add_pooling_layer=False,
                                                     **extra)
            self.head = torch.nn.Linear(self.encoder.config.hidden_size, 1)
            head = Path(base) / HEAD_FILE
            if head.is_file():
                from safetensors.torch import load_file

                self.head.load_state_dict(load_file(str(head)))

        def forward(self, input_ids, attention_mask, **rest):  # type: ignore[no-untyped-def]
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask, **rest).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            return self.head(pooled)[:, 0]

        def save(self, path: Path) -> None:
            from safetensors.torch import save_file

            self.encoder.save_pretrained(str(path), safe_serialization=True)
            save_file({k: v.contiguous() for k, v in self.head.state_dict().items()}, str(path / HEAD_FILE))

    return Scorer()


class CrossEncoder:
    """The trained scorer of (context, candidate) pairs (``build_scorer``); thread-safe. ``path`` holds the
    weights, the tokenizer, the head and ``rerank.json``."""

    def __init__(self, path: str | Path, device: str = "cpu") -> None:
        path = Path(path)
        if not (path / "config.json").is_file() or not (path / HEAD_FILE).is_file():
            raise ModelNotFoundError(f"{path}: no cross-encoder here (config.json or {HEAD_FILE} missing); train "
                                     "one with scripts/train_cross_encoder.py")
        try:
            import torch
            from transformers import AutoTokenizer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            hf_logging.set_verbosity_error()
            self._torch = torch
            self._tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
            self._model = build_scorer(path)
        except (OSError, ValueError, RuntimeError) as exc:
            raise ModelError(f"{path}: cannot load the cross-encoder: {exc}") from exc
        self._model.to(device).eval()
        self.device = device
        self.path = path
        self.settings = read_settings(path)
        self._lock = threading.Lock()

    def score(self, query: str, candidates: Sequence[str]) -> np.ndarray:
        """One logit per candidate (higher = more likely the cited one)."""
        if not candidates:
            return np.zeros(0, np.float32)
        batch = self._tokenizer([query] * len(candidates), list(candidates), truncation="longest_first",
                                max_length=self.settings.max_tokens, padding=True, return_tensors="pt")
        with self._lock, self._torch.inference_mode():
            logits = self._model(**{k: v.to(self.device) for k, v in batch.items()})
        return logits.float().cpu().numpy()

    def rerank(self, ranked: list["RankedEntry"], query: Query, k: int | None = None,
               weight: float | None = None) -> list["RankedEntry"]:
        """``ranked`` with its top ``k`` re-ordered (see ``rerank_top``)."""
        return rerank_top(self, ranked, query, self.settings.k if k is None else k,
                          self.settings.weight if weight is None else weight)


def rerank_top(model: CrossEncoder, ranked: list["RankedEntry"], query: Query, k: int,
               weight: float) -> list["RankedEntry"]:
    """The top ``k`` of ``ranked`` ordered by ranker logit + ``weight`` x cross-encoder logit; the rest unchanged.
    Each moved entry keeps its own logit and probability (what the explanation of a suggestion reads)."""
    from startref.citations.cross_encoder.lists import pair_texts

    top = ranked[:k]
    if len(top) < 2 or weight == 0:
        return ranked
    context, texts = pair_texts(query, [r.entry for r in top])
    order = combined_order(np.array([r.logit for r in top]), model.score(context, texts), weight)
    return [top[i] for i in order] + ranked[k:]


def read_settings(path: Path) -> RerankSettings:
    """``rerank.json`` beside the weights, else the defaults."""
    file = Path(path) / RERANK_FILE
    if not file.is_file():
        return RerankSettings()
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        return replace(RerankSettings(), **{k: data[k] for k in ("k", "weight", "max_tokens") if k in data})
    except (OSError, ValueError, TypeError) as exc:
        raise ModelError(f"{file}: not a re-ranker settings file: {exc}") from exc


def write_settings(path: Path, settings: RerankSettings, extra: dict[str, object] | None = None) -> None:
    """Atomically write ``rerank.json`` (``extra``: how the model was trained and tuned, for the record)."""
    data = {"k": settings.k, "weight": settings.weight, "max_tokens": settings.max_tokens, **(extra or {})}
    atomic_write_bytes(Path(path) / RERANK_FILE, (json.dumps(data, indent=1) + "\n").encode("utf-8"))
