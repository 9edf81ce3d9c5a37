"""The bibliography index: every .bib file parsed once into immutable ``Entry`` values plus a list of problems.

Why this shape: ranking, resolution and the server all read the same index (as texlab indexes each .bib once);
a broken block is a ``BibProblem`` with file and line, never an exception, because one slip in a 5,000-entry
bibliography must not make the other 4,999 uncitable. Only a file that cannot be used at all (missing, a
directory, binary) raises ``BibliographyError``.

Three modules, one job each: ``bibentry`` is the model (``Entry``, ``BibProblem``), ``bibfile`` parses one
file's text (bibtexparser v2's tolerant splitter plus our middlewares from ``bibparse``), and this module reads
files, merges them into a ``BibIndex`` (first key wins, crossrefs resolved) and caches. Results are cached per file
(keyed by absolute path, size, mtime_ns and the @string macros inherited from earlier files) and per file list,
so repeated requests for an unchanged bibliography return the very same ``BibIndex`` object.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from startref.filerules import ANY_FILE, BIB, FileRuleError, FileRules

from .bytecache import ByteLRU, env_megabytes
from .bibdecode import DecodedBib, clean_bib_text, decode_bib_bytes
# The model and the per-file parser live in their own modules; the public names stay importable from here.
from .bibentry import AUTHOR_TEXT_MAX, BibProblem, Entry, _build_entry  # noqa: F401
from .bibfile import _FileResult, _parse_text
from .bibparse import decode_fields
from .errors import BibliographyError
from .normalize import find_arxiv_id, find_doi, normalize_key

__all__ = [
    "Entry",
    "BibProblem",
    "BibIndex",
    "load_bibliography",
    "parse_bib_text",
    "merge_indexes",
    "describe_index",
    "clear_cache",
]


class BibIndex:
    """An immutable, merged view of one or more bibliographies, with the lookups every feature needs.

    ``entries`` are in file order (files in the order given); for a key defined twice the FIRST wins and the
    others are reported, as BibTeX does. ``get`` falls back to case-insensitive keys and biblatex ``ids`` aliases.
    """

    def __init__(self, entries: Sequence[Entry], files: Sequence[str] = (), problems: Sequence[BibProblem] = ()) -> None:
        self.entries: tuple[Entry, ...] = tuple(entries)
        self.files: tuple[str, ...] = tuple(files)
        self.problems: tuple[BibProblem, ...] = tuple(problems)
        self._by_key: dict[str, Entry] = {}
        self._by_folded: dict[str, Entry] = {}
        self._by_alias: dict[str, Entry] = {}
        self._by_doi: dict[str, Entry] = {}
        self._by_arxiv: dict[str, Entry] = {}
        for e in self.entries:
            self._by_key.setdefault(e.key, e)
            self._by_folded.setdefault(normalize_key(e.key), e)
            for alias in e.aliases:
                self._by_alias.setdefault(normalize_key(alias), e)
            if e.doi:
                self._by_doi.setdefault(e.doi, e)
            if e.arxiv_id:
                self._by_arxiv.setdefault(e.arxiv_id.lower(), e)
        self._fingerprint: str | None = None

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def __repr__(self) -> str:
        return f"BibIndex({len(self.entries)} entries, {len(self.files)} files, {len(self.problems)} problems)"

    def keys(self) -> list[str]:
        """Citation keys in index order."""
        return [e.key for e in self.entries]

    def get(self, key: str) -> Entry | None:
        """Exact key, then case-insensitive key, then a biblatex alias (``ids``); ``None`` if none matches."""
        if key in self._by_key:
            return self._by_key[key]
        folded = normalize_key(key)
        return self._by_folded.get(folded) or self._by_alias.get(folded)

    def lookup_method(self, key: str) -> str | None:
        """How ``get`` would find ``key``: "key", "key_casefold", "alias", or ``None``."""
        if key in self._by_key:
            return "key"
        folded = normalize_key(key)
        if folded in self._by_folded:
            return "key_casefold"
        return "alias" if folded in self._by_alias else None

    def by_doi(self, doi: str) -> Entry | None:
        """Entry with this DOI (any case, with or without a doi.org prefix)."""
        return self._by_doi.get(find_doi(doi) or doi.strip().lower())

    def by_arxiv(self, arxiv_id: str) -> Entry | None:
        """Entry with this arXiv id (``arXiv:`` prefix and version suffix are ignored)."""
        return self._by_arxiv.get((find_arxiv_id(arxiv_id) or arxiv_id.strip()).lower())

    @property
    def fingerprint(self) -> str:
        """A stable hash of the content (keys, types, raw fields, order): equal bibliographies give equal
        fingerprints wherever the files live, so the encoder's on-disk embedding cache survives a move."""
        if self._fingerprint is None:
            h = hashlib.sha256()
            for e in self.entries:
                h.update(json.dumps([e.key, e.entry_type, sorted(e.fields.items())],
                                    ensure_ascii=False).encode("utf-8", "surrogatepass"))
                h.update(b"\n")
            self._fingerprint = h.hexdigest()[:32]
        return self._fingerprint


