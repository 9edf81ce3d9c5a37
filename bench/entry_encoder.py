"""Entry encoder levers, back to back on the same real titles: what each change to the library's embedding gives.

    python bench/entry_encoder.py              # 2,000 titles from the training papers' .bib files
    python bench/entry_encoder.py --titles 500

Rows (one torch thread, one worker, CPU seconds so that a busy machine changes little): the request path
(``SentenceEncoder.encode``: batches cut by character length, how the library was indexed before), the bulk entry
encoder in fp32 (batches cut by token count) and in bf16 (``STARTREF_ENTRY_PRECISION``), each with its cosine to the
request path's vectors, and the padding each way of cutting batches costs. The load average is printed beside.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from ranking import table  # noqa: E402


def _titles(train: Path, n: int) -> list[str]:
    from startref.citations.bibindex import load_bibliography

    titles: list[str] = []
    for bib in sorted(train.glob("*/**/*.bib")):
        titles += [e.title for e in load_bibliography([bib]).entries if e.title]
        if len(set(titles)) >= 3 * n:
            break
    unique = sorted(set(titles))
    random.Random(0).shuffle(unique)
    return unique[:n]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", type=Path, default=REPO.parent / "shared" / "train" / "papers")
    parser.add_argument("--titles", type=int, default=2000)
    args = parser.parse_args(argv)
    os.environ["STARTREF_INDEX_WORKERS"] = "1"

    from startref.citations.engine import Engine, EngineConfig
    from startref.citations.entry_encoder import entry_encoder, native_bf16, token_batches
    from startref.citations.library.indexing import embed_texts

    titles = _titles(args.train, args.titles)
    encoder = Engine(EngineConfig(use_generator=False)).encoder
    os.environ["STARTREF_ENTRY_PRECISION"] = "bf16"
    entry_encoder(encoder)  # the bf16 copy is traced (once) before any clock starts
    os.environ["STARTREF_ENTRY_PRECISION"] = "fp32"
    bulk = entry_encoder(encoder)
    assert bulk is not None
    lengths = [len(ids) for ids in bulk.token_ids(titles)]

    def padded(batches: list[list[int]]) -> float:
        return sum(max(lengths[i] for i in b) * len(b) for b in batches) / sum(lengths)

    by_chars = sorted(range(len(titles)), key=lambda i: len(titles[i]))
    rows = [["padded / real tokens, batches of 64 cut by characters (before)",
             f"{padded([by_chars[s : s + 64] for s in range(0, len(titles), 64)]):.2f}", "", ""],
            ["padded / real tokens, batches of 64 cut by token count", f"{padded(token_batches(lengths)):.2f}", "", ""]]

    def timed(label: str, run: object) -> np.ndarray:
        c0 = time.process_time()
        vectors = run()  # type: ignore[operator]
        rate = len(titles) / (time.process_time() - c0)
        rows.append([label, f"{rate:.0f} titles per CPU-second", "", f"{os.getloadavg()[0]:.1f}"])
        return vectors

    encoder.forget_texts()
    reference = timed("request path: batches cut by characters (fp32)", lambda: encoder.encode(titles))
    for precision in ("fp32", "bf16"):
        os.environ["STARTREF_ENTRY_PRECISION"] = precision
        vectors = timed(f"entry encoder: batches cut by token count ({precision})", lambda: embed_texts(encoder, titles))
        cos = np.sum(vectors * reference, axis=1)
        rows[-1][2] = f"min {cos.min():.5f}, mean {cos.mean():.5f}"
    print(f"## Entry encoder levers: {len(titles)} real titles, one thread (native bf16: {native_bf16()})\n")
    print(table(rows, ["what", "measured", "cosine to the request path", "load average"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
