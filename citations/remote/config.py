"""How to reach a model server: one frozen value built from CLI flags, server settings or the environment.

Why the token is read from the environment and never from a flag: command lines end up in shell history and in
``ps`` output, and ``serve --workers N`` passes its settings to worker processes as JSON; an environment variable
travels to those workers without being written anywhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from urllib.parse import urlsplit

__all__ = ["RemoteConfig", "GENERATOR_APIS", "TOKEN_ENV", "URL_ENV", "MODEL_ENV", "API_ENV"]

#: Request dialects: plain OpenAI ``/v1/completions`` (echo + logprobs for scoring, no constrained decoding),
#: vLLM (``structured_outputs.choice``; echo + prompt logprobs) and llama.cpp's ``llama-server`` (GBNF grammar;
#: it refuses ``echo``, so a title is scored by forcing it with a grammar and reading the model's own logprobs).
GENERATOR_APIS = ("openai", "vllm", "llamacpp")
TOKEN_ENV = "STARTREF_GENERATOR_TOKEN"
URL_ENV = "STARTREF_GENERATOR_URL"
MODEL_ENV = "STARTREF_GENERATOR_MODEL"
API_ENV = "STARTREF_GENERATOR_API"


def _env_token() -> str | None:
    token = os.environ.get(TOKEN_ENV, "").strip()
    return token or None


@dataclass(frozen=True)
class RemoteConfig:
    """A model server and how patiently to use it.

    ``timeout_s`` bounds one whole LM-stage call (every retry included), so a slow server costs a suggestion at
    most that long; ``failures_to_open`` consecutive failed calls open the circuit breaker for ``cooldown_s``,
    during which suggestions skip the server at once. ``parallel`` caps the requests one call keeps in flight
    (llama.cpp scores each title with its own request).
    """

    url: str
    api: str = "openai"
    model: str | None = None
    token: str | None = field(default_factory=_env_token, repr=False)
    timeout_s: float = 10.0
    connect_timeout_s: float = 2.0
    retries: int = 2
    backoff_s: float = 0.1
    failures_to_open: int = 2
    cooldown_s: float = 30.0
    parallel: int = 4

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"--generator-url must be an http(s) URL such as http://127.0.0.1:8080, got {self.url!r}")
        if self.api not in GENERATOR_APIS:
            raise ValueError(f"--generator-api must be one of {', '.join(GENERATOR_APIS)}, got {self.api!r}")
        if self.timeout_s <= 0 or self.connect_timeout_s <= 0:
            raise ValueError("generator timeouts must be positive")
        if self.retries < 0 or self.failures_to_open < 1 or self.parallel < 1:
            raise ValueError("generator retries must be >= 0, failures_to_open and parallel >= 1")
        # One spelling of the base URL: no trailing slash and no trailing /v1 (paths below add it).
        base = self.url.rstrip("/")
        if base.endswith("/v1"):
            base = base[: -len("/v1")]
        object.__setattr__(self, "url", base)

    @property
    def label(self) -> str:
        """How the generator is named in responses and logs: the API, the model (when known) and the server."""
        model = self.model or "?"
        return f"{self.api}:{model}@{self.url}"
