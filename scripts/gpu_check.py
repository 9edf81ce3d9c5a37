"""GPU check of the generation stage (run on a machine with CUDA; see the README's "GPU" note).

Builds the tiny Galactica-style model of the tests, then compares CPU and CUDA: greedy generation, scoring and
constrained decoding must agree (same texts and keys, log-probs within float tolerance) and report timings.

    python scripts/gpu_check.py
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _tiny_model(folder: Path) -> None:
    spec = importlib.util.spec_from_file_location("gen_conftest", REPO / "tests" / "generation" / "conftest.py")
    assert spec and spec.loader
    conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conftest)
    tokenizer = conftest._build_tokenizer(folder)
    conftest._build_model(folder, tokenizer, train_steps=80)


def main() -> int:
    import torch

    from startref.citations.generation import GenerationOptions, load_generator
    from startref.citations.title_trie import TitleChoice

    if not torch.cuda.is_available():
        print("no CUDA device here")
        return 1
    print("device:", torch.cuda.get_device_name(0), "torch", torch.__version__)
    prompt = "Deep networks are hard to train, so we use residual connections"
    titles = [TitleChoice("he", "Deep Residual Learning, He"), TitleChoice("va", "Attention Is All You Need, Vaswani"),
              TitleChoice("mi", "Efficient Estimation of Word Representations, Mikolov")]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        _tiny_model(Path(tmp))
        for device in ("cpu", "cuda"):
            gen = load_generator(tmp, device=device)
            for _warm_then_timed in range(2):  # the first pass pays for CUDA's start-up
                t0 = time.perf_counter()
                greedy = gen.generate(prompt, GenerationOptions(num_return=1, num_beams=1))
                scores = gen.score(prompt, [t.text for t in titles])
                constrained = gen.generate(prompt, GenerationOptions(num_return=3, num_beams=3, constrained=True), titles)
                ms = (time.perf_counter() - t0) * 1000
            results[device] = (greedy, scores, constrained)
            print(f"{device}: greedy={greedy[0].text!r} scores={[round(s, 4) for s in scores]} "
                  f"constrained={[g.key for g in constrained]} ({ms:.0f} ms)")
    cpu, gpu = results["cpu"], results["cuda"]
    ok = (cpu[0][0].text == gpu[0][0].text
          # CUDA matmuls may run in TF32: log-probs agree to about 1e-2, the decisions exactly.
          and all(abs(a - b) < 5e-2 for a, b in zip(cpu[1], gpu[1]))
          and [g.key for g in cpu[2]] == [g.key for g in gpu[2]])
    print("CPU and CUDA agree" if ok else "MISMATCH between CPU and CUDA")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
