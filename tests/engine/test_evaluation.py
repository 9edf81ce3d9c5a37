"""The leave-one-out protocol: cases are complete, nothing of the answer leaks, history is only earlier cites."""

from __future__ import annotations

import re
from pathlib import Path

from startref.citations.engine import Engine
from startref.citations.evaluation import evaluate_document, load_paper, mine_cases
from startref.citations.training import find_corpus_papers
from startref.latex.cites import find_cites, strip_cites
from startref.latex.commands import syntax_with_user_wrappers


_ANY_CITE = re.compile(r"\\[a-z]*cite", re.I)  # \cite, \Citeauthor, \parencite, \Cite... in any case


def _assert_no_leak(papers_dir: Path) -> int:
    """Every case of every paper under ``papers_dir``: no cite command and no key-like gold key in anything the
    ranker sees (text before and after the cursor, the words around earlier cites). Returns the number of cases."""
    n = 0
    for paper in find_corpus_papers(papers_dir):
        loaded = load_paper(paper.main_tex, list(paper.bibs) or None)
        syntax = syntax_with_user_wrappers(loaded.text)
        cites = find_cites(loaded.text, syntax)
        written = strip_cites(loaded.text, syntax)  # the document's own words: a key may be one ("Why3")
        for case in mine_cases(loaded.text, loaded.index, cites):
            n += 1
            q = case.query
            assert all(h.start < case.offset for h in q.history)
            assert len(q.history) <= sum(1 for c in cites if c.start < case.offset)
            words = f"{q.before} {q.after} " + " ".join(h.window for h in q.history)
            for key in case.gold:
                # A key written in the text as a word (e.g. "ImageNet", "Why3") may legitimately appear; a key
                # with digits or separators that the text never writes outside a cite command is a leak.
                if re.search(r"[\d:_/]", key) and key not in written:
                    assert key not in words, (paper.name, case.line, key)
            assert not _ANY_CITE.search(q.before) and not _ANY_CITE.search(q.after), (paper.name, case.line)
    return n


def test_no_dev_case_leaks_the_masked_citation(bench_papers: Path) -> None:
    # All 20 dev papers (lh3__minigraph leaked Schneider:2017aa when later cites were left to the plain-text pass).
    assert _assert_no_leak(bench_papers) > 1500


def test_no_training_case_leaks_the_masked_citation(bench_papers: Path) -> None:
    assert _assert_no_leak(bench_papers.parents[1] / "train" / "papers") > 10000


def test_later_cites_are_masked_as_the_server_masks_them() -> None:
    """A capitalised \\Citeauthor after the cursor and a cite command cut in half by the after-window: neither
    may leave its key in the query (the plain-text pass alone let both through)."""
    from startref.citations.bibindex import parse_bib_text
    from startref.citations.query import AFTER_RAW_CHARS

    bib = "".join(f"@article{{{k},title={{Title {k}}},author={{Doe, J.}},year={{2020}}}}\n"
                  for k in ("first:2001", "smith:2020", "late_cut:2019"))
    index = parse_bib_text(bib)
    filler = "word " * ((AFTER_RAW_CHARS - 60) // 5)
    text = (r"We start \cite{first:2001} here. \Citeauthor{smith:2020} showed it. " + filler
            + r"\citep[see][p.~3]{late_cut:2019} end.")
    cases = list(mine_cases(text, index))
    assert [c.gold for c in cases][0] == ("first:2001",)
    after = cases[0].query.after
    assert "smith:2020" not in after and "Citeauthor" not in after
    assert "late_cut" not in after and "2019" not in after
    drafting = next(mine_cases(text, index, drafting=True)).query
    assert drafting.after == "" and drafting.before == cases[0].query.before


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
