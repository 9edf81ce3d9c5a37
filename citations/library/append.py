"""Adding library entries to the paper's .bib: planned as an edit, applied atomically.

Why two steps: the server only *plans* (``bib_edit``: where to insert what, so the editor applies it together with
the ``\\cite`` as one undoable change), while ``startref annotate --library`` plans and *applies*. Both go
through ``plan_append``, so the text an editor inserts is byte for byte what the CLI writes.

Guarantees when applying (tested on real .bib files): the file's encoding (UTF-8 with or without BOM, Latin-1)
and line endings are kept, nothing before the end of the file changes (``@string`` macros, comments, a last entry
without a final newline), an entry whose work (DOI, arXiv id, title) or key is already there is not added again,
and the write is atomic (a crash leaves the old file or the new one).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from startref.citations.bibindex import Entry, parse_bib_text
from startref.citations.errors import BibliographyError
from startref.citations.library.bibtex import detect_style, render_entry
from startref.citations.library.identity import WorkIndex
from startref.citations.normalize import normalize_key
from startref.fileio import ExactText, atomic_write_bytes, decode_exact

__all__ = ["BibEdit", "BibTarget", "read_target", "plan_append", "apply_append"]


@dataclass(frozen=True)
class BibEdit:
    """Insert ``text`` into ``file`` at ``start`` (== ``end``; code points of the decoded file), which is also
    ``line``/``character`` (0-based, UTF-16 units, as LSP editors address text). ``key`` is the cite key."""

    file: str
    start: int
    end: int
    line: int
    character: int
    text: str
    key: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class BibTarget:
    """The .bib file entries are appended to, read exactly (``exact is None`` for inline text, e.g. Overleaf)."""

    name: str
    text: str
    exact: ExactText | None

    @property
    def encoding(self) -> str:
        return self.exact.encoding if self.exact is not None else "utf-8"


def read_target(path: str | Path) -> BibTarget:
    """Read the target .bib so that writing it back changes only what we append (UTF-8, else Latin-1)."""
    p = Path(path)
    try:
        data = p.read_bytes() if p.exists() else b""
    except OSError as err:
        raise BibliographyError(str(path), f"cannot read the .bib to add entries to: {err.strerror or err}") from None
    if b"\x00" in data[:65536]:
        raise BibliographyError(str(path), "not a BibTeX file (binary data); nothing added")
    for encoding in ("utf-8", "latin-1"):
        try:
            exact = decode_exact(data, encoding)
            return BibTarget(str(path), exact.text, exact)
        except (UnicodeDecodeError, ValueError):
            continue
    raise BibliographyError(str(path), "cannot be rewritten byte for byte; nothing added")  # pragma: no cover


def _end_position(text: str) -> tuple[int, int]:
    """0-based line and UTF-16 character of the end of ``text`` (``\\r\\n``, ``\\r`` and ``\\n`` end lines)."""
    line = text.count("\n") + text.count("\r") - text.count("\r\n")
    last = max(text.rfind("\n"), text.rfind("\r"))
    tail = text[last + 1 :]
    return line, len(tail.encode("utf-16-le")) // 2


def plan_append(target: BibTarget, entries: Sequence[tuple[str, Entry]]) -> BibEdit | None:
    """The edit that appends ``entries`` (each ``(key to use, entry)``) to ``target``; ``None`` when every one of
    them is already in the file (same key, or the same work under another key)."""
    existing = parse_bib_text(target.text, target.name) if target.text.strip() else None
    works = WorkIndex(existing.entries) if existing is not None else None
    style = detect_style(target.text)
    nl = style.newline
    blocks: list[str] = []
    keys: list[str] = []
    taken = {normalize_key(k) for k in (existing.keys() if existing is not None else [])}
    for key, entry in entries:
        if normalize_key(key) in taken or (works is not None and works.find(entry) is not None):
            continue
        taken.add(normalize_key(key))
        try:
            blocks.append(render_entry(entry.entry_type or "misc", key, entry.fields, style, target.encoding))
        except UnicodeEncodeError as err:
            raise BibliographyError(target.name, f"entry '{key}' cannot be written in the file's encoding "
                                                 f"({target.encoding}): {err.reason}") from None
        keys.append(key)
    if not blocks:
        return None
    text = target.text
    if not text:
        lead = ""
    elif text.endswith(("\n", "\r")):
        lead = "" if text.endswith(("\n\n", "\r\n\r\n", "\r\r")) else nl
    else:
        lead = nl + nl  # the last entry has no final newline: end its line, then leave a blank one
    body = lead + nl.join(blocks)
    line, character = _end_position(text)
    return BibEdit(target.name, len(text), len(text), line, character, body, ",".join(keys))


def apply_append(path: str | Path, edit: BibEdit, *, backup: bool = False) -> Path | None:
    """Write ``edit`` into ``path`` atomically, refusing when the file changed since it was planned.

    With ``backup`` the previous content is kept as ``FILE.bak`` (written atomically first). Returns the backup's
    path (or ``None``).
    """
    target = read_target(path)
    if len(target.text) != edit.start:
        raise BibliographyError(str(path), "the .bib changed since the entries were chosen; nothing added")
    new_text = target.text + edit.text
    data = target.exact.encode(new_text) if target.exact is not None else new_text.encode("utf-8")
    p = Path(path)
    kept: Path | None = None
    mode = p.stat().st_mode & 0o7777 if p.exists() else None
    if backup and target.exact is not None and target.exact.data:
        kept = p.with_name(p.name + ".bak")
        atomic_write_bytes(kept, target.exact.data, mode=mode)
    atomic_write_bytes(p, data, mode=mode)
    return kept