def merge_indexes(indexes: Sequence[BibIndex]) -> BibIndex:
    """Merge indexes in order: first definition of a key wins, later ones become ``duplicate_key`` problems."""
    return _merge([(ix.entries, ix.problems) for ix in indexes], [f for ix in indexes for f in ix.files])


def _merge(parts: Sequence[tuple[Sequence[Entry], Sequence[BibProblem]]], files: Sequence[str]) -> BibIndex:
    entries: list[Entry] = []
    problems: list[BibProblem] = []
    seen: dict[str, Entry] = {}
    folded: dict[str, Entry] = {}
    for part_entries, part_problems in parts:
        problems.extend(part_problems)
        for e in part_entries:
            first = seen.get(e.key)
            if first is not None:
                problems.append(BibProblem(e.file, e.line, "duplicate_key",
                                           f"entry key '{e.key}' already defined at {first.file}:{first.line}; "
                                           "the first one is kept", e.key))
                continue
            other = folded.get(e.key.casefold())
            if other is not None:
                # BibTeX compares keys ignoring case ("Repeated entry"); biber does not. Keep both, each citable by
                # its exact key, and say so.
                problems.append(BibProblem(e.file, e.line, "duplicate_key_case",
                                           f"entry key '{e.key}' differs only in case from '{other.key}' "
                                           f"({other.file}:{other.line}); BibTeX treats them as one entry", e.key))
            else:
                folded[e.key.casefold()] = e
            seen[e.key] = e
            entries.append(e)
    entries = _resolve_crossrefs(entries, problems)
    entries = [e if e.position == i else replace(e, position=i) for i, e in enumerate(entries)]
    return BibIndex(entries, files, problems)


def _resolve_crossrefs(entries: list[Entry], problems: list[BibProblem]) -> list[Entry]:
    """BibTeX crossref: a child inherits every field it lacks from its parent; ``booktitle`` from the parent's
    title. Done on the merged index because parent and child may sit in different files."""
    if not any("crossref" in e.fields for e in entries):
        return entries
    by_key = {normalize_key(e.key): e for e in entries}
    out: list[Entry] = []
    for e in entries:
        ref = e.fields.get("crossref", "").strip()
        if not ref:
            out.append(e)
            continue
        parent = by_key.get(normalize_key(ref))
        if parent is None or parent is e:
            problems.append(BibProblem(e.file, e.line, "bad_crossref",
                                       f"entry '{e.key}' has crossref '{ref}', which is not in the bibliography"))
            out.append(e)
            continue
        fields = dict(e.fields)
        for name, value in parent.fields.items():
            if name in ("ids", "crossref"):
                continue
            fields.setdefault(name, value)
        if "booktitle" not in e.fields and parent.fields.get("title"):
            fields["booktitle"] = parent.fields["title"]
        out.append(replace(_build_entry(e.key, e.entry_type, fields, decode_fields(fields), e.file, e.line),
                           position=e.position))
    return out


# --- reading files, with caches ------------------------------------------------------------------------------

def _entries_bytes(entries: Sequence[Entry]) -> int:
    """Estimated memory of parsed entries: about 2.5 KB of objects per entry plus twice the field text (measured
    with tracemalloc on real bibliographies: 3-4 KB per entry of a few hundred characters)."""
    return sum(2500 + 2 * sum(len(v) for v in e.fields.values()) for e in entries)


#: Parsed files and merged indexes, each bounded by estimated bytes (STARTREF_BIB_CACHE_MB, default 32 apiece);
#: the two share Entry objects, so the true total is below the sum.
_FILE_CACHE: ByteLRU[tuple[Any, ...], _FileResult] = ByteLRU(
    env_megabytes("STARTREF_BIB_CACHE_MB", 32), lambda r: _entries_bytes(r.entries))
_INDEX_CACHE: ByteLRU[tuple[Any, ...], BibIndex] = ByteLRU(
    env_megabytes("STARTREF_BIB_CACHE_MB", 32), lambda ix: _entries_bytes(ix.entries))
#: Counts real parses (not cache hits); tests read it to prove a hit did not re-parse.
parse_count = 0


def clear_cache() -> None:
    """Forget every cached parse (tests, or a caller that knows files changed within one mtime tick)."""
    _FILE_CACHE.clear()
    _INDEX_CACHE.clear()


def _strings_token(strings: Mapping[str, str]) -> str:
    if not strings:
        return ""
    return hashlib.sha256(json.dumps(sorted(strings.items())).encode()).hexdigest()[:16]


def _parse_decoded(decoded: DecodedBib, name: str, inherited: Mapping[str, str]) -> _FileResult:
    """Parse decoded text; a file that is nothing but junk is not a bibliography at all (an error, not a problem)."""
    global parse_count
    if decoded.junk_lines and not decoded.text.strip():
        first = min(decoded.junk_lines)
        raise BibliographyError(name, "not a BibTeX file (binary data)", line=first)
    result = _parse_text(decoded.text, name, inherited, decoded.latin1_lines)
    parse_count += 1
    if decoded.problems:
        early = tuple(BibProblem(name, line, kind, message) for line, kind, message in decoded.problems)
        result = replace(result, problems=early + result.problems)
    return result


