"""Fixtures for the generation stage: a tiny Galactica-style OPT model built here, and the real SmolLM2.

The tiny model is real transformers code (OPTForCausalLM + a fast tokenizer with ``[START_REF]``/``[END_REF]``
as special tokens), just small enough to build and train in a second. One copy is trained for a few steps on
Galactica-formatted sentences so that it reliably writes a title and then the ``[END_REF]`` token; an untrained
copy checks that constrained decoding holds even when the model's preferences are random.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

SENTENCES = [
    "Deep networks are hard to train, so we use residual connections [START_REF] Deep Residual Learning, He[END_REF]",
    "Sequence models rely on attention alone [START_REF] Attention Is All You Need, Vaswani[END_REF]",
    "Word vectors capture meaning [START_REF] Efficient Estimation of Word Representations, Mikolov[END_REF]",
]
TRAIN_TEXT = SENTENCES + [
    "Residual networks and attention models are deep learning methods for images and words.",
    "Cosmic rays hit the detector and the station records the shower of particles.",
]


@contextlib.contextmanager
def one_torch_thread() -> Iterator[None]:
    """Run tiny-model work on one torch thread.

    On a busy 2-core machine, two OpenMP threads fighting for cores turn a 20 ms training step into 2 s;
    tiny tensors gain nothing from a second thread anyway.
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _build_tokenizer(folder: Path):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<pad>", "</s>", "<unk>", "[START_REF]", "[END_REF]"]
    raw = Tokenizer(models.BPE(unk_token="<unk>"))
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    raw.train_from_iterator(TRAIN_TEXT, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=raw,
        pad_token="<pad>",
        eos_token="</s>",
        unk_token="<unk>",
        additional_special_tokens=["[START_REF]", "[END_REF]"],
    )
    tokenizer.save_pretrained(str(folder))
    return tokenizer


def _build_model(folder: Path, tokenizer, train_steps: int):
    import torch
    from transformers import OPTConfig, OPTForCausalLM

    torch.manual_seed(0)
    config = OPTConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        word_embed_proj_dim=32,
        num_hidden_layers=2,
        ffn_dim=64,
        num_attention_heads=2,
        max_position_embeddings=512,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.eos_token_id,
        dropout=0.0,
    )
    model = OPTForCausalLM(config)
    if train_steps:
        with one_torch_thread():
            _train(model, tokenizer, train_steps)
    model.save_pretrained(str(folder))


def _train(model, tokenizer, train_steps: int) -> None:
    """Overfit on SENTENCES so greedy decoding reproduces each citation and then emits ``[END_REF]``."""
    import torch

    batch = tokenizer(SENTENCES, padding=True, return_tensors="pt")
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-2)
    model.train()
    for _ in range(train_steps):
        loss = model(**batch, labels=labels).loss
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()


@pytest.fixture(scope="session")
def tiny_galactica(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny OPT with Galactica markers, trained to write the three citations of ``SENTENCES``."""
    folder = tmp_path_factory.mktemp("tiny-galactica")
    started = time.perf_counter()
    tokenizer = _build_tokenizer(folder)
    _build_model(folder, tokenizer, train_steps=80)
    print(f"\n[timing] tiny galactica built+trained in {time.perf_counter() - started:.2f}s")
    return folder


@pytest.fixture(scope="session")
def tiny_random(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same tiny architecture, untrained: its preferences are random."""
    folder = tmp_path_factory.mktemp("tiny-random")
    tokenizer = _build_tokenizer(folder)
    _build_model(folder, tokenizer, train_steps=0)
    return folder
