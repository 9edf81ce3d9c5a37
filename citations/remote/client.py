"""HTTP to a model server: one pooled httpx client, a deadline per call, retries with backoff.

Why a deadline rather than a per-request timeout only: the LM stage sits inside a keystroke's suggestion, so what
matters is the total time one call may cost, retries included. Every attempt gets what is left of that budget, and
a retry is only made when enough of it remains. Connection failures, timeouts, 429 and 5xx are retried (a server
restarting, a queue momentarily full); any other 4xx is the request's own fault and is raised at once.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from startref.citations.remote.config import RemoteConfig
from startref.citations.remote.errors import GeneratorRequestError, GeneratorUnavailable

__all__ = ["EngineClient", "Deadline"]

_RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
#: A retry is pointless when less than this is left of the call's budget.
_MIN_ATTEMPT_S = 0.05


class Deadline:
    """The end of one LM-stage call's time budget, shared by every request the call makes."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()


def _server_message(response: httpx.Response) -> str:
    """The server's own error text (OpenAI-style ``{"error": {"message"}}``, vLLM, llama.cpp), kept short."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300]
    error = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(error, dict):
        return str(error.get("message") or error.get("detail") or error)[:300]
    return str(error)[:300]


class EngineClient:
    """Talks JSON to one server; thread-safe (httpx pools connections across threads)."""

    def __init__(self, config: RemoteConfig) -> None:
        self.config = config
        headers = {"Accept": "application/json"}
        if config.token:
            headers["Authorization"] = f"Bearer {config.token}"
        limits = httpx.Limits(max_connections=max(8, config.parallel * 4), max_keepalive_connections=max(4, config.parallel * 2))
        self._http = httpx.Client(base_url=config.url, headers=headers, limits=limits, trust_env=False)

    def close(self) -> None:
        self._http.close()

    def _timeout(self, left: float) -> httpx.Timeout:
        left = max(_MIN_ATTEMPT_S, left)
        return httpx.Timeout(left, connect=min(self.config.connect_timeout_s, left))

    def request(self, method: str, path: str, body: dict[str, Any] | None = None, *,
                deadline: Deadline | None = None, retries: int | None = None) -> Any:
        """Send one request (retrying transient failures while the deadline allows) and return its JSON body."""
        deadline = deadline or Deadline(self.config.timeout_s)
        attempts = 1 + (self.config.retries if retries is None else retries)
        last = "no attempt made"
        for attempt in range(attempts):
            left = deadline.left()
            if left < _MIN_ATTEMPT_S:
                break
            try:
                response = self._http.request(method, path, json=body, timeout=self._timeout(left))
            except httpx.TimeoutException:
                last = f"no answer within {self.config.timeout_s:g}s"
                break  # the budget is spent: retrying cannot finish in time
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc or 'connection failed'}"
            else:
                if response.status_code < 400:
                    try:
                        return response.json()
                    except ValueError:
                        raise GeneratorRequestError(
                            f"{self.config.url}{path} answered {response.status_code} with a body that is not JSON"
                        ) from None
                message = _server_message(response)
                # llama.cpp answers 500 when it cannot apply a request's grammar: the request's fault, every time.
                grammar_fault = response.status_code == 500 and "grammar" in message.lower()
                if response.status_code not in _RETRY_STATUS or grammar_fault:
                    raise GeneratorRequestError(
                        f"{self.config.url}{path} refused the request (HTTP {response.status_code}): {message}"
                    )
                last = f"HTTP {response.status_code}: {message}"
            pause = self.config.backoff_s * (2**attempt)
            if attempt + 1 < attempts and deadline.left() > pause + _MIN_ATTEMPT_S:
                time.sleep(pause)
            elif attempt + 1 < attempts:
                break
        raise GeneratorUnavailable(f"model server {self.config.url} unavailable ({last})")

    def post(self, path: str, body: dict[str, Any], *, deadline: Deadline | None = None) -> Any:
        return self.request("POST", path, body, deadline=deadline)

    def get(self, path: str, *, deadline: Deadline | None = None, retries: int | None = None) -> Any:
        return self.request("GET", path, deadline=deadline, retries=retries)