def _parse_file(name: str, data: bytes, inherited: Mapping[str, str]) -> _FileResult:
    return _parse_decoded(decode_bib_bytes(data), name, inherited)


_BIB_CODES = {"not_found": "bibliography_not_found", "forbidden": "forbidden_path", "too_large": "bibliography_too_large"}


def _read_bib(path: Path, name: str, rules: FileRules) -> bytes:
    try:
        return rules.read(path, BIB)
    except FileRuleError as err:
        message = "bibliography file not found" if err.reason == "not_found" and err.message == "file not found" else err.message
        raise BibliographyError(name, message, code=_BIB_CODES.get(err.reason, "bibliography_unreadable")) from None


#: From this size on a bibliography named alone is parsed on every core (``bib_parallel``; a big personal .bib:
#: 23 MB took ~20 s on one core). Equal to ``bib_parallel.PARALLEL_MIN_CHARS``, which imports this module.
_PARALLEL_MIN_BYTES = 2_000_000


def _parse_in_parts(name: str, data: bytes) -> BibIndex | None:
    """``bib_parallel.parse_large_bytes`` on ``bulk_workers()`` processes (None: parse in one piece)."""
    from startref.citations.bib_parallel import parse_large_bytes
    from startref.citations.entry_encoder import bulk_workers

    return parse_large_bytes(name, data, bulk_workers())


def load_bibliography(paths: Sequence[str | Path] | str | Path, rules: FileRules = ANY_FILE) -> BibIndex:
    """Parse .bib files (in order, as ``\\bibliography{a,b}`` lists them) into one ``BibIndex``.

    Unchanged files are not re-parsed, and an unchanged file list returns the same ``BibIndex`` object. A file of
    2 MB or more named alone is parsed in parts on every core (``bib_parallel``: the same index).
    ``rules`` decide which files may be read (the server: ``.bib`` only, at most 20 MB); only regular files are
    ever opened. Raises ``BibliographyError`` naming the file when a path is missing, forbidden, too large, a
    directory, a FIFO or unreadable (``code`` says which). Binary junk inside a file is a problem, not an error.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    results: list[_FileResult] = []
    names: list[str] = []
    file_keys: list[tuple[Any, ...]] = []
    strings: Mapping[str, str] = {}
    for p in paths:
        path = Path(p).expanduser()
        name = str(p)
        try:
            resolved = rules.check_name(path, BIB)
            st = path.stat()
        except FileRuleError:
            _read_bib(path, name, rules)  # raises with the precise reason
            raise
        except OSError:
            _read_bib(path, name, rules)  # raises with the precise reason (not found, a loop, permissions)
            raise
        key = (str(resolved), name, st.st_size, st.st_mtime_ns, _strings_token(strings))
        if len(paths) == 1 and st.st_size >= _PARALLEL_MIN_BYTES:
            whole = _INDEX_CACHE.get((key,))
            if whole is not None:
                return whole
        result = _FILE_CACHE.get(key)
        if result is None:  # put keeps the first object when two threads parsed the same file
            data = _read_bib(path, name, rules)
            if len(paths) == 1 and len(data) >= _PARALLEL_MIN_BYTES:
                whole = _parse_in_parts(name, data)
                if whole is not None:
                    return _INDEX_CACHE.put((key,), whole)
            result = _FILE_CACHE.put(key, _parse_file(name, data, strings))
        results.append(result)
        names.append(name)
        file_keys.append(key)
        strings = result.strings
    index_key = tuple(file_keys)
    index = _INDEX_CACHE.get(index_key)
    if index is None:
        index = _INDEX_CACHE.put(index_key, _merge([(r.entries, r.problems) for r in results], names))
    return index


def parse_bib_text(text: str, name: str = "<inline>") -> BibIndex:
    """Index a bibliography sent as text (e.g. by the editor); cached by content hash and name."""
    key = ("<text>", name, hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest())
    index = _INDEX_CACHE.get(key)
    if index is None:
        result = _parse_decoded(clean_bib_text(text), name, {})
        index = _INDEX_CACHE.put(key, _merge([(result.entries, result.problems)], [name]))
    return index


def describe_index(index: BibIndex) -> dict[str, Any]:
    """A JSON-ready summary for ``startref index refs.bib``: counts, duplicates and every problem with its place."""
    kinds = Counter(p.kind for p in index.problems)
    return {
        "files": list(index.files),
        "entries": len(index),
        "entry_types": dict(Counter(e.entry_type for e in index.entries).most_common()),
        "with_doi": sum(1 for e in index.entries if e.doi),
        "with_arxiv": sum(1 for e in index.entries if e.arxiv_id),
        "with_abstract": sum(1 for e in index.entries if e.abstract),
        "duplicate_keys": sorted({p.key for p in index.problems if p.kind == "duplicate_key" and p.key}),
        "problem_counts": dict(sorted(kinds.items())),
        "problems": [{"file": p.file, "line": p.line, "kind": p.kind, "message": p.message} for p in index.problems],
        "fingerprint": index.fingerprint,
    }
