"""Cross-encoder re-ranking benchmark: the shipped ranker alone vs ranker + cross-encoder over its top K, on the dev
papers, both protocols (default: the finished paper; drafting: nothing after the cursor), by field, with the
re-rank step's own latency.

    python bench/rerank.py MODEL_DIR --cache /work/main/.cache/dev-v2          # K and weight from MODEL_DIR
    python bench/rerank.py MODEL_DIR --cache ... --k 3 --k 5 --weight 1.0      # other settings too
    python bench/rerank.py MODEL_DIR --cache ... --json out.json

The cases and features are ``bench/ranking.py``'s (``collect``, same cache), so the "ranker" rows equal that
bench's startref rows. The cross-encoder scores each case's top ``--depth`` candidates once (cached under
``.cache/rerank-bench``: keyed by the model's weights digest), and every (K, weight) is read from those scores.
"Hard cases": the cited entry is new (not cited before) and shares no word with the last words before the cursor
(``bm25_near`` 0), the group the ranker misses most. Latency: the re-rank step alone (pair texts, tokenising, the
network, the new order) for K candidates, on ``--timed`` cases spread over the papers, one torch thread, after one
warm-up call; it adds to ``bench/ranking.py``'s per-suggestion latency.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from ranking import PaperCases, SHARED, collect, index_keys, metrics, pct, table  # noqa: E402

from startref.citations.cross_encoder.scorer import CrossEncoder, combined_order  # noqa: E402
from startref.citations.cross_encoder.lists import pair_texts  # noqa: E402
from startref.citations.engine import Engine, EngineConfig  # noqa: E402
from startref.citations.features import FEATURE_NAMES  # noqa: E402


_CITED, _BM25 = FEATURE_NAMES.index("cited"), FEATURE_NAMES.index("bm25_near")


def case_tops(pc: PaperCases, engine: Engine, depth: int) -> list[dict]:  # type: ignore[type-arg]
    """Per case: the ranker's full-order rank of the first gold entry, whether that entry is a "hard" one (not
    cited before and sharing no word with the last words before the cursor: ``bm25_near`` 0), and its top
    ``depth`` (scores, gold flags, the pair texts)."""
    keys = index_keys(pc.index)
    out = []
    for feats, gold, case in zip(pc.feats, pc.golds, pc.cases):
        scores = engine.ranker.score(feats)
        keep = np.array([k not in case.query.exclude for k in keys])
        order = np.argsort(-np.where(keep, scores, -np.inf), kind="stable")
        order = order[keep[order]]
        hit = np.nonzero(gold[order])[0]
        top = order[:depth]
        context, texts = pair_texts(case.query, [pc.index.entries[i] for i in top])
        g = order[hit[0]] if hit.size else None
        hard = g is not None and feats[g, _CITED] == 0 and feats[g, _BM25] == 0
        out.append({"rank": int(hit[0]) + 1 if hit.size else len(order) + 1, "hard": bool(hard),
                    "scores": [float(scores[i]) for i in top],
                    "gold": [bool(gold[i]) for i in top], "context": context, "texts": texts})
    return out


def new_rank(t: dict, ce: np.ndarray, k: int, w: float) -> int:  # type: ignore[type-arg]
    """The gold entry's rank after re-ordering the top ``k``."""
    if t["rank"] > k:
        return t["rank"]
    kk = min(k, len(t["scores"]))
    order = combined_order(np.array(t["scores"][:kk]), ce[:kk], w)
    return next(pos for pos, i in enumerate(order, 1) if t["gold"][i])


