"""The title grammar accepts exactly the titles (each after a space, before ``[END_REF]``), with hostile characters.

The check reads the grammar back: every rule of a title grammar is a finite alternation of string literals and
rule references, so it can be rewritten as a regular expression and matched in Python. The real llama.cpp parser
reads the same grammars in ``test_remote_llamacpp.py``.
"""

from __future__ import annotations

import re

import pytest

from startref.citations.remote.gbnf import gbnf_literal, titles_grammar

_RULE = re.compile(r"^(\w+) ::= (.*)$")
_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|(\w+)|(\|)|\s+')
_UNESCAPE = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"', "[": "[", "]": "]", "-": "-"}


def _unescape(body: str) -> str:
    out, i = [], 0
    while i < len(body):
        if body[i] == "\\":
            kind = body[i + 1]
            if kind == "x":
                out.append(chr(int(body[i + 2 : i + 4], 16)))
                i += 4
                continue
            out.append(_UNESCAPE[kind])  # KeyError = an escape llama.cpp's parser would reject
            i += 2
            continue
        out.append(body[i])
        i += 1
    return "".join(out)


def grammar_regex(grammar: str) -> re.Pattern[str]:
    rules: dict[str, str] = {}
    for line in grammar.strip().splitlines():
        match = _RULE.match(line)
        assert match, f"not a rule: {line!r}"
        rules[match.group(1)] = match.group(2)

    def expand(name: str) -> str:
        parts: list[str] = []
        position = 0
        body = rules[name]
        while position < len(body):
            token = _TOKEN.match(body, position)
            assert token and token.end() > position, f"cannot read {body[position:]!r}"
            position = token.end()
            if token.group(1) is not None:
                parts.append(re.escape(_unescape(token.group(1))))
            elif token.group(2):
                parts.append(f"(?:{expand(token.group(2))})")
            elif token.group(3):
                parts.append("|")
        return "".join(parts)

    return re.compile(expand("root"), re.DOTALL)


HOSTILE = [
    'Deep Residual Learning for Image Recognition, He',
    'Deep Residual Networks, He',
    'Deep, Smith',
    'A "quoted" title with \\backslash\\, Doe',
    'Brackets [x] and ranges [a-z] and ::= rules | pipes, Roe',
    'Tabs\tand\nnewlines\rinside, Poe',
    'Ünïcödé — 漢字 and emoji 🙂, Müller',
    'Control \x01 char, Zed',
]


def test_every_title_and_nothing_else_is_accepted() -> None:
    pattern = grammar_regex(titles_grammar(HOSTILE))
    for title in HOSTILE:
        assert pattern.fullmatch(f" {title}[END_REF]"), title
    assert not pattern.fullmatch(" Deep[END_REF]")  # a shared prefix alone is not a title
    assert not pattern.fullmatch(" Deep Residual Learning for Image Recognition, He")  # the marker is required
    assert not pattern.fullmatch("Deep, Smith[END_REF]")  # the leading space is required
    assert not pattern.fullmatch(" Deep, Smithers[END_REF]")


def test_a_title_that_is_a_prefix_of_another_stays_a_title() -> None:
    pattern = grammar_regex(titles_grammar(["Deep Learning", "Deep Learning Revisited"]))
    assert pattern.fullmatch(" Deep Learning[END_REF]")
    assert pattern.fullmatch(" Deep Learning Revisited[END_REF]")


def test_shared_prefixes_are_written_once() -> None:
    titles = [f"A Study of Residual Networks, part {n}" for n in range(200)]
    grammar = titles_grammar(titles)
    assert grammar.count("A Study of Residual Networks, part ") == 1
    assert len(grammar) < sum(len(t) for t in titles) / 4


def test_literal_escapes() -> None:
    assert gbnf_literal('a"b\\c\nd') == '"a\\"b\\\\c\\nd"'
    assert gbnf_literal("\x7f") == '"\\x7F"'


def test_no_titles_is_an_error_not_an_empty_grammar() -> None:
    with pytest.raises(ValueError):
        titles_grammar(["", ""])
