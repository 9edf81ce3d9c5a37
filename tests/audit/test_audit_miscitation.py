"""The mis-citation scorer on real dev papers: eval's masking (nothing after a cite leaks into its score), injected
wrong keys found at high sensitivity, the finding's shape, and batching that does not change a number."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from startref.citations.audit import check_document, is_flagged, score_citations
from startref.citations.audit.identity import same_work_groups, same_work_map
from startref.citations.evaluation import load_paper
from startref.latex.cites import find_cites
from startref.latex.commands import syntax_with_user_wrappers


def _paper(bench_papers: Path, name: str, main: str) -> tuple[str, object]:
    loaded = load_paper(bench_papers / name / main)
    return loaded.text, loaded.index


def _cites(text: str) -> list:
    return find_cites(text, syntax_with_user_wrappers(text))


def _swap(text: str, cites: list, picks: list[tuple[int, int, str]]) -> str:
    for i, j, new in sorted(picks, key=lambda p: cites[p[0]].key_spans[p[1]][0], reverse=True):
        start, end = cites[i].key_spans[j]
        text = text[:start] + new + text[end:]
    return text


def test_nothing_after_a_cite_leaks_into_its_score(engine, bench_papers: Path) -> None:
    text, index = _paper(bench_papers, "forgi86__dynonet", "doc/paper/ms.tex")
    cites = _cites(text)
    before = score_citations(engine, text, index, cites)
    half = len(cites) // 2
    keys = [e.key for e in index.entries]
    rng = random.Random(7)
    later = [(i, 0, rng.choice([k for k in keys if k not in cites[i].keys])) for i in range(half, len(cites))]
    changed = _swap(text, cites, later)
    after = score_citations(engine, changed, index, _cites(changed))
    early = lambda scores: [(s.cite, s.key, s.rank, round(s.margin, 5), s.alt) for s in scores if s.cite < half]  # noqa: E731
    assert early(before) and early(before) == early(after)
    assert [s.key for s in after if s.cite >= half] != [s.key for s in before if s.cite >= half]


@pytest.mark.parametrize(("name", "main"), [
    ("forgi86__dynonet", "doc/paper/ms.tex"),
    ("pbizopoulos__signal2image-modules-in-deep-neural-networks-for-eeg-classification", "packages/default/ms.tex"),
])
def test_injected_wrong_keys_are_found_at_high_sensitivity(engine, bench_papers: Path, name: str, main: str) -> None:
    text, index = _paper(bench_papers, name, main)
    cites = _cites(text)
    twins = same_work_map(same_work_groups(index))
    rng = random.Random(15)
    slots = [(i, j) for i, c in enumerate(cites) for j, k in enumerate(c.keys) if index.get(k) is not None]
    picks = []
    for i, j in rng.sample(slots, 3):
        banned = {index.get(k).key for k in cites[i].keys if index.get(k) is not None}
        banned |= twins.get(index.get(cites[i].keys[j]).key, frozenset())
        picks.append((i, j, rng.choice([e.key for e in index.entries if e.key not in banned])))
    changed = _swap(text, cites, picks)
    scores = {(s.cite, s.key_index): s for s in score_citations(engine, changed, index, _cites(changed))}
    injected = [scores[(i, j)] for i, j, _ in picks]
    assert [s.key for s in injected] == [new for _, _, new in picks]
    found = [s for s in injected if is_flagged(s, "high")]
    assert len(found) == len(injected), [(s.key, s.rank, round(s.margin, 2)) for s in injected]
    genuine = [s for k, s in scores.items() if k not in {(i, j) for i, j, _ in picks}]
    assert sum(is_flagged(s, "default") for s in genuine) <= max(1, len(genuine) // 10)


def test_a_flagged_citation_names_both_entries_and_the_fix(engine, bench_papers: Path, tmp_path: Path) -> None:
    source = bench_papers / "forgi86__dynonet" / "doc" / "paper"
    tex = (source / "ms.tex").read_text(encoding="utf-8")
    cites = _cites(tex)
    index = load_paper(source / "ms.tex").index
    target = next(i for i, c in enumerate(cites) if len(c.keys) == 1 and index.get(c.keys[0]) is not None)
    wrong = next(e.key for e in reversed(index.entries) if e.key != index.get(cites[target].keys[0]).key)
    (tmp_path / "ms.tex").write_text(_swap(tex, cites, [(target, 0, wrong)]), encoding="utf-8")
    bibs = sorted(source.glob("*.bib"))
    report = check_document(engine, path=tmp_path / "ms.tex", bib=bibs, sensitivity="high")
    flagged = [f for f in report.findings if f.code == "possible_miscitation"]
    mine = [f for f in flagged if f.key == wrong]
    assert len(mine) == 1, [f.message for f in flagged]
    f = mine[0]
    written = (tmp_path / "ms.tex").read_text(encoding="utf-8")
    assert written[f.location.offset : f.location.end_offset] == wrong
    suggested = f.replacements[0].text
    assert suggested != wrong and index.get(suggested) is not None
    assert f"`{suggested}`" in f.message and f"`{wrong}`" in f.message and "p=" in f.message
    assert f.details["suggested_probability"] > f.details["probability"]
    assert f.details["threshold"] <= f.details["suspicion"] and f.details["margin"] > 0
    assert f.related and f.related[0].location.file.endswith(".bib")


def test_embedding_in_parallel_batches_changes_no_score(engine, bench_papers: Path) -> None:
    text, index = _paper(bench_papers, "txa__substitution", "paper.lagda")
    cites = _cites(text)
    engine.encoder.forget_texts()
    one = score_citations(engine, text, index, cites, workers=1)
    engine.encoder.forget_texts()
    two = score_citations(engine, text, index, cites, workers=2)
    assert [(s.key, s.rank) for s in one] == [(s.key, s.rank) for s in two]
    assert all(abs(a.margin - b.margin) < 1e-4 for a, b in zip(one, two))
