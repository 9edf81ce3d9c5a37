"""Fine-tune the cross-encoder re-ranker on citation contexts (CPU or GPU), with a wall-clock budget.

Why a listwise loss over the ranker's own top candidates: at run time the model only re-orders those, so each
training step shows it one context with the cited entry and the entries the ranker ranked near it, and the loss is
the softmax cross-entropy of the cited one(s) within that list (ListNet-style). Initialised from the packaged
all-MiniLM-L6-v2 (its encoder layers; the one-output head is new).

Why a time budget and checkpoints: on a shared 2-core CPU a run is sized by minutes, not epochs; a checkpoint is
written every ``save_every`` steps and at the end (atomically: a temporary folder, then a rename), so a run cut
short still leaves a usable model.
"""

from __future__ import annotations

import random
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from startref.citations.cross_encoder.scorer import RerankSettings, build_scorer, write_settings
from startref.citations.cross_encoder.lists import CaseList

__all__ = ["TrainConfig", "TrainResult", "train_cross_encoder", "training_lists"]


@dataclass(frozen=True)
class TrainConfig:
    list_size: int = 6  # the cited entry + 5 negatives drawn from the ranker's top
    lists_per_step: int = 4
    layers: int = 3  # MiniLM's first layers kept: half the network costs half the time, in training and per request
    freeze_embeddings: bool = True
    lr: float = 5e-5
    head_lr: float = 1e-3
    warmup: int = 50
    minutes: float = 60.0
    max_steps: int = 0  # 0: until the time budget (or epochs) run out
    epochs: float = 1.0
    save_every: int = 200
    threads: int = 2
    seed: int = 0
    max_tokens: int = 96


@dataclass
class TrainResult:
    steps: int
    lists: int
    pairs: int
    seconds: float
    last_loss: float


def training_lists(lists: Sequence[CaseList], size: int, rng: random.Random) -> list[tuple[str, list[str], list[bool]]]:
    """(context, candidates, gold) of ``size`` candidates per usable case: the best-ranked cited entry and
    ``size`` - 1 negatives drawn from the rest of the ranker's top, the best-ranked ones more often (they are the
    ones the re-ranker must beat). Cases whose cited entry is not in the top are dropped."""
    out = []
    for cl in lists:
        pos = [i for i, g in enumerate(cl.gold) if g]
        neg = [i for i, g in enumerate(cl.gold) if not g]
        if not pos or not neg:
            continue
        k = min(size - 1, len(neg))
        weights = [1.0 / (1 + r) ** 0.5 for r in range(len(neg))]
        chosen: list[int] = []
        pool, w = list(neg), list(weights)
        for _ in range(k):
            j = rng.choices(range(len(pool)), weights=w)[0]
            chosen.append(pool.pop(j))
            w.pop(j)
        idx = [pos[0], *chosen]
        rng.shuffle(idx)
        out.append((cl.query, [cl.candidates[i] for i in idx], [cl.gold[i] for i in idx]))
    return out


def _save(model, tokenizer, out: Path, settings: RerankSettings,  # type: ignore[no-untyped-def]
          record: dict[str, object]) -> None:
    tmp = out.with_name(out.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    model.save(tmp)
    tokenizer.save_pretrained(str(tmp))
    write_settings(tmp, settings, record)
    old = out.with_name(out.name + ".old")
    if out.exists():
        if old.exists():
            shutil.rmtree(old)
        out.rename(old)
    tmp.rename(out)
    if old.exists():
        shutil.rmtree(old)


def train_cross_encoder(
    lists: Sequence[CaseList], base: Path, out: Path, config: TrainConfig = TrainConfig(),
    progress: Callable[[str], None] | None = None,
) -> TrainResult:
    """Fine-tune from ``base`` (a BERT-style folder, e.g. the packaged MiniLM) on ``lists``; the model goes to
    ``out`` (with ``rerank.json`` holding default settings and the training record)."""
    import torch
    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    torch.set_num_threads(max(1, config.threads))
    torch.manual_seed(config.seed)
    rng = random.Random(config.seed)
    tokenizer = AutoTokenizer.from_pretrained(str(base), local_files_only=True)
    model = build_scorer(base, config.layers)
    model.train()
    if config.freeze_embeddings:
        model.encoder.embeddings.word_embeddings.weight.requires_grad_(False)
    head = list(model.head.parameters())
    body = [p for p in model.encoder.parameters() if p.requires_grad]
    opt = torch.optim.AdamW([{"params": body, "lr": config.lr}, {"params": head, "lr": config.head_lr}],
                            weight_decay=0.01)
    data = training_lists(lists, config.list_size, rng)
    rng.shuffle(data)
    total = int(len(data) * config.epochs) // config.lists_per_step
    if config.max_steps:
        total = min(total, config.max_steps)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / config.warmup) * max(0.05, 1 - s / max(1, total)))
    settings = RerankSettings(max_tokens=config.max_tokens)
    t0 = time.time()
    deadline = t0 + 60 * config.minutes
    step = pairs = 0
    loss_avg = 0.0
    seen = 0
    while step < total and time.time() < deadline:
        batch = [data[(step * config.lists_per_step + i) % len(data)] for i in range(config.lists_per_step)]
        queries = [q for q, cands, _ in batch for _ in cands]
        cands = [c for _, cs, _ in batch for c in cs]
        enc = tokenizer(queries, cands, truncation="longest_first", max_length=config.max_tokens, padding=True,
                        return_tensors="pt")
        logits = model(**enc)
        loss = logits.new_zeros(())
        at = 0
        for _, cs, gold in batch:
            s = logits[at: at + len(cs)]
            g = torch.tensor(gold)
            loss = loss + torch.logsumexp(s, 0) - torch.logsumexp(s[g], 0)
            at += len(cs)
        loss = loss / len(batch)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        step += 1
        pairs += len(cands)
        seen += len(batch)
        loss_avg = 0.95 * loss_avg + 0.05 * loss.item() if step > 1 else loss.item()
        if progress and (step % 20 == 0 or step == 1):
            el = time.time() - t0
            progress(f"step {step}/{total} loss {loss_avg:.3f} {el / step:.2f} s/step, {pairs} pairs, "
                     f"{el / 60:.1f} min")
        if step % config.save_every == 0:
            record = _record(config, step, seen, pairs, time.time() - t0, loss_avg, base)
            _save(model, tokenizer, out, settings, record)
    seconds = time.time() - t0
    _save(model, tokenizer, out, settings, _record(config, step, seen, pairs, seconds, loss_avg, base))
    return TrainResult(step, seen, pairs, seconds, loss_avg)


def _record(config: TrainConfig, step: int, lists: int, pairs: int, seconds: float, loss: float,
            base: Path) -> dict[str, object]:
    """What ``rerank.json`` keeps of the run (``base``: the folder it started from, by name: a resumed run says so)."""
    return {"trained": {"base": Path(base).name, "steps": step, "lists": lists, "pairs": pairs,
                        "minutes": round(seconds / 60, 1), "loss": round(loss, 4), "list_size": config.list_size,
                        "lists_per_step": config.lists_per_step,
                        "lr": config.lr, "threads": config.threads, "seed": config.seed, "layers": config.layers,
                        "max_tokens": config.max_tokens}}
