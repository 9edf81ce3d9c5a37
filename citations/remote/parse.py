"""Reading ``/v1/completions`` answers: the text, and per-token log-probs in either of the two shapes servers use.

* OpenAI legacy / vLLM: ``logprobs: {"tokens": [...], "token_logprobs": [...], "text_offset": [...]}``;
* llama.cpp's server: ``logprobs: {"content": [{"token": ..., "logprob": ...}, ...]}`` (the chat-style list).

Why careful about offsets: a scoring request echoes prompt + continuation, and only the continuation's tokens count.
A token that straddles the boundary (rare: the continuation starts with a space) is counted with the continuation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from startref.citations.remote.errors import GeneratorRequestError

__all__ = ["TokenLogprob", "choices", "choice_text", "token_logprobs", "continuation_logprobs", "forced_logprobs",
           "FLOOR_LOGPROB"]

#: A token the server gave probability 0 (llama.cpp reports it as the lowest float) counts as this: finite, and
#: far below anything a real continuation scores per token.
FLOOR_LOGPROB = -50.0


@dataclass(frozen=True)
class TokenLogprob:
    text: str
    logprob: float | None
    offset: int | None = None
    id: int | None = None


def choices(body: Any) -> list[dict[str, Any]]:
    """The ``choices`` of a completion response, ordered by ``index``; a clear error if the shape is wrong."""
    if not isinstance(body, dict) or not isinstance(body.get("choices"), list) or not body["choices"]:
        raise GeneratorRequestError(f"the model server's answer has no choices: {str(body)[:200]}")
    found = [c for c in body["choices"] if isinstance(c, dict)]
    return sorted(found, key=lambda c: int(c.get("index", 0)))


def choice_text(choice: dict[str, Any]) -> str:
    text = choice.get("text")
    return text if isinstance(text, str) else ""


def _clean(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    if not math.isfinite(value) or value < FLOOR_LOGPROB:
        return FLOOR_LOGPROB
    return value


def token_logprobs(choice: dict[str, Any]) -> list[TokenLogprob]:
    """Every token of a choice with its log-prob (``None`` where the server has none, e.g. the first prompt token)."""
    logprobs = choice.get("logprobs")
    if not isinstance(logprobs, dict):
        return []
    if isinstance(logprobs.get("content"), list):  # llama.cpp
        return [TokenLogprob(str(t.get("token", "")), _clean(t.get("logprob")), None,
                             int(t["id"]) if isinstance(t.get("id"), int) else None)
                for t in logprobs["content"] if isinstance(t, dict)]
    tokens = logprobs.get("tokens") or []
    values = logprobs.get("token_logprobs") or []
    offsets = logprobs.get("text_offset") or [None] * len(tokens)
    return [TokenLogprob(str(t), _clean(v), o) for t, v, o in zip(tokens, values, offsets, strict=False)]


def continuation_logprobs(choice: dict[str, Any], prefix_chars: int) -> list[float]:
    """Log-probs of the echoed tokens that belong to the continuation, i.e. end after ``prefix_chars`` characters.

    Uses ``text_offset`` when the server gives it, else counts token text lengths (identical for byte-level BPE).
    """
    tokens = token_logprobs(choice)
    if not tokens:
        raise GeneratorRequestError("the model server returned no log-probs for an echoed prompt (does it support echo?)")
    out: list[float] = []
    position = 0
    for token in tokens:
        start = token.offset if token.offset is not None else position
        end = start + len(token.text)
        position = end
        if end > prefix_chars:
            if token.logprob is None:
                raise GeneratorRequestError("the model server returned a null log-prob inside the continuation")
            out.append(token.logprob)
    return out


def forced_logprobs(choice: dict[str, Any], stop: str, stop_id: int | None = None) -> list[float]:
    """Log-probs of generated tokens up to and including the one that completes ``stop`` (or IS ``stop_id``, for a
    native end marker a server may render as empty text); later ones, e.g. the end-of-sequence the grammar forces
    afterwards, are the grammar's doing, not the model's."""
    out: list[float] = []
    written = ""
    for token in token_logprobs(choice):
        if token.logprob is not None:
            out.append(token.logprob)
        written += token.text
        if stop in written or (stop_id is not None and token.id == stop_id):
            break
    return out


def mean(values: Sequence[float]) -> float:
    return float(sum(values) / len(values)) if values else FLOOR_LOGPROB
