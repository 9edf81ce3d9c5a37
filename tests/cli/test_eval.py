"""``startref eval`` on a real bench paper: metrics in a table, per-case rows with ``--json``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from startref.cli.main import main

PAPER = ("forgi86__dynonet", "doc/paper", "ms.tex", "ms.bib")


def test_eval_json_has_summary_and_cases(bench_papers: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    name, folder, tex, _ = PAPER
    shutil.copytree(bench_papers / name / folder, tmp_path / "paper")
    path = tmp_path / "paper" / tex
    assert main(["eval", str(path), "--json", "--no-generator", "--max-cases", "6"]) == 0
    report = json.loads(capsys.readouterr().out)
    summary = report["summary"]
    assert summary["cases"] == len(report["cases"]) == 6
    assert 0.0 <= summary["hit@1"] <= summary["hit@5"] <= 1.0
    assert 0.0 <= summary["mrr"] <= 1.0
    assert summary["p50_ms"] <= summary["p95_ms"]


def test_eval_table(bench_papers: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    name, folder, tex, _ = PAPER
    shutil.copytree(bench_papers / name / folder, tmp_path / "paper")
    path = tmp_path / "paper" / tex
    assert main(["eval", str(path), "--no-generator", "--max-cases", "3"]) == 0
    header, row = capsys.readouterr().out.splitlines()[:2]
    assert header.split() == ["paper", "cases", "hit@1", "hit@5", "MRR", "p50", "ms", "p95", "ms"]
    assert row.startswith(str(path)) and row.count("%") == 2


def test_eval_without_citations_exits_1(bench_papers: Path, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    name, folder, _, bib = PAPER
    shutil.copy(bench_papers / name / folder / bib, tmp_path / "refs.bib")
    tex = tmp_path / "draft.tex"
    tex.write_text("\\documentclass{article}\n\\begin{document}\nNo citations yet.\n"
                   "\\bibliography{refs}\n\\end{document}\n", encoding="utf-8")
    assert main(["eval", str(tex), "--json", "--no-generator"]) == 1
    assert json.loads(capsys.readouterr().out)["summary"]["cases"] == 0
