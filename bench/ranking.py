"""Ranking benchmark: leave-one-out accuracy and latency on the dev papers, as one table.

    python bench/ranking.py                       # per-paper + overall table: random, BM25, MiniLM, startref
    python bench/ranking.py --lm 8                # + the LM stage on 8 sampled cases per paper (with and without)
    python bench/ranking.py --ablation            # each signal alone, then added one at a time (trains on shared/train)
    python bench/ranking.py --library             # candidates = every dev bibliography merged (~2,400 entries)
    python bench/ranking.py --json out.json       # machine-readable results too
    python bench/ranking.py --protocol drafting   # nothing after the cursor (someone writing left to right)
    python bench/ranking.py --protocol shuffled-bib   # each .bib in a seeded random order (no .bib-order help)

Protocols: "default" sees the finished paper (text after the cursor, the final .bib in its final order);
"drafting" removes everything after the cursor; "shuffled-bib" keeps the text but shuffles each bibliography.
Rows say what they are: "MiniLM (plain)" is the packaged all-MiniLM-L6-v2 without our adapter, "MiniLM + adapter"
the encoder with the adapter fine-tuned on shared/train that startref ships. Overall rows are also given on the dev
papers whose owners have no paper in shared/train (six owners have papers in both).

Every system is scored on the same mined cases (``citations.evaluation.mine_cases``, the protocol of
``startref eval``); baselines read their single feature column, startref applies the shipped ranker. Latency for
startref is the real per-suggestion path (query building + features + scoring) after warm-up.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

from startref.citations.bibindex import BibIndex  # noqa: E402
from startref.citations.engine import Engine, EngineConfig  # noqa: E402
from startref.citations.evaluation import Case, load_paper, mine_cases, title_normaliser  # noqa: E402
from startref.citations.features import FEATURE_NAMES, compute_features, index_features  # noqa: E402
from startref.citations.ranker import fit_listwise, fit_mlp_listwise  # noqa: E402
from startref.citations.training import find_corpus_papers  # noqa: E402


@dataclass
class PaperCases:
    name: str
    field: str
    index: BibIndex
    text: str
    cases: list[Case]
    feats: list[np.ndarray] = field(default_factory=list)
    golds: list[np.ndarray] = field(default_factory=list)
    ms: list[float] = field(default_factory=list)
    plain: list[np.ndarray] = field(default_factory=list)  # cosine(context, title) under the plain MiniLM


def _fields(papers_dir: Path) -> dict[str, str]:
    manifest = papers_dir.parent / "manifest.tsv"
    out: dict[str, str] = {}
    if manifest.is_file():
        rows = manifest.read_text(encoding="utf-8").splitlines()
        head = rows[0].split("\t")
        for row in rows[1:]:
            cols = dict(zip(head, row.split("\t")))
            out[cols["id"]] = cols.get("field", "")
    return out


PROTOCOLS = ("default", "drafting", "shuffled-bib")


def shuffled(index: BibIndex, seed: str) -> BibIndex:
    """``index`` with its entries in a seeded random order (positions renumbered), as an unsorted export would be."""
    from dataclasses import replace

    entries = list(index.entries)
    random.Random(seed).shuffle(entries)
    return BibIndex([replace(e, position=i) for i, e in enumerate(entries)], list(index.files))


def training_owners(train_dir: Path) -> set[str]:
    """Owners (``owner__repo``) of the training papers."""
    return {p.name.split("__")[0] for p in train_dir.iterdir() if p.is_dir()} if train_dir.is_dir() else set()


def collect(
    papers_dir: Path, engine: Engine, library: BibIndex | None = None, quiet: bool = False, max_cases: int | None = None,
    protocol: str = "default", plain=None, cache: Path | None = None, timed: int = 300,  # type: ignore[no-untyped-def]
) -> list[PaperCases]:
    """Mine every case (or ``max_cases`` spread evenly) of every paper under ``protocol`` and compute its features
    once; with ``plain`` (an encoder without adapter) also the plain MiniLM's cosine per case.

    Accuracy is computed on every case with batched encoding (identical features, several times faster); latency
    is measured on ``timed`` cases spread over the papers (never a paper's first case, which pays for the paper's
    entry embeddings), each through the real path — building the query, every feature, scoring — with the
    encoder's text cache emptied first, so no timed case is answered from an earlier one's work. ``cache``: a folder
    of dev features mined by ``scripts/mine_features.py --shipped-adapter --drafting-share 1.0`` (own bibliography,
    default and drafting protocols), reused when its fingerprints match.
    """
    from startref.citations.evaluation import case_query
    from startref.citations.mining_cache import cached_mine, features_batched
    from startref.latex.cites import find_cites
    from startref.latex.commands import syntax_with_user_wrappers

    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r} (choose from {', '.join(PROTOCOLS)})")
    drafting = protocol == "drafting"
    fields = _fields(papers_dir)
    out: list[PaperCases] = []
    cites_of: dict[str, list] = {}  # type: ignore[type-arg]
    for paper in find_corpus_papers(papers_dir):
        loaded = load_paper(paper.main_tex, list(paper.bibs) or None)
        name = paper.main_tex.relative_to(papers_dir).parts[0]
        if protocol == "shuffled-bib":
            loaded.index = shuffled(loaded.index, name)
        index = library or loaded.index
        pc = PaperCases(name, fields.get(name, ""), index, loaded.text, [])
        cites_of[name] = find_cites(loaded.text, syntax_with_user_wrappers(loaded.text))
        fx = index_features(index, engine.encoder)
        cases = list(mine_cases(loaded.text, loaded.index, cites_of[name], drafting=drafting))
        if max_cases is not None:
            cases = cases[:: max(1, len(cases) // max_cases)][:max_cases]
        if library is not None:
            cases = [Case(c.ordinal, c.offset, c.line, c.command, c.gold,
                          case_query(loaded.text, library, cites_of[name], c.ordinal, drafting=drafting)) for c in cases]
        mined = None
        if cache is not None and library is None and max_cases is None:
            original = load_paper(paper.main_tex, list(paper.bibs) or None) if protocol == "shuffled-bib" else loaded
            mined = next(cached_mine([(name, original)], engine.encoder, cache, max_cases=100000, drafting_share=1.0),
                         None)
        if mined is not None and len(mined.feats) == len(cases) and protocol == "shuffled-bib":
            pc.feats = _reordered(mined, original.index, cases, fx, engine.encoder)
        elif mined is not None and len(mined.feats) == len(cases):
            pc.feats = [f for f, _ in mined.groups(drafting=drafting)]
        else:
            pc.feats = features_batched([c.query for c in cases], fx, engine.encoder)
        pc.cases = cases
        pc.golds = [np.array([k in c.gold for k in fx.keys], dtype=bool) for c in cases]
        if plain is not None:
            fx_plain = index_features(index, plain)
            contexts = plain.encode([c.query.context_text or " " for c in cases]) if cases else np.zeros((0, plain.dim))
            pc.plain = [fx_plain.emb @ v for v in contexts]
        out.append(pc)
        if not quiet:
            print(f"  {name}: {len(pc.cases)} cases, {len(index)} candidates", file=sys.stderr)
    pool = [(pc, j) for pc in out for j in range(1, len(pc.cases))]
    picks = sorted({int(i) for i in np.linspace(0, len(pool) - 1, min(timed, len(pool)))}) if timed and pool else []
    for pc, j in (pool[i] for i in picks):
        case = pc.cases[j]
        fx = index_features(pc.index, engine.encoder)
        engine.encoder.forget_texts()
        t0 = time.perf_counter()
        query = case_query(pc.text, pc.index, cites_of[pc.name], case.ordinal, drafting=drafting)
        np.argsort(-engine.ranker.score(compute_features(query, fx, engine.encoder)))
        pc.ms.append((time.perf_counter() - t0) * 1000)
    return out


_QUERY_ENCODER_COLUMNS = ("enc_sim", "enc_z", "enc_top", "enc_sentence", "enc_near")


def _reordered(mined, original: BibIndex, cases: list[Case], fx, encoder) -> list[np.ndarray]:  # type: ignore[no-untyped-def]
    """Shuffled-bib features without a second pass of the encoder over the contexts: a query's cosine with an entry
    does not depend on where the entry stands in the .bib, so those columns are the default protocol's rows in the
    new order (``enc_top``, a rank, is re-ranked in the new order as ``compute_features`` would); every other column
    is computed on the shuffled bibliography."""
    cols = [FEATURE_NAMES.index(n) for n in _QUERY_ENCODER_COLUMNS]
    rest = [n for n in FEATURE_NAMES if n not in _QUERY_ENCODER_COLUMNS]
    row_of = {e.key: i for i, e in enumerate(original.entries)}
    rows = np.array([row_of[k] for k in fx.keys])
    sim, top = FEATURE_NAMES.index("enc_sim"), FEATURE_NAMES.index("enc_top")
    out = []
    for case, default in zip(cases, mined.feats):
        feats = compute_features(case.query, fx, encoder, only=rest)
        feats[:, cols] = default[rows][:, cols]
        ranks = np.empty(len(rows), np.float32)
        ranks[np.argsort(-feats[:, sim], kind="stable")] = np.arange(len(rows), dtype=np.float32)
        feats[:, top] = 1.0 / (1.0 + ranks)
        out.append(feats)
    return out


def _requery(case: Case, text: str, library: BibIndex, drafting: bool = False):  # type: ignore[no-untyped-def]
    from startref.citations.evaluation import case_query
    from startref.latex.cites import find_cites
    from startref.latex.commands import syntax_with_user_wrappers

    cites = find_cites(text, syntax_with_user_wrappers(text))
    return case_query(text, library, cites, case.ordinal, drafting=drafting)


def ranks_for(pc: PaperCases, score_fn, same_title=None) -> list[int]:  # type: ignore[no-untyped-def]
    """1-based rank of the first gold entry for each case of a paper under ``score_fn(features) -> scores``."""
    ranks: list[int] = []
    keys = index_keys(pc.index)
    for feats, gold, case in zip(pc.feats, pc.golds, pc.cases):
        scores = score_fn(feats)
        keep = np.array([k not in case.query.exclude for k in keys])
        order = np.argsort(-np.where(keep, scores, -np.inf), kind="stable")
        hit = gold[order]
        if same_title is not None:
            titles = {same_title(k) for k in case.gold} - {""}
            hit = hit | np.array([same_title(keys[i]) in titles for i in order])
        pos = np.nonzero(hit)[0]
        ranks.append(int(pos[0]) + 1 if pos.size else len(order) + 1)
    return ranks


_KEYS_CACHE: dict[int, list[str]] = {}


def index_keys(index: BibIndex) -> list[str]:
    if id(index) not in _KEYS_CACHE:
        _KEYS_CACHE[id(index)] = [e.key for e in index.entries]
    return _KEYS_CACHE[id(index)]


def metrics(ranks: Sequence[int], ms: Sequence[float] | None = None) -> dict[str, float]:
    r = np.asarray(ranks, dtype=np.float64)
    out = {
        "n": float(len(r)),
        "hit@1": float((r == 1).mean()) if len(r) else 0.0,
        "hit@5": float((r <= 5).mean()) if len(r) else 0.0,
        "hit@10": float((r <= 10).mean()) if len(r) else 0.0,
        "mrr": float((1 / r).mean()) if len(r) else 0.0,
        "mrr@10": float(np.where(r <= 10, 1 / r, 0).mean()) if len(r) else 0.0,
    }
    if ms:
        out["p50_ms"] = float(np.percentile(ms, 50))
        out["p95_ms"] = float(np.percentile(ms, 95))
    return out


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    fmt = lambda row: "| " + " | ".join(str(x).ljust(w) for x, w in zip(row, widths)) + " |"  # noqa: E731
    return "\n".join([fmt(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(fmt, rows)])


def _ms(m: dict[str, float], key: str, missing: str = "-") -> str:
    return f"{m[key]:.0f}" if key in m else missing


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _system_scores(papers: list[PaperCases], engine: Engine) -> dict[str, object]:
    """Each system as a function of (paper, case number, features) -> scores."""
    systems: dict[str, object] = {
        "random": (lambda rnd: lambda pc, j, feats: rnd.random(feats.shape[0]))(np.random.default_rng(0)),
        "BM25": lambda pc, j, feats: feats[:, FEATURE_NAMES.index("bm25")],
    }
    if all(pc.plain for pc in papers if pc.cases):
        systems["MiniLM (plain)"] = lambda pc, j, feats: pc.plain[j]
    systems["MiniLM + adapter"] = lambda pc, j, feats: feats[:, FEATURE_NAMES.index("enc_sim")]
    systems["startref"] = lambda pc, j, feats: engine.ranker.score(feats)
    return systems


def _ranks(pc: PaperCases, system, same_title=None) -> list[int]:  # type: ignore[no-untyped-def]
    counter = iter(range(len(pc.cases)))
    return ranks_for(pc, lambda feats: system(pc, next(counter), feats), same_title)


def main_table(papers: list[PaperCases], engine: Engine, same_title=None, owners_in_training: set[str] = frozenset()) -> tuple[str, dict]:  # type: ignore[no-untyped-def,assignment]
    """Per-paper rows, the overall summary per system (also on the papers whose owners are not in training) and the
    startref row by field."""
    systems = _system_scores(papers, engine)
    rows: list[list[str]] = []
    results: dict[str, dict] = {}
    ranks: dict[str, dict[str, list[int]]] = {}
    all_ms: list[float] = []
    unseen_ms: list[float] = []
    for pc in papers:
        per = {}
        ranks[pc.name] = {}
        for sname, fn in systems.items():
            r = _ranks(pc, fn, same_title)
            ranks[pc.name][sname] = r
            # Latency: the timed sample of this paper's cases (see ``collect``), none of them its first.
            per[sname] = metrics(r, pc.ms if sname == "startref" else None)
        all_ms += pc.ms
        if pc.name.split("__")[0] not in owners_in_training:
            unseen_ms += pc.ms
        results[pc.name] = per
        s = per["startref"]
        plain = pct(per["MiniLM (plain)"]["hit@1"]) if "MiniLM (plain)" in per else "-"
        rows.append([pc.name[:38], pc.field[:14], str(len(pc.cases)), str(len(pc.index)), pct(per["BM25"]["hit@1"]),
                     plain, pct(per["MiniLM + adapter"]["hit@1"]), pct(s["hit@1"]), pct(s["hit@5"]),
                     f"{s['mrr']:.3f}", _ms(s, "p50_ms"), _ms(s, "p95_ms")])

    def pooled(sname: str, keep) -> list[int]:  # type: ignore[no-untyped-def]
        return [r for pc in papers if keep(pc) for r in ranks[pc.name][sname]]

    subsets = {
        "all dev papers": lambda pc: True,
        "owners not in training": lambda pc: pc.name.split("__")[0] not in owners_in_training,
    }
    overall = {s: metrics(pooled(s, subsets["all dev papers"]), all_ms if s == "startref" else None) for s in systems}
    unseen = {s: metrics(pooled(s, subsets["owners not in training"]), unseen_ms if s == "startref" else None)
              for s in systems}
    macro = {s: {m: float(np.mean([results[p.name][s][m] for p in papers])) for m in ("hit@1", "hit@5", "mrr")} for s in systems}
    results["overall"] = overall
    results["owners_not_in_training"] = unseen
    results["macro"] = macro
    o = overall["startref"]
    plain_all = pct(overall["MiniLM (plain)"]["hit@1"]) if "MiniLM (plain)" in overall else "-"
    rows.append(["OVERALL (all cases)", "", str(int(o["n"])), "", pct(overall["BM25"]["hit@1"]), plain_all,
                 pct(overall["MiniLM + adapter"]["hit@1"]), pct(o["hit@1"]), pct(o["hit@5"]), f"{o['mrr']:.3f}",
                 _ms(o, "p50_ms"), _ms(o, "p95_ms")])
    m = macro["startref"]
    rows.append(["MEAN OF PAPERS", "", "", "", pct(macro["BM25"]["hit@1"]),
                 pct(macro["MiniLM (plain)"]["hit@1"]) if "MiniLM (plain)" in macro else "-",
                 pct(macro["MiniLM + adapter"]["hit@1"]), pct(m["hit@1"]), pct(m["hit@5"]), f"{m['mrr']:.3f}", "", ""])
    header = ["paper", "field", "cases", "entries", "BM25 @1", "MiniLM plain @1", "MiniLM+adapter @1", "startref @1",
              "@5", "MRR", "p50 ms", "p95 ms"]
    summary_rows = []
    for label, table_ in (("all dev papers", overall), ("owners not in training", unseen)):
        for sname in systems:
            ov = table_[sname]
            summary_rows.append([sname, label, str(int(ov["n"])), pct(ov["hit@1"]), pct(ov["hit@5"]),
                                 pct(ov["hit@10"]), f"{ov['mrr']:.3f}", f"{ov['mrr@10']:.3f}",
                                 _ms(ov, "p50_ms", ""), _ms(ov, "p95_ms", "")])
    by_field: dict[str, list[int]] = {}
    for pc in papers:
        by_field.setdefault(pc.field, []).extend(ranks[pc.name]["startref"])
    field_rows = [[f, str(len(r)), pct(metrics(r)["hit@1"]), pct(metrics(r)["hit@5"]), pct(metrics(r)["hit@10"]),
                   f"{metrics(r)['mrr@10']:.3f}"] for f, r in sorted(by_field.items())]
    results["by_field"] = {f: metrics(r) for f, r in by_field.items()}
    text = (table(rows, header) + "\n\n" +
            table(summary_rows, ["system", "papers", "cases", "hit@1", "hit@5", "hit@10", "MRR", "MRR@10", "p50 ms",
                                 "p95 ms"]) +
            "\n\n" + table(field_rows, ["field", "cases", "startref hit@1", "hit@5", "hit@10", "MRR@10"]))
    return text, results


ABLATION_STEPS: list[tuple[str, tuple[str, ...]]] = [
    ("BM25 (context)", ("bm25", "bm25_z")),
    ("+ MiniLM + adapter (context, sentence, last words)", ("enc_sim", "enc_z", "enc_top", "enc_sentence", "enc_near")),
    ("+ near words (BM25 of last/next words, author, year, key, acronym)",
     ("bm25_near", "bm25_sentence", "bm25_last", "bm25_after", "author_near", "author_adjacent", "year_near",
      "key_near", "acronym_near", "query_etal")),
    ("+ re-citation (count, recency, citing rhythm)",
     ("cited", "cited_log_count", "cited_recency", "cited_near", "uncited_x_progress", "query_new_rate",
      "query_cite_density")),
    ("+ words around earlier citations", ("hist_words", "hist_lex")),
    ("+ co-citation, topic and authors of the last cites", ("cocite", "title_sim_recent", "author_recent")),
    ("+ section and paragraph (cited there before, kind of section, heading words)",
     ("cited_in_section", "cited_in_subsection", "cited_in_paragraph", "query_section_cites", "query_section_intro",
      "query_section_related", "query_section_results", "query_section_closing", "bm25_heading")),
    ("+ .bib order and neighbourhood", ("bib_next", "bib_near", "bib_next_x_order", "bib_near_x_order", "bib_local")),
    ("+ entry type/year", ("no_title", "year_recent", "is_misc")),
]


def ablation(train: list[PaperCases], dev: list[PaperCases], engine: Engine, timed_cases: int = 300) -> tuple[str, dict]:
    """Train linear rankers on ``train`` with growing feature sets (and each signal alone), score on ``dev``; the
    last row adds the shipped kind's hidden layer over all signals.

    Each row's latency is measured, not estimated: on ``timed_cases`` dev cases spread over the papers (none of them
    a paper's first case, which pays for the paper's caches) it times building the query plus computing only that
    row's features (``compute_features(..., only=...)``, the encoder's text cache emptied first) and scoring them.
    """
    from startref.citations.evaluation import case_query
    from startref.latex.cites import find_cites
    from startref.latex.commands import syntax_with_user_wrappers

    groups = [(f, g) for pc in train for f, g in zip(pc.feats, pc.golds)]
    rows: list[list[str]] = []
    results: dict[str, dict] = {}
    used: list[str] = []
    pool = [(pc, j) for pc in dev for j in range(1, len(pc.cases))]
    timed = pool[:: max(1, len(pool) // timed_cases)][:timed_cases]
    cites = {id(pc): find_cites(pc.text, syntax_with_user_wrappers(pc.text)) for pc in dev}

    def latency(names: Sequence[str] | None, score_fn) -> list[float]:  # type: ignore[no-untyped-def]
        out: list[float] = []
        for pc, j in timed:
            fx = index_features(pc.index, engine.encoder)
            case, doc_cites = pc.cases[j], cites[id(pc)]
            engine.encoder.forget_texts()
            t0 = time.perf_counter()
            query = case_query(pc.text, pc.index, doc_cites, case.ordinal)
            feats = compute_features(query, fx, engine.encoder, only=names)
            np.argsort(-score_fn(feats))
            out.append((time.perf_counter() - t0) * 1000)
        return out

    def add_row(label: str, ranker, names: Sequence[str] | None) -> None:  # type: ignore[no-untyped-def]
        ranks = [r for pc in dev for r in ranks_for(pc, ranker.score)]
        m = metrics(ranks, latency(names, ranker.score))
        results[label] = m
        rows.append([label, pct(m["hit@1"]), pct(m["hit@5"]), f"{m['mrr@10']:.3f}", f"{m['p50_ms']:.0f}"])

    for label, names in ABLATION_STEPS:
        add_row(f"alone: {label.lstrip('+ ')}", fit_listwise(groups, keep=list(names)), names)
    for label, names in ABLATION_STEPS:
        used += names
        add_row(label, fit_listwise(groups, keep=list(used)), list(used))
    # The shipped kind: the same inputs with one hidden layer (trained here on the ablation's training sample).
    add_row("+ hidden layer (mlp ranker)", fit_mlp_listwise(groups), None)
    return table(rows, ["signals (trained on shared/train, scored on dev)", "hit@1", "hit@5", "MRR@10", "p50 ms"]), results


def lm_table(papers: list[PaperCases], per_paper: int, seed: int = 0) -> tuple[str, dict]:
    """Accuracy and latency with and without the LM stage on the same sampled cases."""
    rng = random.Random(seed)
    engines = {"without LM": Engine(EngineConfig(use_generator=False)), "with LM (SmolLM2)": Engine(EngineConfig(use_generator=True))}
    ranks: dict[str, list[int]] = {k: [] for k in engines}
    ms: dict[str, list[float]] = {k: [] for k in engines}
    for pc in papers:
        sample = rng.sample(range(len(pc.cases)), min(per_paper, len(pc.cases)))
        for label, eng in engines.items():
            for j in sample:
                case = pc.cases[j]
                t0 = time.perf_counter()
                ranked = eng.rank(case.query, pc.index)
                ranked, _ = eng.with_generation(pc.text[: case.offset], case.offset, ranked, pc.index, 5)
                ms[label].append((time.perf_counter() - t0) * 1000)
                keys = [r.entry.key for r in ranked]
                gold = set(case.gold)
                ranks[label].append(next((i for i, k in enumerate(keys, 1) if k in gold), len(keys) + 1))
    rows, results = [], {}
    for label in engines:
        m = metrics(ranks[label], ms[label])
        results[label] = m
        rows.append([label, str(int(m["n"])), pct(m["hit@1"]), pct(m["hit@5"]), f"{m['mrr@10']:.3f}", f"{m['p50_ms']:.0f}", f"{m['p95_ms']:.0f}"])
    return table(rows, ["path", "cases", "hit@1", "hit@5", "MRR@10", "p50 ms", "p95 ms"]), results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--papers", type=Path, default=SHARED / "bench" / "papers")
    parser.add_argument("--train", type=Path, default=SHARED / "train" / "papers")
    parser.add_argument("--model-dir", default=None, help="ranker to measure (default: the shipped one)")
    parser.add_argument("--library", action="store_true", help="candidates = all dev bibliographies merged")
    parser.add_argument("--ablation", action="store_true", help="train per signal set on --train, score on dev")
    parser.add_argument("--lm", type=int, default=0, metavar="N", help="also measure the LM stage on N cases per paper")
    parser.add_argument("--train-max-cases", type=int, default=40, help="cases per training paper for --ablation")
    parser.add_argument("--protocol", action="append", choices=PROTOCOLS, default=None,
                        help="default (the finished paper), drafting (nothing after the cursor), shuffled-bib; "
                        "repeat for several (default: default)")
    parser.add_argument("--no-plain", action="store_true", help="skip the plain-MiniLM baseline (saves an encoder call per case)")
    parser.add_argument("--cache", type=Path, default=None,
                        help="dev features mined by scripts/mine_features.py (own bibliography; reused when unchanged)")
    parser.add_argument("--timed", type=int, default=300, help="cases timed through the real path per protocol")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    from startref.citations.encoder import load_encoder

    engine = Engine(EngineConfig(use_generator=False, model_dir=args.model_dir))
    plain = None if args.no_plain else load_encoder(None, adapter=None, keep_traced=False)
    owners = training_owners(args.train)
    out: dict[str, object] = {}
    library = None
    same_title = None
    if args.library:
        parts = [load_paper(p.main_tex, list(p.bibs) or None).index for p in find_corpus_papers(args.papers)]
        library = _unique_merge(parts)
        same_title = title_normaliser(library)
        print(f"library: {len(library)} entries", file=sys.stderr)
    overlap = sorted(owners & {p.name.split("__")[0] for p in args.papers.iterdir() if p.is_dir()})
    print(f"owners with papers in both training and dev: {', '.join(overlap) or 'none'}\n")
    protocols = args.protocol or ["default"]
    compare: list[list[str]] = []
    dev: list[PaperCases] = []
    for protocol in protocols:
        lib = shuffled(library, "library") if library is not None and protocol == "shuffled-bib" else library
        cases = collect(args.papers, engine, lib, protocol=protocol, plain=plain, cache=args.cache, timed=args.timed)
        text, results = main_table(cases, engine, same_title, owners)
        setting = "Library setting" if library else "Own bibliography"
        print(f"## {setting}, protocol: {protocol}\n\n" + text + "\n")
        out["main" if protocol == "default" else f"main[{protocol}]"] = results
        for label, key in (("all dev papers", "overall"), ("owners not in training", "owners_not_in_training")):
            r = results[key]["startref"]
            compare.append([protocol, label, str(int(r["n"])), pct(r["hit@1"]), pct(r["hit@5"]), pct(r["hit@10"]),
                            f"{r['mrr@10']:.3f}", _ms(r, "p50_ms"), _ms(r, "p95_ms")])
        if protocol == "default" or not dev:
            dev = cases
    if len(protocols) > 1:
        print("## startref by protocol\n\n" + table(compare, ["protocol", "papers", "cases", "hit@1", "hit@5", "hit@10",
                                                               "MRR@10", "p50 ms", "p95 ms"]) + "\n")
    if args.ablation:
        train = collect(args.train, engine, quiet=True, max_cases=args.train_max_cases, timed=0)
        text, results = ablation(train, dev, engine)
        print("## Ablation\n\n" + text + "\n")
        out["ablation"] = results
    if args.lm:
        text, results = lm_table(dev, args.lm)
        print("## LM stage\n\n" + text + "\n")
        out["lm"] = results
    if args.json:
        args.json.write_text(json.dumps(out, indent=2), encoding="utf-8")
    return 0


def _unique_merge(parts: list[BibIndex]) -> BibIndex:
    """Merge bibliographies keeping every entry: a key seen before gets a numeric suffix."""
    from dataclasses import replace

    seen: set[str] = set()
    entries = []
    for n, part in enumerate(parts):
        for e in part.entries:
            key = e.key if e.key not in seen else f"{e.key}__{n}"
            seen.add(key)
            entries.append(replace(e, key=key, position=len(entries)))
    return BibIndex(entries, [f for p in parts for f in p.files])


if __name__ == "__main__":
    raise SystemExit(main())
