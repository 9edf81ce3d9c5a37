"""Galactica token plumbing, checked on a tiny OPT with native ``[START_REF]``/``[END_REF]`` special tokens."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from conftest import SENTENCES, one_torch_thread

from startref.citations.errors import ModelError
from startref.citations.generation import (
    END_REF,
    START_REF,
    Generation,
    GenerationOptions,
    Generator,
    load_generator,
)
from startref.citations.local_generator import TransformersGenerator
from startref.citations.title_trie import TitleChoice

RESNET_CONTEXT = "Deep networks are hard to train, so we use residual connections"
CHOICES = [
    TitleChoice("he2016", "Deep Residual Learning, He"),
    TitleChoice("vaswani2017", "Attention Is All You Need, Vaswani"),
    TitleChoice("mikolov2013", "Efficient Estimation of Word Representations, Mikolov"),
    TitleChoice("kingma2014", "Adam: A Method for Stochastic Optimization, Kingma"),
    TitleChoice("hochreiter1997", "Long Short-Term Memory, Hochreiter"),
    TitleChoice("lecun1998", "Gradient-Based Learning Applied to Document Recognition, LeCun"),
    TitleChoice("sapphire", "The HiSPARC cosmic ray detector network, Fokkema"),
]


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> Iterator[None]:
    with one_torch_thread():
        yield


@pytest.fixture(scope="module")
def gal(tiny_galactica: Path) -> TransformersGenerator:
    return load_generator(str(tiny_galactica))


@pytest.fixture(scope="module")
def rnd(tiny_random: Path) -> TransformersGenerator:
    return load_generator(str(tiny_random))


def test_markers_are_native_single_tokens(gal: TransformersGenerator) -> None:
    assert isinstance(gal, Generator)
    assert gal.native_markers
    assert gal.tokenizer.convert_ids_to_tokens([gal.start_ref_id, gal.end_ref_id]) == [START_REF, END_REF]


def test_prompt_ends_with_start_ref_and_keeps_the_end_of_the_context(gal: TransformersGenerator) -> None:
    ids = gal.encode_prompt(RESNET_CONTEXT)
    assert ids[-1] == gal.start_ref_id
    assert ids.count(gal.start_ref_id) == 1

    long_context = "Cosmic rays hit the detector. " * 200 + RESNET_CONTEXT
    ids = gal.encode_prompt(long_context, max_prompt_tokens=24)
    assert len(ids) == 24
    assert ids[-1] == gal.start_ref_id
    kept = gal.tokenizer.decode(ids[:-1])
    assert kept.endswith("residual connections ")  # the words right before the cursor survive
    assert "Cosmic" not in kept


def test_greedy_writes_the_citation_and_stops_at_the_end_ref_token(gal: TransformersGenerator) -> None:
    options = GenerationOptions(num_return=1, num_beams=1, max_new_tokens=40)
    (result,) = gal.generate(RESNET_CONTEXT, options)
    assert result.text == "Deep Residual Learning, He"
    expected = gal.tokenizer(" Deep Residual Learning, He", add_special_tokens=False)["input_ids"] + [gal.end_ref_id]
    assert result.tokens == len(expected) < options.max_new_tokens  # stopped by [END_REF], not by the budget
    assert -1.0 < result.logprob < 0.0
    # The summed log-prob of generation agrees with scoring the same text through the KV-reuse path.
    assert gal.score(RESNET_CONTEXT, [result.text], normalize=False)[0] == pytest.approx(result.logprob, abs=1e-3)


def test_free_text_that_equals_a_title_carries_its_key(gal: TransformersGenerator) -> None:
    (result,) = gal.generate(RESNET_CONTEXT, GenerationOptions(num_return=1, num_beams=1), titles=CHOICES)
    assert result.key == "he2016"


def test_beam_search_returns_distinct_texts_best_first(gal: TransformersGenerator) -> None:
    context = SENTENCES[2].split(START_REF)[0]
    results = gal.generate(context, GenerationOptions(num_return=3, num_beams=3))
    assert results[0].text == "Efficient Estimation of Word Representations, Mikolov"
    assert len({r.text for r in results}) == len(results) >= 2
    assert all(START_REF not in r.text and END_REF not in r.text for r in results)


def test_constrained_decoding_writes_only_bibliography_titles_even_for_a_random_model(
    rnd: TransformersGenerator,
) -> None:
    by_key = {c.key: c.text for c in CHOICES}
    results = rnd.generate(RESNET_CONTEXT, GenerationOptions(constrained=True, num_return=5, num_beams=5), CHOICES)
    assert len(results) == 5
    assert len({r.key for r in results}) == 5  # k beams, k distinct titles
    for r in results:
        assert r.key in by_key and r.text == by_key[r.key]
        assert math.isfinite(r.logprob) and r.logprob < 0
        # Constrained log-probs are the model's own (unmasked) probabilities: scoring agrees.
        assert rnd.score(RESNET_CONTEXT, [r.text], normalize=False)[0] == pytest.approx(r.logprob, abs=1e-3)


def test_constrained_decoding_follows_the_model_when_it_knows(gal: TransformersGenerator) -> None:
    results = gal.generate(RESNET_CONTEXT, GenerationOptions(constrained=True, num_return=3, num_beams=3), CHOICES)
    assert results[0].key == "he2016"
    assert len({r.key for r in results}) == 3


def test_constrained_with_fewer_titles_than_beams(rnd: TransformersGenerator) -> None:
    results = rnd.generate(RESNET_CONTEXT, GenerationOptions(constrained=True), CHOICES[:2])
    assert sorted(r.key for r in results) == ["he2016", "vaswani2017"]


def test_constrained_without_titles_is_a_clear_error(rnd: TransformersGenerator) -> None:
    with pytest.raises(ValueError, match="titles"):
        rnd.generate(RESNET_CONTEXT, GenerationOptions(constrained=True), [])


def test_sampling_runs_and_returns_clean_texts(gal: TransformersGenerator) -> None:
    torch.manual_seed(1)
    options = GenerationOptions(temperature=1.5, num_return=4, max_new_tokens=12)
    results = gal.generate("Cosmic rays hit the detector", options)
    assert results, "sampling four sequences produced no text at all"
    for r in results:
        assert isinstance(r, Generation)
        assert START_REF not in r.text and END_REF not in r.text and "\n" not in r.text
        assert 1 <= r.tokens <= options.max_new_tokens
        assert math.isfinite(r.logprob)


def test_score_with_kv_reuse_matches_full_forward_passes(gal: TransformersGenerator) -> None:
    texts = [c.text for c in CHOICES]
    fast = gal.score(RESNET_CONTEXT, texts, normalize=False)
    prompt = gal.encode_prompt(RESNET_CONTEXT)
    for text, got in zip(texts, fast, strict=True):
        cont = gal.tokenizer(f" {text}", add_special_tokens=False)["input_ids"] + [gal.end_ref_id]
        ids = torch.tensor([prompt + cont])
        with torch.inference_mode():
            logprobs = torch.log_softmax(gal.model(input_ids=ids).logits[0].float(), dim=-1)
        want = sum(float(logprobs[len(prompt) - 1 + i, t]) for i, t in enumerate(cont))
        assert got == pytest.approx(want, abs=1e-3), text
    normalised = gal.score(RESNET_CONTEXT, texts)
    assert normalised.index(max(normalised)) == 0  # the trained citation wins
    assert gal.score(RESNET_CONTEXT, []) == []


def test_load_generator_caches_per_path_and_device(tiny_galactica: Path, gal: TransformersGenerator) -> None:
    started = time.perf_counter()
    assert load_generator(str(tiny_galactica)) is gal
    assert time.perf_counter() - started < 0.5


def test_unavailable_or_unknown_device_is_a_model_error(tiny_galactica: Path) -> None:
    if not torch.cuda.is_available():
        with pytest.raises(ModelError, match="cuda"):
            load_generator(str(tiny_galactica), device="cuda")
    with pytest.raises(ModelError, match="Unknown device 'tpu'"):
        load_generator(str(tiny_galactica), device="tpu")


def test_early_stopping_trie_search_agrees_with_transformers_beam_search(
    gal: TransformersGenerator, rnd: TransformersGenerator
) -> None:
    options = GenerationOptions(constrained=True, num_return=3, num_beams=3)
    for context in (RESNET_CONTEXT, SENTENCES[1].split(START_REF)[0]):
        ours = gal.generate(context, options, CHOICES)
        reference = gal._generate_constrained_hf(context, options, CHOICES)
        assert ours[0].key == reference[0].key
        assert ours[0].logprob == pytest.approx(reference[0].logprob, abs=1e-3)
    # On a random model the two searches explore differently, but every title either returns is real.
    ours = {r.key for r in rnd.generate(RESNET_CONTEXT, options, CHOICES)}
    reference = {r.key for r in rnd._generate_constrained_hf(RESNET_CONTEXT, options, CHOICES)}
    assert ours <= {c.key for c in CHOICES} and reference <= {c.key for c in CHOICES}
    assert len(ours) == len(reference) == 3
