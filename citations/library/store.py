"""The library: every source merged into one index, with its ranking data cached on disk.

Why a disk cache of our own: a 30k-entry library costs about a minute to parse, seconds to index for BM25 and
minutes to embed on a laptop; a server or an editor restarts often. Everything derived from the sources (entries,
BM25 postings, token sets, embeddings) is saved under ``$STARTREF_CACHE_DIR/library/`` keyed by the sources'
content (a .bib's bytes, a Zotero database's size and mtime) and the encoder, and loads again in about a second.
A stale or unreadable cache file is simply rebuilt.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, fields as dc_fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from startref.citations.bib_parallel import entry_from_state, entry_state
from startref.citations.bibindex import BibIndex, BibProblem, Entry
from startref.citations.bm25 import BM25
from startref.citations.encoder import SentenceEncoder
from startref.citations.entry_encoder import entry_variant
from startref.citations.features import IndexFeatures
from startref.citations.library.candidates import Lexicon, build_lexicon
from startref.citations.library.errors import LibraryError
from startref.citations.library.identity import WorkIndex, work_ids
from startref.citations.library.indexing import Progress, VectorStore, build_features
from startref.citations.library.keys import unique_key
from startref.citations.library.sources import Source, parse_source, read_source
from startref.citations.normalize import normalize_key

__all__ = ["Library", "open_library", "CACHE_VERSION"]

log = logging.getLogger("startref.library")

#: Bump when what the cache holds changes shape (old files are then ignored and rebuilt).
CACHE_VERSION = 2


def _cache_root() -> Path:
    """``$STARTREF_LIBRARY_CACHE_DIR``, else ``library/`` in startref's cache (the index of a 30k-entry library is
    about 60 MB: a user may want it elsewhere; the benchmark times a cold index in a fresh folder)."""
    from startref.citations.models import cache_dir

    own = os.environ.get("STARTREF_LIBRARY_CACHE_DIR")
    return Path(own).expanduser() if own else cache_dir() / "library"


def _encoder_ident(encoder: SentenceEncoder) -> str:
    """What the entry vectors depend on: the model, its adapter and the variant that embeds the library (fp32 or
    bf16, ``entry_encoder.entry_variant``), so a cache or vector store never hands one variant's vectors to another."""
    return f"{encoder.path}|{encoder.adapter_digest}|{entry_variant(encoder)}"


@dataclass
class Library:
    """The merged library: ``index`` (unique keys), the source label of each entry, and problems met."""

    sources: tuple[Source, ...]
    index: BibIndex
    origin: tuple[str, ...]
    content_key: str
    load_seconds: float = 0.0

    known_work_ids: tuple[tuple[str, ...], ...] | None = None

    def __post_init__(self) -> None:
        self.works = WorkIndex(self.index.entries, self.known_work_ids)
        self._features: dict[str, IndexFeatures] = {}
        self._lexicons: dict[str, Lexicon] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.index)

    def features(self, encoder: SentenceEncoder, progress: Progress | None = None) -> IndexFeatures:
        """The ranking data of every library entry for ``encoder`` (memory, then disk, then computed and saved;
        ``progress(done, total)`` follows the embedding when it has to be computed)."""
        ident = _encoder_ident(encoder)
        with self._lock:
            hit = self._features.get(ident)
            if hit is not None:
                return hit
            fx = self._load_features(ident)
            if fx is None:
                fx = build_features(self.index, encoder, progress, VectorStore(_cache_root(), ident))
                self._save_features(ident, fx)
            self._features[ident] = fx
            return fx

    def needs_indexing(self, encoder: SentenceEncoder) -> bool:
        """Whether ``features`` has to embed the library (neither in memory nor cached on disk): the CLI says so
        and draws a progress bar."""
        ident = _encoder_ident(encoder)
        return ident not in self._features and not all(p.is_file() for p in self._feature_paths(ident))

    def lexicon(self, encoder: SentenceEncoder) -> Lexicon:
        """The inverted name maps of the candidate stage (built from the features once, ~0.1 s at 30k entries)."""
        ident = _encoder_ident(encoder)
        hit = self._lexicons.get(ident)
        if hit is None:
            hit = self._lexicons[ident] = build_lexicon(self.features(encoder))
        return hit

    # -- disk cache of the features ------------------------------------------------------------------------------
    def _feature_paths(self, ident: str) -> tuple[Path, Path]:
        digest = hashlib.sha256(f"{CACHE_VERSION}|{self.content_key}|{ident}".encode()).hexdigest()[:24]
        root = _cache_root()
        return root / f"{digest}.features.pkl", root / f"{digest}.emb.npy"

    def _load_features(self, ident: str) -> IndexFeatures | None:
        meta_path, emb_path = self._feature_paths(ident)
        if not (meta_path.is_file() and emb_path.is_file()):
            return None
        try:
            with open(meta_path, "rb") as handle:
                state = pickle.load(handle)
            emb = np.load(emb_path, mmap_mode="r")
        except (OSError, ValueError, pickle.UnpicklingError, EOFError, AttributeError):
            return None
        if emb.shape[0] != len(self.index) or len(state.get("keys", ())) != len(self.index):
            return None
        state["bm25"] = BM25.from_state(state["bm25"])
        return IndexFeatures(index=self.index, emb=emb, **state)

    def _save_features(self, ident: str, fx: IndexFeatures) -> None:
        meta_path, emb_path = self._feature_paths(ident)
        state = {f.name: getattr(fx, f.name) for f in dc_fields(fx) if f.name not in ("index", "emb")}
        state["bm25"] = fx.bm25.state()
        try:
            meta_path.parent.mkdir(parents=True, exist_ok=True)
            _atomic_pickle(meta_path, state)
            tmp = emb_path.with_name(emb_path.name + f".{os.getpid()}.tmp.npy")
            np.save(tmp, np.ascontiguousarray(fx.emb, dtype=np.float32))
            os.replace(tmp, emb_path)
        except OSError as err:  # a read-only cache only costs time
            log.warning("cannot cache the library's ranking data in %s: %s", meta_path.parent, err)


