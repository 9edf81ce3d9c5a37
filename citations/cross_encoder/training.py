"""Fine-tune the cross-encoder re-ranker on citation contexts (CPU or GPU), with a wall-clock budget.

Why a listwise loss over the ranker's own top candidates: at run time the model only re-orders those, so each
training step shows it one context with the cited entry and the entries the ranker ranked near it, and the loss is
the softmax cross-entropy of the cited one(s) within that list (ListNet-style). Initialised from the packaged
all-MiniLM-L6-v2 (its encoder layers; the one-output head is new).

Why a time budget and checkpoints: on a shared 2-core CPU a run is sized by minutes, not epochs; a checkpoint is
written every ``save_every`` steps and at the end (atomically: a temporary folder, then a rename), so a run cut
short still leaves a usable model.

Why ``residual``: the re-ranker's score is only ever *added* to the ranker's logit, so it should learn what the ranker
misses, not re-learn what it already knows. In residual mode the loss is taken over ``ranker_scale`` x ranker logit +
cross-encoder logit (the scale is learned with the head), so a pair the ranker already orders right costs little and
the network's capacity goes to the ranker's mistakes. The plain mode (the cross-encoder alone) is the ablation.

Why ``validation``: with a GPU a run is sized by epochs; the listwise loss on held-out training papers' lists after
each epoch decides which epoch's weights are kept (never the dev papers).
"""

from __future__ import annotations

import random
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from startref.citations.cross_encoder.scorer import RerankSettings, build_scorer, read_settings, write_settings
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
    residual: bool = False  # learn on top of the ranker's logit (see the module's docstring)
    device: str = "cpu"  # "cuda": bfloat16 autocast on the GPU


@dataclass
class TrainResult:
    steps: int
    lists: int
    pairs: int
    seconds: float
    last_loss: float
    ranker_scale: float = 0.0  # residual mode: the learned weight of the ranker's logit (of the weights kept)
    validation: list[float] | None = None  # held-out listwise loss after each epoch
    kept_epoch: int = 0  # the epoch whose weights were saved (0: the last step's)


