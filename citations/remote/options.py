"""The command-line flags for a model server, defined once for ``startref suggest|annotate|check`` and ``serve``.

Why here and not in the CLI package: ``startref serve`` gets its flags from ``startref.server`` (so that
``python -m startref.server`` takes the same ones), and the server may not import the CLI. Both import these.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from startref.citations.remote.config import API_ENV, GENERATOR_APIS, MODEL_ENV, TOKEN_ENV, URL_ENV, RemoteConfig

__all__ = ["add_generator_arguments", "config_from_values", "DEFAULT_TIMEOUT_S"]

DEFAULT_TIMEOUT_S = 10.0


def _positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {value!r}") from None
    if not number > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {value}")
    return number


def add_generator_arguments(parser: argparse.ArgumentParser) -> None:
    """``--generator-url``, ``--generator-model``, ``--generator-api``, ``--generator-timeout``.

    Defaults come from ``$STARTREF_GENERATOR_URL`` / ``_MODEL`` / ``_API``, so an editor's server or a shell
    profile can point every command at one server; the token only ever comes from ``$STARTREF_GENERATOR_TOKEN``.
    """
    group = parser.add_argument_group(
        "model server options",
        f"Run the LM stage on a model server (vLLM, llama.cpp's llama-server, any OpenAI-compatible "
        f"/v1/completions). Its bearer token is read from ${TOKEN_ENV}.",
    )
    group.add_argument(
        "--generator-url", metavar="URL", default=os.environ.get(URL_ENV) or None,
        help=f"base URL of the server, e.g. http://127.0.0.1:8080 (default: ${URL_ENV}; unset: the in-process LM)",
    )
    group.add_argument(
        "--generator-model", metavar="NAME", default=os.environ.get(MODEL_ENV) or None,
        help=f"model to request (default: ${MODEL_ENV}, else the first model the server lists)",
    )
    group.add_argument(
        "--generator-api", choices=GENERATOR_APIS, default=os.environ.get(API_ENV) or "openai",
        help="request dialect: openai (score, free), vllm (+ constrained via structured_outputs.choice), "
        f"llamacpp (+ constrained via a GBNF grammar) (default: ${API_ENV}, else openai)",
    )
    group.add_argument(
        "--generator-timeout", type=_positive_float, metavar="SECONDS", default=DEFAULT_TIMEOUT_S,
        help="most time one LM-stage call may take, retries included; past it the ranker answers alone "
        f"(default: {DEFAULT_TIMEOUT_S:g})",
    )


def config_from_values(url: str | None, api: str = "openai", model: str | None = None,
                       timeout_s: float = DEFAULT_TIMEOUT_S, lm_mode: str = "score") -> Any:
    """A ``RemoteConfig`` (None without a URL); ``ValueError`` with a message for the user on bad combinations."""
    if not url:
        return None
    if lm_mode == "constrained" and api == "openai":
        raise ValueError(
            "--lm-mode constrained needs the server's own constrained decoding: add --generator-api vllm or llamacpp"
        )
    return RemoteConfig(url=url, api=api, model=model, timeout_s=timeout_s)
