"""Mine the library pool model's training lists from the training papers (never the dev papers).

    nice -n 15 python scripts/mine_library_lists.py --cases 12 [--papers unseen|seen|all] [--out .cache/libpool]

The library is every .bib of the training papers merged into one (``bench/load_requests.merge_library``, keys
``<key>__p<i>``), loaded through ``citations.library`` as a user's library is. Each case is mined by
``bench/library.py``'s ``run_papers`` (the benchmark's own protocol, so the lists are what it measures on dev):
the paper's .bib ranked by the shipped ranker, the library's candidate stage for the same cursor without the
paper's own rows (a merged library of the *other* training papers) except the gold work's, and the library alone.
One pickle of ``CaseScores`` per paper under ``--out`` (a paper already mined is skipped: the command resumes).
"""

from __future__ import annotations

import argparse
import os
import pickle
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from library import ranker_training_papers, run_papers  # noqa: E402
from load_requests import merge_library  # noqa: E402

from startref.citations.engine import Engine, EngineConfig  # noqa: E402
from startref.citations.library import open_library  # noqa: E402
from startref.citations.library.store import Library  # noqa: E402


def training_library(train: Path, out: Path, engine: Engine) -> tuple[Library, dict[str, int]]:
    """Every .bib of the training papers as one library (indexed, cached on disk), and each paper's number."""
    tmp = Path(tempfile.mkdtemp(prefix="libpool-"))
    try:
        lib_path, paper_index, n = merge_library([train], tmp, every_bib=True)
        stable = out / "train-library.bib"
        if not stable.exists() or stable.read_bytes() != lib_path.read_bytes():
            stable.write_bytes(lib_path.read_bytes())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    t0 = time.perf_counter()
    library = open_library([str(stable)])
    library.features(engine.encoder)
    print(f"library: {len(library)} works from {n} entries of {len(paper_index)} training papers "
          f"({time.perf_counter() - t0:.0f} s to open/index)", file=sys.stderr)
    return library, paper_index


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", type=Path, default=REPO.parent / "shared" / "train" / "papers")
    parser.add_argument("--out", type=Path, default=REPO / ".cache" / "libpool")
    parser.add_argument("--cases", type=int, default=12, help="cases per paper, spread over it")
    parser.add_argument("--papers", choices=("unseen", "seen", "all"), default="unseen",
                        help="unseen: the training papers the shipped networks were not fitted on")
    parser.add_argument("--max-papers", type=int, default=0)
    args = parser.parse_args(argv)
    if "bench" in args.train.resolve().parts:
        parser.error("the library pool model is never trained on the dev papers")
    args.out.mkdir(parents=True, exist_ok=True)
    engine = Engine(EngineConfig(use_generator=False))
    library, paper_index = training_library(args.train, args.out, engine)
    seen = ranker_training_papers()
    names = sorted(paper_index)
    if args.papers != "all":
        names = [n for n in names if (n in seen) == (args.papers == "seen")]
    if args.max_papers:
        names = names[: args.max_papers]
    t_all = time.perf_counter()
    for name in names:
        path = args.out / f"{name}.c{args.cases}.pkl"
        if path.exists():
            continue
        t0 = time.perf_counter()
        try:
            found = run_papers(args.train, engine, library, paper_index, args.cases, library_only=True,
                               library_stats=False, skip=set(paper_index) - {name})
        except Exception as exc:  # a paper that does not load is skipped, as the benchmark would fail on it
            print(f"  {name}: skipped ({type(exc).__name__}: {exc})", file=sys.stderr)
            continue
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        tmp.write_bytes(pickle.dumps({"paper": name, "cases": found["cases"]}, protocol=pickle.HIGHEST_PROTOCOL))
        tmp.replace(path)
        print(f"  {name}: {len(found['cases'])} cases in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    print(f"mined {len(names)} papers in {time.perf_counter() - t_all:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
