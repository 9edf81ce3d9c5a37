"""Constrained decoding: a token trie of the bibliography's citation texts.

Free generation lets the LM invent papers; the resolver then has to fuzzy-match them. With a trie of the
user's own titles, beam search (through ``prefix_allowed_tokens_fn``) can only write texts that exist in the
bibliography, so every beam *is* a bibliography entry and the model's job shrinks to ranking them. Each
sequence is the exact token sequence the model would write after the opening marker (``" {text}[END_REF]"``
plus, for text markers, the end-of-sequence token), so the trie and the model agree on tokenisation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["TitleChoice", "TitleTrie"]


@dataclass(frozen=True)
class TitleChoice:
    """One bibliography entry as the model should write it, e.g. ``"Deep Residual Learning ..., He"``."""

    key: str
    text: str


class TitleTrie:
    """A trie over token sequences, one per :class:`TitleChoice`, answering "which tokens may come next".

    Nodes are plain dicts (token id -> child) because lookups happen once per beam per decoding step and dict
    access is the cheapest thing Python has. A sequence that ends maps back to its choice index.
    """

    def __init__(self, sequences: Sequence[Sequence[int]], choices: Sequence[TitleChoice], end_ids: Sequence[int]):
        """Build from pre-tokenised ``sequences`` (one per choice, each ending in one of ``end_ids``)."""
        if len(sequences) != len(choices):
            raise ValueError("TitleTrie needs exactly one token sequence per choice")
        self.choices: tuple[TitleChoice, ...] = tuple(choices)
        self.end_ids: tuple[int, ...] = tuple(end_ids)
        self._root: dict[int, Any] = {}
        self._ends: dict[tuple[int, ...], int] = {}
        self.max_length = max((len(s) for s in sequences), default=0)
        for index, sequence in enumerate(sequences):
            node = self._root
            for token in sequence:
                node = node.setdefault(token, {})
            # Identical texts (two keys, one title) share a path; the first key wins, like a stable sort.
            self._ends.setdefault(tuple(sequence), index)

    @classmethod
    def from_choices(
        cls,
        choices: Sequence[TitleChoice],
        encode_batch: Callable[[list[str]], list[list[int]]],
        *,
        lead: str = " ",
        text_suffix: str = "",
        suffix_ids: Sequence[int] = (),
    ) -> TitleTrie:
        """Tokenise ``lead + text + text_suffix`` for every choice (in one batch) and append ``suffix_ids``.

        For Galactica-native markers: ``text_suffix=""`` and ``suffix_ids=[END_REF id]``; for text markers:
        ``text_suffix="[END_REF]"`` and ``suffix_ids=[eos id]`` so the beam can end after the marker.
        The last of ``suffix_ids`` is what ends a sequence.
        """
        if not suffix_ids:
            raise ValueError("TitleTrie needs at least one suffix token id that ends a sequence")
        usable = [c for c in choices if c.text.strip()]  # an empty text cannot be written
        encoded = encode_batch([f"{lead}{c.text.strip()}{text_suffix}" for c in usable]) if usable else []
        sequences = [list(ids) + list(suffix_ids) for ids in encoded]
        return cls(sequences, usable, end_ids=[suffix_ids[-1]])

    def __len__(self) -> int:
        return len(self.choices)

    def allowed(self, prefix_token_ids: Sequence[int]) -> list[int]:
        """The token ids that may follow ``prefix_token_ids`` (the tokens generated after the marker).

        A prefix that left the trie (impossible under constraint, but cheap to survive) or a finished one may
        only end, so beam search never sees an all-masked row.
        """
        node = self._root
        for token in prefix_token_ids:
            child = node.get(token)
            if child is None:
                return list(self.end_ids)
            node = child
        return list(node) if node else list(self.end_ids)

    def unique_completion(self, prefix_token_ids: Sequence[int]) -> list[int] | None:
        """The remaining ids if exactly one sequence continues ``prefix_token_ids``, else None.

        Once a prefix names one title, decoding the rest token by token only confirms it; the search scores
        the whole remainder in one batched pass instead.
        """
        node = self._root
        for token in prefix_token_ids:
            node = node.get(token)
            if node is None:
                return None
        tail: list[int] = []
        while len(node) == 1:
            token, node = next(iter(node.items()))
            tail.append(token)
        return tail if not node else None

    def choice_for(self, token_ids: Sequence[int]) -> TitleChoice | None:
        """The choice whose full sequence is ``token_ids`` cut after its first end id, or None if none is."""
        ids = list(token_ids)
        for position, token in enumerate(ids):
            if token in self.end_ids:
                ids = ids[: position + 1]
                break
        index = self._ends.get(tuple(ids))
        return None if index is None else self.choices[index]
