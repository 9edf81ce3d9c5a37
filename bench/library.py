"""Library benchmark: the dev papers ranked with their own .bib plus a library of every other bibliography.

    python bench/library.py                      # dev papers, 40 cases each: the three settings below
    python bench/library.py --fit-offset         # also fit the library offset on shared/train (never on dev)
    python bench/library.py --max-cases 0        # every case

The library is every bench + train bibliography merged into one .bib (``bench/load.py``'s ``merge_library``: keys
become ``<key>__p<paper>``), loaded through ``citations.library`` exactly as a user's library is (disk cache,
duplicates of a work kept once). Per case (the ``startref eval`` protocol):

- **own .bib** — the paper's .bib only (what startref does without a library);
- **own + library** — the paper's .bib plus the library *without the paper's own entries* (they are in its .bib),
  scored as the engine does (``citations.library.pool``: library entries by the same ranker, .bib-order features
  zero, a logit offset); a hit is the gold key itself. Also: how often the top suggestion is an entry of the
  paper's .bib (the gold one always is);
- **library only** — no .bib: the whole library (the paper's own entries included) is the candidate list; a hit is
  the gold entry or an entry of the same work (DOI, arXiv id, normalised title).
Latency is the own + library path per suggestion (query, library features, scoring, merge), after each paper's
first case. Also printed: the library's size, how long it took to index and to load from the cache, process RSS.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
sys.path.insert(0, str(REPO / "bench"))

from load import ENTRY_RE, _paper_dirs, merge_library, parse_source  # noqa: E402
from ranking import metrics, pct, table  # noqa: E402

from startref.citations.bibindex import BibIndex  # noqa: E402
from startref.citations.engine import Engine, EngineConfig  # noqa: E402
from startref.citations.evaluation import load_paper, mine_cases  # noqa: E402
from startref.citations.library import open_library, work_ids  # noqa: E402
from startref.citations.library.pool import LibraryView, score_library  # noqa: E402
from startref.citations.library import store  # noqa: E402
from startref.citations.query import build_query  # noqa: E402
from startref.citations.training import find_corpus_papers  # noqa: E402
from startref.latex.cites import find_cites  # noqa: E402
from startref.latex.commands import syntax_with_user_wrappers  # noqa: E402

TOP = 50
OFFSETS = (-6.0, -5.0, -4.0, -3.0, -2.5, -2.0, -1.5, -1.0, -0.5, 0.0, 1.0)


class _Suffixed:
    """The paper's keys as the merged library spells them (``key__p7``), for the library-only history."""

    def __init__(self, library: BibIndex, suffix: str) -> None:
        self.library, self.suffix = library, suffix

    def get(self, key: str):  # type: ignore[no-untyped-def]
        return self.library.get(key + self.suffix)


