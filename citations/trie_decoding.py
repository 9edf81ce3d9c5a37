"""Constrained generation over a title trie: the LM may only write a title that is in the bibliography.

Why a module of its own: ``local_generator`` loads the model, tokenises and scores; this is the search on top
(beam search that stops decoding a beam once its prefix names a single title, then scores the few candidates
whole), plus transformers' exact beam search kept as its reference. It is a mixin, so the methods keep their
names on ``TransformersGenerator`` and share its model, lock, tokenizer and scoring.
"""

from __future__ import annotations

import copy
import hashlib
import math
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from startref.citations.generation import END_REF, Generation, GenerationOptions
from startref.citations.title_trie import TitleChoice, TitleTrie

if TYPE_CHECKING:
    import threading

    import torch

__all__ = ["TrieDecoding"]

#: Candidates scored in one teacher-forced forward pass (constrained decoding and ``score``).
_SCORE_BATCH = 16
#: Title tries kept per generator (one per distinct title list; a server sees a few bibliographies).
_TRIE_CACHE_SIZE = 4


class TrieDecoding:
    """Constrained decoding over ``TitleTrie``; mixed into ``TransformersGenerator``, which provides these:"""

    model: Any
    device: str
    native_markers: bool
    end_ref_id: int | None
    eos_id: int
    pad_id: int
    _lock: threading.Lock
    _tries: OrderedDict[tuple[int, str], TitleTrie]
    _encode_batch: Callable[[list[str]], list[list[int]]]
    encode_prompt: Callable[[str, int], list[int]]
    _run_generate: Callable[[torch.Tensor, dict[str, Any]], Any]
    _rows: Callable[..., list[tuple[list[int], float, int]]]
    _score_chunk: Callable[[list[list[int]], Any, int, torch.Tensor, bool], list[float]]

    def title_trie(self, titles: Sequence[TitleChoice]) -> TitleTrie:
        """The trie for ``titles`` under this tokenizer, built once per distinct title list (small LRU)."""
        digest = hashlib.sha1("\x1e".join(f"{c.key}\x1f{c.text}" for c in titles).encode()).hexdigest()
        cache_key = (len(titles), digest)
        trie = self._tries.get(cache_key)
        if trie is None:
            if self.native_markers:
                assert self.end_ref_id is not None
                trie = TitleTrie.from_choices(titles, self._encode_batch, suffix_ids=[self.end_ref_id])
            else:
                trie = TitleTrie.from_choices(titles, self._encode_batch, text_suffix=END_REF, suffix_ids=[self.eos_id])
            self._tries[cache_key] = trie
            while len(self._tries) > _TRIE_CACHE_SIZE:
                self._tries.popitem(last=False)
        else:
            self._tries.move_to_end(cache_key)
        return trie

    def _generate_constrained(
        self, prompt: str, options: GenerationOptions, titles: Sequence[TitleChoice]
    ) -> list[Generation]:
        """Beam search over the title trie that stops decoding a beam once its prefix names a single title.

        Titles diverge after a few tokens; after that, token-by-token decoding only confirms the title. So each
        beam runs until its prefix is unique (or complete), and the collected candidates are then scored whole
        in one batched teacher-forced pass from the prompt's KV cache. Candidates are ranked by mean token
        log-prob (beam search's usual length normalisation); ``Generation.logprob`` is the exact summed log-prob.
        """
        import torch

        trie = self.title_trie(titles)
        if len(trie) == 0:
            return []
        ids = self.encode_prompt(prompt, options.max_prompt_tokens)
        k = min(max(1, options.num_return), len(trie))
        beams = min(max(options.num_beams, k), len(trie))
        pool: dict[tuple[int, ...], None] = {}  # full sequences found so far, in discovery order
        with self._lock, torch.inference_mode():
            prompt_tensor = torch.tensor([ids], device=self.device)
            out = self.model(input_ids=prompt_tensor, attention_mask=torch.ones_like(prompt_tensor), use_cache=True)
            prompt_cache = out.past_key_values
            cache = copy.deepcopy(prompt_cache)
            logprobs = torch.log_softmax(out.logits[:, -1].float(), dim=-1)
            first = logprobs[0].clone()
            live: list[tuple[list[int], float]] = [([], 0.0)]
            while live and len(pool) < beams:
                candidates: list[tuple[float, int, int]] = []
                for row, (prefix, total) in enumerate(live):
                    allowed = trie.allowed(prefix)
                    values = logprobs[row, allowed].tolist()
                    candidates.extend((total + v, row, t) for v, t in zip(values, allowed, strict=True))
                candidates.sort(key=lambda c: c[0], reverse=True)
                next_live: list[tuple[list[int], float]] = []
                rows: list[int] = []
                for total, row, token in candidates[: beams - len(pool)]:
                    prefix = live[row][0] + [token]
                    tail = trie.unique_completion(prefix)
                    if tail is not None:
                        pool.setdefault(tuple(prefix + tail), None)
                    elif math.isfinite(total):
                        next_live.append((prefix, total))
                        rows.append(row)
                live = next_live
                if not live or len(pool) >= beams:
                    break
                cache.reorder_cache(torch.tensor(rows, device=self.device))
                step = torch.tensor([[p[-1]] for p, _ in live], device=self.device)
                mask = torch.ones((len(live), len(ids) + len(live[0][0])), dtype=torch.long, device=self.device)
                out = self.model(input_ids=step, attention_mask=mask, past_key_values=cache, use_cache=True)
                logprobs = torch.log_softmax(out.logits[:, -1].float(), dim=-1)
            sequences = list(pool)
            # Score what the model writes: for text markers, drop the EOS the trie appends after "[END_REF]".
            scored = [list(seq[:-1]) if not self.native_markers else list(seq) for seq in sequences]
            totals: list[float] = []
            for start in range(0, len(scored), _SCORE_BATCH):
                chunk = scored[start : start + _SCORE_BATCH]
                totals.extend(self._score_chunk(chunk, prompt_cache, len(ids), first, normalize=False))
        ranked = sorted(
            zip(sequences, scored, totals, strict=True), key=lambda item: item[2] / max(1, len(item[1])), reverse=True
        )
        results: list[Generation] = []
        for sequence, written, total in ranked:
            choice = trie.choice_for(sequence)
            if choice is None or any(r.key == choice.key for r in results):
                continue
            results.append(Generation(text=choice.text.strip(), logprob=total, tokens=len(written), key=choice.key))
            if len(results) == k:
                break
        return results

    def _generate_constrained_hf(
        self, prompt: str, options: GenerationOptions, titles: Sequence[TitleChoice]
    ) -> list[Generation]:
        """Reference implementation: transformers' beam search through ``prefix_allowed_tokens_fn``.

        Exact beam search, but it decodes every title to its last token one step at a time; kept to check
        :meth:`_generate_constrained` against (the tests compare them) and for backends that need it.
        """
        import torch

        trie = self.title_trie(titles)
        if len(trie) == 0:
            return []
        ids = self.encode_prompt(prompt, options.max_prompt_tokens)
        prompt_len = len(ids)
        k = min(max(1, options.num_return), len(trie))
        beams = min(max(options.num_beams, k), len(trie))

        def allowed(_batch_id: int, sent: torch.Tensor) -> list[int]:
            return trie.allowed(sent[prompt_len:].tolist())

        kwargs: dict[str, Any] = {
            # A title must be written out whole to count, so the budget is the longest title, not the option.
            "max_new_tokens": max(options.max_new_tokens, trie.max_length),
            "eos_token_id": list(trie.end_ids),
            "pad_token_id": self.pad_id,
            "return_dict_in_generate": True,
            "output_logits": True,
            "output_scores": True,
            "do_sample": False,
            "num_beams": beams,
            "num_return_sequences": k,
            "prefix_allowed_tokens_fn": allowed,
        }
        out = self._run_generate(torch.tensor([ids], device=self.device), kwargs)
        results: list[Generation] = []
        seen: set[str] = set()
        for row, logprob, count in self._rows(out, prompt_len, drop_eos=not self.native_markers):
            choice = trie.choice_for(row)
            if choice is None or choice.key in seen:
                continue
            seen.add(choice.key)
            results.append(Generation(text=choice.text.strip(), logprob=logprob, tokens=count, key=choice.key))
        return results
