"""Embedding a whole library's entry texts at once: batches of equal token length, in bfloat16 where the CPU has it.

Why not ``SentenceEncoder.encode``: that path serves requests (a few texts, an in-process cache, batches cut by
character length); indexing a 30k-entry library is pure throughput, and two things make it ~3x faster per core
(measured on 2,000 real library titles, one torch thread, CPU seconds):

- **Batches cut by token count.** Titles sorted by characters and cut into batches of 64 were padded to 1.68 times
  their real tokens (a title with ``$\\mathcal{O}$`` or rare names has many tokens for its length); sorted by
  their token counts, 1.04 times. 122 -> 201 titles per CPU second, the same vectors (cosine 1.00000).
- **bfloat16** on a CPU that computes it natively (``avx512_bf16`` or ``amx_bf16`` in ``/proc/cpuinfo``): oneDNN
  runs the Linear layers at about twice fp32's rate (201 -> 359 titles per CPU second); vectors have cosine >= 0.9999
  to fp32's (mean 0.99995; the mean pooling sums in float32). int8 dynamic quantisation was faster still (489) but
  its vectors fell to cosine 0.94-0.97 from fp32's, so it is not offered. Without native support bf16 is emulated
  and slower, so ``auto`` (the default) picks fp32 there.

Only the library's entry vectors use bf16; queries and a paper's own .bib keep the fp32 encoder (a big .bib's first
request embeds through the fp32 variant here: ``SentenceEncoder._embed_entries``). The variant
(``entry_variant``) is part of the library cache's key and of its vector store's, so vectors of two variants never
mix. ``$STARTREF_ENTRY_PRECISION`` (``auto``, ``fp32``, ``bf16``) overrides the choice.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from startref.citations.encoder import SentenceEncoder, encode_batches, load_network, mean_pool
from startref.citations.encoder_trace import (TracedEncoder, fast_tokenizer, load_traced, positional, save_traced,
                                               trace_key)
from startref.citations.errors import ModelError

__all__ = ["PRECISIONS", "EntryEncoder", "bulk_workers", "entry_encoder", "entry_precision", "entry_variant",
           "native_bf16", "token_batches"]

log = logging.getLogger(__name__)

PRECISIONS = ("fp32", "bf16")
#: Texts per forward pass: 32, 64 and 128 ran at the same rate once batches are cut by token count.
BATCH = 64
_MAX_TOKENS = 128  # the encoder's own limit (encoder._MAX_TOKENS)
#: Batches embedded at once: one per core (torch runs one thread per call, see ``models.configure_torch_threads``,
#: and releases the GIL inside it), at most four. ``$STARTREF_INDEX_WORKERS`` overrides it (1 keeps a machine's
#: other core free while a big library indexes).
_MAX_WORKERS = 4


def bulk_workers() -> int:
    """How many batches a bulk embedding (a library's index, a big .bib's first request) runs at once here."""
    configured = os.environ.get("STARTREF_INDEX_WORKERS", "").strip()
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(_MAX_WORKERS, cores))


@lru_cache(maxsize=1)
def native_bf16() -> bool:
    """Whether this CPU computes bfloat16 dot products natively (AVX512-BF16 or AMX), read from ``/proc/cpuinfo``."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as handle:
            for line in handle:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


def entry_precision() -> str:
    """The precision library entries are embedded in: ``$STARTREF_ENTRY_PRECISION``, else bf16 where native."""
    wanted = os.environ.get("STARTREF_ENTRY_PRECISION", "auto").strip().lower() or "auto"
    if wanted == "auto":
        return "bf16" if native_bf16() else "fp32"
    if wanted not in PRECISIONS:
        raise ModelError(f"STARTREF_ENTRY_PRECISION={wanted!r}: use auto, fp32 or bf16")
    return wanted


def entry_variant(encoder: SentenceEncoder) -> str:
    """What produced a library's entry vectors with ``encoder`` now: ``fp32`` or ``bf16``. bf16 needs the CPU
    and the ``tokenizers`` file (``tokenizer.json``); otherwise the entries get the fp32 encoder's vectors."""
    if entry_precision() == "bf16" and encoder.device == "cpu" and (encoder.path / "tokenizer.json").is_file():
        return "bf16"
    return "fp32"


