"""Contrastive fine-tuning of the sentence encoder's top layers on (citation context, cited title) pairs.

Why only the top layers: MiniLM already knows English and science words; what it lacks is the mapping from the
sentence an author writes around a citation to the title of what they cite. Re-training the last two transformer
layers with an InfoNCE loss (the batch's other titles plus titles from the same bibliography as negatives) learns
that mapping, and those layers ship as a small "adapter" file (a few MB in float16) loaded over the packaged
model — the full 90 MB encoder is never copied.

    python -m startref.citations.encoder_training PAIRS.jsonl OUT_DIR [--base MODEL_DIR] [--device cuda]

``PAIRS.jsonl`` has one case a line: {"paper", "context", "gold": [titles], "neg": [titles]} (written by
``write_pairs``). Deterministic for a seed on a given device.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["ADAPTER_FILE", "ADAPTER_META", "write_pairs", "fine_tune", "apply_adapter"]

ADAPTER_FILE = "encoder_adapter.safetensors"
ADAPTER_META = "encoder_adapter.json"


def write_pairs(cases: Sequence[dict[str, Any]], path: Path) -> None:
    """One JSON object a line, as ``fine_tune`` reads them."""
    with open(path, "w", encoding="utf-8") as out:
        for case in cases:
            out.write(json.dumps(case) + "\n")


def _layer_names(model: Any, layers: Sequence[int]) -> list[str]:
    prefixes = tuple(f"encoder.layer.{i}." for i in layers)
    return [name for name, _ in model.named_parameters() if name.startswith(prefixes)]


def apply_adapter(model: Any, folder: Path) -> list[str]:
    """Overwrite ``model``'s top layers with the adapter in ``folder``; returns the tensor names replaced."""
    import torch
    from safetensors.torch import load_file

    tensors = load_file(str(folder / ADAPTER_FILE))
    state = model.state_dict()
    unknown = [name for name in tensors if name not in state]
    if unknown:
        raise ValueError(f"{folder / ADAPTER_FILE}: tensors the encoder does not have: {unknown[:3]}")
    with torch.no_grad():
        for name, value in tensors.items():
            state[name].copy_(value.to(state[name].dtype))
    return sorted(tensors)


def _encode(model: Any, tokenizer: Any, texts: Sequence[str], device: str, max_length: int) -> Any:
    import torch

    enc = tokenizer(list(texts), padding=True, truncation=True, max_length=max_length, return_tensors="pt").to(device)
    hidden = model(**enc).last_hidden_state
    mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, dim=-1)


def _retrieval_hit1(model: Any, tokenizer: Any, cases: Sequence[dict[str, Any]], device: str) -> float:
    """Share of held-out cases whose gold title scores above all of the case's negative titles."""
    import torch

    hits = 0
    with torch.no_grad():
        for start in range(0, len(cases), 64):
            chunk = cases[start : start + 64]
            q = _encode(model, tokenizer, [c["context"] for c in chunk], device, 128)
            for i, case in enumerate(chunk):
                titles = [case["gold"][0], *case["neg"]]
                d = _encode(model, tokenizer, titles, device, 48)
                hits += int(torch.argmax(d @ q[i]).item() == 0)
    return hits / max(1, len(cases))


def fine_tune(
    pairs: Path,
    out_dir: Path,
    base: Path,
    *,
    layers: Sequence[int] = (4, 5),
    epochs: int = 3,
    batch: int = 64,
    lr: float = 5e-5,
    temperature: float = 0.05,
    device: str = "cpu",
    seed: int = 0,
) -> dict[str, Any]:
    """Train the top ``layers`` of the encoder at ``base``; write the adapter (float16) and a JSON report."""
    import torch
    from safetensors.torch import save_file
    from transformers import AutoModel, AutoTokenizer

    random.seed(seed)
    torch.manual_seed(seed)
    cases = [json.loads(line) for line in Path(pairs).read_text(encoding="utf-8").splitlines() if line.strip()]
    cases = [c for c in cases if c["gold"] and c["gold"][0].strip() and c["context"].strip()]
    papers = sorted({c["paper"] for c in cases})
    held = set(papers[::8])  # one paper in eight validates (never the dev set)
    train = [c for c in cases if c["paper"] not in held]
    valid = [c for c in cases if c["paper"] in held]
    tokenizer = AutoTokenizer.from_pretrained(str(base), local_files_only=True)
    model = AutoModel.from_pretrained(str(base), local_files_only=True, dtype=torch.float32).to(device)
    trainable = set(_layer_names(model, layers))
    for name, param in model.named_parameters():
        param.requires_grad = name in trainable
    optimiser = torch.optim.AdamW([p for n, p in model.named_parameters() if n in trainable], lr=lr, weight_decay=0.01)
    report: dict[str, Any] = {"train_cases": len(train), "valid_cases": len(valid), "layers": list(layers), "epochs": []}
    model.eval()
    report["valid_hit1_before"] = _retrieval_hit1(model, tokenizer, valid, device)
    best = (report["valid_hit1_before"], None)
    for epoch in range(epochs):
        model.train()
        random.shuffle(train)
        t0, total = time.perf_counter(), 0.0
        for start in range(0, len(train) - batch + 1, batch):
            chunk = train[start : start + batch]
            q = _encode(model, tokenizer, [c["context"] for c in chunk], device, 128)
            titles = [c["gold"][0] for c in chunk] + [t for c in chunk for t in c["neg"][:3]]
            d = _encode(model, tokenizer, titles, device, 48)
            logits = q @ d.T / temperature
            # A title that is another case's gold may also be gold here (same paper, same entry): mask duplicates.
            gold_titles = [c["gold"] for c in chunk]
            for i, golds in enumerate(gold_titles):
                for j, title in enumerate(titles):
                    if j != i and title in golds:
                        logits[i, j] = -1e4
            loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(chunk), device=device))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += float(loss.detach())
        model.eval()
        hit1 = _retrieval_hit1(model, tokenizer, valid, device)
        report["epochs"].append({"epoch": epoch + 1, "loss": total, "valid_hit1": hit1, "s": time.perf_counter() - t0})
        print(json.dumps(report["epochs"][-1]), flush=True)
        if hit1 > best[0]:
            best = (hit1, {n: p.detach().to("cpu", torch.float16).clone() for n, p in model.named_parameters() if n in trainable})
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report["valid_hit1_best"] = best[0]
    if best[1] is not None:
        save_file(best[1], str(out_dir / ADAPTER_FILE))
    (out_dir / ADAPTER_META).write_text(json.dumps({"base": "all-MiniLM-L6-v2", **report}, indent=2) + "\n", encoding="utf-8")
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pairs", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--base", type=Path, default=None, help="encoder folder (default: the embedded MiniLM)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--layers", default="4,5", help="transformer layers to train (default: the top two)")
    args = parser.parse_args(argv)
    if args.base is None:
        from startref.citations.models import default_encoder_path

        args.base = default_encoder_path()
    layers = tuple(int(x) for x in args.layers.split(","))
    report = fine_tune(args.pairs, args.out, args.base, layers=layers, epochs=args.epochs, lr=args.lr, device=args.device)
    print(json.dumps({k: v for k, v in report.items() if k != "epochs"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
