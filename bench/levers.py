"""Accuracy II levers on cached features: the pool gate, a gradient-boosted ranker, ensembles.

    python scripts/mine_features.py .cache/mined-v2-cap300 --max-cases 300 --drafting-share 0.3 --part 0/2  # and 1/2
    python scripts/mine_features.py .cache/dev-v2 --corpus ../shared/bench/papers \\
        --shipped-adapter --max-cases 100000 --drafting-share 1.0
    python bench/levers.py --fast --gate                            # the pool gate over the networks (MODEL_CARD.md)
    python bench/levers.py --fast --candidate citations/artifacts   # the shipped networks + trees, weights, top-k
    python bench/levers.py --fast --gbdt                            # trees fitted here on 73 / all papers (+ mixes)

Why a separate script from ``bench/retrain.py``: the same protocol (fit on mined shared/train features only, score
the cached dev features under "default" and "drafting"), but each lever here needs its own fitting: the gate is
fitted on *held-out* ranker scores (a ranker scores the papers it learned from too confidently, so a gate fitted on
those would learn the wrong spread), the boosted trees need LightGBM, and fitted members are kept in
``.cache/levers/`` so an ensemble row does not refit them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ranking import table, training_owners, _fields  # noqa: E402
from retrain import HEADER, load_mined, row, summarise  # noqa: E402

from startref.citations.features import FEATURE_NAMES  # noqa: E402
from startref.citations.mining_cache import MinedPaper  # noqa: E402
from startref.citations.pool_gate import (  # noqa: E402
    GatedRanker, PoolGate, fit_pool_gate, fit_strength, gate_table,
)
from startref.citations.ranker import MlpRanker, fit_mlp_listwise, load_ranker  # noqa: E402
from startref.citations.training import crossfit_encoders  # noqa: E402
from startref.citations.tree_ensemble import TreeRanker  # noqa: E402
from startref.citations.tree_training import TreeOptions, fit_trees, subsample  # noqa: E402

_CITED = FEATURE_NAMES.index("cited")
Scorer = Callable[[np.ndarray], np.ndarray]


def auc(y: np.ndarray, s: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, s)) if len(set(y.tolist())) == 2 else float("nan")


def paper_folds(names: Sequence[str], k: int) -> list[int]:
    """A fold per paper, by a stable order of names (never splitting a paper)."""
    order = sorted(set(names))
    return [order.index(n) % k for n in names]


Lists = list[tuple[str, np.ndarray, np.ndarray]]  # (paper, features, gold) per case
Scores = list[np.ndarray]  # one score array per case of a Lists


def lists_of(papers: Sequence[MinedPaper], drafting: bool) -> Lists:
    return [(p.name, f, g) for p in papers for f, g in p.groups(drafting=drafting)]


def score_lists(scorer: Scorer, lists: Lists) -> Scores:
    return [scorer(f) for _, f, _ in lists]


def ranks_of(lists: Lists, scores: Scores) -> dict[str, list[int]]:
    """Per paper, the 1-based rank of the first gold entry of each case (as ``retrain.dev_ranks``)."""
    out: dict[str, list[int]] = {}
    for (name, _, gold), s in zip(lists, scores):
        pos = np.nonzero(gold[np.argsort(-s, kind="stable")])[0]
        out.setdefault(name, []).append(int(pos[0]) + 1 if pos.size else len(gold) + 1)
    return out


def zmix(members: Sequence[tuple[Scores, float]], top_k: int = 100) -> Scores:
    """``EnsembleRanker``'s scores from the members' cached scores: the first member ranks the list, and its
    ``top_k`` best are re-ranked by the weighted z-mean of all members (standardised over those rows), on the
    first member's scale."""
    out = []
    for parts in zip(*(m for m, _ in members)):
        base = parts[0].astype(np.float64)
        top = np.argsort(-base, kind="stable")[:top_k]
        if base.size < 2:
            out.append(base.astype(np.float32))
            continue
        z = lambda s: (s - s.mean()) / (s.std() + 1e-9)  # noqa: E731
        mix = sum(w * z(s[top].astype(np.float64)) for s, (_, w) in zip(parts, members))
        final = base.copy()
        final[top] = base[top].mean() + base[top].std() * mix / sum(w for _, w in members)
        out.append(final.astype(np.float32))
    return out


