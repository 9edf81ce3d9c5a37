"""Big .bib benchmark: the dev papers written against one ~37k-entry personal .bib (every real bibliography merged).

    python bench/big_bib.py                    # 8 cases per dev paper: candidate stage vs every row, latency
    python bench/big_bib.py --cold             # also the first request's cost: parse + embed into an empty cache
    python bench/big_bib.py --max-cases 0      # every case
    python bench/big_bib.py --shuffle 1        # the same entries in a random order (no .bib-order help)

Many authors name one big personal .bib in ``\\bibliography`` (a Better BibTeX auto-export, a decade's refs.bib).
Here that file is every .bib under every dev and training paper, merged as ``bench/load_requests.py``'s
``merge_library`` does (keys become ``<key>__p<paper>``; no entry is dropped: a work cited by several papers stands
in it several times, as in a real personal .bib grown by copy-paste). Each dev paper's masked citations (the
``startref eval`` protocol) are asked against it, the document's keys read as the merged file spells them; a hit is
the cited entry or another entry of the same work (DOI, arXiv id, normalised title). The merged file keeps each
paper's entries together in their own order, which the .bib-order features read; ``--shuffle SEED`` permutes the
entries (``@string``/``@preamble`` blocks first) for a personal .bib whose order says nothing.

Rows: ``Engine.rank`` as shipped (a .bib from ``big_bib.CANDIDATE_STAGE_FROM`` entries on goes through the candidate
stage, ``citations/big_bib.py``) and the same with every row scored (``STARTREF_CANDIDATE_STAGE_FROM=0``: what
every version before did), with the per-request time of ``rank`` (after each paper's first case; load average
printed: the machine is shared). ``--cold``: parse the file and embed every entry into an empty cache folder, as a
user's first request does.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
sys.path.insert(0, str(REPO / "bench"))

from load_requests import merge_library  # noqa: E402
from ranking import metrics, pct, table  # noqa: E402

from startref.citations.bibindex import BibIndex, load_bibliography  # noqa: E402
from startref.citations.engine import Engine, EngineConfig  # noqa: E402
from startref.citations.evaluation import load_paper, mine_cases  # noqa: E402
from startref.citations.features import index_features  # noqa: E402
from startref.citations.library import work_ids  # noqa: E402
from startref.citations.query import build_query  # noqa: E402
from startref.citations.training import find_corpus_papers  # noqa: E402
from startref.latex.cites import find_cites  # noqa: E402
from startref.latex.commands import syntax_with_user_wrappers  # noqa: E402


class _Renamed:
    """The document's keys as the merged .bib spells them (``key__p7``)."""

    def __init__(self, big: BibIndex, suffix: str) -> None:
        self.big, self.suffix = big, suffix

    def get(self, key: str):  # type: ignore[no-untyped-def]
        return self.big.get(key + self.suffix)


def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def merged_bib(workdir: Path) -> tuple[Path, dict[str, int]]:
    merged, paper_index, _ = merge_library([SHARED / "bench" / "papers", SHARED / "train" / "papers"], workdir,
                                           every_bib=True)
    stable = Path(tempfile.gettempdir()) / "startref-bench-big-bib.bib"
    if not stable.exists() or stable.read_bytes() != merged.read_bytes():
        stable.write_bytes(merged.read_bytes())
    return stable, paper_index


def shuffled_copy(path: Path, seed: int) -> Path:
    """The .bib with its entries in a seeded random order (blocks cut at line-start ``@``; macros and preambles
    first, so every entry still sees them)."""
    import random
    import re

    text = path.read_bytes().decode("utf-8", errors="surrogateescape")
    blocks = re.split(r"\n(?=@)", text)
    head = [b for b in blocks if re.match(r"@(string|preamble|comment)\b", b, re.IGNORECASE)]
    rest = [b for b in blocks if not re.match(r"@(string|preamble|comment)\b", b, re.IGNORECASE)]
    random.Random(seed).shuffle(rest)
    out = path.with_name(f"{path.stem}-shuffled-{seed}.bib")
    data = "\n".join(head + rest).encode("utf-8", errors="surrogateescape")
    if not out.exists() or out.read_bytes() != data:
        out.write_bytes(data)
    return out


