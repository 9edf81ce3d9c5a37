"""The engine: the one object the CLI, the server and the editor talk to.

It owns the warm models (encoder, ranker, optional generator), finds and caches bibliographies, and turns
``(text, cursor)`` into a ``Suggestion``. Everything user-facing is decided here once — which entries may be
proposed (only existing keys), how a generation that matches nothing is reported (``unresolved``), how the edit is
shaped — so the three ways in behave the same.

Its parts live beside it: ``engine_types`` (the config and the ranked rows), ``request_bibliography`` (which
.bib a request means, and its summary), ``cursor_edits`` (the edits shaped with the bibliography in view).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from startref import __version__
from startref.filerules import FileRules
from startref.citations.bibindex import BibIndex
from startref.citations.encoder import SentenceEncoder, load_encoder
from startref.citations.engine_types import CursorRanking, EngineConfig, RankedEntry, softmax
from startref.citations.errors import check_deadline
from startref.citations.explain import explain
from startref.citations.big_bib import candidate_stage_from, rank_big_bib
from startref.citations.features import Query, compute_features, index_features
from startref.citations.query import build_query
from startref.citations.encoder_training import ADAPTER_FILE
from startref.citations.cursor_edits import complete_key_means_add, with_bib_edits
from startref.citations.ranker import Ranker, default_ranker_path, load_ranker, query_gates
from startref.citations.request_bibliography import bibliography_summary, request_bibliography
from startref.citations.suggestion import (
    AnnotateResult,
    BibliographySummary,
    Candidate,
    Edit,
    Suggestion,
)
from startref.latex.cites import find_cites
from startref.latex.commands import syntax_with_user_wrappers
from startref.latex.context import cursor_context, insertion_for
from startref.latex.errors import LatexInputError
from startref.latex.source import check_text

__all__ = ["Engine", "EngineConfig", "RankedEntry", "CursorRanking"]


class Engine:
    """Thread-safe suggestion engine; models load lazily (or at once with ``warm()``)."""

    def __init__(self, config: EngineConfig | None = None) -> None:
        self.config = config or EngineConfig()
        self._lock = threading.Lock()
        self._encoder: SentenceEncoder | None = None
        self._ranker: Ranker | None = None
        self._generator: Any = None
        self._generator_checked = False
        self._bib_seen: dict[str, int] = {}
        self._library: Any = None

    # -- models -------------------------------------------------------------------------------------------------
    @property
    def encoder(self) -> SentenceEncoder:
        if self._encoder is None:
            with self._lock:
                if self._encoder is None:
                    self._encoder = load_encoder(self.config.encoder, device=self.config.device, adapter=self.adapter_dir)
        return self._encoder

    @property
    def adapter_dir(self) -> Path | None:
        """Where the fine-tuned encoder layers come from: the model dir (or the shipped artifacts) when it has them.

        A ranker was trained on features of one encoder; an adapter is only applied with the ranker beside it, and
        not over a user's own ``--encoder``.
        """
        if self.config.encoder is not None:
            return None
        folder = Path(self.config.model_dir) if self.config.model_dir else default_ranker_path().parent
        return folder if (folder / ADAPTER_FILE).is_file() else None

    @property
    def ranker(self) -> Ranker:
        if self._ranker is None:
            with self._lock:
                if self._ranker is None:
                    self._ranker = load_ranker(self.config.model_dir)
        return self._ranker

    @property
    def uses_generator(self) -> bool:
        """Whether the LM stage runs: the config's choice, else the shipped default recorded by the benchmark."""
        if self.config.use_generator is not None:
            return self.config.use_generator
        if self.config.generator is not None or self.config.remote is not None:
            return True
        return bool(self.ranker.meta.get("use_generator", False))

    @property
    def lm_weight(self) -> float:
        if self.config.lm_weight is not None:
            return self.config.lm_weight
        return float(self.ranker.meta.get("lm_weight", 2.0))  # type: ignore[arg-type]

    @property
    def generator(self) -> Any:
        """The causal LM (loaded on first use), or None when the LM stage is off."""
        if not self.uses_generator:
            return None
        if self._generator is None:
            with self._lock:
                if self._generator is None and self.config.remote is not None:
                    from startref.citations.remote import RemoteGenerator

                    self._generator = RemoteGenerator(self.config.remote)
                elif self._generator is None:
                    from startref.citations.generation import load_generator

                    self._generator = load_generator(self.config.generator, device=self.config.device)
        return self._generator

    def warm(self) -> None:
        """Load every model now (server start-up), so the first request is not the slow one."""
        _ = self.encoder, self.ranker, self.generator
        if self.config.library:
            self.library_or_warning()

    def library_or_warning(self, wanted: bool | None = None) -> tuple[Any, str | None]:
        """The configured library (loaded, its ranking data ready) and a warning when it cannot be used; a broken
        library never breaks a suggestion from the paper's own .bib. ``wanted=False`` turns it off."""
        if wanted is False or not self.config.library:
            return None, None
        from startref.citations.library import LibraryError, open_library

        try:
            library = open_library(self.config.library)
            library.features(self.encoder)
        except LibraryError as err:
            return None, f"library not used: {err}"
        self._library = library
        return library, None

    def info(self) -> dict[str, Any]:
        data = {
            "version": __version__,
            "models": self.model_names(),
            "device": self.config.device,
            "bibliographies": [{"file": f, "entries": n} for f, n in sorted(dict(self._bib_seen).items())],
            "library": ({"sources": [s.label for s in self._library.sources], "entries": len(self._library),
                         "load_s": round(self._library.load_seconds, 2)} if self._library is not None else None),
        }
        generator = self.generator if self.config.remote is not None else None
        if generator is not None:  # the model server's health, asked now (a short, bounded probe)
            data["generator"] = generator.health()
        return data

    def model_names(self) -> dict[str, str | None]:
        gen = self._generator
        return {
            "generator": getattr(gen, "name", None) if gen is not None else (None if not self.uses_generator else "(not loaded)"),
            "encoder": self._encoder.name if self._encoder else None,
            "ranker": str(self.config.model_dir or "shipped"),
        }

    # -- bibliographies -----------------------------------------------------------------------------------------
    def bibliography_for(
        self,
        *,
        path: str | Path | None = None,
        text: str | None = None,
        bib: Sequence[str | Path] | None = None,
        bib_text: str | None = None,
        file_rules: FileRules | None = None,
    ) -> BibIndex:
        """The bibliography for a request: inline text, else named files, else discovered from the .tex file.

        ``file_rules`` (default: the config's) decide which files may be read, however they are named
        (``request_bibliography`` finds it; the engine notes which files it has seen, for ``info``).
        """
        rules = file_rules or self.config.file_rules
        index = request_bibliography(path=path, text=text, bib=bib, bib_text=bib_text, rules=rules)
        for f in index.files:
            self._bib_seen.pop(f, None)
            self._bib_seen[f] = len(index)
        while len(self._bib_seen) > 256:  # /v1/info lists the recent ones; a long-running server must not grow
            self._bib_seen.pop(next(iter(self._bib_seen)))
        return index

    # -- ranking ------------------------------------------------------------------------------------------------
    def rank(self, query: Query, index: BibIndex, include: Collection[str] = ()) -> list[RankedEntry]:
        """Every entry of ``index`` except excluded ones, best first. A .bib of thousands of entries is ranked
        through the candidate stage (``big_bib``): only the few hundred rows it finds are listed (``include``: keys
        it must score whatever it finds)."""
        fx = index_features(index, self.encoder)
        keep = np.ones(len(fx.keys), dtype=bool)
        for key in query.exclude:  # the keys of the cite being completed, if any: a few
            if key in fx.key_pos:
                keep[fx.key_pos[key]] = False
        threshold = candidate_stage_from()
        if threshold and len(fx.keys) >= threshold:
            return rank_big_bib(query, index, fx, self.encoder, self.ranker, keep, include)
        feats = compute_features(query, fx, self.encoder)
        logits = self.ranker.score(feats)
        gates = query_gates(feats)
        idx = np.nonzero(keep)[0]
        order = idx[np.argsort(-logits[idx], kind="stable")]
        probs = softmax(logits[order])
        return [
            RankedEntry(index.entries[i], float(logits[i]), float(p), feats[i], gates) for i, p in zip(order, probs)
        ]

    def with_generation(
        self, text: str, cursor: int, ranked: list[RankedEntry], index: BibIndex, k: int
    ) -> tuple[list[RankedEntry], list[str]]:
        """Run the LM stage (a no-op when it is off): generate citation text at the cursor, resolve it, and re-rank the resolved entries up."""
        ranked, unresolved, _error = self.with_generation_or_error(text, cursor, ranked, index, k)
        return ranked, unresolved

    def with_generation_or_error(
        self, text: str, cursor: int, ranked: list[RankedEntry], index: BibIndex, k: int
    ) -> tuple[list[RankedEntry], list[str], str | None]:
        """The LM stage, falling back to the ranker's own order when a model server fails (the third value says why)."""
        generator = self.generator
        if generator is None or not ranked:
            return ranked, [], None
        from startref.citations.lmstage import lm_rerank
        from startref.citations.remote.errors import RemoteGeneratorError

        try:
            reranked, unresolved = lm_rerank(
                generator, text, cursor, ranked, index, k=k, weight=self.lm_weight, mode=self.config.lm_mode
            )
        except RemoteGeneratorError as error:
            return ranked, [], str(error)
        return reranked, unresolved, None

    def suggest(
        self,
        text: str,
        cursor: int,
        *,
        path: str | Path | None = None,
        bib: Sequence[str | Path] | None = None,
        bib_text: str | None = None,
        k: int = 5,
        command: str | None = None,
        deadline: float | None = None,
        file_rules: FileRules | None = None,
        library: bool | None = None,
        append_to: str | Path | None = None,
    ) -> Suggestion:
        """Ranked candidates for the cursor, the edit that inserts the best one, and unresolved generations.

        ``deadline`` (a ``time.monotonic()`` value) is checked between stages: past it, ``DeadlineExceeded``.
        ``library`` False leaves the configured library out; a library entry that is chosen comes with the
        ``bib_edit`` that appends it to ``append_to`` (default: the document's first .bib).
        """
        at = self.rank_at(text, cursor, path=path, bib=bib, bib_text=bib_text, k=k, deadline=deadline,
                          file_rules=file_rules, library=library)
        top = at.ranked[: max(1, min(k, 50))]
        candidates = [self.candidate(r, at) for r in top]
        bib_edit = None
        if at.library_used and any(not r.in_bib for r in top):
            candidates, bib_edit = with_bib_edits(candidates, top, at.index, append_to, bib_text)
        insert = None
        if candidates:
            start, end, new = insertion_for(at.context, candidates[0].key, command)
            insert = Edit(start, end, new)
        at.timing_ms["total"] = round((time.perf_counter() - at.started) * 1000, 1)
        return Suggestion(
            candidates=candidates,
            insert=insert,
            unresolved=at.unresolved,
            bibliography=bibliography_summary(at.index),
            model=self.model_names(),
            timing_ms=at.timing_ms,
            generator_error=at.generator_error,
            warnings=list(at.warnings),
            bib_edit=bib_edit,
        )

    def rank_at(
        self,
        text: str,
        cursor: int,
        *,
        path: str | Path | None = None,
        bib: Sequence[str | Path] | None = None,
        bib_text: str | None = None,
        k: int = 5,
        deadline: float | None = None,
        file_rules: FileRules | None = None,
        library: bool | None = None,
    ) -> CursorRanking:
        """Every entry ranked for the cursor, with the context that built the query (``suggest`` without the cut).

        Why public: the language server completes with *every* entry (best 200 of a big library) and needs the
        cursor context for its edits; it must rank exactly as ``suggest`` does. ``k``: how many rows the LM stage
        and the library merge must get right (the rest keep the ranker's order).
        """
        t0 = time.perf_counter()
        check_text(text, str(path) if path else "<text>")
        if not 0 <= cursor <= len(text):
            raise LatexInputError(f"cursor {cursor} outside the text (length {len(text)})", path=str(path) if path else None, code="cursor_out_of_range")
        index = self.bibliography_for(path=path, text=text, bib=bib, bib_text=bib_text, file_rules=file_rules)
        check_deadline(deadline, "after reading the bibliography")
        t_bib = time.perf_counter()
        syntax = syntax_with_user_wrappers(text)
        cites = find_cites(text, syntax)
        ctx = complete_key_means_add(cursor_context(text, cursor, syntax, cites=cites), index)
        inside = ctx.inside_cite
        query = build_query(text, cursor, index, cites, skip=inside, exclude_keys=inside.keys if inside else ())
        check_deadline(deadline, "after reading the document")
        ranked = self.rank(query, index)
        t_rank = time.perf_counter()
        if self.uses_generator:  # a finished ranking is returned whatever the time; only new work is refused
            check_deadline(deadline, "before the LM stage")
        ranked, unresolved, generator_error = self.with_generation_or_error(text, cursor, ranked, index, k)
        t_gen = time.perf_counter()
        lib, lib_warning = self.library_or_warning(library)
        if lib is not None:
            from startref.citations.library.ranking import rank_with_library

            ranked = rank_with_library(self, lib, text, cursor, cites, index, ranked, top=max(1, k),
                                       skip=inside, exclude_keys=inside.keys if inside else ())
        t_lib = time.perf_counter()
        timing = {
            "bibliography": round((t_bib - t0) * 1000, 1),
            "rank": round((t_rank - t_bib) * 1000, 1),
            "generate": round((t_gen - t_rank) * 1000, 1),
            **({"library": round((t_lib - t_gen) * 1000, 1)} if lib is not None else {}),
        }
        return CursorRanking(ctx, query, index, ranked, unresolved, t0, timing, generator_error=generator_error,
                             library_used=lib is not None, warnings=[lib_warning] if lib_warning else [])

    @staticmethod
    def summary(index: BibIndex) -> BibliographySummary:
        """The bibliography part of an answer (files, entries, problems)."""
        return bibliography_summary(index)

    def candidate(self, r: RankedEntry, at: CursorRanking) -> Candidate:
        """The user-facing ``Candidate`` of one ranked row (with its *why*), as ``suggest`` shows it."""
        return self.candidate_of(r, at.query, at.index)

    def candidate_of(self, r: RankedEntry, query: Query, index: BibIndex) -> Candidate:
        """The same for a row ranked for ``query`` outside ``rank_at`` (``annotate``'s placeholders)."""
        e = r.entry
        return Candidate(
            key=e.key,
            title=e.title,
            authors=e.author_text,
            year=e.year,
            score=round(r.prob, 4),
            why=explain(r.features, r.gates, self.ranker, e, query),
            generated=r.generated,
            in_bib=r.in_bib,
            source=r.source or e.file,
        )

    def annotate(
        self,
        text: str,
        *,
        path: str | Path | None = None,
        bib: Sequence[str | Path] | None = None,
        bib_text: str | None = None,
        keep_k: int = 0,
        command: str | None = None,
        progress: Callable[[int, int], None] | None = None,
        deadline: float | None = None,
        max_placeholders: int | None = None,
        file_rules: FileRules | None = None,
        concurrency: int = 1,
        library: bool | None = None,
        append_to: str | Path | None = None,
    ) -> AnnotateResult:
        """Fill every citation placeholder of ``text`` with its best entry (``citations.annotating.annotate_text``
        says how: deadline, cap, concurrent LM stage, library entries)."""
        from startref.citations.annotating import annotate_text

        return annotate_text(self, text, path=path, bib=bib, bib_text=bib_text, keep_k=keep_k, command=command,
                             progress=progress, deadline=deadline, max_placeholders=max_placeholders,
                             file_rules=file_rules, concurrency=concurrency, library=library, append_to=append_to)
