"""The request bodies startref sends to ``POST /v1/completions``, one pure function per (mode, API).

Why pure functions: the shape of a request is the contract with servers we cannot all run here (vLLM needs a GPU);
the unit tests check these bodies against each server's documented schema, and the real llama.cpp server checks
its own. All modes use the Galactica prompt (context + ``[START_REF]``) and temperature 0.

* constrained: llama.cpp ``grammar`` (GBNF from the titles) / vLLM ``structured_outputs: {"choice": [...]}``
  (the field since vLLM 0.12; the older ``guided_choice`` is gone). Plain OpenAI has no constrained decoding.
* score: vLLM and OpenAI ``echo`` + ``logprobs`` with ``max_tokens: 0`` (the prompt's own log-probs, one batched
  request); llama.cpp refuses ``echo``, so each title is tokenised by the server (``/tokenize``), forced token by
  token with a grammar of those ids, and the model's pre-sampling log-probs of the forced tokens are read.
* free: plain greedy completion that stops at ``[END_REF]`` or a newline.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from startref.citations.remote.gbnf import titles_grammar

__all__ = [
    "START_REF",
    "END_REF",
    "galactica_prompt",
    "continuation_text",
    "free_body",
    "constrained_body",
    "score_bodies",
    "tokenize_body",
    "forced_tokens_body",
    "MAX_TITLE_TOKENS",
]

START_REF = "[START_REF]"
END_REF = "[END_REF]"
#: Budget for writing one "Title, Author[END_REF]": long titles run to ~60 tokens, but greedy decoding under a
#: character grammar may spell a title in pieces ("D" + "ee" + "p"), so the budget is generous.
MAX_TITLE_TOKENS = 320


def galactica_prompt(context: str) -> str:
    """``context + " [START_REF]"``, exactly as the in-process generator writes it.

    The marker is sent as text: a server whose tokenizer has ``[START_REF]`` as one token (Galactica) encodes it
    natively, any other model reads the same characters.
    """
    context = context.rstrip()
    return f"{context} {START_REF}" if context else START_REF


def continuation_text(title: str) -> str:
    """What the model writes after the marker for ``title``: a space, the title, the end marker."""
    return f" {title.strip()}{END_REF}"


def _base(model: str | None, prompt: str | list[str]) -> dict[str, Any]:
    body: dict[str, Any] = {"prompt": prompt, "temperature": 0.0, "stream": False}
    if model:
        body["model"] = model
    return body


def free_body(api: str, model: str | None, prompt: str, max_tokens: int = 40,
              end_ref_id: int | None = None) -> dict[str, Any]:
    """Greedy free generation of one citation text, stopped at the end marker or a newline.

    ``end_ref_id``: the ``[END_REF]`` token of a native-marker model; servers that render special tokens as empty
    text would never see the stop string, so generation also stops on the token itself.
    """
    body = _base(model, prompt)
    body.update(max_tokens=max_tokens, stop=[END_REF, "\n"], logprobs=1)
    if api == "llamacpp":
        body["n_probs"] = 1
        body.pop("logprobs")
        if end_ref_id is not None:
            body["grammar"] = f'root ::= [^\\n]* <[{int(end_ref_id)}]>'
    elif end_ref_id is not None:
        body["stop_token_ids"] = [int(end_ref_id)]
    return body


def constrained_body(api: str, model: str | None, prompt: str, titles: Sequence[str],
                     end_ref_id: int | None = None) -> dict[str, Any]:
    """Generation restricted to ``titles`` (each written as " Title, Author[END_REF]")."""
    if api == "openai":
        raise ValueError(
            "constrained generation needs the server's own constrained decoding: use --generator-api vllm or "
            "llamacpp (a plain OpenAI-compatible server can only score or generate freely)"
        )
    body = _base(model, prompt)
    body["max_tokens"] = MAX_TITLE_TOKENS
    if api == "llamacpp":
        body["grammar"] = titles_grammar(titles, prefix=" ", suffix=END_REF, suffix_token=end_ref_id)
        body["n_probs"] = 1
    else:  # vllm
        body["structured_outputs"] = {"choice": list(dict.fromkeys(continuation_text(t) for t in titles))}
        body["logprobs"] = 1
    return body


def tokenize_body(api: str, model: str | None, text: str) -> dict[str, Any]:
    """``POST /tokenize`` for ``text`` as the server tokenises prompts (special tokens recognised, no BOS)."""
    if api == "llamacpp":
        return {"content": text, "add_special": False, "parse_special": True}
    return {"prompt": text, "add_special_tokens": False, **({"model": model} if model else {})}


def forced_tokens_body(model: str | None, prompt: str, token_ids: Sequence[int]) -> dict[str, Any]:
    """llama.cpp: generate exactly ``token_ids`` after ``prompt`` (a grammar of those token ids, one after another)
    and return the model's own log-prob of each, read before the grammar is applied (``post_sampling_probs``
    false). This is how a title is scored on a server that refuses ``echo``: the same tokens, the same log-probs,
    as the in-process model's teacher-forced pass over ``" {title}[END_REF]"``."""
    if not token_ids:
        raise ValueError("nothing to score: the title tokenised to no tokens")
    body = _base(model, prompt)
    body.update(
        max_tokens=len(token_ids),
        grammar="root ::= " + " ".join(f"<[{int(t)}]>" for t in token_ids),
        n_probs=1,
        post_sampling_probs=False,
        cache_prompt=True,
    )
    return body


def score_bodies(api: str, model: str | None, prompt: str, titles: Sequence[str]) -> list[dict[str, Any]]:
    """vLLM / OpenAI: the one request that gives the log-likelihood of each title after ``prompt``: the prompt
    repeated with each continuation appended, echoed with its log-probs, nothing generated. (llama.cpp refuses
    ``echo``: see :func:`forced_tokens_body`.)"""
    if not titles:
        return []
    if api == "llamacpp":
        raise ValueError("llama.cpp scores with forced_tokens_body (it refuses echo)")
    body = _base(model, [prompt + continuation_text(t) for t in titles])
    body.update(echo=True, logprobs=1, max_tokens=0)
    return [body]
