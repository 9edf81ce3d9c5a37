"""A paper's own .bib of thousands of entries is ranked through the candidate stage (``citations/big_bib.py``): on a
real dev paper whose .bib is merged with a training paper's (as a personal .bib grows), with the stage's threshold
lowered so the few hundred entries take that path. The candidates carry the very features the full path gives them
(the .bib-order ones computed over the whole file), ``include`` forces a key in, and a completion menu still finds
an entry outside the candidates by the letters typed."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from startref.citations.bibindex import BibIndex, load_bibliography
from startref.citations.big_bib import ORDER_FEATURES
from startref.citations.engine import Engine
from startref.citations.evaluation import load_paper, mine_cases
from startref.citations.features import FEATURE_NAMES
from startref.citations.query import build_query
from startref.latex.cites import find_cites
from startref.latex.commands import syntax_with_user_wrappers

PAPER = "VatsalSy__DropImpact_PRL_arXiv"  # 185 entries, physics
OTHER = "broulston__tdss-varstar-paper"  # a training paper's bibliography (398 entries), astronomy
LIST_RELATIVE = ("enc_z", "enc_top", "bm25_z")  # taken over the candidates, as the library does


@pytest.fixture(scope="module")
def big(bench_papers: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[BibIndex, str, Path]:
    """(the merged index, the paper's text, the merged file): the paper's own .bib, then the other paper's entries
    with their keys suffixed."""
    paper = bench_papers / PAPER
    own = b"\n".join(p.read_bytes() for p in sorted(paper.rglob("*.bib")))
    train = bench_papers.parents[1] / "train" / "papers"
    other = b"\n".join(p.read_bytes() for p in sorted((train / OTHER).rglob("*.bib")))
    other = re.sub(rb"(@\w+\s*\{\s*)([^,\s]+)\s*,", lambda m: m.group(1) + m.group(2) + b"__other,", other)
    path = tmp_path_factory.mktemp("bigbib") / "refs.bib"
    path.write_bytes(own + b"\n" + other)
    loaded = load_paper(paper / "ms.tex", [path])
    return loaded.index, loaded.text, path


def _queries(index: BibIndex, text: str, n: int = 6) -> list:  # type: ignore[type-arg]
    cites = find_cites(text, syntax_with_user_wrappers(text))
    cases = list(mine_cases(text, index, cites))
    picks = [cases[int(i * len(cases) / n)] for i in range(n)]
    return [(c, build_query(text, c.offset, index, cites[: c.ordinal], after_start=cites[c.ordinal].end))
            for c in picks]


def test_candidates_get_the_full_paths_features_and_order_columns(
        big: tuple[BibIndex, str, Path], engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    index, text, _ = big
    assert len(index) > 400
    same = [j for j, name in enumerate(FEATURE_NAMES) if name not in LIST_RELATIVE]
    order_cols = [FEATURE_NAMES.index(n) for n in ORDER_FEATURES]
    found = 0
    for case, query in _queries(index, text):
        monkeypatch.setenv("STARTREF_CANDIDATE_STAGE_FROM", "0")
        full = {r.entry.key: r for r in engine.rank(query, index)}
        monkeypatch.setenv("STARTREF_CANDIDATE_STAGE_FROM", "200")
        staged = engine.rank(query, index)
        assert 0 < len(staged) < len(full)  # only the rows the stage finds
        assert abs(sum(r.prob for r in staged) - 1.0) < 1e-5
        assert [r.logit for r in staged] == sorted((r.logit for r in staged), reverse=True)
        assert not {r.entry.key for r in staged} & set(query.exclude)
        for r in staged:
            np.testing.assert_allclose(r.features[same], full[r.entry.key].features[same], atol=1e-5)
        # the .bib-order columns depend on the whole file: the stage's rows carry the full path's values
        assert any(full[r.entry.key].features[order_cols].any() for r in staged)
        found += any(r.entry.key in case.gold for r in staged)
    assert found >= 4  # the cited entry is among the candidates in most cases
    import gc

    assert gc.get_freeze_count() > 0  # the big index was moved out of the collector's view (big_bib._freeze_once)


def test_include_scores_a_key_the_stage_would_not_find(
        big: tuple[BibIndex, str, Path], engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    index, text, _ = big
    monkeypatch.setenv("STARTREF_CANDIDATE_STAGE_FROM", "200")
    _case, query = _queries(index, text, 1)[0]
    listed = {r.entry.key for r in engine.rank(query, index)}
    outside = next(e.key for e in reversed(index.entries) if e.key not in listed and e.key not in query.exclude)
    with_it = engine.rank(query, index, include=[outside])
    assert outside in {r.entry.key for r in with_it}
    assert len(with_it) == len(listed) + 1


def test_a_completion_menu_finds_an_entry_outside_the_candidates_by_its_letters(
        big: tuple[BibIndex, str, Path], engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from startref.lsp.completion import complete

    index, text, path = big
    monkeypatch.setenv("STARTREF_CANDIDATE_STAGE_FROM", "200")
    doc = text + "\n\nAs measured before \\cite{"
    listed = {r.entry.key for r in engine.rank_at(doc, len(doc), bib=[str(path)]).ranked}
    outside = next(e.key for e in index.entries if e.key.endswith("__other") and e.key not in listed)
    typed = outside[:-len("__other")]
    doc += typed
    result = complete(engine, doc, len(doc), [str(path)])
    assert result is not None and result.incomplete
    assert outside in [c.key for c in result.choices]
    # a key the cite already holds is not offered again, even when the letters typed name it
    again = text + "\n\nAs measured before \\cite{" + outside + "," + typed
    result = complete(engine, again, len(again), [str(path)])
    assert result is not None and outside not in [c.key for c in result.choices]


def test_an_edited_big_bib_embeds_only_its_new_entry(
        big: tuple[BibIndex, str, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A big .bib's vectors are kept by text (``big_bib.entry_vectors``): after adding one entry only that one is
    embedded, and the vectors are the request path's fp32 ones."""
    from startref.citations.bibindex import parse_bib_text
    from startref.citations.encoder import SentenceEncoder
    from startref.citations.features import entry_text, index_features
    from startref.citations.library import indexing
    from startref.citations.models import default_encoder_path

    _index, _text, path = big
    monkeypatch.setenv("STARTREF_CANDIDATE_STAGE_FROM", "200")
    monkeypatch.setenv("STARTREF_ENTRY_PRECISION", "bf16")  # the library's variant must not leak into a paper's .bib
    embedded: list[int] = []
    real = indexing.entry_encoder

    def counting(encoder, variant=None):  # type: ignore[no-untyped-def]
        bulk = real(encoder, variant)
        assert bulk is not None and bulk.variant == "fp32"
        encode = bulk.encode_ids
        bulk.encode_ids = lambda batch: (embedded.append(len(batch)), encode(batch))[1]  # type: ignore[method-assign]
        return bulk

    monkeypatch.setattr(indexing, "entry_encoder", counting)
    encoder = SentenceEncoder(default_encoder_path(), cache_dir=tmp_path)
    text = path.read_text(encoding="utf-8", errors="replace")
    first = index_features(parse_bib_text(text, "refs.bib"), encoder)
    assert sum(embedded) == len(first.keys) > 200
    # kept apart from embeddings/, which encode_corpus prunes by file
    assert len(list((tmp_path / "bib-vectors").glob("*.vectors.npy"))) == 1
    titles = [entry_text(e) for e in first.index.entries[:50]]
    np.testing.assert_allclose(first.emb[:50], encoder.encode(titles), atol=2e-5)
    embedded.clear()
    edited = text + "\n@article{added2026, title = {A freshly added entry on droplet impacts}, year = {2026}}\n"
    second = index_features(parse_bib_text(edited, "refs.bib"), encoder)
    assert len(second.keys) == len(first.keys) + 1
    assert sum(embedded) == 1
    np.testing.assert_array_equal(second.emb[: len(first.keys)], first.emb)


def test_the_prefix_index_finds_what_testing_every_entry_finds(big: tuple[BibIndex, str, Path]) -> None:
    """``lsp.prefix_index`` answers a typed prefix with the very entries ``completion._matches`` accepts (key,
    title word or author name), in .bib order, without testing each entry."""
    from startref.lsp.completion import _matches
    from startref.lsp.prefix_index import prefix_index

    index = big[0]
    found = prefix_index(index)
    assert prefix_index(index) is found  # built once per bibliography
    for typed in ("a", "dro", "impact", "smith", "2019", "zz", "e.", index.entries[-1].key.lower()[:6]):
        expected = [i for i, e in enumerate(index.entries) if _matches(e, typed)]
        assert found.rows(typed) == expected, typed
    assert found.rows("dro") and found.rows("qqqqqq") == []
