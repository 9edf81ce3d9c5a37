"""Is the model server up, which model does it serve, and does its tokenizer know the Galactica markers?

Why ask about the markers: Galactica was trained with ``[START_REF]``/``[END_REF]`` as single tokens. startref
always sends the marker as text, so a server whose tokenizer has the token uses it and any other model reads plain
characters; the probe tells the user which of the two their model gets (llama.cpp and vLLM both expose
``/tokenize``; a plain OpenAI server does not, and the answer is then "unknown").
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from startref.citations.remote.client import Deadline
from startref.citations.remote.errors import GeneratorRequestError, RemoteGeneratorError
from startref.citations.remote.payloads import END_REF, START_REF

if TYPE_CHECKING:
    from startref.citations.remote.generator import RemoteGenerator

__all__ = ["probe", "marker_ids"]


def marker_ids(generator: RemoteGenerator, model: str | None, deadline: Deadline) -> dict[str, int] | None:
    """The token ids of ``[START_REF]`` and ``[END_REF]`` when the served tokenizer has each as ONE token (``{}``
    when it splits them: text markers), or None when the server cannot tokenize for us (plain OpenAI).

    Raises ``GeneratorUnavailable`` when the server does not answer, so that a caller does not remember "unknown".
    """
    api = generator.config.api
    if api == "openai":
        return None
    found: dict[str, int] = {}
    for marker in (START_REF, END_REF):
        body: dict[str, Any]
        if api == "llamacpp":  # tokenised as prompts are: special tokens recognised
            body = {"content": marker, "add_special": False, "parse_special": True}
        else:
            body = {"prompt": marker, "add_special_tokens": False, **({"model": model} if model else {})}
        try:
            answer = generator.client.request("POST", "/tokenize", body, deadline=deadline, retries=0)
        except GeneratorRequestError:  # no /tokenize here (answered 4xx): it cannot say, and will not later
            return None
        tokens = answer.get("tokens") if isinstance(answer, dict) else None
        if not isinstance(tokens, list):
            return None
        if len(tokens) == 1:
            token = tokens[0]
            found[marker] = int(token["id"] if isinstance(token, dict) else token)
    return found if len(found) == 2 else {}


def probe(generator: RemoteGenerator, timeout_s: float = 3.0) -> dict[str, Any]:
    """A health report: ``status`` is "ok" or "down"; never raises, whatever the server does."""
    config = generator.config
    report: dict[str, Any] = {
        "url": config.url,
        "api": config.api,
        "model": config.model,
        "status": "down",
        "breaker": generator.breaker.state,
        "token_set": bool(config.token),
    }
    started = time.monotonic()
    deadline = Deadline(timeout_s)
    try:
        body = generator.client.request("GET", "/v1/models", deadline=deadline, retries=0)
    except RemoteGeneratorError as exc:
        report["error"] = str(exc)
        report["latency_ms"] = round((time.monotonic() - started) * 1000, 1)
        return report
    report["latency_ms"] = round((time.monotonic() - started) * 1000, 1)
    served = [str(m.get("id")) for m in (body.get("data") or []) if isinstance(m, dict)] if isinstance(body, dict) else []
    report["served_models"] = served
    report["status"] = "ok"
    model = config.model or (served[0] if served else None)
    report["model"] = model
    if config.model and served and config.model not in served and config.api != "llamacpp":
        report["status"] = "error"
        report["error"] = f"the server does not serve {config.model!r} (it serves: {', '.join(served)})"
    try:
        ids = marker_ids(generator, model, deadline)
    except RemoteGeneratorError:
        ids = None
    report["markers"] = "unknown" if ids is None else ("native" if ids else "text")
    return report
