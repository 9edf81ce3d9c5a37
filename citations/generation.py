"""The language-model stage: write "Title, Author" after a ``[START_REF]`` marker, or score given candidates.

One contract, :class:`Generator`, so that Galactica, any local causal LM, or a future remote backend plug in
the same way; :class:`~startref.citations.local_generator.TransformersGenerator` is the local implementation and
:func:`load_generator` the one door to it (``None`` = the embedded SmolLM2).

Markers: Galactica was trained on ``text [START_REF] Title, Author[END_REF]`` with both markers as single
special tokens. When a tokenizer encodes ``[START_REF]`` as one token we use the tokens natively and stop at
the ``[END_REF]`` id; any other model sees the markers as plain text and generation stops once the decoded
continuation contains ``[END_REF]`` or a newline. Either way the returned text carries no markers.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from startref.citations.models import configure_torch_threads, default_generator_path, resolve_model_path
from startref.citations.title_trie import TitleChoice

if TYPE_CHECKING:
    from startref.citations.local_generator import TransformersGenerator

__all__ = [
    "START_REF",
    "END_REF",
    "Generation",
    "GenerationOptions",
    "Generator",
    "load_generator",
]

START_REF = "[START_REF]"
END_REF = "[END_REF]"


@dataclass(frozen=True)
class Generation:
    """One generated citation text.

    ``logprob`` is the model's summed token log-probability of the continuation (end marker included; not
    length-normalised, so compare across lengths with care). ``key`` is the bibliography key when the text
    is one of the given titles (always, under constrained decoding).
    """

    text: str
    logprob: float
    tokens: int
    key: str | None = None


@dataclass(frozen=True)
class GenerationOptions:
    """How to decode. ``temperature == 0`` means deterministic greedy/beam search; ``> 0`` samples."""

    num_return: int = 5
    num_beams: int = 5
    temperature: float = 0.0
    max_new_tokens: int = 48
    constrained: bool = False
    max_prompt_tokens: int = 384


@runtime_checkable
class Generator(Protocol):
    """What the rest of startref needs from a citation LM."""

    name: str

    def generate(
        self, prompt: str, options: GenerationOptions, titles: Sequence[TitleChoice] | None = None
    ) -> list[Generation]:
        """Continue ``prompt + [START_REF]``; with ``options.constrained`` only ``titles`` may be written."""
        ...

    def score(self, prompt: str, continuations: Sequence[str]) -> list[float]:
        """Mean per-token log-likelihood of each ``continuation`` (as "Title, Author") after the marker."""
        ...


_LOADED: dict[tuple[str, str], TransformersGenerator] = {}
_LOADED_LOCK = threading.Lock()


def load_generator(spec: str | None = None, device: str = "cpu") -> TransformersGenerator:
    """The generator for ``spec`` (None or "default" = embedded SmolLM2; else a folder, .gguf or cached HF id).

    Loaded once per (resolved path, device) per process: loading costs seconds, suggestions come per keystroke.
    """
    from startref.citations.local_generator import TransformersGenerator, check_device

    check_device(device)
    configure_torch_threads()
    path = default_generator_path() if spec is None else resolve_model_path(spec)
    key = (str(path), device)
    with _LOADED_LOCK:
        generator = _LOADED.get(key)
        if generator is None:
            name = "SmolLM2-135M-Instruct" if spec in (None, "default") else spec
            generator = TransformersGenerator(path, device=device, name=name)
            _LOADED[key] = generator
        return generator
