"""A traced copy of the sentence encoder, cached on disk, so a server starts in about half the time.

Why: importing ``transformers``' model code costs about 2.3 s of a 5-second cold start on a 2-core laptop (it pulls
in torch._dynamo, torch.distributed and scipy), while loading a TorchScript copy of the same network takes 0.1 s.
The first start traces the loaded network (weights and adapter applied) and keeps the copy only when it gives the
same vectors as the original on padded, unpadded and full-length batches, and the ``tokenizers`` library alone
gives the same token ids as the ``transformers`` tokenizer; every later start loads the copy. The cache key covers
the model's files, the adapter, the torch and transformers versions and the token limit, so a changed model never
meets a stale copy.

Why TorchScript although torch 2.13 marks ``torch.jit.load`` deprecated: its successor, ``torch.export.load``, took
3.6 s and imports torch._dynamo (measured here), no faster than the original. torch is pinned; should a later torch
drop TorchScript, tracing and loading fail inside the ``try`` blocks below and the encoder loads the original.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import warnings
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["TracedEncoder", "trace_key", "load_traced", "save_traced", "positional", "fast_tokenizer"]

log = logging.getLogger(__name__)

_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# texts the copy is checked on: one word, a padded mix, one longer than the token limit
_CHECK_TEXTS = (
    ["citation"],
    ["Deep residual learning for image recognition", "a", "We follow the setup of the earlier work on graphs."],
    ["words " * 400, "short"],
)
_TOLERANCE = 1e-4


@dataclass
class TracedEncoder:
    """The traced network and a ``tokenizers`` tokenizer set up as the encoder calls it (truncate, pad right)."""

    module: Any
    tokenizer: Any
    input_names: tuple[str, ...]

    def batch(self, texts: list[str]) -> dict[str, Any]:
        """Token tensors for ``texts``, as ``AutoTokenizer(texts, padding=True, truncation=True)`` gives them."""
        import torch

        encodings = self.tokenizer.encode_batch(texts)
        fields = {"input_ids": "ids", "attention_mask": "attention_mask", "token_type_ids": "type_ids"}
        return {name: torch.tensor([getattr(e, fields[name]) for e in encodings]) for name in self.input_names}

    def hidden(self, batch: dict[str, Any]) -> Any:
        """The last hidden states (batch x tokens x dim)."""
        return self.module(*(batch[name] for name in self.input_names))


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "-"


def trace_key(path: Path, adapter_digest: str, max_tokens: int) -> str:
    """The cache name of a traced copy: changes with the model's files, the adapter and the libraries."""
    parts = [str(path.resolve()), adapter_digest, str(max_tokens), _version("torch"), _version("transformers")]
    for file in sorted(path.iterdir()) if path.is_dir() else []:
        if file.is_file():
            stat = file.stat()
            parts.append(f"{file.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:24]


def fast_tokenizer(path: Path, max_tokens: int, pad_id: int, pad_token: str) -> Any:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    tok.enable_truncation(max_length=max_tokens)
    tok.enable_padding(pad_id=pad_id, pad_token=pad_token)
    return tok


def load_traced(cache_dir: Path, key: str, path: Path, max_tokens: int) -> TracedEncoder | None:
    """The cached copy for ``key``, or None when there is none (or it cannot be read: the caller loads the
    original)."""
    folder = cache_dir / "traced-encoders"
    module_file, meta_file = folder / f"{key}.pt", folder / f"{key}.json"
    if not (module_file.is_file() and meta_file.is_file() and (path / "tokenizer.json").is_file()):
        return None
    try:
        import torch

        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # see the module docstring
            module = torch.jit.load(str(module_file), map_location="cpu").eval()
        tok = fast_tokenizer(path, max_tokens, int(meta["pad_id"]), str(meta["pad_token"]))
        return TracedEncoder(module, tok, tuple(meta["input_names"]))
    except Exception as exc:  # a damaged cache file only costs the slow start
        log.warning("%s: cannot load the traced encoder (%s); loading the original", module_file, exc)
        return None


def positional(model: Any, input_names: tuple[str, ...]) -> Any:
    """``model`` (a ``transformers`` encoder) as a module taking its inputs by position and returning the last
    hidden states: the form ``torch.jit.trace`` records."""
    import torch

    class Positional(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: Any) -> Any:
            return self.model(**dict(zip(input_names, inputs))).last_hidden_state

    return Positional().eval()


def save_traced(cache_dir: Path, key: str, model: Any, hf_tokenizer: Any, path: Path, max_tokens: int) -> bool:
    """Trace ``model`` and keep the copy under ``cache_dir`` when it matches the original; True when kept."""
    if not (path / "tokenizer.json").is_file() or hf_tokenizer.pad_token_id is None:
        return False
    import torch

    input_names = tuple(n for n in _INPUTS if n in hf_tokenizer.model_input_names)
    if input_names[:2] != _INPUTS[:2]:
        return False
    try:
        tok = fast_tokenizer(path, max_tokens, int(hf_tokenizer.pad_token_id), str(hf_tokenizer.pad_token))
        wrapped = positional(model, input_names)
        sample = hf_tokenizer(
            _CHECK_TEXTS[1], padding=True, truncation=True, max_length=max_tokens, return_tensors="pt"
        )
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # TracerWarnings about shapes: the checks below decide
            traced = torch.jit.trace(wrapped, tuple(sample[n] for n in input_names), check_trace=False)
        copy = TracedEncoder(traced, tok, input_names)
        for texts in _CHECK_TEXTS:
            want = hf_tokenizer(texts, padding=True, truncation=True, max_length=max_tokens, return_tensors="pt")
            got = copy.batch(list(texts))
            if any(not torch.equal(want[n], got[n]) for n in input_names):
                log.info("the tokenizers library tokenizes %s differently; not tracing the encoder", path)
                return False
            with torch.no_grad():
                mask = want["attention_mask"].unsqueeze(-1)
                diff = ((wrapped(*(want[n] for n in input_names)) - copy.hidden(got)) * mask).abs().max()
            if float(diff) > _TOLERANCE:
                log.info("the traced encoder differs by %.2g; not keeping it", float(diff))
                return False
        folder = cache_dir / "traced-encoders"
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f"{key}.{os.getpid()}.tmp"
        traced.save(str(tmp))
        meta = {"pad_id": int(hf_tokenizer.pad_token_id), "pad_token": str(hf_tokenizer.pad_token),
                "input_names": list(input_names), "model": str(path)}
        tmp_meta = folder / f"{key}.{os.getpid()}.tmp.json"
        tmp_meta.write_text(json.dumps(meta), encoding="utf-8")
        os.replace(tmp_meta, folder / f"{key}.json")
        os.replace(tmp, folder / f"{key}.pt")
        return True
    except Exception as exc:  # tracing is an optimisation: the original keeps working
        log.info("tracing the encoder failed (%s); later starts load the original", exc)
        return False