def cold_first_request(path: Path) -> dict[str, float]:
    """Parse + embed the big .bib into an empty cache folder, in a fresh process (the user's first request)."""
    import subprocess

    snippet = (
        "import json, sys, time\n"
        "from startref.citations.engine import Engine, EngineConfig\n"
        "from startref.citations.bibindex import load_bibliography\n"
        "from startref.citations.features import index_features\n"
        "engine = Engine(EngineConfig(use_generator=False)); engine.encoder\n"
        "t0 = time.perf_counter(); big = load_bibliography([sys.argv[1]]); t1 = time.perf_counter()\n"
        "index_features(big, engine.encoder); t2 = time.perf_counter()\n"
        "print(json.dumps({'entries': len(big), 'parse_s': t1 - t0, 'embed_s': t2 - t1}))\n")
    with tempfile.TemporaryDirectory(prefix="startref-big-bib-cache-") as cache:
        # the encoder loads (and traces itself) before the clock starts: the timings are the .bib's own
        env = {**os.environ, "STARTREF_CACHE_DIR": cache, "HF_HUB_OFFLINE": "1"}
        out = subprocess.run([sys.executable, "-c", snippet, str(path)], capture_output=True, text=True, check=True,
                             env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--papers", type=Path, default=SHARED / "bench" / "papers")
    parser.add_argument("--max-cases", type=int, default=8, help="cases per dev paper (0: all)")
    parser.add_argument("--cold", action="store_true", help="also time the first request into an empty cache")
    parser.add_argument("--shuffle", type=int, default=None, metavar="SEED", help="entries in a random order")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="startref-big-bib-") as work:
        path, paper_index = merged_bib(Path(work))
    if args.shuffle is not None:
        path = shuffled_copy(path, args.shuffle)
    out: dict[str, object] = {}
    if args.cold:
        out["cold"] = cold = cold_first_request(path)
        print(f"first request, empty cache (load {_load()}): {cold['entries']} entries, parse {cold['parse_s']:.1f} s, "
              f"embed + index {cold['embed_s']:.1f} s\n", file=sys.stderr)
    engine = Engine(EngineConfig(use_generator=False))
    big = load_bibliography([path])
    t0 = time.perf_counter()
    index_features(big, engine.encoder)
    print(f"{len(big)} entries; ranking data ready in {time.perf_counter() - t0:.1f} s (load {_load()})",
          file=sys.stderr)
    modes = {"candidate stage (shipped)": None, "every row": "0"}
    ranks: dict[str, list[int]] = {m: [] for m in modes}
    ms: dict[str, list[float]] = {m: [] for m in modes}
    sizes: list[int] = []
    for paper in find_corpus_papers(args.papers):
        name = paper.main_tex.relative_to(args.papers).parts[0]
        if name not in paper_index:
            continue
        loaded = load_paper(paper.main_tex, list(paper.bibs) or None)
        own, text = loaded.index, loaded.text
        cites = find_cites(text, syntax_with_user_wrappers(text))
        cases = list(mine_cases(text, own, cites))
        if args.max_cases and len(cases) > args.max_cases:
            step = len(cases) / args.max_cases
            cases = [cases[int(i * step)] for i in range(args.max_cases)]
        suffix = f"__p{paper_index[name]}"
        view = _Renamed(big, suffix)
        for j, case in enumerate(cases):
            query = build_query(text, case.offset, view, cites[: case.ordinal],  # type: ignore[arg-type]
                                after_start=cites[case.ordinal].end)
            gold_keys = {k + suffix for k in case.gold}
            gold_ids = {w for k in case.gold if (e := own.get(k)) is not None for w in work_ids(e)}
            for mode, env in modes.items():
                if env is None:
                    os.environ.pop("STARTREF_CANDIDATE_STAGE_FROM", None)
                else:
                    os.environ["STARTREF_CANDIDATE_STAGE_FROM"] = env
                engine.encoder.forget_texts()
                t1 = time.perf_counter()
                ranked = engine.rank(query, big)
                took = (time.perf_counter() - t1) * 1000
                if j:
                    ms[mode].append(took)
                hit = next((i for i, r in enumerate(ranked, 1) if r.entry.key in gold_keys
                            or gold_ids.intersection(work_ids(r.entry))), len(ranked) + 1)
                ranks[mode].append(hit)
                if env is None:
                    sizes.append(len(ranked))  # the candidate stage lists the rows it scored
        os.environ.pop("STARTREF_CANDIDATE_STAGE_FROM", None)
        print(f"  {name}: {len(cases)} cases (load {_load()})", file=sys.stderr)
    rows = []
    for mode in modes:
        m = metrics(ranks[mode])
        rows.append([mode, str(int(m["n"])), pct(m["hit@1"]), pct(m["hit@5"]), pct(m["hit@10"]), f"{m['mrr@10']:.3f}",
                     f"{statistics.median(ms[mode]):.0f}", f"{statistics.quantiles(ms[mode], n=100)[94]:.0f}"])
        out[mode] = {**m, "p50_ms": statistics.median(ms[mode]), "p95_ms": statistics.quantiles(ms[mode], n=100)[94]}
    order = f", entries shuffled (seed {args.shuffle})" if args.shuffle is not None else ""
    print(f"## Dev papers against one {len(big)}-entry .bib{order} (rank only; scored rows per request: median "
          f"{statistics.median(sizes):.0f})\n")
    print(table(rows, ["ranking", "cases", "hit@1", "hit@5", "hit@10", "MRR@10", "p50 ms", "p95 ms"]))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
