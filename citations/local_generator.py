"""The local generator: a causal LM from a safetensors folder, driven through transformers on one device.

Why a module of its own: ``generation`` is the contract every backend meets (the remote one included) and the
one door ``load_generator``; everything that needs torch and transformers (tokenising with the markers,
constrained decoding over a title trie, scoring continuations with a reused KV cache) lives here, imported
only when a local model is actually loaded. The constrained search itself is the ``TrieDecoding`` mixin
(``trie_decoding``); this module loads the model, tokenises with the markers, generates freely and scores.
"""

from __future__ import annotations

import copy
import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from startref.citations.errors import ModelError
from startref.citations.generation import END_REF, START_REF, Generation, GenerationOptions
from startref.citations.models import force_offline
from startref.citations.title_trie import TitleChoice, TitleTrie
from startref.citations.trie_decoding import _SCORE_BATCH, TrieDecoding

if TYPE_CHECKING:
    import torch

__all__ = ["TransformersGenerator", "check_device"]

#: Characters kept from the end of the context before tokenising: far more than max_prompt_tokens need
#: (no tokenizer averages 16 characters a token), but it keeps tokenising a whole thesis off the hot path.
_CHARS_PER_TOKEN_CAP = 16


class _TextStop:
    """Stop a row once its generated text contains the end marker or a newline (text-marker models only)."""

    def __init__(self, tokenizer: Any, prompt_len: int, stops: tuple[str, ...]) -> None:
        self.tokenizer = tokenizer
        self.prompt_len = prompt_len
        self.stops = stops

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs: Any) -> torch.BoolTensor:
        import torch

        texts = self.tokenizer.batch_decode(input_ids[:, self.prompt_len :].tolist(), skip_special_tokens=True)
        return torch.tensor([any(s in t for s in self.stops) for t in texts], dtype=torch.bool, device=input_ids.device)


def check_device(device: str) -> None:
    """Refuse a device this torch build cannot use, with the flag that works instead (before any loading)."""
    import torch

    if device == "cpu":
        return
    if device == "cuda" or device.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise ModelError(
                f"Device {device!r} was asked for but this torch build sees no CUDA GPU "
                f"(torch {torch.__version__}, torch.cuda.is_available() is False). Use --device cpu."
            )
        return
    if device == "mps":
        if not torch.backends.mps.is_available():
            raise ModelError("Device 'mps' was asked for but Apple MPS is not available here. Use --device cpu.")
        return
    raise ModelError(f"Unknown device {device!r}: use 'cpu', 'cuda' or 'mps'.")


