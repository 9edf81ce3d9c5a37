"""The sentence encoder: turns contexts and bibliography entries into unit vectors.

Why our own thin wrapper instead of ``sentence_transformers``: we need exactly mean pooling + L2 norm (MiniLM's
recipe), the caches that matter for latency (entry embeddings on disk keyed by the bibliography's fingerprint, an
in-process LRU for context windows, which repeat across requests on the same document, and a traced copy of the
network that starts without importing ``transformers``' model code), and the optional fine-tuned top layers
(``startref train``'s adapter) applied over the pretrained ones.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from startref.citations.bytecache import ByteLRU, env_megabytes, prune_directory, touch
from startref.citations.encoder_trace import load_traced, save_traced, trace_key
from startref.citations.errors import ModelError, ModelNotFoundError

__all__ = ["SentenceEncoder", "load_encoder", "load_network", "mean_pool", "encode_batches"]

_Batch = TypeVar("_Batch")

_MAX_TOKENS = 128
_BATCH = 64
#: From this many new entry texts on, ``encode_corpus`` embeds the bulk way (``SentenceEncoder._embed_entries``).
BULK_MIN = 256
#: Memory budgets (MB) of the encoder's caches; each can be changed with the environment variable named beside it.
TEXT_CACHE_MB = 16  # STARTREF_TEXT_CACHE_MB: vectors of query texts (a repeated hotkey at one spot is free)
EMBED_MEMORY_MB = 48  # STARTREF_EMBED_MEMORY_MB: entry embeddings of recent bibliographies (28k entries: 43 MB)
ENTRY_VECTORS_MB = 32  # STARTREF_ENTRY_VECTORS_MB: one vector per entry text, shared by bibliographies that overlap
EMBED_DISK_MB = 256  # STARTREF_EMBED_CACHE_MB: entry embeddings on disk under the cache dir, least recently used go


def _similar_length_chunks(ids: Sequence[int], texts: Sequence[str]) -> list[list[int]]:
    """``ids`` sorted by text length and cut into batches of similar length (the longest at most 1.5 times the
    shortest, plus a little): a batch is padded to its longest text, so one long context batched with two short
    queries would cost about three long ones (on real dev contexts of 120, 42 and 42 tokens the context alone takes
    42 ms on one core, the three of them 78 ms when the two short ones go together)."""
    chunks: list[list[int]] = []
    for i in sorted(ids, key=lambda i: len(texts[i])):
        if chunks and len(chunks[-1]) < _BATCH and len(texts[i]) <= 1.5 * len(texts[chunks[-1][0]]) + 40:
            chunks[-1].append(i)
        else:
            chunks.append([i])
    return chunks


class SentenceEncoder:
    """MiniLM-style encoder (``AutoModel`` + mean pooling) with caches; thread-safe."""

    def __init__(
        self,
        path: str | Path,
        device: str = "cpu",
        cache_dir: Path | None = None,
        adapter: Path | None = None,
        keep_traced: bool = True,
    ) -> None:
        """``keep_traced``: trace the network into ``cache_dir`` for faster later starts (a full copy of the weights,
        ~90 MB for MiniLM: worth it for the models a server or editor starts with, not for training's own)."""
        path = Path(path)
        if not (path / "config.json").is_file():
            raise ModelNotFoundError(f"{path}: no sentence encoder here (config.json missing); pass --encoder PATH")
        try:
            import torch

            self._torch = torch
            self.dim = int(json.loads((path / "config.json").read_text(encoding="utf-8"))["hidden_size"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"{path / 'config.json'}: cannot read the encoder's configuration: {exc}") from exc
        self.adapter_digest = ""
        self.adapter_dir = adapter
        if adapter is not None:
            from startref.citations.encoder_training import ADAPTER_FILE

            try:
                self.adapter_digest = hashlib.sha256((adapter / ADAPTER_FILE).read_bytes()).hexdigest()[:12]
            except OSError as exc:
                raise ModelError(f"{adapter / ADAPTER_FILE}: cannot apply the encoder adapter: {exc}") from exc
        # A traced copy from an earlier start loads in 0.1 s instead of ~2.5 s (see encoder_trace.py); CPU only.
        trace_dir = cache_dir if device == "cpu" else None
        trace_name = trace_key(path, self.adapter_digest, _MAX_TOKENS) if trace_dir is not None else ""
        self._traced = load_traced(trace_dir, trace_name, path, _MAX_TOKENS) if trace_dir is not None else None
        if self._traced is None:
            self._load_original(path, device, adapter)
            if keep_traced and trace_dir is not None:
                save_traced(trace_dir, trace_name, self._model, self._tokenizer, path, _MAX_TOKENS)
        self.path = path
        base_name = path.name if path.name != "model" else path.parent.name
        self.name = f"{base_name}+adapter:{self.adapter_digest}" if adapter is not None else base_name
        self.device = device
        self._cache_dir = cache_dir
        self._lock = threading.Lock()
        # Bounded by bytes (bytecache): a count bound let long query texts and new bibliographies grow the server.
        self._lru: ByteLRU[str, np.ndarray] = ByteLRU(env_megabytes("STARTREF_TEXT_CACHE_MB", TEXT_CACHE_MB),
                                                       lambda v: v.nbytes)
        self._entry_cache: ByteLRU[str, np.ndarray] = ByteLRU(
            env_megabytes("STARTREF_EMBED_MEMORY_MB", EMBED_MEMORY_MB), lambda v: v.nbytes)
        # One vector per entry text: a bibliography that changed by one entry (an editor's live bib_text) embeds
        # that entry, not all of them again.
        self._entry_vectors: ByteLRU[str, np.ndarray] = ByteLRU(
            env_megabytes("STARTREF_ENTRY_VECTORS_MB", ENTRY_VECTORS_MB), lambda v: v.nbytes)

    def _load_original(self, path: Path, device: str, adapter: Path | None) -> None:
        """The ``transformers`` tokenizer and model, with the adapter's top layers applied."""
        self._tokenizer, self._model = load_network(path, device, adapter)

    # -- raw encoding -------------------------------------------------------------------------------------------
    def _encode_batch(self, texts: Sequence[str]) -> np.ndarray:
        torch = self._torch
        with torch.inference_mode():
            if self._traced is not None:
                enc = self._traced.batch(list(texts))
                hidden = self._traced.hidden(enc)
            else:
                enc = self._tokenizer(
                    list(texts), padding=True, truncation=True, max_length=_MAX_TOKENS, return_tensors="pt"
                ).to(self.device)
                hidden = self._model(**enc).last_hidden_state
            return mean_pool(hidden, enc["attention_mask"])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors for ``texts`` (rows), using the in-process cache for texts seen before."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        missing = _fill_from(self._lru, texts, out)
        if missing:
            for chunk in _similar_length_chunks(missing, texts):
                vecs = self._encode_batch([texts[i] or " " for i in chunk])
                for i, vec in zip(chunk, vecs):
                    out[i] = vec
                    vec = vec.copy()  # a row of the batch would keep the whole batch alive
                    self._lru.put(texts[i], vec, size=vec.nbytes + 2 * len(texts[i]) + 120)
        return out

    def forget_texts(self) -> None:
        """Empty the in-process cache of ``encode``: a benchmark that times the same text twice measures the
        encoder, not a dictionary lookup (entry embeddings are kept)."""
        self._lru.clear()

    def encode_corpus(self, texts: Sequence[str], fingerprint: str) -> np.ndarray:
        """Embeddings of a bibliography's entry texts, cached in memory and on disk by content fingerprint.

        Why on disk: a 28k-entry library takes minutes to embed on two cores, and the same library is used
        again by the next server start.
        """
        key = "\x00".join(texts) + "|" + fingerprint + "|" + str(self.path) + "|" + self.adapter_digest
        digest = hashlib.sha256(key.encode()).hexdigest()[:24]
        cached = self._entry_cache.get(digest)
        if cached is not None:
            return cached
        disk = self._cache_dir / "embeddings" / f"{digest}.npy" if self._cache_dir else None
        if disk is not None and disk.is_file():
            try:
                arr = np.load(disk)
                if arr.shape == (len(texts), self.dim):
                    touch(disk)  # the disk cache is pruned least recently used first
                    return self._entry_cache.put(digest, arr)
            except (OSError, ValueError):
                pass
        arr = np.zeros((len(texts), self.dim), dtype=np.float32)
        missing = _fill_from(self._entry_vectors, texts, arr)
        for chunk, vectors in self._embed_entries(texts, missing):
            arr[chunk] = vectors
            for i in chunk:
                self._entry_vectors.put(texts[i], arr[i].copy(), size=arr[i].nbytes + 2 * len(texts[i]) + 120)
        if disk is not None and len(texts) >= 200:
            try:
                disk.parent.mkdir(parents=True, exist_ok=True)
                tmp = disk.with_suffix(f".{os.getpid()}.tmp.npy")
                np.save(tmp, arr)
                os.replace(tmp, disk)
                prune_directory(disk.parent, env_megabytes("STARTREF_EMBED_CACHE_MB", EMBED_DISK_MB), "*.npy")
            except OSError:
                pass  # a read-only cache only costs time
        return self._entry_cache.put(digest, arr)

    def _embed_entries(self, texts: Sequence[str], missing: list[int]) -> Iterator[tuple[list[int], np.ndarray]]:
        """(positions, vectors) of ``texts[missing]``, batch by batch.

        Why two ways: a big .bib's first request embeds thousands of entries at once, which the request path did on
        one core in batches cut by characters (a 36.7k-entry .bib: 5-6 minutes on this 2-core machine). From
        ``BULK_MIN`` texts on, the library's bulk encoder in fp32 (``entry_encoder``: batches cut by token count,
        ``bulk_workers()`` batches at a time) gives the same vectors (the same network; cosine 1.00000) several
        times faster. A few texts (an edited entry, a small .bib) keep the request path's batches."""
        bulk = None
        if len(missing) >= BULK_MIN:
            from startref.citations.entry_encoder import entry_encoder

            bulk = entry_encoder(self, variant="fp32")
        if bulk is not None:
            yield from bulk.embed(texts, missing, self, "startref-embed")
            return
        order = sorted(missing, key=lambda i: len(texts[i]))
        for start in range(0, len(order), _BATCH):
            chunk = order[start : start + _BATCH]
            yield chunk, self._encode_batch([texts[i] or " " for i in chunk])


def load_network(path: Path, device: str, adapter: Path | None) -> tuple[Any, Any]:
    """(``transformers`` tokenizer, model in eval mode on ``device``) of the encoder at ``path``, with the adapter's
    top layers applied (``ModelError`` naming the file when either cannot be loaded)."""
    try:
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        model = AutoModel.from_pretrained(str(path), local_files_only=True)
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: cannot load the sentence encoder: {exc}") from exc
    if adapter is not None:
        from safetensors import SafetensorError

        from startref.citations.encoder_training import ADAPTER_FILE, apply_adapter

        try:
            apply_adapter(model, adapter)
        except (OSError, ValueError, RuntimeError, SafetensorError) as exc:
            raise ModelError(f"{adapter / ADAPTER_FILE}: cannot apply the encoder adapter: {exc}") from exc
    return tokenizer, model.to(device).eval()


def mean_pool(hidden: Any, attention_mask: Any) -> np.ndarray:
    """MiniLM's sentence vector: the mean of the real tokens' last hidden states, L2-normalised, as float32 rows.

    The sum runs in float32 whatever the network's dtype: summing a bfloat16 network's states in bfloat16 would add
    its rounding once per token."""
    import torch

    hidden = hidden.float()
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, dim=-1).cpu().numpy()


def _fill_from(cache: ByteLRU[str, np.ndarray], texts: Sequence[str], out: np.ndarray) -> list[int]:
    """Copy the cached vector of each text into its row of ``out``; returns the rows still to compute."""
    missing: list[int] = []
    for i, text in enumerate(texts):
        hit = cache.get(text)
        if hit is None:
            missing.append(i)
        else:
            out[i] = hit
    return missing


_ENCODERS: dict[tuple[str, str, str], SentenceEncoder] = {}
_ENCODERS_LOCK = threading.Lock()


def load_encoder(
    spec: str | Path | None = None, device: str = "cpu", adapter: str | Path | None = None, keep_traced: bool = True
) -> SentenceEncoder:
    """The encoder at ``spec`` (a local folder; None = the embedded MiniLM), with the fine-tuned top layers in the
    folder ``adapter`` applied when given; loaded once per process (``keep_traced``: see ``SentenceEncoder``)."""
    from startref.citations.models import cache_dir, configure_torch_threads, default_encoder_path, force_offline

    force_offline()
    configure_torch_threads()
    path = Path(spec) if spec else default_encoder_path()
    adapter_dir = Path(adapter) if adapter else None
    key = (str(path), device, str(adapter_dir))
    with _ENCODERS_LOCK:
        enc = _ENCODERS.get(key)
        if enc is None:
            enc = SentenceEncoder(path, device, cache_dir(), adapter_dir, keep_traced=keep_traced)
            _ENCODERS[key] = enc
        return enc


def encode_batches(encoder: SentenceEncoder, batches: Sequence[_Batch], workers: int = 1,
                   thread_name: str = "startref-encode",
                   encode: Callable[[_Batch], np.ndarray] | None = None) -> Iterator[np.ndarray]:
    """``encoder.encode`` of each batch (or ``encode``: the library's indexing passes its own, see
    ``entry_encoder``), in order, ``workers`` batches at a time.

    Why threads: torch runs one thread per call here (``models.configure_torch_threads``) and releases the GIL
    inside it, so embedding a library or a whole document for the check uses every core this way.
    """
    run: Callable[[_Batch], np.ndarray] = encode or encoder.encode  # type: ignore[assignment]
    if workers <= 1 or len(batches) <= 1:
        yield from (run(batch) for batch in batches)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=thread_name) as pool:
        yield from pool.map(run, batches)
