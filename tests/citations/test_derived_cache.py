"""``DerivedCache``: a value is built once per source object, the last few are kept, and a source is found by its
identity only while it is the very object that was seen (a later object is never handed another's value)."""

from __future__ import annotations

from startref.citations.derived_cache import DerivedCache


class Source:
    def __init__(self, name: str) -> None:
        self.name = name


def test_built_once_per_object_and_the_last_ones_kept() -> None:
    built: list[str] = []
    cache: DerivedCache[Source, str] = DerivedCache(keep=2)

    def build(s: Source) -> str:
        built.append(s.name)
        return s.name.upper()

    a, b, c = Source("a"), Source("b"), Source("c")
    assert cache.get(a, build) == "A" and cache.get(a, build) == "A" and built == ["a"]
    assert cache.get(b, build) == "B" and cache.get(a, build) == "A"  # a used last: b is the older one now
    assert cache.get(c, build) == "C" and built == ["a", "b", "c"]
    assert cache.get(a, build) == "A" and built == ["a", "b", "c"]  # kept
    assert cache.get(b, build) == "B" and built == ["a", "b", "c", "b"]  # dropped, built again


def test_an_equal_but_other_object_gets_its_own_value() -> None:
    cache: DerivedCache[Source, int] = DerivedCache(keep=2)
    first, second = Source("x"), Source("x")
    assert cache.get(first, id) == id(first)
    assert cache.get(second, id) == id(second) != id(first)