@dataclass
class EntryEncoder:
    """A network (fp32: the encoder's traced copy; bf16: a bfloat16 copy) with a tokenizer that does not pad, so
    texts are tokenised once, sorted by length and padded per batch."""

    variant: str
    network: TracedEncoder
    tokenizer: Any  # tokenizers.Tokenizer, truncating at the encoder's limit, not padding
    pad_id: int

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text (truncated, special tokens added); empty texts become one space, as
        ``SentenceEncoder.encode`` embeds them."""
        return [e.ids for e in self.tokenizer.encode_batch([t or " " for t in texts])]

    def embed(self, texts: Sequence[str], positions: Sequence[int], encoder: SentenceEncoder,
              thread_name: str) -> Iterator[tuple[list[int], np.ndarray]]:
        """(positions, vectors) of ``texts[positions]``, in batches of equal token length, ``bulk_workers()``
        batches at a time: the one bulk path of a library's index and of a big .bib's first request."""
        ids = self.token_ids([texts[i] for i in positions])
        batches = token_batches([len(t) for t in ids])
        work = [[ids[j] for j in batch] for batch in batches]
        vectors = encode_batches(encoder, work, bulk_workers(), thread_name, encode=self.encode_ids)
        return zip(([positions[j] for j in batch] for batch in batches), vectors)

    def encode_ids(self, batch: Sequence[Sequence[int]]) -> np.ndarray:
        """Unit vectors (float32 rows) of already tokenised texts, padded to the batch's longest."""
        import torch

        width = max(len(ids) for ids in batch)
        ids = torch.full((len(batch), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, seq in enumerate(batch):
            ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
            mask[row, : len(seq)] = 1
        inputs = {"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(ids)}
        with torch.inference_mode():
            hidden = self.network.hidden(inputs)
        return mean_pool(hidden, mask)


def token_batches(lengths: Sequence[int], size: int = BATCH) -> list[list[int]]:
    """Positions sorted by token count, cut into batches of ``size``: a batch is padded to its longest text."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    return [order[start : start + size] for start in range(0, len(order), size)]


def entry_encoder(encoder: SentenceEncoder, variant: str | None = None) -> EntryEncoder | None:
    """The bulk encoder of ``variant`` (default ``entry_variant(encoder)``), or None where there is none (a GPU
    encoder, no traced copy and fp32: the caller uses ``encoder.encode``). Built per index, not kept: the bf16
    copy is ~45 MB a server would otherwise hold for the rare re-index (loading the traced copy again takes ~0.1 s)."""
    variant = variant or entry_variant(encoder)
    if variant == "bf16":
        return _with_tokenizer("bf16", _bf16_network(encoder))
    if encoder._traced is not None:
        return _with_tokenizer("fp32", encoder._traced)
    if encoder.device != "cpu" or not (encoder.path / "tokenizer.json").is_file():
        return None
    # the first start, which loaded the original network (and traced a copy for the next start)
    tokenizer, model = encoder._tokenizer, encoder._model
    names = _input_names(tokenizer)
    return _with_tokenizer("fp32", TracedEncoder(positional(model, names), _padding_tokenizer(encoder, tokenizer),
                                                 names))


def _with_tokenizer(variant: str, network: TracedEncoder) -> EntryEncoder:
    from tokenizers import Tokenizer

    padding = network.tokenizer.padding or {}
    tokenizer = Tokenizer.from_str(network.tokenizer.to_str())
    tokenizer.no_padding()
    return EntryEncoder(variant, network, tokenizer, int(padding.get("pad_id", 0)))


def _bf16_network(encoder: SentenceEncoder) -> TracedEncoder:
    """The encoder's network (adapter applied) in bfloat16: the traced copy kept in the cache, else loaded with
    ``transformers`` (~3 s), converted, traced and kept for the next index when the copy matches it."""
    import torch

    cache = encoder._cache_dir
    key = trace_key(encoder.path, f"{encoder.adapter_digest}|bf16", _MAX_TOKENS)
    if cache is not None:
        kept = load_traced(cache, key, encoder.path, _MAX_TOKENS)
        if kept is not None:
            return kept
    hf_tokenizer, model = load_network(encoder.path, "cpu", encoder.adapter_dir)
    model = model.to(torch.bfloat16)
    if cache is not None and save_traced(cache, key, model, hf_tokenizer, encoder.path, _MAX_TOKENS):
        kept = load_traced(cache, key, encoder.path, _MAX_TOKENS)
        if kept is not None:
            return kept
    log.info("using the untraced bfloat16 encoder for the library's entries")
    names = _input_names(hf_tokenizer)
    return TracedEncoder(positional(model, names), _padding_tokenizer(encoder, hf_tokenizer), names)


def _input_names(hf_tokenizer: Any) -> tuple[str, ...]:
    return tuple(n for n in ("input_ids", "attention_mask", "token_type_ids") if n in hf_tokenizer.model_input_names)


def _padding_tokenizer(encoder: SentenceEncoder, hf_tokenizer: Any) -> Any:
    """The ``tokenizers`` form of the encoder's tokenizer, as the traced copy uses it."""
    return fast_tokenizer(encoder.path, _MAX_TOKENS, int(hf_tokenizer.pad_token_id or 0), str(hf_tokenizer.pad_token))