def gated(lists: Lists, scores: Scores, gate: PoolGate) -> Scores:
    return [s + gate.shift(f, s) * (f[:, _CITED] > 0) for (_, f, _), s in zip(lists, scores)]


def gate_experiment(label: str, held: Lists, held_scores: Scores, dev: dict[str, Lists], dev_scores: dict[str, Scores],
                    log: Callable[[str], None], k: int = 5, l2: float = 1e-2) -> tuple[PoolGate, dict[str, object]]:
    """Fit the pool gate on a base ranker's scores of ``held`` (papers it did not learn from): cross-validated by
    paper for the AUC and the strength, then on all of them; report its AUC and the oracle pool on dev."""
    groups = [(f, g, s) for (_, f, g), s in zip(held, held_scores)]
    x, y, off, used = gate_table(groups)
    folds = np.array(paper_folds([held[i][0] for i in used], k))
    oof = np.zeros(len(y))
    for fold in range(k):
        gate = fit_pool_gate(x[folds != fold], y[folds != fold], off[folds != fold], l2=l2)
        oof[folds == fold] = gate.correction(x[folds == fold])
    strength, by_strength = fit_strength(groups, oof, used)
    gate = fit_pool_gate(x, y, off, l2=l2)
    gate.strength = strength
    info: dict[str, object] = {
        "held_cases": len(groups), "gate_cases": int(len(y)), "share_cited": float(y.mean()),
        "train_auc_gate_cv": auc(y, off + oof), "train_auc_ranker_mass": auc(y, off), "strength": strength,
        "train_hit1_by_strength": by_strength,
    }
    for key, lists in dev.items():
        dg = [(f, g, s) for (_, f, g), s in zip(lists, dev_scores[key])]
        dx, dy, doff, _ = gate_table(dg)
        info[f"dev_auc_gate_{key}"] = auc(dy, doff + gate.correction(dx))
        info[f"dev_auc_ranker_mass_{key}"] = auc(dy, doff)
        info[f"dev_wrong_pool_{key}"], info[f"dev_oracle_hit1_{key}"] = oracle(dg)
    log(f"{label} gate: " + json.dumps({k_: v for k_, v in info.items() if k_ != "train_hit1_by_strength"}))
    log(f"{label} gate: train hit@1 by strength " + json.dumps(by_strength))
    return gate, info


