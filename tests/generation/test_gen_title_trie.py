"""TitleTrie on hand-made token sequences: what may follow, what is unique, what maps back to which key."""

from __future__ import annotations

import pytest

from startref.citations.title_trie import TitleChoice, TitleTrie

END = 99
CHOICES = [TitleChoice("a", "A"), TitleChoice("ab", "AB"), TitleChoice("c", "C"), TitleChoice("a2", "A again")]
SEQUENCES = [[1, 2, END], [1, 2, 3, END], [4, 5, END], [1, 2, END]]


@pytest.fixture
def trie() -> TitleTrie:
    return TitleTrie(SEQUENCES, CHOICES, end_ids=[END])


def test_allowed_follows_the_sequences(trie: TitleTrie) -> None:
    assert sorted(trie.allowed([])) == [1, 4]
    assert trie.allowed([1]) == [2]
    assert sorted(trie.allowed([1, 2])) == [3, END]  # "A" ends here, "AB" goes on
    assert trie.allowed([7]) == [END]  # off the trie: only ending is allowed
    assert trie.max_length == 4


def test_unique_completion(trie: TitleTrie) -> None:
    assert trie.unique_completion([4]) == [5, END]
    assert trie.unique_completion([1, 2]) is None  # two titles still possible
    assert trie.unique_completion([1, 2, 3]) == [END]
    assert trie.unique_completion([1, 2, END]) == []
    assert trie.unique_completion([8]) is None


def test_choice_for_maps_back_and_first_duplicate_wins(trie: TitleTrie) -> None:
    assert trie.choice_for([4, 5, END, 0, 0]) == CHOICES[2]  # padding after the end is ignored
    assert trie.choice_for([1, 2, END]) == CHOICES[0]  # "A again" tokenises the same; first key wins
    assert trie.choice_for([1, 2]) is None


def test_from_choices_skips_empty_texts_and_needs_an_end() -> None:
    encoded: list[list[str]] = []

    def encode(texts: list[str]) -> list[list[int]]:
        encoded.append(texts)
        return [[ord(ch) for ch in text] for text in texts]

    trie = TitleTrie.from_choices([TitleChoice("x", "Hi"), TitleChoice("e", "  ")], encode, text_suffix="!", suffix_ids=[0])
    assert encoded == [[" Hi!"]] and len(trie) == 1
    assert trie.choice_for([32, 72, 105, 33, 0]) == TitleChoice("x", "Hi")
    with pytest.raises(ValueError):
        TitleTrie.from_choices([TitleChoice("x", "Hi")], encode)
