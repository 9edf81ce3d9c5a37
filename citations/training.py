"""``startref train``: learn the ranker's weights from a folder of real papers.

Why mine with the evaluation's own protocol: a feature computed differently in training and at the cursor would
make the learned weights wrong in exactly the way no test notices. Cases come from ``evaluation.mine_cases``, the
features from ``features.compute_features`` — the code the user's requests run through.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from startref.citations.encoder import SentenceEncoder
from startref.citations.errors import BibliographyError, StartrefError
from startref.citations.evaluation import Paper, load_paper, mine_cases
from startref.citations.features import FEATURE_NAMES
from startref.citations.ranker import Ranker, fit_listwise, fit_mlp_listwise
from startref.latex.errors import LatexInputError

__all__ = [
    "CorpusPaper", "read_source_txt", "find_corpus_papers", "encoder_pairs", "crossfit_encoders", "split_halves",
    "feature_groups", "FitOptions", "fit_ranker", "fit_and_save", "RANKER_KINDS", "train_ranker", "TrainResult",
    "mine_corpus",
]

_DOCUMENTCLASS = re.compile(r"^[^%\n]*\\documentclass", re.M)


@dataclass(frozen=True)
class CorpusPaper:
    """A paper found in a training folder: its main .tex and, when its SOURCE.txt says so, its .bib files."""

    name: str
    main_tex: Path
    bibs: tuple[Path, ...] = ()


def read_source_txt(path: Path) -> CorpusPaper | None:
    """The paper a ``SOURCE.txt`` (shared/ layout) describes: its ``main_tex`` and the ``bib_files`` that exist."""
    main: str | None = None
    bibs: list[str] = []
    section = ""
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("main_tex:"):
            main = line.split(":", 1)[1].strip()
        elif line.endswith(":") and not line.startswith(" "):
            section = line[:-1]
        elif line.startswith("  ") and section == "bib_files":
            bibs.append(line.strip())
        elif not line.startswith(" "):
            section = ""
    if not main:
        return None
    root = path.parent
    return CorpusPaper(root.name, root / main, tuple(root / b for b in bibs if (root / b).is_file()))


def find_corpus_papers(corpus: Path) -> list[CorpusPaper]:
    """Papers under ``corpus``: folders with a ``SOURCE.txt`` (the shared/ layout), else every .tex file with a
    ``\\documentclass`` (its bibliography is discovered the way LaTeX would)."""
    corpus = Path(corpus)
    if not corpus.is_dir():
        raise StartrefError(f"{corpus}: not a folder of papers")
    papers: list[CorpusPaper] = []
    sources = sorted(corpus.rglob("SOURCE.txt"))
    covered: set[Path] = set()
    for src in sources:
        paper = read_source_txt(src)
        if paper is not None and paper.main_tex.is_file():
            papers.append(paper)
            covered.add(src.parent)
    for tex in sorted(corpus.rglob("*.tex")):
        if any(parent in covered for parent in tex.parents):
            continue
        try:
            head = tex.read_text(encoding="utf-8", errors="replace")[:20000]
        except OSError:
            continue
        if _DOCUMENTCLASS.search(head):
            papers.append(CorpusPaper(str(tex.relative_to(corpus)), tex))
    return papers


def _readable(papers: Sequence[CorpusPaper], progress: Callable[[str], None] | None) -> Iterator[tuple[CorpusPaper, Paper]]:
    """Each paper with its flattened text and bibliography; one that cannot be read is reported and skipped."""
    for paper in papers:
        try:
            loaded = load_paper(paper.main_tex, list(paper.bibs) or None)
        except (StartrefError, LatexInputError, BibliographyError) as exc:
            if progress:
                progress(f"skip {paper.name}: {exc}")
            continue
        yield paper, loaded


def feature_groups(
    papers: Sequence[CorpusPaper],
    encoder: SentenceEncoder | Callable[[str], SentenceEncoder],
    progress: Callable[[str], None] | None = None,
    max_cases_per_paper: int = 300,
    seed: int = 0,
    *,
    cache_dir: Path | None = None,
    drafting_share: float = 0.0,
) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """(paper name, features, gold mask) for every mined case; papers that cannot be read are reported and skipped.

    ``encoder`` may be a function of the paper's name: cross-fitting mines each paper with an encoder adapter that
    was NOT fine-tuned on it, so the ranker learns how much the encoder is worth on unseen papers. With
    ``drafting_share`` that share of each paper's cases (seeded) sees nothing after the cursor, as when drafting;
    ``cache_dir`` keeps the mined features for the next run (``mining_cache``).
    """
    from startref.citations.mining_cache import cached_mine

    loaded = ((paper.name, paper_text) for paper, paper_text in _readable(papers, progress))
    for mined in cached_mine(loaded, encoder, cache_dir, max_cases=max_cases_per_paper, seed=seed,
                             drafting_share=drafting_share, progress=progress):
        for feats, gold in mined.groups(drafting=drafting_share > 0):
            yield mined.name, feats, gold


def encoder_pairs(
    papers: Sequence[CorpusPaper], seed: int = 0, progress: Callable[[str], None] | None = None
) -> list[dict[str, object]]:
    """(context, cited titles, other titles of the same bibliography) per mined case, for encoder fine-tuning."""
    from startref.citations.features import entry_text

    rng = random.Random(seed)
    out: list[dict[str, object]] = []
    for paper, loaded in _readable(papers, progress):
        titles = [entry_text(e) for e in loaded.index.entries]
        for case in mine_cases(loaded.text, loaded.index):
            gold = [entry_text(e) for k in case.gold if (e := loaded.index.get(k)) is not None]
            negatives = [t for t in rng.sample(titles, min(16, len(titles))) if t not in gold][:12]
            out.append({"paper": paper.name, "context": case.query.context_text, "gold": gold, "neg": negatives})
    return out


RANKER_KINDS = ("mlp", "linear")


@dataclass(frozen=True)
class FitOptions:
    """How to fit the ranker: the kind ("mlp", shipped: linear part + one hidden layer; "linear": readable weights)
    and its settings; ``seed`` also seeds the sampling of cases when mining."""

    kind: str = "mlp"
    l2: float = 1e-2  # linear
    hidden: int = 16  # mlp
    steps: int = 200  # mlp
    members: int = 3  # mlp
    seed: int = 0


def fit_ranker(
    groups: Sequence[tuple[np.ndarray, np.ndarray]],
    options: FitOptions = FitOptions(),
    progress: Callable[[str], None] | None = None,
) -> Ranker:
    """The ranker ``options`` describe, fitted on mined groups."""
    if options.kind == "mlp":
        return fit_mlp_listwise(groups, hidden=options.hidden, steps=options.steps, seed=options.seed,
                                members=options.members, progress=progress)
    if options.kind == "linear":
        return fit_listwise(groups, l2=options.l2)
    raise StartrefError(f"unknown ranker kind {options.kind!r} (choose from {', '.join(RANKER_KINDS)})")


def signal_importance(ranker: Ranker, groups: Sequence[tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    """Per feature, the mean over queries of (its contribution to the right entry - its mean contribution over the
    list): how much it lifts the right entry above the others, in score units."""
    total = np.zeros(len(FEATURE_NAMES))
    n = 0
    for feats, gold in groups:
        if not gold.any() or len(gold) < 2:
            continue
        contrib = ranker.contributions(feats)
        total += contrib[gold].mean(0) - contrib.mean(0)
        n += 1
    return {name: float(v / max(n, 1)) for name, v in zip(FEATURE_NAMES, total)}


@dataclass
class TrainResult:
    ranker: Ranker
    papers: int
    queries: int
    importance: dict[str, float]


def crossfit_encoders(crossfit: Path, base: str | Path | None = None) -> Callable[[str], SentenceEncoder]:
    """Paper name -> the encoder whose adapter was trained on the OTHER half of the corpus.

    ``crossfit`` holds ``halves.json`` ({paper: 0 or 1}) and the adapters ``h0/`` and ``h1/`` (each trained on the
    papers of its half), as ``write_crossfit`` leaves them.
    """
    from startref.citations.encoder import load_encoder

    from startref.citations.encoder_training import ADAPTER_FILE

    halves = json.loads((crossfit / "halves.json").read_text(encoding="utf-8"))
    full = crossfit.parent  # the adapter fine-tuned on all papers of halves.json (write_crossfit's layout)

    def encoder_for(name: str) -> SentenceEncoder:
        half = halves.get(name)
        if half is None:
            # A paper added to the corpus after the adapters were fine-tuned: no adapter has seen it, so the full
            # one is as unseen for it as the other half's adapter is for a paper of the halves.
            if not (full / ADAPTER_FILE).is_file():
                raise StartrefError(f"{crossfit / 'halves.json'}: paper {name!r} has no half and {full} holds no "
                                    f"adapter; re-run the fine-tuning")
            return load_encoder(base, adapter=full, keep_traced=False)
        return load_encoder(base, adapter=crossfit / f"h{1 - int(half)}", keep_traced=False)

    return encoder_for


def split_halves(pairs: Sequence[dict[str, object]]) -> dict[str, int]:
    """Papers of the pairs, sorted by name, alternately in half 0 and half 1."""
    return {name: i % 2 for i, name in enumerate(sorted({str(p["paper"]) for p in pairs}))}


def train_ranker(
    corpus: Path,
    out_dir: Path,
    encoder: SentenceEncoder | Callable[[str], SentenceEncoder],
    options: FitOptions = FitOptions(),
    *,
    max_cases_per_paper: int = 300,
    progress: Callable[[str], None] | None = None,
    extra_meta: dict[str, object] | None = None,
    cache_dir: Path | None = None,
    drafting_share: float = 0.0,
    only: Sequence[str] | None = None,
) -> TrainResult:
    """Mine ``corpus``, fit the listwise ranker, write ``out_dir/ranker.json``; deterministic for a given seed.

    ``drafting_share``: that share of the cases is mined with nothing after the cursor; ``cache_dir``: keep (and
    reuse) the mined features there; ``only``: train on these papers of the corpus (by name) and no others, e.g.
    the papers an earlier ``training.json`` lists, so a grown corpus still reproduces that ranker."""
    groups, names, meta = mine_corpus(corpus, encoder, seed=options.seed, max_cases_per_paper=max_cases_per_paper,
                                      drafting_share=drafting_share, cache_dir=cache_dir, only=only,
                                      progress=progress)
    return fit_and_save(groups, names, out_dir, options, progress=progress, extra_meta={**meta, **(extra_meta or {})})


def mine_corpus(
    corpus: Path,
    encoder: SentenceEncoder | Callable[[str], SentenceEncoder],
    *,
    seed: int = 0,
    max_cases_per_paper: int = 300,
    drafting_share: float = 0.0,
    cache_dir: Path | None = None,
    only: Sequence[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[list[tuple[np.ndarray, np.ndarray]], set[str], dict[str, object]]:
    """The mined (features, gold) lists of ``corpus`` (only the papers ``only`` names, when given), the names of
    the papers that gave cases, and the options to record in the model's meta."""
    papers = find_corpus_papers(corpus)
    if only is not None:
        missing = sorted(set(only) - {p.name for p in papers})
        if missing:
            raise StartrefError(f"{corpus}: papers named for training are missing: {', '.join(missing[:5])}"
                                + (f" and {len(missing) - 5} more" if len(missing) > 5 else ""))
        papers = [p for p in papers if p.name in set(only)]
    if not papers:
        raise StartrefError(f"{corpus}: no papers found (folders with SOURCE.txt, or .tex files with \\documentclass)")
    groups: list[tuple[np.ndarray, np.ndarray]] = []
    names: set[str] = set()
    for name, feats, gold in feature_groups(papers, encoder, progress, max_cases_per_paper, seed=seed,
                                            cache_dir=cache_dir, drafting_share=drafting_share):
        groups.append((feats, gold))
        names.add(name)
    meta: dict[str, object] = {"corpus": Path(corpus).name, "max_cases_per_paper": max_cases_per_paper,
                               "drafting_share": drafting_share}
    return groups, names, meta


def fit_and_save(
    groups: Sequence[tuple[np.ndarray, np.ndarray]],
    names: set[str],
    out_dir: Path,
    options: FitOptions = FitOptions(),
    *,
    progress: Callable[[str], None] | None = None,
    extra_meta: dict[str, object] | None = None,
) -> TrainResult:
    """Fit the ranker on mined ``groups`` (from the papers ``names``) and write ``ranker.json`` + ``training.json``."""
    ranker = fit_ranker(groups, options, progress)
    ranker.meta.update({"papers": len(names), "seed": options.seed, **(extra_meta or {})})
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ranker.save(out_dir / "ranker.json")
    (out_dir / "training.json").write_text(
        json.dumps({"papers": sorted(names), "queries": len(groups), "features": list(FEATURE_NAMES)}, indent=2) + "\n",
        encoding="utf-8",
    )
    return TrainResult(ranker, len(names), len(groups), signal_importance(ranker, groups))
