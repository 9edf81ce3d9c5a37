"""The LM stage on a model server: latency it adds, accuracy with and without it, batch throughput.

    python bench/generator.py                          # starts llama-server + the embedded SmolLM2 GGUF (CPU)
    python bench/generator.py --per-paper 3            # cases sampled per dev paper (default 3: 60 cases)
    python bench/generator.py --generator-url URL --generator-api vllm --generator-model NAME   # a running server
    python bench/generator.py --json out.json

Cases are mined from the dev papers as ``startref eval`` mines them, ``--per-paper`` spread evenly over each paper;
each is ranked once, then re-ranked by the LM stage in each mode. "LM ms" is the time the LM stage adds to one
suggestion (the ranker's time excluded). Throughput runs the LM stage for a batch of cases with ``--concurrency``
1 and 4, as ``startref annotate --concurrency N`` does.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "scripts"))

from ranking import SHARED, collect, metrics, pct, table  # noqa: E402

from startref.citations.engine import Engine, EngineConfig  # noqa: E402
from startref.citations.lmbatch import map_in_order  # noqa: E402
from startref.citations.remote import RemoteConfig  # noqa: E402


def _rank_of(keys: Sequence[str], gold: set[str]) -> int:
    return next((i for i, k in enumerate(keys, 1) if k in gold), len(keys) + 1)


def run(papers_dir: Path, config: RemoteConfig, per_paper: int, modes: Sequence[str], batch: int,
        ) -> tuple[str, dict]:
    base = Engine(EngineConfig(use_generator=False))
    dev = collect(papers_dir, base, quiet=True, max_cases=per_paper)
    picked = [(pc, case, base.rank(case.query, pc.index)) for pc in dev for case in pc.cases]
    engines = {mode: Engine(EngineConfig(remote=config, lm_mode=mode)) for mode in modes}
    for engine in engines.values():
        engine._encoder, engine._ranker = base.encoder, base.ranker  # share the loaded models; only the LM differs
    ranks: dict[str, list[int]] = {"without LM": [_rank_of([r.entry.key for r in ranked], set(case.gold))
                                                  for _pc, case, ranked in picked]}
    lm_ms: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    for mode, engine in engines.items():
        label = f"with LM ({mode})"
        ranks[label], lm_ms[label], errors[label] = [], [], 0
        for pc, case, ranked in picked:
            t0 = time.perf_counter()
            out, _unresolved, error = engine.with_generation_or_error(pc.text[: case.offset], case.offset, ranked,
                                                                      pc.index, 5)
            lm_ms[label].append((time.perf_counter() - t0) * 1000)
            errors[label] += error is not None
            ranks[label].append(_rank_of([r.entry.key for r in out], set(case.gold)))
    rows, results = [], {}
    for label, values in ranks.items():
        m = metrics(values, lm_ms.get(label))
        results[label] = {**m, "errors": errors.get(label, 0)}
        rows.append([label, str(len(values)), pct(m["hit@1"]), pct(m["hit@5"]), f"{m['mrr@10']:.3f}",
                     f"{m['p50_ms']:.0f}" if "p50_ms" in m else "-", f"{m['p95_ms']:.0f}" if "p95_ms" in m else "-",
                     str(errors.get(label, 0))])
    accuracy = table(rows, ["path", "cases", "hit@1", "hit@5", "MRR@10", "LM ms p50", "LM ms p95", "errors"])

    engine = engines[modes[0]]
    work = picked[:batch]
    rows = []
    for concurrency in (1, 4):
        t0 = time.perf_counter()
        map_in_order(lambda n: engine.with_generation_or_error(work[n][0].text[: work[n][1].offset], work[n][1].offset,
                                                              work[n][2], work[n][0].index, 5),
                     range(len(work)), concurrency)
        seconds = time.perf_counter() - t0
        results[f"throughput c={concurrency}"] = {"cases": len(work), "seconds": seconds,
                                                  "per_s": len(work) / seconds}
        rows.append([str(concurrency), str(len(work)), f"{seconds:.1f}", f"{len(work) / seconds:.2f}"])
    throughput = table(rows, ["--concurrency", "placeholders", "seconds", "per second"])
    return f"{accuracy}\n\nbatch LM stage ({modes[0]} mode):\n{throughput}", results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--papers", type=Path, default=SHARED / "bench" / "papers")
    parser.add_argument("--per-paper", type=int, default=3, help="cases sampled per dev paper (default 3)")
    parser.add_argument("--modes", default="score,constrained", help="LM modes to measure (default score,constrained)")
    parser.add_argument("--batch", type=int, default=24, help="cases in the throughput run (default 24)")
    parser.add_argument("--generator-url", default=None, help="a running server (default: start llama-server)")
    parser.add_argument("--generator-api", default="llamacpp", choices=("openai", "vllm", "llamacpp"))
    parser.add_argument("--generator-model", default=None)
    parser.add_argument("--model", type=Path, default=None, help="GGUF for the started llama-server (default SmolLM2)")
    parser.add_argument("--parallel", type=int, default=4, help="slots of the started llama-server (default 4)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    server = None
    url = args.generator_url
    if url is None:
        from llama_server import start_llama_server

        server = start_llama_server(args.model, parallel=args.parallel)
        url = server.url
    try:
        config = RemoteConfig(url=url, api=args.generator_api, model=args.generator_model, timeout_s=120.0)
        started = time.perf_counter()
        text, results = run(args.papers, config, args.per_paper, args.modes.split(","), args.batch)
    finally:
        if server is not None:
            server.stop()
    engine_name = args.model.name if args.model else "SmolLM2-135M-Instruct Q4_1 (embedded)"
    print(f"model server: {args.generator_api} at {url}, model {args.generator_model or engine_name}; "
          f"{results['without LM']['n']:.0f} dev cases ({args.per_paper} per paper); {time.perf_counter() - started:.0f}s")
    print(text)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