def _atomic_pickle(path: Path, obj: Any) -> None:
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        pickle.dump(obj, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)


def _merge_sources(parts: Sequence[tuple[Source, BibIndex]]) -> tuple[list[Entry], list[str], list[BibProblem]]:
    """Entries of every source in order; a work already seen (DOI, arXiv id, title) is kept once, a key already
    taken by another work gets a unique one (``key`` + ``a``, ``b``…)."""
    entries: list[Entry] = []
    origin: list[str] = []
    problems: list[BibProblem] = []
    keys: set[str] = set()
    works_seen: dict[str, int] = {}
    for source, index in parts:
        problems.extend(index.problems)
        for e in index.entries:
            ids = work_ids(e)
            if any(w in works_seen for w in ids):
                continue
            key = e.key
            if normalize_key(key) in keys:
                key = unique_key(key, lambda k: k in keys)
            keys.add(normalize_key(key))
            for w in ids:
                works_seen.setdefault(w, len(entries))
            entries.append(replace(e, key=key, position=len(entries)) if key != e.key or e.position != len(entries)
                           else e)
            origin.append(source.label)
    return entries, origin, problems


def _load_entries(sources: Sequence[Source], content_key: str
                  ) -> tuple[BibIndex, tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """The merged index from the disk cache, else from the sources (then cached)."""
    path = _cache_root() / f"{hashlib.sha256(f'{CACHE_VERSION}|{content_key}'.encode()).hexdigest()[:24]}.entries.pkl"
    if path.is_file():
        try:
            with open(path, "rb") as handle:
                state = pickle.load(handle)
            entries = [entry_from_state(s) for s in state["entries"]]
            problems = [BibProblem(*p) for p in state["problems"]]
            return BibIndex(entries, state["files"], problems), tuple(state["origin"]), tuple(state["work_ids"])
        except (OSError, ValueError, KeyError, TypeError, pickle.UnpicklingError, EOFError, AttributeError):
            pass
    parts = [(s, read_source(s)) for s in sources]
    entries, origin, problems = _merge_sources(parts)
    files = [s.label for s in sources]
    index = BibIndex(entries, files, problems)
    ids = tuple(work_ids(e) for e in entries)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _atomic_pickle(path, {"entries": [entry_state(e) for e in entries], "origin": origin, "files": files,
                              "problems": [(p.file, p.line, p.kind, p.message) for p in problems], "work_ids": ids})
    except OSError as err:
        log.warning("cannot cache the library in %s: %s", path.parent, err)
    return index, tuple(origin), ids


_OPEN: dict[tuple[str, ...], Library] = {}
_OPEN_LOCK = threading.Lock()


def open_library(specs: Sequence[str | Source]) -> Library:
    """The library of ``specs`` (paths or ``Source`` values), reloaded only when a source's content changed.

    Raises ``LibraryError`` naming the source when one cannot be used at all.
    """
    t0 = time.perf_counter()
    sources = tuple(s if isinstance(s, Source) else parse_source(str(s)) for s in specs)
    if not sources:
        raise LibraryError("<library>", "no library source given", code="library_not_found")
    content_key = hashlib.sha256("|".join(s.content_key() for s in sources).encode()).hexdigest()[:32]
    ident = tuple(s.label for s in sources)
    with _OPEN_LOCK:
        hit = _OPEN.get(ident)
        if hit is not None and hit.content_key == content_key:
            return hit
    index, origin, ids = _load_entries(sources, content_key)
    if len(index) == 0:
        raise LibraryError(", ".join(s.label for s in sources), "the library has no usable entries",
                           code="library_empty")
    lib = Library(sources, index, origin, content_key, time.perf_counter() - t0, ids)
    with _OPEN_LOCK:
        _OPEN[ident] = lib
    return lib
