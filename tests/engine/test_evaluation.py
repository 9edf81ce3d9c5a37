"""The leave-one-out protocol: cases are complete, nothing of the answer leaks, history is only earlier cites."""

from __future__ import annotations

import re
from pathlib import Path

from startref.citations.engine import Engine
from startref.citations.evaluation import evaluate_document, load_paper, mine_cases
from startref.citations.training import find_corpus_papers
from startref.latex.cites import find_cites


def test_cases_leak_nothing_of_the_masked_citation(bench_papers: Path) -> None:
    for paper in find_corpus_papers(bench_papers)[:8]:
        loaded = load_paper(paper.main_tex, list(paper.bibs) or None)
        cites = find_cites(loaded.text)
        cases = list(mine_cases(loaded.text, loaded.index, cites))
        assert cases, paper.name
        for case in cases:
            q = case.query
            assert all(h.start < case.offset for h in q.history)
            assert len(q.history) <= sum(1 for c in cites if c.start < case.offset)
            words = f"{q.before} {q.after} " + " ".join(h.window for h in q.history)
            for key in case.gold:
                # A key written in the text as a word (e.g. "ImageNet") may legitimately appear; a key with
                # digits or separators never does unless a cite command leaked.
                if re.search(r"[\d:_/]", key):
                    assert key not in words, (paper.name, key)
            assert "\\cite" not in q.before and "\\cite" not in q.after


def test_every_case_has_gold_in_the_bibliography(bench_papers: Path) -> None:
    paper = next(p for p in find_corpus_papers(bench_papers) if p.name == "lh3__minimap2")
    loaded = load_paper(paper.main_tex, list(paper.bibs))
    cites = find_cites(loaded.text)
    cases = list(mine_cases(loaded.text, loaded.index, cites))
    with_known_key = [c for c in cites if any(loaded.index.get(k) for k in c.keys)]
    assert len(cases) == len(with_known_key)
    assert all(loaded.index.get(k) is not None for c in cases for k in c.gold)


def test_evaluate_document_reports_metrics_well_above_random(engine: Engine, bench_papers: Path) -> None:
    paper = next(p for p in find_corpus_papers(bench_papers) if p.name == "lh3__minimap2")
    report = evaluate_document(engine, paper.main_tex, list(paper.bibs))
    s = report.summary()
    assert s["cases"] == len(report.cases) > 20
    assert 0 <= s["hit@1"] <= s["hit@5"] <= 1
    random_hit1 = 1 / s["entries"]
    assert s["hit@1"] > 5 * random_hit1  # far above chance (1/57) on a real paper
    assert all(c["rank"] >= 1 and c["ms"] >= 0 for c in report.cases)
