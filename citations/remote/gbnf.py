"""A llama.cpp GBNF grammar that accepts exactly the bibliography's titles, each followed by the end marker.

Why a trie and not one big alternation: llama.cpp keeps one grammar stack per alternative still alive, and checks
candidate tokens against every stack at every step. ``root ::= "A..." | "B..." | ...`` with 2,000 titles starts
2,000 stacks; a radix trie of the titles (shared prefixes written once, one rule per branching point) keeps only
the branches that agree with what was written so far. The language is the same: every title, nothing else.

Escaping follows llama.cpp's grammar parser: inside a string literal ``\\``, ``"`` need a backslash, newline,
carriage return and tab their ``\\n \\r \\t`` escapes, other control characters ``\\xHH``; any other Unicode is
written as UTF-8, as the parser reads it.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["gbnf_literal", "titles_grammar"]

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def gbnf_literal(text: str) -> str:
    """``text`` as a GBNF string literal, quotes included."""
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02X}")
        elif 0xD800 <= ord(ch) <= 0xDFFF:  # a lone surrogate cannot be UTF-8 encoded: drop it
            continue
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


class _Node:
    __slots__ = ("children", "end")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.end = False


def _insert(root: _Node, text: str) -> None:
    node = root
    for ch in text:
        node = node.children.setdefault(ch, _Node())
    node.end = True


def titles_grammar(texts: Sequence[str], prefix: str = " ", suffix: str = "[END_REF]",
                   suffix_token: int | None = None) -> str:
    """GBNF whose root accepts ``prefix + text + suffix`` for each of ``texts`` and nothing else.

    With ``suffix_token`` the end is that token id (llama.cpp's ``<[ID]>``) instead of the suffix text: a model
    whose tokenizer has ``[END_REF]`` as one token (Galactica) then ends a title the way it was trained to.

    Raises ``ValueError`` for an empty list (a grammar with no sentence would make the server fail obscurely).
    """
    root = _Node()
    for text in dict.fromkeys(t for t in texts if t):
        _insert(root, text)
    if not root.children:
        raise ValueError("a title grammar needs at least one non-empty title")
    rules: list[str] = []

    def rule_for(node: _Node) -> str:
        """The name of a rule matching every completion below ``node`` (a radix-compressed subtree)."""
        alternatives: list[str] = []
        for ch, child in node.children.items():
            run = ch
            # Compress a chain of single-child, non-terminal nodes into one literal.
            while len(child.children) == 1 and not child.end:
                (next_ch, next_child), = child.children.items()
                run += next_ch
                child = next_child
            if child.children:
                tail = rule_for(child)
                alternatives.append(f"{gbnf_literal(run)} {tail}")
            else:
                alternatives.append(gbnf_literal(run))
        if node.end:
            alternatives.append('""')
        name = f"t{len(rules)}"
        rules.append("")  # reserve the slot so numbering follows creation order
        index = len(rules) - 1
        rules[index] = f"{name} ::= " + " | ".join(alternatives)
        return name

    top = rule_for(root)
    end = f"<[{int(suffix_token)}]>" if suffix_token is not None else gbnf_literal(suffix)
    head = f"root ::= {gbnf_literal(prefix)} {top} {end}" if prefix else f"root ::= {top} {end}"
    return "\n".join([head, *rules]) + "\n"