def _paper_rows(library, idx: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    pat = re.compile(rf"__p{idx}(_\d+)?$")
    return np.array([bool(pat.search(k)) for k in library.index.keys()], dtype=bool)


def run_papers(papers_dir: Path, engine: Engine, library, paper_index: dict[str, int], max_cases: int,  # type: ignore[no-untyped-def]
               library_only: bool, max_papers: int = 0) -> dict:
    out = {"own": [], "own_lib": [], "lib_only": [], "ms": [], "paper_top_in_bib": []}
    lib_logit_rows: list[tuple[np.ndarray, np.ndarray, int]] = []  # (paper logits, library logits, gold pos in paper)
    papers = [p for p in find_corpus_papers(papers_dir) if p.main_tex.relative_to(papers_dir).parts[0] in paper_index]
    if max_papers and len(papers) > max_papers:
        papers = [papers[int(i * len(papers) / max_papers)] for i in range(max_papers)]
    for paper in papers:
        name = paper.main_tex.relative_to(papers_dir).parts[0]
        loaded = load_paper(paper.main_tex, list(paper.bibs) or None)
        own = loaded.index
        text = loaded.text
        cites = find_cites(text, syntax_with_user_wrappers(text))
        cases = list(mine_cases(text, own, cites))
        if max_cases and len(cases) > max_cases:
            step = len(cases) / max_cases
            cases = [cases[int(i * step)] for i in range(max_cases)]
        suffix = f"__p{paper_index[name]}"
        own_rows = _paper_rows(library, paper_index[name])
        for j, case in enumerate(cases):
            gold = set(case.gold)
            t0 = time.perf_counter()
            ranked = engine.rank(case.query, own)
            lq = build_query(text, case.offset, LibraryView(own, library.index), cites[: case.ordinal],  # type: ignore[arg-type]
                             after_start=cites[case.ordinal].end)
            scores = score_library(lq, library, own, engine.encoder, engine.ranker, TOP, offset=0.0, exclude=own_rows)
            ms = (time.perf_counter() - t0) * 1000
            if j:
                out["ms"].append(ms)
            paper_logits = np.array([r.logit for r in ranked])
            gold_pos = next((i for i, r in enumerate(ranked) if r.entry.key in gold), -1)
            out["own"].append(gold_pos + 1 if gold_pos >= 0 else len(ranked) + 1)
            lib_logit_rows.append((paper_logits, scores.logits.copy(), gold_pos))
            if library_only:
                q2 = build_query(text, case.offset, _Suffixed(library.index, suffix), cites[: case.ordinal],  # type: ignore[arg-type]
                                 after_start=cites[case.ordinal].end)
                empty = BibIndex([])
                s2 = score_library(q2, library, empty, engine.encoder, engine.ranker, TOP, offset=0.0)
                gold_ids = {w for k in gold if (e := own.get(k)) is not None for w in work_ids(e)}
                gold_keys = {k + suffix for k in gold}
                rank = TOP + 1
                for r, pos in enumerate(s2.positions, 1):
                    e = library.index.entries[int(pos)]
                    if e.key in gold_keys or gold_ids.intersection(work_ids(e)):
                        rank = r
                        break
                out["lib_only"].append(rank)
        print(f"  {name}: {len(cases)} cases", file=sys.stderr)
    out["rows"] = lib_logit_rows
    return out


def merged_ranks(rows, offset: float) -> tuple[list[int], float]:  # type: ignore[no-untyped-def]
    """Rank of the gold (paper) entry when library logits are shifted by ``offset``; share of top-in-bib."""
    ranks: list[int] = []
    top_in_bib = 0
    for paper_logits, lib_logits, gold_pos in rows:
        shifted = lib_logits + offset
        if gold_pos < 0:
            ranks.append(len(paper_logits) + len(shifted) + 1)
            continue
        g = paper_logits[gold_pos]
        ranks.append(int((paper_logits > g).sum() + (shifted > g).sum()) + 1)
        best_paper = paper_logits.max() if paper_logits.size else -np.inf
        best_lib = shifted.max() if shifted.size else -np.inf
        top_in_bib += int(best_paper >= best_lib)
    return ranks, top_in_bib / max(len(rows), 1)


def _entries_of(paper: Path) -> int:
    bibs = parse_source(paper / "SOURCE.txt").get("bib_files") or []
    n = 0
    for rel in bibs if isinstance(bibs, list) else []:
        path = paper / rel
        if path.suffix.lower() == ".bib" and path.is_file():
            n += sum(1 for m in ENTRY_RE.finditer(path.read_bytes().decode("utf-8", "replace"))
                     if m.group(2).lower() not in ("string", "preamble", "comment"))
    return n


def library_roots(papers: Path, train: Path, max_entries: int, workdir: Path) -> list[Path]:
    """Every dev paper, then training papers in order while the library stays under ``max_entries`` (0: all);
    a training paper whose .bib alone is over a quarter of the budget is skipped (one thesis would fill it)."""
    if not max_entries:
        return [papers, train]
    chosen = workdir / "train-subset"
    chosen.mkdir(parents=True, exist_ok=True)
    total = sum(_entries_of(p) for p in _paper_dirs(papers))
    for paper in _paper_dirs(train):
        n = _entries_of(paper)
        if n == 0 or n > max_entries // 4 or total + n > max_entries:
            continue
        (chosen / paper.name).symlink_to(paper.resolve())
        total += n
    return [papers, chosen]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--papers", type=Path, default=SHARED / "bench" / "papers")
    parser.add_argument("--train", type=Path, default=SHARED / "train" / "papers")
    parser.add_argument("--max-cases", type=int, default=40, help="cases per dev paper (0: all)")
    parser.add_argument("--fit-offset", action="store_true", help="fit the library offset on --train papers")
    parser.add_argument("--train-cases", type=int, default=10, help="cases per training paper for --fit-offset")
    parser.add_argument("--train-papers", type=int, default=40, help="training papers for --fit-offset (0: all)")
    parser.add_argument("--library-max-entries", type=int, default=0,
                        help="cap the library: every dev .bib, then training .bib files up to N entries (0: all)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    tmp = tempfile.TemporaryDirectory(prefix="startref-library-")
    roots = library_roots(args.papers, args.train, args.library_max_entries, Path(tmp.name))
    lib_path, paper_index, n_entries = merge_library(roots, Path(tmp.name))
    # a stable path so the library's disk cache is reused across runs (the cache keys on content + path)
    stable = Path(tempfile.gettempdir()) / f"startref-bench-library-{args.library_max_entries}.bib"
    if not stable.exists() or stable.read_bytes() != lib_path.read_bytes():
        stable.write_bytes(lib_path.read_bytes())
    engine = Engine(EngineConfig(use_generator=False))
    t0 = time.perf_counter()
    library = open_library([str(stable)])
    library.features(engine.encoder)
    first_s = time.perf_counter() - t0
    store._OPEN.clear()
    t0 = time.perf_counter()
    library = open_library([str(stable)])
    library._features.clear()
    library.features(engine.encoder)
    load_s = time.perf_counter() - t0
    print(f"library: {len(library)} entries after merging duplicates ({n_entries} in {len(paper_index)} papers' "
          f".bib files); open+index {first_s:.1f}s (includes building the cache if it was missing), "
          f"load from cache {load_s:.2f}s", file=sys.stderr)

    report: dict = {"library_entries": len(library), "raw_entries": n_entries, "load_s": load_s, "first_s": first_s}
    fitted = None
    if args.fit_offset:
        train = run_papers(args.train, engine, library, paper_index, args.train_cases, library_only=False,
                           max_papers=args.train_papers)
        grid = []
        for off in OFFSETS:
            ranks, share = merged_ranks(train["rows"], off)
            m = metrics(ranks)
            grid.append((off, m, share))
        fitted = max(grid, key=lambda g: (round(g[1]["hit@1"], 4), g[1]["mrr"]))[0]
        rows = [[f"{off:+.1f}", pct(m["hit@1"]), pct(m["hit@5"]), f"{m['mrr']:.3f}", pct(share)] for off, m, share in grid]
        print("## Library offset fitted on shared/train (own + library)\n")
        print(table(rows, ["offset", "hit@1", "hit@5", "MRR", "top in own .bib"]) + f"\n\nfitted offset: {fitted:+.1f}\n")
        report["fit"] = [{"offset": off, **m, "top_in_bib": share} for off, m, share in grid]
        report["fitted_offset"] = fitted

    from startref.citations.library.pool import LIBRARY_OFFSET

    dev = run_papers(args.papers, engine, library, paper_index, args.max_cases, library_only=True)
    own_m = metrics(dev["own"])
    merged, share = merged_ranks(dev["rows"], LIBRARY_OFFSET)
    merged_m = metrics(merged, dev["ms"])
    lib_m = metrics(dev["lib_only"])
    rows = [
        ["own .bib only", str(int(own_m["n"])), pct(own_m["hit@1"]), pct(own_m["hit@5"]), f"{own_m['mrr']:.3f}", "100%", "", ""],
        [f"own .bib + library (offset {LIBRARY_OFFSET:+.1f})", str(int(merged_m["n"])), pct(merged_m["hit@1"]),
         pct(merged_m["hit@5"]), f"{merged_m['mrr']:.3f}", pct(share), f"{merged_m['p50_ms']:.0f}",
         f"{merged_m['p95_ms']:.0f}"],
        ["library only", str(int(lib_m["n"])), pct(lib_m["hit@1"]), pct(lib_m["hit@5"]), f"{lib_m['mrr']:.3f}", "", "", ""],
    ]
    if fitted is not None and fitted != LIBRARY_OFFSET:
        fm = metrics(merged_ranks(dev["rows"], fitted)[0])
        rows.insert(2, [f"own .bib + library (fitted offset {fitted:+.1f})", str(int(fm["n"])), pct(fm["hit@1"]),
                        pct(fm["hit@5"]), f"{fm['mrr']:.3f}", pct(merged_ranks(dev["rows"], fitted)[1]), "", ""])
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"## Library setting on the dev papers ({len(library)}-entry library)\n")
    print(table(rows, ["setting", "cases", "hit@1", "hit@5", "MRR", "top in own .bib", "p50 ms", "p95 ms"]))
    print(f"\nlibrary load from cache {load_s:.2f}s; peak RSS {rss:.0f} MB")
    report.update({"own": own_m, "own_library": merged_m, "top_in_bib": share, "library_only": lib_m, "rss_mb": rss})
    if args.json:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
