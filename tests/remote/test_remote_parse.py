"""Reading completion answers in both log-prob shapes (OpenAI/vLLM legacy lists, llama.cpp's content list)."""

from __future__ import annotations

import math

import pytest

from startref.citations.remote import parse
from startref.citations.remote.errors import GeneratorRequestError

PREFIX = "We cite [START_REF]"


def _echo_choice() -> dict:
    # vLLM with echo=True: the prompt's tokens first (the very first has no log-prob), offsets into the text.
    tokens = ["We", " cite", " [START_REF]", " Deep", " Nets", ",", " He", "[END_REF]"]
    offsets, position = [], 0
    for token in tokens:
        offsets.append(position)
        position += len(token)
    return {"index": 0, "text": "".join(tokens), "logprobs": {
        "tokens": tokens, "token_logprobs": [None, -3.0, -1.0, -0.5, -1.5, -0.1, -0.2, -0.2],
        "text_offset": offsets, "top_logprobs": [None] * len(tokens)}}


def test_echoed_continuation_counts_only_tokens_after_the_prompt() -> None:
    values = parse.continuation_logprobs(_echo_choice(), len(PREFIX))
    assert values == [-0.5, -1.5, -0.1, -0.2, -0.2]
    assert parse.mean(values) == pytest.approx(-0.5)


def test_llamacpp_content_logprobs_stop_after_the_end_marker() -> None:
    choice = {"index": 0, "text": " Deep Nets, He[END_REF]", "logprobs": {"content": [
        {"id": 1, "token": " Deep", "logprob": -0.5}, {"id": 2, "token": " Nets, He", "logprob": -1.0},
        {"id": 3, "token": "[END", "logprob": -0.25}, {"id": 4, "token": "_REF]", "logprob": -0.25},
        {"id": 0, "token": "", "logprob": -9.0},  # the end-of-sequence the grammar forces afterwards
    ]}}
    assert parse.forced_logprobs(choice, "[END_REF]") == [-0.5, -1.0, -0.25, -0.25]


def test_a_zero_probability_is_floored_not_minus_infinity() -> None:
    choice = {"logprobs": {"content": [{"token": "x", "logprob": -3.4028234663852886e38}]}}
    [token] = parse.token_logprobs(choice)
    assert token.logprob == parse.FLOOR_LOGPROB and math.isfinite(token.logprob)


def test_choices_are_ordered_by_index_and_a_bad_answer_is_a_clear_error() -> None:
    body = {"choices": [{"index": 1, "text": "b"}, {"index": 0, "text": "a"}]}
    assert [parse.choice_text(c) for c in parse.choices(body)] == ["a", "b"]
    with pytest.raises(GeneratorRequestError, match="no choices"):
        parse.choices({"error": "nope"})
    with pytest.raises(GeneratorRequestError, match="echo"):
        parse.continuation_logprobs({"text": "x"}, 0)


def test_a_native_end_token_stops_the_count_even_when_rendered_empty() -> None:
    choice = {"logprobs": {"content": [
        {"id": 11, "token": " Deep Nets", "logprob": -0.5}, {"id": 7, "token": "", "logprob": -0.1},
        {"id": 2, "token": "", "logprob": -4.0}]}}
    assert parse.forced_logprobs(choice, "[END_REF]", stop_id=7) == [-0.5, -0.1]


def test_a_constrained_generation_cut_short_still_names_its_title() -> None:
    from startref.citations.remote.generator import _match_title
    from startref.citations.title_trie import TitleChoice

    titles = [TitleChoice("k1", "The theory of well-quasi-ordering, Kruskal"), TitleChoice("k2", "The theory, Doe")]
    assert _match_title("The theory of well-quasi-ordering, Kruskal[END", titles) == (titles[0].text, "k1")
    assert _match_title("The theory of well", titles) == (titles[0].text, "k1")
    assert _match_title("The theory", titles) == ("The theory", None)  # the start of both: not a guess
    assert _match_title("The theory, Doe", titles) == ("The theory, Doe", "k2")