def model_digest(model_dir: Path) -> str:
    h = hashlib.sha256()
    for name in ("model.safetensors", "config.json"):
        h.update((model_dir / name).read_bytes())
    return h.hexdigest()[:16]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path)
    parser.add_argument("--papers", type=Path, default=SHARED / "bench" / "papers")
    parser.add_argument("--cache", type=Path, default=None, help="dev features (bench/ranking.py --cache)")
    parser.add_argument("--protocol", action="append", choices=("default", "drafting"), default=None)
    parser.add_argument("--depth", type=int, default=10, help="candidates per case the cross-encoder scores")
    parser.add_argument("--k", type=int, action="append", default=None)
    parser.add_argument("--weight", type=float, action="append", default=None)
    parser.add_argument("--timed", type=int, default=200)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    from startref.citations.models import configure_torch_threads

    configure_torch_threads()
    engine = Engine(EngineConfig(use_generator=False))
    model = CrossEncoder(args.model)
    ks = args.k or [model.settings.k]
    weights = args.weight or [model.settings.weight]
    depth = max(args.depth, *ks)
    digest = model_digest(args.model)
    store = REPO / ".cache" / "rerank-bench"
    store.mkdir(parents=True, exist_ok=True)
    print(f"cross-encoder {args.model} ({digest}): {json.dumps(model.settings.__dict__)}\n")
    out: dict[str, object] = {}
    compare: list[list[str]] = []
    for protocol in args.protocol or ["default", "drafting"]:
        t0 = time.time()
        papers = collect(args.papers, engine, protocol=protocol, cache=args.cache, timed=0, quiet=True)
        tops = {pc.name: case_tops(pc, engine, depth) for pc in papers}
        print(f"[{time.time() - t0:.0f}s] {protocol}: {sum(map(len, tops.values()))} cases", file=sys.stderr)
        inputs = hashlib.sha256(json.dumps([[t["context"], t["texts"]] for ts in tops.values() for t in ts]).encode())
        file = store / f"{digest}-{protocol}-{inputs.hexdigest()[:12]}.json"
        if file.is_file():
            ce = {k: [np.array(v) for v in vs] for k, vs in json.loads(file.read_text()).items()}
        else:
            ce = {name: [model.score(t["context"], t["texts"]) for t in ts] for name, ts in tops.items()}
            file.write_text(json.dumps({k: [v.tolist() for v in vs] for k, vs in ce.items()}))
        print(f"[{time.time() - t0:.0f}s] scored", file=sys.stderr)
        fields = {pc.name: pc.field for pc in papers}
        base = [t["rank"] for ts in tops.values() for t in ts]
        rows = [["ranker alone", "-", "-", *_cells(metrics(base))]]
        results: dict[str, object] = {"ranker": metrics(base)}
        for k in ks:
            for w in weights:
                ranks = [new_rank(t, s, k, w) for name in tops for t, s in zip(tops[name], ce[name])]
                m = metrics(ranks)
                results[f"K={k} w={w}"] = m
                rows.append(["ranker + cross-encoder", str(k), f"{w:g}", *_cells(m)])
        hard_base = [t["rank"] for ts in tops.values() for t in ts if t["hard"]]
        hard_new = [new_rank(t, s, ks[0], weights[0])
                    for name in tops for t, s in zip(tops[name], ce[name]) if t["hard"]]
        rows.append(["ranker alone, hard cases", "-", "-", *_cells(metrics(hard_base))])
        rows.append(["+ cross-encoder, hard cases", str(ks[0]), f"{weights[0]:g}", *_cells(metrics(hard_new))])
        results["hard"] = {"ranker": metrics(hard_base), "rerank": metrics(hard_new)}
        print(f"## Own bibliography, protocol: {protocol}\n\n" + table(
            rows, ["system", "K", "w", "cases", "hit@1", "hit@5", "hit@10", "MRR@10"]) + "\n")
        k, w = ks[0], weights[0]
        field_rows = []
        by_field: dict[str, tuple[list[int], list[int]]] = {}
        for name in tops:
            b, r = by_field.setdefault(fields[name], ([], []))
            b += [t["rank"] for t in tops[name]]
            r += [new_rank(t, s, k, w) for t, s in zip(tops[name], ce[name])]
        for f, (b, r) in sorted(by_field.items()):
            field_rows.append([f, str(len(b)), pct(metrics(b)["hit@1"]), pct(metrics(r)["hit@1"]),
                               pct(metrics(b)["hit@5"]), pct(metrics(r)["hit@5"])])
        print(f"### By field (K={k}, w={w:g})\n\n" + table(
            field_rows, ["field", "cases", "ranker @1", "+CE @1", "ranker @5", "+CE @5"]) + "\n")
        results["by_field"] = {f: {"ranker": metrics(b), "rerank": metrics(r)} for f, (b, r) in by_field.items()}
        m0, m1 = metrics(base), results[f"K={k} w={w}"]
        compare.append([protocol, pct(m0["hit@1"]), pct(m1["hit@1"]),  # type: ignore[index]
                        pct(m0["hit@5"]), pct(m1["hit@5"]),  # type: ignore[index]
                        f"{m0['mrr@10']:.3f}", f"{m1['mrr@10']:.3f}"])  # type: ignore[index]
        out[protocol] = results
        if protocol == (args.protocol or ["default"])[0]:
            out["latency"] = latency(model, tops, ks, args.timed)
    print("## Summary\n\n" + table(compare, ["protocol", "ranker @1", "+CE @1", "ranker @5", "+CE @5", "ranker MRR@10",
                                              "+CE MRR@10"]) + "\n")
    lat = out["latency"]
    lat_rows = [[str(k), f"{v['p50_ms']:.1f}", f"{v['p95_ms']:.1f}"] for k, v in lat.items()]  # type: ignore[union-attr]
    print("## Re-rank step latency (one thread)\n\n" + table(lat_rows, ["K", "p50 ms", "p95 ms"]))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2), encoding="utf-8")
    return 0


def _cells(m: dict[str, float]) -> list[str]:
    return [str(int(m["n"])), pct(m["hit@1"]), pct(m["hit@5"]), pct(m["hit@10"]), f"{m['mrr@10']:.3f}"]


def latency(model: CrossEncoder, tops: dict[str, list[dict]], ks: list[int],  # type: ignore[type-arg]
            timed: int) -> dict[str, dict[str, float]]:
    """p50/p95 of scoring and re-ordering K candidates (from the pair texts on), per K."""
    pool = [t for ts in tops.values() for t in ts]
    picks = [pool[int(i)] for i in np.linspace(0, len(pool) - 1, min(timed, len(pool)))]
    out: dict[str, dict[str, float]] = {}
    if not picks:
        return out
    for k in sorted(set(ks)):
        model.score(picks[0]["context"], picks[0]["texts"][:k])
        ms = []
        for t in picks:
            t0 = time.perf_counter()
            combined_order(np.array(t["scores"][:k]), model.score(t["context"], t["texts"][:k]), 1.0)
            ms.append((time.perf_counter() - t0) * 1000)
        out[str(k)] = {"p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95))}
    return out


if __name__ == "__main__":
    raise SystemExit(main())
