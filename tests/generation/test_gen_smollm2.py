"""The real embedded generator: SmolLM2-135M-Instruct converted from its GGUF, on real bench bibliographies.

One conversion (first run only; set STARTREF_TEST_FRESH_CACHE=1 to force one) and one load per session. Timings
are printed, not asserted: they depend on the machine; run with ``-s`` to see them.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import bibtexparser
import pytest

from startref.citations import models
from startref.citations.generation import END_REF, START_REF, GenerationOptions, load_generator
from startref.citations.local_generator import TransformersGenerator
from startref.citations.title_trie import TitleChoice, TitleTrie

pytestmark = pytest.mark.slow

CARDIOLOGY = "HabibMrad__deep-learning-in-cardiology"
IMAGENET_CONTEXT = (
    "Deep learning has emerged due to the increase of computational power of Graphical Processing Units (GPUs) "
    "and the availability of big data and has proven to be a robust solution for tasks such as image "
    "classification with deep convolutional neural networks trained on ImageNet"
)
RESNET_CONTEXT = (
    "Very deep convolutional networks are hard to train because of vanishing gradients. "
    "To train a 152-layer network for image recognition, we use the ResNet architecture"
)


def _timing(label: str, seconds: float) -> None:
    print(f"\n[timing] {label}: {seconds * 1000:.0f} ms")


def _plain(value: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[{}\\]", "", value)).strip()


def _first_surname(authors: str) -> str:
    first = _plain(authors).split(" and ")[0].strip()
    return first.split(",")[0].strip() if "," in first else (first.split() or [""])[-1]


def bib_choices(bib: Path) -> list[TitleChoice]:
    """``Title, Surname`` for every entry with a title (Galactica's citation format)."""
    library = bibtexparser.parse_file(str(bib))
    choices = []
    for entry in library.entries:
        fields = entry.fields_dict
        if "title" not in fields:
            continue
        author = _first_surname(str(fields["author"].value)) if "author" in fields else ""
        title = _plain(str(fields["title"].value))
        choices.append(TitleChoice(entry.key, f"{title}, {author}" if author else title))
    return choices


@pytest.fixture(scope="session")
def fresh_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The cache the conversion goes to: the user's real one (converted once, reused by later runs, as in
    production), or a brand-new folder with ``STARTREF_TEST_FRESH_CACHE=1`` to time a first conversion."""
    if not os.environ.get("STARTREF_TEST_FRESH_CACHE"):
        yield models.cache_dir()
        return
    folder = tmp_path_factory.mktemp("startref-cache")
    patch = pytest.MonkeyPatch()
    patch.setenv("STARTREF_CACHE_DIR", str(folder))
    yield folder
    patch.undo()


@pytest.fixture(scope="session")
def converted(fresh_cache: Path) -> Path:
    started = time.perf_counter()
    path = models.default_generator_path()
    _timing("default_generator_path() first call in this process (conversion unless cached)", time.perf_counter() - started)
    return path


@pytest.fixture(scope="session")
def smol(converted: Path) -> TransformersGenerator:
    started = time.perf_counter()
    generator = load_generator(None)
    _timing("cached load of SmolLM2 (safetensors, float32)", time.perf_counter() - started)
    return generator


@pytest.fixture(scope="session")
def cardiology_choices(bench_papers: Path) -> list[TitleChoice]:
    choices = bib_choices(bench_papers / CARDIOLOGY / "ms.bib")
    assert len(choices) > 200
    return choices


def test_conversion_is_cached_and_reused(fresh_cache: Path, converted: Path, smol: TransformersGenerator) -> None:
    assert converted.parent == fresh_cache / "models"
    assert (converted / "model.safetensors").is_file() and (converted / "tokenizer.json").is_file()
    assert [p for p in converted.parent.iterdir() if p.name.startswith(".")] == []  # no temp folder left
    started = time.perf_counter()
    again = models.default_generator_path()
    elapsed = time.perf_counter() - started
    _timing("default_generator_path() second call", elapsed)
    assert again == converted and elapsed < 1.0
    assert models.resolve_model_path("default") == converted
    assert load_generator("default") is smol  # same resolved path and device: the in-process cache answers


def test_greedy_generation_is_clean_text(smol: TransformersGenerator) -> None:
    assert not smol.native_markers  # SmolLM2 sees the markers as plain text
    options = GenerationOptions(num_return=1, num_beams=1, max_new_tokens=16)
    smol.generate(RESNET_CONTEXT, GenerationOptions(num_return=1, num_beams=1, max_new_tokens=2))  # warm-up
    started = time.perf_counter()
    results = smol.generate(RESNET_CONTEXT, options)
    elapsed = time.perf_counter() - started
    _timing(f"greedy generation, {results[0].tokens if results else 0} new tokens", elapsed)
    print(f"[sample] greedy: {results[0].text!r}" if results else "[sample] greedy: nothing")
    assert len(results) == 1
    text = results[0].text
    assert text and START_REF not in text and END_REF not in text and "\n" not in text
    assert results[0].tokens <= options.max_new_tokens


def test_constrained_beam_returns_k_valid_keys(
    smol: TransformersGenerator, cardiology_choices: list[TitleChoice]
) -> None:
    choices = cardiology_choices[:100]
    keys = {c.key for c in choices}
    options = GenerationOptions(constrained=True, num_return=5, num_beams=5)
    smol.title_trie(choices)  # trie build is cached per title list; time decoding alone
    started = time.perf_counter()
    results = smol.generate(IMAGENET_CONTEXT, options, choices)
    _timing("constrained beam k=5 over 100 real titles", time.perf_counter() - started)
    print("[sample] constrained:", [(r.key, round(r.logprob, 1)) for r in results])
    assert len(results) == 5 and len({r.key for r in results}) == 5
    assert all(r.key in keys for r in results)
    by_key = {c.key: c.text for c in choices}
    assert all(r.text == by_key[r.key] for r in results)


def test_score_prefers_the_obvious_title(smol: TransformersGenerator, cardiology_choices: list[TitleChoice]) -> None:
    resnet = "Deep Residual Learning for Image Recognition, He"
    garbage = "Qzx vlorp frumious bandersnatch gimble, Wabe"
    unrelated = [c.text for c in cardiology_choices if "ardi" in c.text or "ECG" in c.text][:18]
    candidates = [resnet, garbage] + unrelated
    smol.score(RESNET_CONTEXT, candidates[:2])  # warm-up
    started = time.perf_counter()
    scores = smol.score(RESNET_CONTEXT, candidates)
    _timing(f"score {len(candidates)} titles (prompt once + KV reuse)", time.perf_counter() - started)
    assert len(scores) == len(candidates)
    assert scores[0] > scores[1]
    assert scores[0] == max(scores), sorted(zip(scores, candidates, strict=True), reverse=True)[:3]


def test_title_trie_handles_ten_thousand_titles(smol: TransformersGenerator, bench_papers: Path) -> None:
    base = [c.text for bib in sorted(bench_papers.glob("*/**/*.bib"))[:40] for c in _safe_choices(bib)]
    assert len(base) > 500
    choices = [TitleChoice(f"k{i}", f"{base[i % len(base)]} (part {i // len(base)})") for i in range(10_000)]
    started = time.perf_counter()
    trie = TitleTrie.from_choices(choices, smol._encode_batch, text_suffix=END_REF, suffix_ids=[smol.eos_id])
    _timing("TitleTrie build over 10,000 titles (tokenize + insert)", time.perf_counter() - started)
    assert len(trie) == 10_000
    first = smol._encode_batch([f" {choices[0].text}{END_REF}"])[0]
    started = time.perf_counter()
    for cut in range(len(first)):
        assert first[cut] in trie.allowed(first[:cut])
    _timing(f"{len(first)} allowed() look-ups", time.perf_counter() - started)
    assert trie.choice_for(first + [smol.eos_id]) == choices[0]


def _safe_choices(bib: Path) -> list[TitleChoice]:
    try:
        return bib_choices(bib)
    except Exception:  # noqa: BLE001 - a bench bib that bibtexparser rejects is simply not used for volume
        return []
