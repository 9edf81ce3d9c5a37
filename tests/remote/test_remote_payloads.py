"""Request bodies for each (API, mode): the Galactica prompt, temperature 0, and each server's own constraint field.

vLLM's bodies are validated against its documented schema (``vllm_schema.py``; vLLM itself cannot run here);
llama.cpp's are exercised against the real ``llama-server`` in ``test_remote_llamacpp.py``.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from startref.citations.remote.payloads import (
    constrained_body,
    continuation_text,
    forced_tokens_body,
    free_body,
    galactica_prompt,
    score_bodies,
    tokenize_body,
)

from vllm_schema import CompletionRequest

TITLES = ["Deep Residual Learning for Image Recognition, He", "Attention Is All You Need, Vaswani"]
PROMPT = galactica_prompt("Residual connections make deep networks trainable")


def test_the_prompt_ends_with_the_start_marker_exactly_as_in_process() -> None:
    assert PROMPT == "Residual connections make deep networks trainable [START_REF]"
    assert galactica_prompt("  ") == "[START_REF]"
    assert continuation_text(" Attention Is All You Need, Vaswani ") == " Attention Is All You Need, Vaswani[END_REF]"


def test_vllm_constrained_uses_structured_outputs_choice_not_guided_choice() -> None:
    body = constrained_body("vllm", "facebook/galactica-6.7b", PROMPT, TITLES + [TITLES[0]])
    request = CompletionRequest.model_validate(body)
    assert request.structured_outputs is not None
    assert request.structured_outputs.choice == [continuation_text(t) for t in TITLES]  # deduplicated, in order
    assert "guided_choice" not in body and "guided_decoding_backend" not in body
    assert request.temperature == 0.0 and request.prompt == PROMPT and request.model == "facebook/galactica-6.7b"


def test_vllm_score_is_one_echo_request_with_prompt_logprobs_and_no_generation() -> None:
    [body] = score_bodies("vllm", "m", PROMPT, TITLES)
    request = CompletionRequest.model_validate(body)
    assert request.echo is True and request.max_tokens == 0 and request.logprobs == 1
    assert request.prompt == [PROMPT + continuation_text(t) for t in TITLES]


def test_vllm_free_generation_stops_at_the_end_marker_or_a_newline() -> None:
    request = CompletionRequest.model_validate(free_body("vllm", "m", PROMPT))
    assert request.stop == ["[END_REF]", "\n"] and request.temperature == 0.0 and request.max_tokens == 40


def test_the_schema_check_itself_rejects_the_removed_field() -> None:
    stale = {"prompt": PROMPT, "guided_choice": TITLES}
    with pytest.raises(ValidationError):
        CompletionRequest.model_validate(stale)
    with pytest.raises(ValidationError):  # two constraints at once
        CompletionRequest.model_validate({"prompt": PROMPT, "structured_outputs": {"choice": TITLES, "regex": "a"}})


def test_llamacpp_constrained_sends_a_grammar_of_the_titles() -> None:
    body = constrained_body("llamacpp", None, PROMPT, TITLES)
    assert body["grammar"].startswith('root ::= " "') and '"[END_REF]"' in body["grammar"]
    assert "model" not in body and body["temperature"] == 0.0 and body["n_probs"] == 1
    assert "echo" not in body  # llama-server answers 400 "Only no echo is supported"


def test_llamacpp_score_forces_the_titles_own_tokens() -> None:
    body = forced_tokens_body(None, PROMPT, [216, 4087, 7])
    assert body["grammar"] == "root ::= <[216]> <[4087]> <[7]>" and body["max_tokens"] == 3
    assert body["prompt"] == PROMPT and body["post_sampling_probs"] is False and body["n_probs"] == 1
    assert "echo" not in body
    assert tokenize_body("llamacpp", None, " T[END_REF]") == {"content": " T[END_REF]", "add_special": False,
                                                              "parse_special": True}
    with pytest.raises(ValueError):
        score_bodies("llamacpp", None, PROMPT, TITLES)


def test_plain_openai_cannot_constrain_and_says_what_to_use() -> None:
    with pytest.raises(ValueError, match="--generator-api vllm or llamacpp"):
        constrained_body("openai", "m", PROMPT, TITLES)
    [body] = score_bodies("openai", "m", PROMPT, TITLES)
    assert body["echo"] is True and body["max_tokens"] == 0


def test_no_titles_means_no_score_request() -> None:
    assert score_bodies("vllm", "m", PROMPT, []) == []


def test_a_native_end_marker_is_the_token_itself() -> None:
    """Galactica has ``[END_REF]`` as one token: llama.cpp grammars end on ``<[id]>``, vLLM stops on the id."""
    body = constrained_body("llamacpp", None, PROMPT, TITLES, end_ref_id=7)
    assert body["grammar"].splitlines()[0].endswith("<[7]>") and '"[END_REF]"' not in body["grammar"]
    assert free_body("llamacpp", None, PROMPT, end_ref_id=7)["grammar"] == "root ::= [^\\n]* <[7]>"
    request = CompletionRequest.model_validate(free_body("vllm", "galactica", PROMPT, end_ref_id=7))
    assert request.stop_token_ids == [7]
