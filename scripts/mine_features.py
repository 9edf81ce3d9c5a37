"""Mine the training corpus's features into a cache folder, optionally as one of several parallel parts.

    python scripts/mine_features.py CACHE_DIR [--part 0/2] [--drafting-share 0.3]

Why: on a small machine two processes mine twice as fast as one (mining is one encoder call per case, single
threaded here), and ``startref train --cache CACHE_DIR`` (same options) then fits without mining again. Uses the
shipped recipe: cross-fitted adapters (citations/artifacts/crossfit), 300 cases per paper, seed 0.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cache", type=Path)
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "train" / "papers")
    parser.add_argument("--part", default="0/1", help="i/n: mine every n-th paper starting at i")
    parser.add_argument("--drafting-share", type=float, default=0.0)
    parser.add_argument("--max-cases", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--shipped-adapter", action="store_true",
                        help="mine with the shipped adapter (the run-time encoder; for the dev papers) instead of the "
                        "cross-fitted ones")
    args = parser.parse_args()
    from startref.citations.mining_cache import cached_mine
    from startref.citations.training import _readable, crossfit_encoders, find_corpus_papers

    i, n = (int(x) for x in args.part.split("/"))
    papers = find_corpus_papers(args.corpus)[i::n]
    if args.shipped_adapter:
        from startref.citations.encoder import load_encoder

        encoder = load_encoder(None, adapter=REPO / "citations" / "artifacts", keep_traced=False)
    else:
        encoder = crossfit_encoders(REPO / "citations" / "artifacts" / "crossfit")
    t0 = time.time()

    def progress(msg: str) -> None:
        print(f"[{time.time() - t0:7.1f}s] {msg}", file=sys.stderr, flush=True)

    loaded = ((p.name, paper) for p, paper in _readable(papers, progress))
    total = sum(len(m.feats) for m in cached_mine(loaded, encoder, args.cache, max_cases=args.max_cases,
                                                 seed=args.seed, drafting_share=args.drafting_share, progress=progress))
    progress(f"done: {total} cases from {len(papers)} papers")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
