"""The suspicion model's inputs, and the per-key facts ``score_citations`` records for fitting it: every input has a
weight and a column, a near key above the cited one adds evidence, and the keys of each command are counted from
the document itself."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from startref.citations.audit import score_citations
from startref.citations.audit.suspicion import FEATURES, SUSPICION_WEIGHTS, suspicion_inputs, suspicions
from startref.citations.evaluation import load_paper
from startref.latex.cites import find_cites
from startref.latex.commands import syntax_with_user_wrappers


def test_every_input_has_a_weight_and_a_column() -> None:
    x = suspicion_inputs([2.0, 0.5], [4, 1], [20, 20], [False, True], [1.0, -1.0])
    assert x.shape == (2, len(FEATURES)) and set(SUSPICION_WEIGHTS) == set(FEATURES)


def test_a_near_key_above_the_cited_one_raises_the_suspicion_and_no_alternative_is_never_suspicious() -> None:
    margins, ranks, entries, recited = [3.0, 3.0, 0.2, float("-inf")], [9, 9, 2, 1], [40] * 4, [False] * 4
    without = suspicions(margins, ranks, entries, recited, [-1.0, -1.0, -1.0, float("-inf")])
    with_near = suspicions(margins, ranks, entries, recited, [2.0, -1.0, -1.0, float("-inf")])
    assert with_near[0] > without[0] and np.allclose(with_near[1:3], without[1:3])
    assert without[3] == with_near[3] == float("-inf")


def test_scores_count_the_keys_of_each_command(engine, bench_papers: Path) -> None:
    loaded = load_paper(bench_papers / "txa__substitution" / "paper.lagda")
    cites = find_cites(loaded.text, syntax_with_user_wrappers(loaded.text))
    scores = score_citations(engine, loaded.text, loaded.index, cites, explain_from=1e9)
    assert scores and all(s.keys_in_command == len(cites[s.cite].keys) for s in scores)
    assert any(s.keys_in_command > 1 for s in scores)


def test_scores_carry_the_networks_own_view(engine, bench_papers: Path) -> None:
    """With the shipped ensemble (networks + trees) each key also gets the networks' margin and rank, which
    ``bench/check.py`` saves: close to the ensemble's, not equal to it."""
    loaded = load_paper(bench_papers / "txa__substitution" / "paper.lagda")
    cites = find_cites(loaded.text, syntax_with_user_wrappers(loaded.text))
    scores = [s for s in score_citations(engine, loaded.text, loaded.index, cites, explain_from=1e9) if s.alt]
    assert scores and all(np.isfinite(s.net_margin) and 1 <= s.net_rank <= s.entries for s in scores)
    assert any(abs(s.net_margin - s.margin) > 1e-3 for s in scores)
    assert np.corrcoef([s.net_margin for s in scores], [s.margin for s in scores])[0, 1] > 0.8