class TransformersGenerator(TrieDecoding):
    """A local causal LM (safetensors folder) driven through transformers, offline, on one device."""

    def __init__(self, path: str | Path, device: str = "cpu", name: str | None = None) -> None:
        """Load model and tokenizer from the local folder ``path`` (see :func:`load_generator` for specs)."""
        force_offline()
        check_device(device)
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.path = Path(path)
        self.device = device
        self.name = name or self.path.name
        dtype = torch.float32
        if device.startswith("cuda"):
            dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(self.path), local_files_only=True)
            model = AutoModelForCausalLM.from_pretrained(str(self.path), dtype=dtype, local_files_only=True)
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"Could not load a causal LM from {self.path}: {exc}") from exc
        self.model = model.to(device).eval()
        self._lock = threading.Lock()
        self._tries: OrderedDict[tuple[int, str], TitleTrie] = OrderedDict()
        self._setup_markers()

    # -- markers and tokenisation -------------------------------------------------------------------------------

    def _setup_markers(self) -> None:
        """Decide native vs text markers and the token ids that end a citation."""
        tok = self.tokenizer
        start = tok(START_REF, add_special_tokens=False)["input_ids"]
        end = tok(END_REF, add_special_tokens=False)["input_ids"]
        self.native_markers: bool = len(start) == 1 and len(end) == 1 and start[0] != tok.unk_token_id
        self.start_ref_id: int | None = start[0] if self.native_markers else None
        self.end_ref_id: int | None = end[0] if self.native_markers else None
        eos = tok.eos_token_id if tok.eos_token_id is not None else self.model.config.eos_token_id
        if isinstance(eos, list):
            eos = eos[0]
        if eos is None:
            raise ModelError(f"The tokenizer in {self.path} has no end-of-sequence token; it cannot be used.")
        self.eos_id: int = int(eos)
        self.pad_id: int = int(tok.pad_token_id) if tok.pad_token_id is not None else self.eos_id
        probe = tok("a")["input_ids"]
        self._bos: list[int] = (
            [int(tok.bos_token_id)] if tok.bos_token_id is not None and probe and probe[0] == tok.bos_token_id else []
        )
        # What ends a free generation: the END_REF id (native) and EOS either way.
        self._stop_ids: list[int] = [self.end_ref_id, self.eos_id] if self.end_ref_id is not None else [self.eos_id]

    def _encode_batch(self, texts: list[str]) -> list[list[int]]:
        return [list(ids) for ids in self.tokenizer(texts, add_special_tokens=False)["input_ids"]]

    def encode_prompt(self, prompt: str, max_prompt_tokens: int = 384) -> list[int]:
        """Token ids of ``context + " [START_REF]"``, keeping the END of the context within the budget.

        The words right before the cursor matter most for what is cited, so truncation drops the beginning.
        The last id is the ``[START_REF]`` token for native-marker models.
        """
        if max_prompt_tokens < 8:
            raise ValueError("max_prompt_tokens must be at least 8")
        context = prompt[-max_prompt_tokens * _CHARS_PER_TOKEN_CAP :].rstrip()
        text = f"{context} {START_REF}" if context else START_REF
        ids = self._encode_batch([text])[0]
        budget = max_prompt_tokens - len(self._bos)
        return self._bos + ids[-budget:]

    def _continuation_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """The ids the model writes after the marker for each text: `` {text}`` + end marker."""
        if self.native_markers:
            assert self.end_ref_id is not None
            return [ids + [self.end_ref_id] for ids in self._encode_batch([f" {t.strip()}" for t in texts])]
        return self._encode_batch([f" {t.strip()}{END_REF}" for t in texts])

    # -- generation ---------------------------------------------------------------------------------------------

    def generate(
        self,
        prompt: str,
        options: GenerationOptions = GenerationOptions(),  # noqa: B008 - frozen dataclass, safe default
        titles: Sequence[TitleChoice] | None = None,
    ) -> list[Generation]:
        """Write up to ``options.num_return`` citation texts after ``prompt``.

        Unconstrained: greedy (``num_beams == 1``), beam search, or sampling (``temperature > 0``); duplicates
        and empty texts are dropped, beam order (length-normalised score) is kept. Constrained
        (``options.constrained``, ``titles`` required): beam search over the title trie, always deterministic,
        returning distinct titles with their keys.
        """
        import torch

        if options.constrained:
            if not titles:
                raise ValueError("constrained generation needs a non-empty list of titles")
            return self._generate_constrained(prompt, options, titles)
        ids = self.encode_prompt(prompt, options.max_prompt_tokens)
        input_ids = torch.tensor([ids], device=self.device)
        kwargs: dict[str, Any] = {
            "max_new_tokens": options.max_new_tokens,
            "eos_token_id": self._stop_ids,
            "pad_token_id": self.pad_id,
            "return_dict_in_generate": True,
            "output_logits": True,
            "output_scores": True,
        }
        if options.temperature > 0:
            kwargs.update(
                do_sample=True,
                temperature=options.temperature,
                top_k=0,
                top_p=1.0,
                num_beams=1,
                num_return_sequences=max(1, options.num_return),
            )
        else:
            beams = max(1, options.num_beams, options.num_return if options.num_beams > 1 else 1)
            kwargs.update(do_sample=False, num_beams=beams, num_return_sequences=min(max(1, options.num_return), beams))
        if not self.native_markers:
            from transformers import StoppingCriteriaList

            kwargs["stopping_criteria"] = StoppingCriteriaList([_TextStop(self.tokenizer, len(ids), (END_REF, "\n"))])
        out = self._run_generate(input_ids, kwargs)
        lookup = {c.text.strip(): c.key for c in titles} if titles else {}
        results: list[Generation] = []
        seen: set[str] = set()
        for row, logprob, count in self._rows(out, len(ids)):
            text = self._clean(self.tokenizer.decode(row, skip_special_tokens=True))
            if not text or text in seen:
                continue
            seen.add(text)
            results.append(Generation(text=text, logprob=logprob, tokens=count, key=lookup.get(text)))
        return results

    def _run_generate(self, input_ids: torch.Tensor, kwargs: dict[str, Any]) -> Any:
        import torch

        with self._lock, torch.inference_mode():
            return self.model.generate(
                input_ids=input_ids, attention_mask=torch.ones_like(input_ids), **kwargs
            )

    def _rows(self, out: Any, prompt_len: int, drop_eos: bool = False) -> list[tuple[list[int], float, int]]:
        """Per returned sequence: generated ids (cut after the stop), summed raw log-prob, token count.

        Log-probs come from the raw logits (``normalize_logits``), so they are the model's own probabilities,
        not the temperature-scaled or trie-masked ones. ``drop_eos`` leaves out a final EOS that only the trie
        forced after a text ``[END_REF]`` (the model never chose it, and it would cost every title ~15 nats).
        """
        transition = self.model.compute_transition_scores(
            out.sequences, out.logits, getattr(out, "beam_indices", None), normalize_logits=True
        )
        stops = set(self._stop_ids) | {self.pad_id}
        rows = []
        for seq, scores in zip(out.sequences[:, prompt_len:].tolist(), transition.tolist(), strict=False):
            cut = len(seq)
            for position, token in enumerate(seq):
                if token in stops:
                    cut = position + 1
                    break
            counted = cut - 1 if drop_eos and cut and seq[cut - 1] == self.eos_id else cut
            kept = [s for s in scores[:counted] if math.isfinite(s)]
            rows.append((seq[:cut], float(sum(kept)), counted))
        return rows

    @staticmethod
    def _clean(text: str) -> str:
        """Cut at the end marker or newline and drop any stray marker text."""
        for stop in (END_REF, "\n"):
            text = text.split(stop, 1)[0]
        return text.replace(START_REF, "").strip()

    # -- scoring --------------------------------------------------------------------------------------------------

    def score(self, prompt: str, continuations: Sequence[str], normalize: bool = True) -> list[float]:
        """Log-likelihood of each ``" {continuation}[END_REF]"`` after ``prompt + [START_REF]``.

        Returns the MEAN per-token log-prob by default (``normalize=False``: the sum), because candidates are
        titles of different lengths and a raw sum would simply prefer short ones; the end marker is included
        so a candidate that is only the start of a likelier title is not rewarded. The prompt is run once and
        its KV cache is repeated across each batch of candidates, so 20 candidates cost about one short
        forward pass, not 20 prompt passes.
        """
        import torch

        if not continuations:
            return []
        prompt_ids = self.encode_prompt(prompt, GenerationOptions.max_prompt_tokens)
        cont_ids = self._continuation_ids(continuations)
        results: list[float] = []
        with self._lock, torch.inference_mode():
            prompt_tensor = torch.tensor([prompt_ids], device=self.device)
            out = self.model(input_ids=prompt_tensor, attention_mask=torch.ones_like(prompt_tensor), use_cache=True)
            first = torch.log_softmax(out.logits[0, -1].float(), dim=-1)
            for start in range(0, len(cont_ids), _SCORE_BATCH):
                chunk = cont_ids[start : start + _SCORE_BATCH]
                results.extend(self._score_chunk(chunk, out.past_key_values, len(prompt_ids), first, normalize))
        return results

    def _score_chunk(
        self, chunk: list[list[int]], cache: Any, prompt_len: int, first: torch.Tensor, normalize: bool
    ) -> list[float]:
        import torch

        width = max(len(ids) for ids in chunk)
        batch = torch.full((len(chunk), width), self.pad_id, dtype=torch.long, device=self.device)
        for row, ids in enumerate(chunk):
            batch[row, : len(ids)] = torch.tensor(ids, device=self.device)
        shared = copy.deepcopy(cache)  # the prompt's cache is reused by every chunk; repeat a copy
        shared.batch_repeat_interleave(len(chunk))
        # Right padding needs no mask: causal attention keeps pads from touching the real tokens before them.
        mask = torch.ones((len(chunk), prompt_len + width), dtype=torch.long, device=self.device)
        logits = self.model(input_ids=batch, attention_mask=mask, past_key_values=shared, use_cache=True).logits
        logprobs = torch.log_softmax(logits[:, :-1].float(), dim=-1)
        scores = []
        for row, ids in enumerate(chunk):
            total = float(first[ids[0]])
            if len(ids) > 1:
                follow = torch.tensor(ids[1:], device=self.device)
                total += float(logprobs[row, : len(ids) - 1].gather(-1, follow[:, None]).sum())
            scores.append(total / len(ids) if normalize else total)
        return scores
