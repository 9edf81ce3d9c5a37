"""Benchmark of ``startref check``'s mis-citation flags: injected wrong keys, recall, precision, false flags.

    python bench/check.py                          # dev papers (shared/bench): table at each sensitivity + curve
    python bench/check.py --tune                   # all 130 shared/train papers: fit the weights, pick the thresholds
                                                   # (bench/check_scores.py: how; never tuned on bench)
    python bench/check.py --speed                  # time a whole `check` of the largest dev papers
    python bench/check.py --scores out.json        # keep every key's score (re-analyse without re-ranking)
    python bench/check.py --from-scores out.json   # tables from saved scores
    python bench/check.py --tune --shard 0/2 --scores a.json & python bench/check.py --tune --shard 1/2 --scores b.json
    python bench/check.py --tune --from-scores a.json b.json   # two processes, then fit on both

Protocol (issue 15): in each paper, a seeded random 5% of the cited keys (at least one) are replaced by another
key of the same bibliography, half of them *near* (an entry with the same first author, else the most similar key
string, similarity >= 0.6) and half random; an injected key never repeats a key of the same command nor names the
same work. ``check`` then scores every cited key with the eval protocol (``citations.audit.miscitation``).
Reported: recall of the injected swaps (random / near), precision of the mis-citation flags on the injected papers,
flags per 100 genuine citations on the untouched papers, at each sensitivity and along a margin curve.
Saved scores hold every input of the suspicion model (and the networks' own margins, ``KeyScore.net_*``), so a fit
or a table can be redone from them; scores saved before an input existed are refused with its name.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

from rapidfuzz.distance import Levenshtein  # noqa: E402

from startref.citations.audit.identity import same_work_groups, same_work_map  # noqa: E402
from startref.citations.audit import miscitation  # noqa: E402
from startref.citations.audit.miscitation import THRESHOLDS, score_citations  # noqa: E402
from startref.citations.bibindex import BibIndex  # noqa: E402
from startref.citations.engine import Engine  # noqa: E402
from startref.citations.evaluation import load_paper  # noqa: E402
from startref.citations.training import find_corpus_papers  # noqa: E402
from startref.latex.cites import CiteCommand, find_cites  # noqa: E402
from startref.latex.commands import syntax_with_user_wrappers  # noqa: E402

from check_scores import (  # noqa: E402  (bench/ is the script's folder)
    cross_validated, evaluate, fit_weights, ranker_unseen, tune, with_suspicion,
)

SHARE = 0.05
NEAR_KEY_SIMILARITY = 0.6
#: ``--tune`` ranks a seeded sample of this many training papers (None: all of them; ~1 hour on two busy cores).
TRAIN_PAPERS: int | None = None
PREFERENCES = [-100.0, 0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 100.0]
CURVE = [-4.0, -3.0, -2.5, -2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0]


@dataclass
class Swap:
    cite: int
    key_index: int
    original: str
    injected: str
    kind: str  # "near" or "random"


def _cites(text: str) -> list[CiteCommand]:
    return find_cites(text, syntax_with_user_wrappers(text))


def _near_candidates(entry_key: str, index: BibIndex, banned: set[str]) -> list[str]:
    """Entries easy to confuse with ``entry_key``: same first author, else the most similar key strings."""
    entry = index.get(entry_key)
    assert entry is not None
    first = entry.first_author.casefold()
    same_author = [e.key for e in index.entries if e.key not in banned and first and e.first_author.casefold() == first]
    if same_author:
        return same_author
    scored = sorted(((Levenshtein.normalized_similarity(entry_key.casefold(), e.key.casefold()), e.key)
                     for e in index.entries if e.key not in banned), reverse=True)
    return [k for s, k in scored[:3] if s >= NEAR_KEY_SIMILARITY]


def inject(text: str, index: BibIndex, rng: random.Random) -> tuple[str, list[Swap]]:
    """``text`` with a random 5% of its resolvable cited keys replaced (half near, half random)."""
    cites = _cites(text)
    twins = same_work_map(same_work_groups(index))
    slots = [(i, j) for i, c in enumerate(cites) for j, k in enumerate(c.keys) if index.get(k) is not None]
    if not slots:
        return text, []
    n = max(1, round(SHARE * len(slots)))
    chosen = sorted(rng.sample(slots, n))
    kinds = ["near" if m % 2 == 0 else "random" for m in range(n)]
    rng.shuffle(kinds)
    swaps: list[Swap] = []
    edits: list[tuple[int, int, str]] = []
    for (i, j), kind in zip(chosen, kinds):
        cite = cites[i]
        original = index.get(cite.keys[j])
        assert original is not None
        banned = {e.key for k in cite.keys if (e := index.get(k)) is not None}
        banned |= twins.get(original.key, frozenset())
        pool = _near_candidates(original.key, index, banned) if kind == "near" else []
        if not pool:
            kind = "random"
            pool = [e.key for e in index.entries if e.key not in banned]
        if not pool:
            continue
        injected = rng.choice(pool)
        swaps.append(Swap(i, j, original.key, injected, kind))
        start, end = cite.key_spans[j]
        edits.append((start, end, injected))
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text, swaps


def score_paper(engine: Engine, text: str, index: BibIndex) -> list[dict]:
    cites = _cites(text)
    twins = same_work_map(same_work_groups(index))
    scores = score_citations(engine, text, index, cites, twins=twins, workers=2, explain_from=1e9)
    return [{"cite": s.cite, "key_index": s.key_index, "key": s.key, "entry": s.entry, "margin": s.margin, "rank": s.rank,
             "prob": s.prob, "alt_prob": s.alt_prob, "entries": s.entries, "recited": s.recited,
             "has_alt": s.alt is not None, "alt": s.alt, "near_alt": s.near_alt, "near_margin": s.near_margin,
             "keys_in_command": s.keys_in_command, "elsewhere": s.elsewhere, "context_match": s.context_match,
             "uses": s.uses, "alt_cited": s.alt_cited, "net_margin": s.net_margin, "net_rank": s.net_rank,
             "net_near_margin": s.net_near_margin}
            for s in scores]


def collect(papers_dir: Path, engine: Engine, seed: int, limit: int | None, untouched: bool,
            shard: tuple[int, int] = (0, 1), skip: frozenset[str] = frozenset()) -> list[dict]:
    papers = find_corpus_papers(papers_dir)
    if skip:  # papers scored by an earlier run (--skip-scored): the sample is drawn from the others
        papers = [p for p in papers if p.main_tex.relative_to(papers_dir).parts[0] not in skip]
    if limit is not None and len(papers) > limit:
        papers = sorted(random.Random(seed).sample(papers, limit), key=lambda p: str(p.main_tex))
    papers = papers[shard[0] :: shard[1]]
    out: list[dict] = []
    for paper in papers:
        name = paper.main_tex.relative_to(papers_dir).parts[0]
        try:
            loaded = load_paper(paper.main_tex, list(paper.bibs) or None)
        except Exception as exc:  # a paper that cannot be read is reported and skipped, as in training
            print(f"  {name}: skipped ({exc})", file=sys.stderr)
            continue
        rng = random.Random(f"{seed}:{name}")
        t0 = time.perf_counter()
        text, swaps = inject(loaded.text, loaded.index, rng)
        injected = score_paper(engine, text, loaded.index)
        clean = score_paper(engine, loaded.text, loaded.index) if untouched else None
        out.append({"paper": name, "entries": len(loaded.index), "swaps": [asdict(s) for s in swaps],
                    "injected": injected, "untouched": clean})
        print(f"  {name}: {len(injected)} keys, {len(swaps)} swaps, {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return out


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    fmt = lambda row: "| " + " | ".join(str(x).ljust(w) for x, w in zip(row, widths)) + " |"  # noqa: E731
    return "\n".join([fmt(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(fmt, rows)])


def report(results: list[dict], thresholds: dict[str, float]) -> str:
    header = ["sensitivity", "suspicion", "random swaps found", "near swaps found", "precision", "false flags / 100 genuine",
              "first fix = original key"]
    rows = []
    for name, t in thresholds.items():
        m = evaluate(results, t)
        rows.append([name, f"{t:g}", f"{pct(m['recall_random'])} of {m['swaps_random']}",
                     f"{pct(m['recall_near'])} of {m['swaps_near']}", f"{pct(m['precision'])} of {m['flags']}",
                     f"{m['genuine_per_100']:.1f} of {m['genuine']}", pct(m["fix_right"])])
    curve = []
    for t in CURVE:
        m = evaluate(results, t)
        curve.append([f"{t:g}", pct(m["recall"]), pct(m["recall_random"]), pct(m["recall_near"]), pct(m["precision"]),
                      f"{m['genuine_per_100']:.1f}"])
    curve_table = table(curve, ["suspicion", "recall", "random", "near", "precision", "false flags / 100"])
    return table(rows, header) + "\n\nprecision/recall curve:\n" + curve_table


def speed(engine: Engine) -> str:
    from startref.citations.audit import check_document

    rows = []
    for name in ("HabibMrad__deep-learning-in-cardiology", "JannisCodes__migration-trajectories"):
        papers = [p for p in find_corpus_papers(SHARED / "bench" / "papers") if name in str(p.main_tex)]
        if not papers:
            continue
        paper = papers[0]
        engine.encoder.forget_texts()
        t0, c0 = time.perf_counter(), time.process_time()
        report = check_document(engine, path=paper.main_tex, bib=list(paper.bibs) or None, workers=2)
        total, cpu = time.perf_counter() - t0, time.process_time() - c0
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rows.append([name[:40], str(report.citations), str(report.checked), str(report.bibliography["entries"]),
                     f"{total:.1f} s", f"{cpu:.1f} s", f"{rss:.0f} MB", f"{os.getloadavg()[0]:.1f}"])
    # CPU seconds (all threads) bound what the check costs on an idle machine: about that on one core, down to
    # about half on two (the embedding runs on two threads).
    return table(rows, ["paper", "cite commands", "keys scored", "entries", "check wall (warm models)",
                        "CPU (all threads)", "peak RSS", "load avg"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tune", action="store_true", help="run on shared/train and choose the thresholds")
    parser.add_argument("--papers", type=Path, help="folder of papers (default: shared/bench, or shared/train with --tune)")
    parser.add_argument("--limit", type=int, help="at most N papers (a seeded sample)")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--scores", type=Path, help="write every key's score here (JSON)")
    parser.add_argument("--from-scores", type=Path, nargs="+",
                        help="read scores written by --scores instead of ranking (several: one run per shard)")
    parser.add_argument("--skip-scored", type=Path, nargs="+", default=[],
                        help="leave out the papers in these --scores files (more training papers beside a first run)")
    parser.add_argument("--shard", default="0/1", help="I/N: rank only every N-th paper from the I-th (parallel runs)")
    parser.add_argument("--speed", action="store_true", help="time a whole check of the two largest dev papers")
    args = parser.parse_args()
    engine = Engine()
    if args.speed:
        engine.warm()
        print(speed(engine))
        return 0
    if args.from_scores:
        results = [paper for f in args.from_scores for paper in json.loads(f.read_text(encoding="utf-8"))]
    else:
        papers_dir = args.papers or SHARED / ("train" if args.tune else "bench") / "papers"
        i, n = (int(x) for x in args.shard.split("/"))
        limit = args.limit if args.limit is not None else (TRAIN_PAPERS if args.tune else None)
        skip = frozenset(p["paper"] for f in args.skip_scored for p in json.loads(f.read_text(encoding="utf-8")))
        results = collect(papers_dir, engine, args.seed, limit, untouched=not args.tune, shard=(i, n), skip=skip)
        if args.scores:
            args.scores.write_text(json.dumps(results), encoding="utf-8")
    if args.tune:
        weights, bias = fit_weights(results)
        cross_validated(results)
        unseen = ranker_unseen(results)
        chosen = tune(unseen)
        print(f"fitted on {len(results)} papers; thresholds chosen on the {len(unseen)} of them the ranker's networks "
              "were not trained on, with suspicions cross-validated by paper (false flags counted on the genuine keys "
              "of the injected papers):")
        print("SUSPICION_WEIGHTS =", json.dumps({n: round(float(w), 4) for n, w in zip(miscitation.FEATURES, weights)}))
        print("SUSPICION_BIAS =", round(bias, 4))
        print("THRESHOLDS =", json.dumps(chosen))
        print("cross-validated, all training papers:")
        print(report(results, chosen).split("\n\n")[0])
        print(f"cross-validated, the {len(unseen)} papers the ranker's networks did not see:")
        print(report(unseen, chosen))
        with_suspicion(results, weights, bias)  # from here: the fitted model, in-sample
        print("in-sample (the fitted model on all training papers):")
        fixes = {p: evaluate(results, chosen["high"], p)["fix_right"] for p in PREFERENCES}
        print("NEAR_PREFERENCE =", max(fixes, key=lambda p: (fixes[p], -abs(p))),
              " (first fix = original key among the swaps found at high:",
              ", ".join(f"{p:g}: {pct(v)}" for p, v in fixes.items()) + ")")
        print(report(results, chosen).split("\n\n")[0])
    else:
        with_suspicion(results)
        print(f"{len(results)} papers, thresholds {dict(THRESHOLDS)}")
        print(report(results, dict(THRESHOLDS)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
