"""Indexing the library: embedding every entry once, with progress, reusing what an earlier index embedded.

Why its own module: embedding is the one slow step (a 30k-entry library is minutes of MiniLM on two busy cores), so
it reports progress (``progress(done, total)``: the CLI draws a bar from it) and does no work twice. The library's
cache is keyed by its sources' content, so adding one paper to Zotero makes a new key; without ``VectorStore`` that
would embed all 30k entries again. The store keeps the last index's vectors by a hash of each entry's text (one
file pair per encoder), and only texts it has not seen are embedded.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from startref.citations.bibindex import BibIndex
from startref.citations.encoder import SentenceEncoder, encode_batches
from startref.citations.entry_encoder import bulk_workers, entry_encoder
from startref.citations.features import IndexFeatures, entry_text, index_features

__all__ = ["Progress", "VectorStore", "embed_texts", "build_features", "index_workers"]

log = logging.getLogger("startref.library")

#: ``progress(done, total)``, called as entries are embedded (and once at the end).
Progress = Callable[[int, int], None]
#: Texts per ``encode`` call between two progress reports (the encoder batches them by similar length).
_STEP = 256
#: Chunks embedded at once when indexing (``entry_encoder.bulk_workers``: one per core, at most four;
#: ``$STARTREF_INDEX_WORKERS`` overrides it). The name stays for the library's callers.
index_workers = bulk_workers


#: Most vectors the store keeps (150 MB for MiniLM's 384 dimensions): a few big libraries.
MAX_VECTORS = 100_000


def _text_hashes(texts: Sequence[str]) -> np.ndarray:
    """64-bit hashes of the texts (blake2b), the vector store's keys."""
    return np.array([int.from_bytes(hashlib.blake2b(t.encode("utf-8", "surrogatepass"), digest_size=8).digest(),
                                    "little") for t in texts], dtype=np.uint64)


class VectorStore:
    """The vectors of the last library index for one encoder, by text hash (``<root>/<encoder>.vectors.npy`` and
    ``.hashes.npy``), so a library that changed by a few entries embeds only those."""

    def __init__(self, root: Path, encoder_ident: str) -> None:
        name = hashlib.sha256(encoder_ident.encode()).hexdigest()[:16]
        self.vectors_path = root / f"{name}.vectors.npy"
        self.hashes_path = root / f"{name}.hashes.npy"

    def lookup(self, hashes: np.ndarray, dim: int) -> tuple[np.ndarray, np.ndarray]:
        """(vectors with the known rows filled, mask of the rows found)."""
        out = np.zeros((hashes.size, dim), np.float32)
        found = np.zeros(hashes.size, bool)
        try:
            known = np.load(self.hashes_path)
            vectors = np.load(self.vectors_path, mmap_mode="r")
        except (OSError, ValueError):
            return out, found
        if vectors.shape != (known.size, dim):
            return out, found
        order = np.argsort(known)
        pos = np.searchsorted(known[order], hashes)
        pos = np.minimum(pos, max(known.size - 1, 0))
        if known.size:
            found = known[order][pos] == hashes
            out[found] = vectors[order[pos[found]]]
        return out, found

    def save(self, hashes: np.ndarray, vectors: np.ndarray) -> None:
        """Keep these vectors, then those of earlier indexes not among them, up to ``MAX_VECTORS`` (atomic per
        file; a torn pair fails the shape check and is ignored). Earlier ones are kept so that indexing a small
        library (a test, a second configuration) does not throw away a big one's vectors."""
        try:
            old_hashes = np.load(self.hashes_path)
            old = np.load(self.vectors_path, mmap_mode="r")
            if old.shape == (old_hashes.size, vectors.shape[1]):
                keep = np.nonzero(~np.isin(old_hashes, hashes))[0][: max(0, MAX_VECTORS - hashes.size)]
                hashes = np.concatenate([hashes, old_hashes[keep]])
                vectors = np.concatenate([vectors, np.asarray(old[keep], np.float32)])
        except (OSError, ValueError):
            pass
        hashes, vectors = hashes[:MAX_VECTORS], vectors[:MAX_VECTORS]
        try:
            self.vectors_path.parent.mkdir(parents=True, exist_ok=True)
            for path, arr in ((self.vectors_path, vectors), (self.hashes_path, hashes)):
                tmp = path.with_name(path.name + f".{os.getpid()}.tmp.npy")
                np.save(tmp, np.ascontiguousarray(arr))
                os.replace(tmp, path)
        except OSError as err:  # a read-only cache only costs time
            log.warning("cannot keep the library's vectors in %s: %s", self.vectors_path.parent, err)


def embed_texts(encoder: SentenceEncoder, texts: Sequence[str], progress: Progress | None = None,
                store: VectorStore | None = None, variant: str | None = None) -> np.ndarray:
    """Unit vectors of ``texts`` (rows), those already in ``store`` taken from it, the rest embedded by the
    library's bulk encoder (``entry_encoder``: batches of equal token length, bf16 where the CPU has it, or
    ``variant``), ``index_workers()`` batches at a time, reporting ``progress`` as they are done."""
    hashes = _text_hashes(texts)
    if store is not None:
        out, found = store.lookup(hashes, encoder.dim)
    else:
        out, found = np.zeros((len(texts), encoder.dim), np.float32), np.zeros(len(texts), bool)
    missing = np.nonzero(~found)[0].tolist()
    total, done = len(texts), int(found.sum())
    if progress:
        progress(done, total)
    bulk = entry_encoder(encoder, variant) if missing else None
    if bulk is not None:
        embedded = bulk.embed(texts, missing, encoder, "startref-index")
    else:  # no bulk encoder (a GPU encoder): the request path, shortest texts first
        order = sorted(missing, key=lambda i: len(texts[i]))
        chunks = [order[start : start + _STEP] for start in range(0, len(order), _STEP)]
        embedded = zip(chunks, encode_batches(encoder, [[texts[i] or " " for i in chunk] for chunk in chunks],
                                              index_workers(), "startref-index"))
    for chunk, vectors in embedded:
        out[chunk] = vectors
        done += len(chunk)
        if progress:
            progress(done, total)
    if store is not None and missing:
        store.save(hashes, out)
    return out


def build_features(index: BibIndex, encoder: SentenceEncoder, progress: Progress | None = None,
                   store: VectorStore | None = None) -> IndexFeatures:
    """The ranking data of every library entry: embeddings (``embed_texts``), then BM25 and the token sets."""
    emb = embed_texts(encoder, [entry_text(e) for e in index.entries], progress, store)
    return index_features(index, encoder, emb=emb)
