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


def _inject(text: str, index, rng: random.Random, n: int) -> tuple[str, list[tuple[int, int, str]]]:
    """``text`` with ``n`` random cited keys (in distinct cite commands) replaced by a random other entry that is
    neither in the same command nor the same work."""
    cites = _cites(text)
    twins = same_work_map(same_work_groups(index))
    slots = [(i, j) for i, c in enumerate(cites) for j, k in enumerate(c.keys) if index.get(k) is not None]
    picks: list[tuple[int, int, str]] = []
    for i, j in rng.sample(slots, len(slots)):
        if len(picks) == n:
            break
        if any(i == p[0] for p in picks):
            continue
        banned = {index.get(k).key for k in cites[i].keys if index.get(k) is not None}
        banned |= twins.get(index.get(cites[i].keys[j]).key, frozenset())
        picks.append((i, j, rng.choice([e.key for e in index.entries if e.key not in banned])))
    return _swap(text, cites, picks), picks


def test_injected_wrong_keys_are_found_at_high_sensitivity(engine, bench_papers: Path, tmp_path: Path) -> None:
    """Eight random wrong keys in each of two real papers (seeded): at high sensitivity they are flagged far more
    often than the genuine keys, and each flag names both entries, both probabilities and the fix.

    How many: the bench finds 77% of random swaps at high over the 20 dev papers, but these two bioinformatics
    papers, whose bibliographies are full of one group's tools, are harder: 9 of these 16 with the shipped model (7
    of 129 genuine keys flagged; 7 of 16 before it read the document's own evidence, ``cocitation``). A check
    without signal would flag about 9% (its rate on genuine keys), one or two of 16; the test asks for 6."""
    hits, injected, genuine_flags, genuine = 0, 0, 0, 0
    for name, main in (("lh3__minimap2", "tex/minimap2.tex"), ("lh3__minigraph", "tex/minigraph.tex")):
        source = bench_papers / name / main
        index = load_paper(source).index
        changed, picks = _inject(source.read_text(encoding="utf-8"), index, random.Random(15), 8)
        tex = tmp_path / name / source.name
        tex.parent.mkdir()
        tex.write_text(changed, encoding="utf-8")
        report = check_document(engine, path=tex, bib=sorted(source.parent.glob("*.bib")), sensitivity="high")
        cites = _cites(changed)
        spans = {cites[i].key_spans[j] for i, j, _ in picks}
        flagged = [f for f in report.findings if f.code == "possible_miscitation"]
        found = [f for f in flagged if (f.location.offset, f.location.end_offset) in spans]
        hits, injected = hits + len(found), injected + len(picks)
        genuine_flags, genuine = genuine_flags + len(flagged) - len(found), genuine + report.checked - len(picks)
        for f in found:
            assert changed[f.location.offset : f.location.end_offset] == f.key
            suggested = f.replacements[0].text
            assert suggested != f.key and index.get(suggested) is not None
            assert f"`{suggested}`" in f.message and f"`{f.key}`" in f.message and "p=" in f.message
            assert f.details["suggested_probability"] > f.details["probability"]
            assert f.details["threshold"] <= f.details["suspicion"] and f.details["margin"] > 0
            assert f.related and f.related[0].location.file.endswith(".bib")
    assert hits >= 6, (hits, injected)
    assert hits / injected >= 5 * genuine_flags / genuine, (hits, injected, genuine_flags, genuine)


def test_embedding_in_parallel_batches_changes_no_score(engine, bench_papers: Path) -> None:
    text, index = _paper(bench_papers, "txa__substitution", "paper.lagda")
    cites = _cites(text)
    engine.encoder.forget_texts()
    one = score_citations(engine, text, index, cites, workers=1)
    engine.encoder.forget_texts()
    two = score_citations(engine, text, index, cites, workers=2)
    assert [(s.key, s.rank) for s in one] == [(s.key, s.rank) for s in two]
    assert all(abs(a.margin - b.margin) < 1e-4 for a, b in zip(one, two))