def oracle(groups: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> tuple[float, float]:
    """Share of cases whose top suggestion comes from the wrong pool; hit@1 if the right pool were known."""
    wrong, hits, n = 0, 0, 0
    for f, g, s in groups:
        if not g.any():
            continue
        n += 1
        cited = f[:, _CITED] > 0
        gold_pool = cited if g[cited].any() else ~cited
        top = int(np.argmax(s))
        wrong += not gold_pool[top]
        masked = np.where(gold_pool, s, -np.inf)
        hits += bool(g[int(np.argmax(masked))])
    return wrong / max(n, 1), hits / max(n, 1)


def scoring_ms(rankers: dict[str, object], lists: Lists, log: Callable[[str], None]) -> dict[str, dict[str, float]]:
    """Milliseconds of ``score`` per list (the only step in which two rankers' requests differ: the features are
    the same), interleaved per list so that the machine's load falls on both alike."""
    times: dict[str, list[float]] = {name: [] for name in rankers}
    for _, f, _ in lists:
        for name, ranker in rankers.items():
            t0 = time.perf_counter()
            ranker.score(f)  # type: ignore[attr-defined]
            times[name].append((time.perf_counter() - t0) * 1000)
    out = {name: {"p50_ms": float(np.percentile(t, 50)), "p95_ms": float(np.percentile(t, 95)),
                  "max_ms": float(np.max(t))} for name, t in times.items()}
    log("scoring time per list: " + json.dumps(out))
    return out


def fast_load(cache: Path) -> list[MinedPaper]:
    """Every paper mined into ``cache``, read without re-reading the papers to check fingerprints (minutes saved
    per run; only for caches written by the commands in this script's docstring)."""
    out = []
    for path in sorted(cache.glob("*.npz")):
        with np.load(path) as data:
            if "feats" not in data:
                continue
            idx = [int(i) for i in data["drafting_idx"]]
            drafting = dict(zip(idx, data["drafting"])) if idx else {}
            out.append(MinedPaper(path.stem, list(data["feats"]), list(data["golds"]), drafting))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", type=Path, default=SHARED / "train" / "papers")
    parser.add_argument("--dev", type=Path, default=SHARED / "bench" / "papers")
    parser.add_argument("--train-cache", type=Path, default=REPO / ".cache" / "mined-v2-cap300")
    parser.add_argument("--dev-cache", type=Path, default=REPO / ".cache" / "dev-v2")
    parser.add_argument("--work", type=Path, default=REPO / ".cache" / "levers", help="fitted members are kept here")
    parser.add_argument("--gate", action="store_true", help="the pool gate over the shipped ranker")
    parser.add_argument("--gbdt", action="store_true", help="LightGBM lambdarank on all training papers (+ ensembles)")
    parser.add_argument("--gbdt-rounds", type=int, default=400)
    parser.add_argument("--mlp130", action="store_true", help="three networks on all training papers (+ ensembles)")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--candidate", type=Path, default=None,
                        help="a model dir from `startref train --ranker trees` (make train): score it, its trees "
                        "alone, and other tree weights / top-k")
    parser.add_argument("--fast", action="store_true", help="read the caches without checking fingerprints")
    parser.add_argument("--top", type=int, default=60, help="hard negatives kept per training list (boosting)")
    parser.add_argument("--rand", type=int, default=40, help="random negatives kept per training list (boosting)")
    args = parser.parse_args(argv)
    from startref.citations.encoder import load_encoder

    t0 = time.time()
    log = lambda msg: print(f"[{time.time() - t0:6.0f}s] {msg}", file=sys.stderr, flush=True)  # noqa: E731
    if args.fast:
        train, dev = fast_load(args.train_cache), fast_load(args.dev_cache)
    else:
        train = load_mined(args.train, args.train_cache, crossfit_encoders(REPO / "citations" / "artifacts" / "crossfit"),
                           max_cases=300, drafting_share=0.3, mine_missing=False)
        dev_encoder = load_encoder(None, adapter=REPO / "citations" / "artifacts", keep_traced=False)
        dev = load_mined(args.dev, args.dev_cache, dev_encoder, max_cases=100000, drafting_share=1.0,
                         mine_missing=False)
    log(f"train: {len(train)} papers, {sum(len(p.feats) for p in train)} cases; dev: {len(dev)} papers, "
        f"{sum(len(p.feats) for p in dev)} cases")
    fields, owners = _fields(args.dev), training_owners(args.train)
    from startref.citations.tree_ensemble import EnsembleRanker

    loaded = load_ranker()
    # The networks (fitted on the 73 papers of training.json) are the base of every lever here; the shipped file
    # may already hold them with trees.
    shipped = loaded.members[0] if isinstance(loaded, EnsembleRanker) else loaded
    shipped_papers = set(json.loads((REPO / "citations" / "artifacts" / "training.json").read_text())["papers"])
    held = lists_of([p for p in train if p.name not in shipped_papers], drafting=True)
    log(f"cases of the papers the shipped ranker did not learn from: {len(held)}")
    devl = {"default": lists_of(dev, False), "drafting": lists_of(dev, True)}
    results: dict[str, object] = {}
    rows: list[list[str]] = []
    members: dict[str, dict[str, Scores]] = {}  # name -> protocol/"held" -> scores

    def member(name: str, scorer: Scorer) -> dict[str, Scores]:
        members[name] = {key: score_lists(scorer, lists) for key, lists in (*devl.items(), ("held", held))}
        return members[name]

    def evaluate(label: str, scores: dict[str, Scores]) -> None:
        sd = summarise(ranks_of(devl["default"], scores["default"]), fields, owners)
        sdr = summarise(ranks_of(devl["drafting"], scores["drafting"]), fields, owners)
        results[label] = {"default": sd, "drafting": sdr}
        rows.append(row(label, sd, sdr))
        log(f"{label}: " + " | ".join(rows[-1][1:]))

    def mix(*named: tuple[str, float]) -> dict[str, Scores]:
        return {key: zmix([(members[n][key], w) for n, w in named]) for key in members[named[0][0]]}

    def with_gate(label: str, base: dict[str, Scores]) -> PoolGate:
        gate, results[f"gate:{label}"] = gate_experiment(label, held, base["held"], devl, base, log)
        evaluate(f"{label} + pool gate (strength {gate.strength})",
                 {key: gated(devl[key], base[key], gate) for key in devl})
        return gate

    evaluate("networks (3 networks, 73 papers)", member("shipped", shipped.score))
    args.work.mkdir(parents=True, exist_ok=True)
    if args.gate:
        gate = with_gate("shipped", members["shipped"])
        GatedRanker(shipped, gate).save(args.work / "gated-shipped.json")
    if args.gbdt:
        for label, papers in (("73", [p for p in train if p.name in shipped_papers]), ("130", train)):
            path = args.work / f"trees{label}-{args.gbdt_rounds}-{args.top}-{args.rand}.json"
            if path.is_file():
                trees = TreeRanker.from_json(json.loads(path.read_text()))
            else:
                options = TreeOptions(rounds=args.gbdt_rounds, top=args.top, rand=args.rand)
                trees = fit_trees([g for p in papers for g in p.groups(drafting=True)], shipped, options, log)
                trees.save(path)
            evaluate(f"LightGBM lambdarank, {len(papers)} papers", member(f"gbdt{label}", trees.score))
            for w in (0.5, 1.0):
                evaluate(f"shipped + LightGBM {len(papers)} papers x{w} (z-mean)", mix(("shipped", 1.0), (f"gbdt{label}", w)))
        if args.gate:
            base = mix(("shipped", 1.0), ("gbdt73", 1.0))
            gate = with_gate("shipped + LightGBM 73", base)
            evaluate("shipped + LightGBM 130 + the 73's pool gate",
                     {key: gated(devl[key], s, gate) for key, s in mix(("shipped", 1.0), ("gbdt130", 1.0)).items()
                      if key in devl})
    if args.candidate:
        cand = load_ranker(args.candidate)
        assert isinstance(cand, EnsembleRanker)
        trees = cand.members[1]
        members["trees"] = {key: score_lists(trees.score, lists) for key, lists in devl.items()}
        members["base"] = {key: score_lists(cand.members[0].score, lists) for key, lists in devl.items()}
        evaluate(f"trees alone ({trees.meta.get('papers')} papers, {trees.meta.get('train_queries')} cases)",
                 members["trees"])
        for w in (0.25, 0.5, 0.75, 1.0):
            for k in (cand.top_k,) if w != cand.weights[1] else (20, 50, cand.top_k, 100000):
                label = f"networks + trees x{w}, top {k}" + (" (the candidate)" if (w, k) == (cand.weights[1], cand.top_k) else "")
                evaluate(label, {key: zmix([(members["base"][key], 1.0), (members["trees"][key], w)], k) for key in devl})
        evaluate("the candidate through EnsembleRanker.score", {key: score_lists(cand.score, lists)
                                                                for key, lists in devl.items()})
        results["scoring_ms"] = scoring_ms({"networks": shipped, "candidate": cand}, devl["default"], log)
    if args.mlp130:
        path = args.work / "mlp130.json"
        if path.is_file():
            mlp = MlpRanker.from_json(json.loads(path.read_text()))
        else:
            groups = subsample([g for p in train for g in p.groups(drafting=True)], shipped.score, 150, 100,
                               inputs=lambda f: f)
            log(f"fitting 3 networks on {len(groups)} cases (lists cut to gold + 150 best + 100 random)")
            mlp = fit_mlp_listwise(groups, members=3, progress=log)
            mlp.save(path)
        evaluate("3 networks, 130 papers", member("mlp130", mlp.score))
        evaluate("shipped + 3 networks on 130 (z-mean)", mix(("shipped", 1.0), ("mlp130", 1.0)))
        if "gbdt130" in members:
            evaluate("shipped + 130-networks + LightGBM 130 (z-mean)",
                     mix(("shipped", 1.0), ("mlp130", 1.0), ("gbdt130", 1.0)))
    print(table(rows, HEADER))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=float), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
