"""Which .bib files a document uses, and where its root file is.

Why: an editor sends one file of a multi-file project; the bibliography is named in the root file (or in a
preamble it inputs) and the root may be named by ``% !TEX root = main.tex``. Discovery follows the document the
way LaTeX does (``latex/inputs.py`` scans and resolves the commands) so the user never has to configure a path.
``latex/flatten.py`` gives the eval and training one text per paper.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from startref.filerules import ANY_FILE, BIB, TEX, FileRules

from .errors import LatexInputError
from .flatten import FlatDocument, FlatPiece, flatten_document
from .inputs import BIB_COMMANDS, FileResolver, absolute, bib_names, bibinputs_dirs, blank_comments, include_commands
from .source import read_tex

__all__ = [
    "BibliographyDiscovery",
    "find_root",
    "discover_bibliographies",
    "bibinputs_dirs",
    # re-exported for code written against the older single module
    "FlatDocument",
    "FlatPiece",
    "flatten_document",
]

_MAGIC_ROOT = re.compile(r"^\s*%\s*!\s*tex\s+root\s*=\s*(?P<name>.+?)\s*$", re.IGNORECASE)
_MAGIC_LINES = 20

@dataclass
class BibliographyDiscovery:
    """Result of following a document from its root.

    ``files``: existing .bib files named by the document, absolute, in document order, deduplicated.
    ``missing``: bibliography names written in the document that were not found (as written).
    ``tex_files``: the .tex files visited, root first. ``missing_inputs``: ``\\input``-like names not found (or
    unreadable). ``guessed``: only when the document names no bibliography at all (e.g. it is named through a
    macro): ``<root stem>.bib`` beside the root, else the only .bib there. ``usable`` picks files, else guessed.
    """

    root: Path
    files: list[Path] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    tex_files: list[Path] = field(default_factory=list)
    missing_inputs: list[str] = field(default_factory=list)
    guessed: list[Path] = field(default_factory=list)

    @property
    def usable(self) -> list[Path]:
        """The bibliographies to load: the named ones, or the guessed ones when none is named."""
        return self.files if self.files else self.guessed


def find_root(path: Path, text: str | None = None, rules: FileRules = ANY_FILE) -> Path:
    """The root file of ``path``: the target of ``% !TEX root = ...`` in its first lines, else ``path`` itself.

    Chains of magic comments are followed (cycles stop). ``text`` is the unsaved buffer of ``path``. A magic
    comment naming a file that does not exist (or that ``rules`` do not allow: the same answer, so the rules
    are no existence oracle) raises LatexInputError naming the file and line.
    """
    current = absolute(Path(path))
    seen = {current}
    buffer = text
    for _ in range(10):
        if buffer is None:
            if not rules.is_candidate(current, TEX):
                return current
            try:
                buffer = read_tex(current, rules).text
            except LatexInputError:
                return current
        target = None
        for lineno, line in enumerate(buffer.split("\n", _MAGIC_LINES)[:_MAGIC_LINES], start=1):
            m = _MAGIC_ROOT.match(line)
            if m:
                name = m.group("name").strip().strip('"')
                candidates = [current.parent / name]
                if not name.lower().endswith(".tex"):
                    candidates.append(current.parent / (name + ".tex"))
                target = next((c for c in candidates if rules.is_candidate(c, TEX)), None)
                if target is None:
                    allowed = "" if not rules.suffix_only else " (or is not a .tex file)"
                    raise LatexInputError(
                        f"'% !TEX root' names {name!r}, which does not exist{allowed}", path=str(current), line=lineno,
                        code=LatexInputError.FILE_UNREADABLE,
                    )
                target = absolute(target)
                break
        if target is None or target in seen:
            return current
        seen.add(target)
        current = target
        buffer = None
    return current


def discover_bibliographies(
    path: Path, text: str | None = None, bibinputs: str | None = None, rules: FileRules = ANY_FILE
) -> BibliographyDiscovery:
    """Find the .bib files of the document that ``path`` belongs to.

    ``text`` is the unsaved buffer of ``path``; ``bibinputs`` defaults to the ``BIBINPUTS`` environment variable
    (``os.pathsep`` separated; a trailing ``//`` searches subfolders; empty elements are TeX's defaults, skipped).
    ``rules`` decide which files may be read (the server: ``.tex``/``.bib`` only, bounded size); a name the rules
    refuse is reported in ``missing`` exactly like a name that does not exist, without asking the disk.
    Raises LatexInputError only when the root file itself cannot be read.
    """
    path = absolute(Path(path))
    root = find_root(path, text, rules)
    if bibinputs is None:
        bibinputs = os.environ.get("BIBINPUTS")
    walker = FileResolver(root, (path, text) if text is not None else None, bibinputs, rules)
    result = BibliographyDiscovery(root=root)
    seen_bibs: set[Path] = set()
    visited: set[Path] = set()
    named_any = False

    def visit(file: Path, current_dir: Path) -> None:
        nonlocal named_any
        visited.add(file)
        try:
            source = walker.read(file)
        except LatexInputError:
            if file == root:
                raise
            result.missing_inputs.append(str(file))
            return
        result.tex_files.append(file)
        for cmd in include_commands(blank_comments(source)):
            if cmd.cmd in BIB_COMMANDS:
                names, add_suffix = bib_names(cmd)
                for name in names:
                    named_any = True
                    found = walker.resolve_bib(name, file.parent, add_suffix)
                    if found is None:
                        if name not in result.missing:
                            result.missing.append(name)
                    elif found.resolve() not in seen_bibs:
                        seen_bibs.add(found.resolve())
                        result.files.append(found)
                continue
            target, base = walker.resolve_input(cmd, current_dir if cmd.cmd.startswith("sub") else file.parent)
            if target is None:
                name = cmd.args[-1] if len(cmd.args) == 1 else "/".join(cmd.args)
                if name not in result.missing_inputs:
                    result.missing_inputs.append(name)
            elif target not in visited:
                visit(target, base)

    if text is None and not rules.is_candidate(root, TEX):
        read_tex(root, rules)  # raises the precise reason (not found, forbidden, a FIFO, ...)
    visit(root, root.parent)
    if not named_any:
        same_stem = root.with_suffix(".bib")
        if rules.is_candidate(same_stem, BIB):
            result.guessed.append(absolute(same_stem))
        else:
            bibs = sorted(b for b in root.parent.glob("*.bib") if rules.is_candidate(b, BIB))
            if len(bibs) == 1:
                result.guessed.append(absolute(bibs[0]))
    return result