def training_lists(lists: Sequence[CaseList], size: int,
                   rng: random.Random) -> list[tuple[str, list[str], list[bool], list[float]]]:
    """(context, candidates, gold, ranker scores) of ``size`` candidates per usable case: the best-ranked cited entry
    and ``size`` - 1 negatives drawn from the rest of the ranker's top, the best-ranked ones more often (they are the
    ones the re-ranker must beat); a ``size`` at least the list's length keeps the whole list in the ranker's order.
    Cases whose cited entry is not in the top are dropped."""
    out = []
    for cl in lists:
        pos = [i for i, g in enumerate(cl.gold) if g]
        neg = [i for i, g in enumerate(cl.gold) if not g]
        if not pos or not neg:
            continue
        if size >= len(cl.candidates):
            idx = list(range(len(cl.candidates)))
        else:
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
        out.append((cl.query, [cl.candidates[i] for i in idx], [cl.gold[i] for i in idx],
                    [float(cl.scores[i]) for i in idx]))
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
    progress: Callable[[str], None] | None = None, validation: Sequence[CaseList] = (),
) -> TrainResult:
    """Fine-tune from ``base`` (a BERT-style folder, e.g. the packaged MiniLM) on ``lists``; the model goes to
    ``out`` (with ``rerank.json`` holding default settings and the training record). With ``validation`` lists
    (held-out training papers), the weights of the epoch with the lowest held-out loss are the ones kept."""
    import torch
    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    torch.set_num_threads(max(1, config.threads))
    torch.manual_seed(config.seed)
    rng = random.Random(config.seed)
    device = torch.device(config.device)
    tokenizer = AutoTokenizer.from_pretrained(str(base), local_files_only=True)
    model = build_scorer(base, config.layers).to(device)
    model.train()
    if config.freeze_embeddings:
        model.encoder.embeddings.word_embeddings.weight.requires_grad_(False)
    scale = torch.nn.Parameter(torch.ones((), device=device)) if config.residual else None
    head = list(model.head.parameters()) + ([scale] if scale is not None else [])
    body = [p for p in model.encoder.parameters() if p.requires_grad]
    opt = torch.optim.AdamW([{"params": body, "lr": config.lr}, {"params": head, "lr": config.head_lr}],
                            weight_decay=0.01)
    data = training_lists(lists, config.list_size, rng)
    held = training_lists(validation, 10**6, rng)
    rng.shuffle(data)
    per_epoch = max(1, len(data) // config.lists_per_step)
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
    losses: list[float] = []
    best = (float("inf"), 0)
    kept_scale = _value(scale)

    def batch_loss(batch):  # type: ignore[no-untyped-def]
        queries = [q for q, cands, _, _ in batch for _ in cands]
        cands = [c for _, cs, _, _ in batch for c in cs]
        enc = tokenizer(queries, cands, truncation="longest_first", max_length=config.max_tokens, padding=True,
                        return_tensors="pt").to(device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            logits = model(**enc).float()
        total_loss = logits.new_zeros(())
        at = 0
        for _, cs, gold, ranker in batch:
            s = logits[at: at + len(cs)]
            if scale is not None:
                s = s + scale * torch.tensor(ranker, device=device)
            g = torch.tensor(gold, device=device)
            total_loss = total_loss + torch.logsumexp(s, 0) - torch.logsumexp(s[g], 0)
            at += len(cs)
        return total_loss / len(batch), len(cands)

    def held_loss() -> float:
        model.eval()
        with torch.inference_mode():
            chunks = [held[i: i + config.lists_per_step] for i in range(0, len(held), config.lists_per_step)]
            parts = [batch_loss(chunk)[0].item() * len(chunk) for chunk in chunks]
        model.train()
        return sum(parts) / max(1, len(held))

    while step < total and time.time() < deadline:
        batch = [data[(step * config.lists_per_step + i) % len(data)] for i in range(config.lists_per_step)]
        loss, n_pairs = batch_loss(batch)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        step += 1
        pairs += n_pairs
        seen += len(batch)
        loss_avg = 0.95 * loss_avg + 0.05 * loss.item() if step > 1 else loss.item()
        if progress and (step % 20 == 0 or step == 1):
            el = time.time() - t0
            progress(f"step {step}/{total} loss {loss_avg:.3f} {el / step:.2f} s/step, {pairs} pairs, "
                     f"{el / 60:.1f} min" + (f", ranker scale {scale.item():.3f}" if scale is not None else ""))
        epoch_end = bool(held) and (step % per_epoch == 0 or step == total)
        if epoch_end:
            losses.append(held_loss())
            if progress:
                progress(f"epoch {len(losses)}: held-out loss {losses[-1]:.4f} ({len(held)} lists)")
            if losses[-1] < best[0]:
                best = (losses[-1], len(losses))
                kept_scale = _value(scale)
                _save(model, tokenizer, out, settings, _record(config, step, seen, pairs, time.time() - t0, loss_avg,
                                                               base, kept_scale, losses, best[1]))
        elif not held and step % config.save_every == 0:
            record = _record(config, step, seen, pairs, time.time() - t0, loss_avg, base, _value(scale))
            _save(model, tokenizer, out, settings, record)
    seconds = time.time() - t0
    if held and losses and len(losses) != best[1]:
        # A later epoch was worse: the kept weights stay; only the record learns how the run ended.
        record = _record(config, step, seen, pairs, seconds, loss_avg, base, kept_scale, losses, best[1])
        write_settings(out, read_settings(out), record)
    elif not (held and losses):
        kept_scale = _value(scale)
        _save(model, tokenizer, out, settings, _record(config, step, seen, pairs, seconds, loss_avg, base, kept_scale))
    return TrainResult(step, seen, pairs, seconds, loss_avg, kept_scale or 0.0, losses or None, best[1])


def _value(scale) -> float | None:  # type: ignore[no-untyped-def]
    return float(scale.item()) if scale is not None else None


def _record(config: TrainConfig, step: int, lists: int, pairs: int, seconds: float, loss: float,
            base: Path, scale: float | None = None, validation: list[float] | None = None,
            kept_epoch: int = 0) -> dict[str, object]:
    """What ``rerank.json`` keeps of the run (``base``: the folder it started from, by name: a resumed run says so;
    ``scale``: the learned ranker scale of the weights kept)."""
    trained: dict[str, object] = {
        "base": Path(base).name, "steps": step, "lists": lists, "pairs": pairs, "minutes": round(seconds / 60, 1),
        "loss": round(loss, 4), "list_size": config.list_size, "lists_per_step": config.lists_per_step,
        "lr": config.lr, "threads": config.threads, "seed": config.seed, "layers": config.layers,
        "max_tokens": config.max_tokens, "residual": config.residual, "device": config.device,
        "epochs": config.epochs}
    if scale is not None:
        trained["ranker_scale"] = round(scale, 4)
    if validation:
        trained["held_out_loss"] = [round(v, 4) for v in validation]
        trained["kept_epoch"] = kept_epoch
    return {"trained": trained}
