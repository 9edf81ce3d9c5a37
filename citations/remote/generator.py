"""``RemoteGenerator``: the LM stage's :class:`~startref.citations.generation.Generator` contract, served by a
model server over its OpenAI-compatible ``/v1/completions``.

Why it fits the same contract: ``lm_rerank`` asks any generator to ``generate`` (free or constrained to the titles)
and to ``score`` titles as continuations; this class answers both over HTTP, so the ranker treats a 70B model on a
GPU box exactly like the embedded SmolLM2. What it adds is resilience: every call goes through a circuit breaker
and a deadline, and raises :class:`GeneratorUnavailable` (never hangs) when the server is slow or down; the engine
then answers from the ranker alone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from startref.citations.generation import Generation, GenerationOptions
from startref.citations.remote import parse
from startref.citations.remote.breaker import CircuitBreaker
from startref.citations.remote.client import Deadline, EngineClient
from startref.citations.remote.config import RemoteConfig
from startref.citations.remote.errors import GeneratorRequestError, GeneratorUnavailable, RemoteGeneratorError
from startref.citations.remote.payloads import (
    END_REF,
    START_REF,
    constrained_body,
    continuation_text,
    forced_tokens_body,
    free_body,
    galactica_prompt,
    score_bodies,
    tokenize_body,
)
from startref.citations.title_trie import TitleChoice

__all__ = ["RemoteGenerator"]

log = logging.getLogger("startref.generator")
T = TypeVar("T")

_COMPLETIONS = "/v1/completions"


def _clean_text(text: str) -> str:
    """Cut at the end marker or a newline and drop stray markers (as the in-process generator does)."""
    for stop in (END_REF, "\n"):
        text = text.split(stop, 1)[0]
    return text.replace(START_REF, "").strip()


def _match_title(text: str, titles: Sequence[TitleChoice]) -> tuple[str, str | None]:
    """The title a constrained generation wrote: exactly one of them, or (cut short by the token budget) the one
    title it is the start of, when only one fits. A dangling part of the end marker is dropped first."""
    for cut in range(len(END_REF) - 1, 0, -1):
        if text.endswith(END_REF[:cut]):
            text = text[: -cut].rstrip()
            break
    exact = [c for c in titles if c.text.strip() == text]
    if exact:
        return text, exact[0].key
    started = {c.text.strip(): c.key for c in titles if c.text.strip().startswith(text)} if text else {}
    if len(started) == 1:
        (title, key), = started.items()
        return title, key
    return text, None


class RemoteGenerator:
    """A citation LM behind a model server; thread-safe, cheap to create (nothing is loaded)."""

    def __init__(self, config: RemoteConfig, client: EngineClient | None = None,
                 breaker: CircuitBreaker | None = None) -> None:
        self.config = config
        self.client = client or EngineClient(config)
        self.breaker = breaker or CircuitBreaker(config.failures_to_open, config.cooldown_s)
        self._model = config.model
        self._model_lock = threading.Lock()
        self._markers: dict[str, int] | None = None
        self._markers_known = False
        self._pool = ThreadPoolExecutor(max_workers=config.parallel, thread_name_prefix="startref-engine")

    # -- identity -------------------------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        model = self._model or "?"
        return f"{model} ({self.config.api} at {self.config.url})"

    def model_id(self, deadline: Deadline | None = None) -> str | None:
        """The model to name in requests: ``--generator-model``, else the first one the server lists.

        vLLM and OpenAI require ``model``; llama.cpp ignores it. Asked once, then remembered.
        """
        if self._model is not None:
            return self._model
        with self._model_lock:
            if self._model is None:
                body = self.client.get("/v1/models", deadline=deadline)
                data = body.get("data") if isinstance(body, dict) else None
                if data and isinstance(data[0], dict) and data[0].get("id"):
                    self._model = str(data[0]["id"])
            return self._model

    def end_ref_id(self, deadline: Deadline) -> int | None:
        """The ``[END_REF]`` token id when the served tokenizer has the Galactica markers as tokens, else None.

        Asked once per generator (``/tokenize``): with a native marker, grammars end on the token itself and the
        logprobs of a forced title stop at it; with text markers the same strings are written character by character.
        """
        if not self._markers_known:
            from startref.citations.remote.health import marker_ids

            with self._model_lock:
                if not self._markers_known:
                    self._markers = marker_ids(self, self._model, deadline)
                    self._markers_known = True
        return (self._markers or {}).get(END_REF)

    # -- the contract ---------------------------------------------------------------------------------------------
    def generate(self, prompt: str, options: GenerationOptions = GenerationOptions(),  # noqa: B008 - frozen
                 titles: Sequence[TitleChoice] | None = None) -> list[Generation]:
        """One citation text after ``prompt + [START_REF]`` at temperature 0 (the server decodes greedily).

        Constrained: only one of ``titles`` can come out, so the result always carries its key. Free: whatever the
        model writes; the caller resolves it against the bibliography.
        """
        if options.constrained and not titles:
            raise ValueError("constrained generation needs a non-empty list of titles")

        def call(deadline: Deadline) -> list[Generation]:
            model = self.model_id(deadline)
            end_id = self.end_ref_id(deadline)
            text_prompt = galactica_prompt(prompt)
            if options.constrained:
                assert titles is not None
                texts = [c.text.strip() for c in titles]
                body = constrained_body(self.config.api, model, text_prompt, texts, end_ref_id=end_id)
            else:
                body = free_body(self.config.api, model, text_prompt, max_tokens=options.max_new_tokens,
                                 end_ref_id=end_id)
            choice = parse.choices(self.client.post(_COMPLETIONS, body, deadline=deadline))[0]
            raw = parse.choice_text(choice)
            text = _clean_text(raw)
            values = parse.forced_logprobs(choice, END_REF, end_id) if options.constrained else [
                t.logprob for t in parse.token_logprobs(choice) if t.logprob is not None]
            key = None
            if titles:
                text, key = _match_title(text, titles) if options.constrained else (text, None)
                if key is None:
                    lookup = {c.text.strip(): c.key for c in reversed(titles)}  # the first entry wins a shared title
                    key = lookup.get(text)
            if not text:
                return []
            return [Generation(text=text, logprob=float(sum(values)), tokens=len(values), key=key)]

        return self._guarded("generate", call)

    def score(self, prompt: str, continuations: Sequence[str]) -> list[float]:
        """Mean per-token log-likelihood of each ``" {continuation}[END_REF]"`` after ``prompt + [START_REF]``."""
        if not continuations:
            return []

        def call(deadline: Deadline) -> list[float]:
            model = self.model_id(deadline)
            text_prompt = galactica_prompt(prompt)
            if self.config.api == "llamacpp":
                return self._score_forced(model, text_prompt, continuations, deadline)
            bodies = score_bodies(self.config.api, model, text_prompt, list(continuations))
            found = parse.choices(self.client.post(_COMPLETIONS, bodies[0], deadline=deadline))
            if len(found) != len(continuations):
                raise RemoteGeneratorError(
                    f"the model server scored {len(found)} of {len(continuations)} titles (does it accept a list "
                    "of prompts?)"
                )
            return [parse.mean(parse.continuation_logprobs(c, len(text_prompt))) for c in found]

        return self._guarded("score", call)

    def _score_forced(self, model: str | None, prompt: str, continuations: Sequence[str],
                      deadline: Deadline) -> list[float]:
        """llama.cpp: tokenise each continuation on the server, then force exactly those tokens and average their
        log-probs (the in-process score, token for token; a text grammar would let greedy decoding pick odd
        spellings such as " " + "D" + "ee" + "p" and score those instead)."""
        texts = [continuation_text(c) for c in continuations]
        tokenized = self._parallel([lambda t=t: self.client.post("/tokenize", tokenize_body("llamacpp", model, t),
                                                                 deadline=deadline) for t in texts])
        ids = [[int(t["id"] if isinstance(t, dict) else t) for t in answer.get("tokens", [])] for answer in tokenized]
        def forced(token_ids: list[int]) -> float | None:
            try:
                answer = self.client.post(_COMPLETIONS, forced_tokens_body(model, prompt, token_ids), deadline=deadline)
            except GeneratorRequestError as error:  # llama.cpp cannot force some byte-split titles (HTTP 500)
                log.debug("could not score one title on %s: %s", self.config.url, error)
                return None
            values = [t.logprob for t in parse.token_logprobs(parse.choices(answer)[0]) if t.logprob is not None]
            if len(values) != len(token_ids):
                raise RemoteGeneratorError(
                    f"the model server returned {len(values)} log-probs for {len(token_ids)} forced tokens"
                )
            return parse.mean(values)

        found = self._parallel([lambda i=i: forced(i) for i in ids])
        known = [v for v in found if v is not None]
        neutral = sum(known) / len(known) if known else parse.FLOOR_LOGPROB  # no evidence either way
        return [neutral if v is None else v for v in found]

    # -- plumbing -------------------------------------------------------------------------------------------------
    def _parallel(self, calls: list[Callable[[], T]]) -> list[T]:
        """Run ``calls`` at most ``parallel`` at a time; the first failure is raised once all have settled."""
        futures = [self._pool.submit(c) for c in calls]
        results: list[T] = []
        error: BaseException | None = None
        for future in futures:
            try:
                results.append(future.result())
            except BaseException as exc:  # noqa: BLE001 - re-raised below
                error = error or exc
        if error is not None:
            raise error
        return results

    def _guarded(self, what: str, call: Callable[[Deadline], T]) -> T:
        """Run one LM-stage call under the breaker and the deadline; log once when the server fails or recovers."""
        if not self.breaker.allow():
            raise GeneratorUnavailable(
                f"model server {self.config.url} skipped: it failed recently ({self.breaker.last_error}); "
                f"next try in {self.breaker.retry_in_s():.0f}s"
            )
        started = time.monotonic()
        try:
            result = call(Deadline(self.config.timeout_s))
        except GeneratorUnavailable as exc:
            if self.breaker.record_failure(str(exc)):  # one line per outage, not one per request
                log.warning("model server %s failed (%s); suggestions come from the ranker alone until it answers "
                            "again (retried every %.0fs)", self.config.url, exc, self.config.cooldown_s)
            raise
        except RemoteGeneratorError:
            self.breaker.record_success()  # the server answered: it is up, the request was at fault
            raise
        except Exception as exc:  # a malformed answer must not take the suggestion down with it
            raise RemoteGeneratorError(f"model server {self.config.url}: unexpected answer to {what} ({exc})") from exc
        if self.breaker.record_success():
            log.warning("model server %s is back (%s answered in %.0f ms)", self.config.url, what,
                        (time.monotonic() - started) * 1000)
        return result

    def health(self, timeout_s: float = 3.0) -> dict[str, Any]:
        """What ``/v1/info`` and ``startref doctor`` report; see :func:`startref.citations.remote.health.probe`."""
        from startref.citations.remote.health import probe

        return probe(self, timeout_s)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.client.close()
