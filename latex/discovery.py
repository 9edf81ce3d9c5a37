"""Which .bib files a document uses, and the whole document with its inputs expanded.

Why: an editor sends one file of a multi-file project; the bibliography is named in the root file (or in a
preamble it inputs) and the root may be named by ``% !TEX root = main.tex``. Discovery follows the document the
way LaTeX does -- ``\\input``/``\\include``/``\\subfile``/``\\import`` relative to the root's folder, then the
including file's folder; ``.bib`` names relative to the root, then BIBINPUTS -- so the user never has to configure
a path. ``flatten_document`` gives the eval and training one text per paper.
"""

from __future__ import annotations

import bisect
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from startref.filerules import ANY_FILE, BIB, TEX, FileRules

from .cites import comment_spans, ignored_spans, in_spans
from .errors import LatexInputError
from .source import read_tex

__all__ = [
    "BibliographyDiscovery",
    "FlatDocument",
    "FlatPiece",
    "find_root",
    "discover_bibliographies",
    "flatten_document",
    "bibinputs_dirs",
]

_MAGIC_ROOT = re.compile(r"^\s*%\s*!\s*tex\s+root\s*=\s*(?P<name>.+?)\s*$", re.IGNORECASE)
_MAGIC_LINES = 20
_BIB_COMMANDS = frozenset({"bibliography", "addbibresource", "addglobalbib", "addsectionbib"})
_COMMAND = re.compile(
    r"\\(?P<cmd>bibliography|addbibresource|addglobalbib|addsectionbib|input|include|subfile|"
    r"import|subimport|inputfrom|subinputfrom|includefrom|subincludefrom)(?![A-Za-z@])\*?"
)
_BARE_INPUT = re.compile(r"[ \t]+(?P<name>[^\s{}\\%]+)")
_MAX_WALK_DIRS = 2000


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


@dataclass(frozen=True)
class FlatPiece:
    """``FlatDocument.text[start:end]`` is ``sources[file][file_start:file_start + end - start]``."""

    start: int
    end: int
    file: Path
    file_start: int


@dataclass
class FlatDocument:
    """The root file with its inputs expanded inline; ``missing`` lists inputs left as written (not found).

    ``pieces`` (in text order) and ``sources`` (each file's text) map an offset of ``text`` back to its file, so a
    finding in the flat text can be reported at ``chapter.tex:LINE:COL`` (``locate``).
    """

    text: str
    files: list[Path] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    pieces: list[FlatPiece] = field(default_factory=list)
    sources: dict[Path, str] = field(default_factory=dict)

    def locate(self, offset: int) -> tuple[Path, int]:
        """(file, offset in that file's text) of an offset of ``text`` (the end of the text maps to its last file)."""
        starts = [p.start for p in self.pieces]
        k = max(0, bisect.bisect_right(starts, offset) - 1)
        if not self.pieces:
            return (self.files[0] if self.files else Path()), offset
        piece = self.pieces[k]
        return piece.file, piece.file_start + min(offset, piece.end) - piece.start


def _abs(path: Path) -> Path:
    return Path(os.path.abspath(path))


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return _abs(a) == _abs(b)


def find_root(path: Path, text: str | None = None, rules: FileRules = ANY_FILE) -> Path:
    """The root file of ``path``: the target of ``% !TEX root = ...`` in its first lines, else ``path`` itself.

    Chains of magic comments are followed (cycles stop). ``text`` is the unsaved buffer of ``path``. A magic
    comment naming a file that does not exist (or that ``rules`` do not allow: the same answer, so the rules
    are no existence oracle) raises LatexInputError naming the file and line.
    """
    current = _abs(Path(path))
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
                target = _abs(target)
                break
        if target is None or target in seen:
            return current
        seen.add(target)
        current = target
        buffer = None
    return current


def bibinputs_dirs(bibinputs: str | None) -> list[tuple[Path, bool]]:
    """Folders of a BIBINPUTS value as ``(folder, recursive)``; empty elements (the TeX defaults) are skipped."""
    if not bibinputs:
        return []
    out: list[tuple[Path, bool]] = []
    for element in bibinputs.split(os.pathsep):
        if not element:
            continue
        recursive = element.endswith("//")
        element = element.rstrip("/") or "/"
        out.append((Path(element).expanduser(), recursive))
    return out


def _find_in_tree(folder: Path, name: str, rules: FileRules = ANY_FILE) -> Path | None:
    """``name`` in ``folder`` or below (kpathsea's ``dir//``), bounded so a huge tree cannot hang us."""
    for count, (dirpath, dirnames, filenames) in enumerate(os.walk(folder)):
        if count > _MAX_WALK_DIRS:
            return None
        dirnames.sort()
        candidate = Path(dirpath) / name
        if rules.is_candidate(candidate, BIB):
            return candidate
    return None


def _blank_comments(text: str) -> str:
    """``text`` with comments replaced by spaces (offsets kept), so commented-out commands are not seen."""
    spans = comment_spans(text)
    if not spans:
        return text
    parts: list[str] = []
    pos = 0
    for s, e in spans:
        parts.append(text[pos:s])
        parts.append(" " * (e - s))
        pos = e
    parts.append(text[pos:])
    return "".join(parts)


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return i


def _group(text: str, i: int, open_: str, close: str) -> tuple[str, int] | None:
    """Content and end of the balanced group at ``i`` (``text[i] == open_``); None when unclosed."""
    depth = 0
    for j in range(i, len(text)):
        ch = text[j]
        if ch == open_:
            depth += 1
        elif ch == close:
            depth -= 1
            if depth == 0:
                return text[i + 1 : j], j + 1
    return None


@dataclass
class _Command:
    """One bibliography or input command found in a file."""

    cmd: str
    start: int
    end: int
    args: list[str]
    options: list[str]


def _commands(text: str) -> list[_Command]:
    """Bibliography and input commands of ``text`` (comments already blanked), in order, with their arguments."""
    out: list[_Command] = []
    for m in _COMMAND.finditer(text):
        cmd = m.group("cmd")
        k = m.start()
        while k > 0 and text[k - 1] == "\\":
            k -= 1
        if (m.start() - k) % 2:
            continue
        n_args = 2 if cmd in ("import", "subimport", "inputfrom", "subinputfrom", "includefrom", "subincludefrom") else 1
        i = m.end()
        options: list[str] = []
        args: list[str] = []
        j = _skip_ws(text, i)
        while j < len(text) and text[j] == "[":
            group = _group(text, j, "[", "]")
            if group is None:
                break
            options.append(group[0])
            j = _skip_ws(text, group[1])
        end = j
        for _ in range(n_args):
            j = _skip_ws(text, end)
            if j < len(text) and text[j] == "{":
                group = _group(text, j, "{", "}")
                if group is None:
                    break
                args.append(group[0].strip())
                end = group[1]
            else:
                break
        if not args and cmd == "input":
            bare = _BARE_INPUT.match(text, i)
            if bare:
                args = [bare.group("name")]
                end = bare.end()
        if len(args) == n_args:
            out.append(_Command(cmd, m.start(), end, args, options))
    return out


class _Walker:
    """Resolves names the way LaTeX and BibTeX/biber would, relative to the root and the including file."""

    def __init__(self, root: Path, override: tuple[Path, str] | None, bibinputs: str | None,
                 rules: FileRules = ANY_FILE) -> None:
        self.rules = rules
        self.root = root
        self.root_dir = root.parent
        self.override = override
        self.bib_dirs = bibinputs_dirs(bibinputs)

    def read(self, path: Path) -> str:
        if self.override is not None and _same(path, self.override[0]):
            return self.override[1]
        return read_tex(path, self.rules).text

    def resolve_input(self, cmd: _Command, current_dir: Path) -> tuple[Path | None, Path]:
        """(file or None, the folder nested inputs of an ``\\import`` are relative to)."""
        if cmd.cmd in ("import", "inputfrom", "includefrom"):
            base = Path(cmd.args[0]) if Path(cmd.args[0]).is_absolute() else self.root_dir / cmd.args[0]
            dirs, name = [base], cmd.args[1]
        elif cmd.cmd in ("subimport", "subinputfrom", "subincludefrom"):
            base = current_dir / cmd.args[0]
            dirs, name = [base], cmd.args[1]
        else:
            dirs, name = [self.root_dir, current_dir], cmd.args[0]
        if "\\" in name or "#" in name or not name:
            return None, current_dir
        names = [name] if name.lower().endswith(".tex") else [name + ".tex", name]
        for folder in dirs:
            for candidate_name in names:
                candidate = folder / candidate_name
                if self.rules.is_candidate(candidate, TEX):
                    return _abs(candidate), _abs(folder if len(dirs) == 1 else candidate.parent)
        return None, current_dir

    def resolve_bib(self, name: str, current_dir: Path, add_suffix: bool) -> Path | None:
        if not name or "\\" in name or "#" in name or "://" in name:
            return None
        names = [name]
        if not name.lower().endswith(".bib"):
            names = [name + ".bib", name] if add_suffix else [name, name + ".bib"]
        for folder in (self.root_dir, current_dir):
            for n in names:
                candidate = folder / n
                if self.rules.is_candidate(candidate, BIB):
                    return _abs(candidate)
        for folder, recursive in self.bib_dirs:
            for n in names:
                candidate = folder / n
                if self.rules.is_candidate(candidate, BIB):
                    return _abs(candidate)
                if recursive:
                    found = _find_in_tree(folder, n, self.rules)
                    if found is not None:
                        return _abs(found)
        return None


def _bib_names(cmd: _Command) -> tuple[list[str], bool]:
    """Names a bibliography command lists, and whether ``.bib`` is implied (BibTeX) rather than written (biber)."""
    if cmd.cmd == "bibliography":
        return [n.strip() for n in cmd.args[0].split(",") if n.strip()], True
    if any("remote" in opt for opt in cmd.options):
        return [cmd.args[0]], False  # a URL resource: reported as missing, never fetched
    return [cmd.args[0]], False


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
    path = _abs(Path(path))
    root = find_root(path, text, rules)
    if bibinputs is None:
        bibinputs = os.environ.get("BIBINPUTS")
    walker = _Walker(root, (path, text) if text is not None else None, bibinputs, rules)
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
        for cmd in _commands(_blank_comments(source)):
            if cmd.cmd in _BIB_COMMANDS:
                names, add_suffix = _bib_names(cmd)
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
            result.guessed.append(_abs(same_stem))
        else:
            bibs = sorted(b for b in root.parent.glob("*.bib") if rules.is_candidate(b, BIB))
            if len(bibs) == 1:
                result.guessed.append(_abs(bibs[0]))
    return result


_BEGIN_DOC = re.compile(r"\\begin\s*\{document\}")
_END_DOC = re.compile(r"\\end\s*\{document\}")


def _subfile_start(text: str) -> int:
    """Where ``_subfile_body`` starts in ``text``."""
    begin = _BEGIN_DOC.search(text)
    return begin.end() if begin else 0


def _subfile_body(text: str) -> str:
    """The body of a ``subfiles`` document (between begin/end document); the whole text when it has none."""
    begin = _BEGIN_DOC.search(text)
    if not begin:
        return text
    end = _END_DOC.search(text, begin.end())
    return text[begin.end() : end.start() if end else len(text)]


def flatten_document(
    root: Path, max_bytes: int = 20_000_000, text: str | None = None, override: tuple[Path, str] | None = None,
    rules: FileRules = ANY_FILE,
) -> FlatDocument:
    """``root`` with ``\\input``/``\\include``/``\\subfile``/``\\import``/``\\subimport`` expanded inline.

    Inputs that cannot be found (or read) stay as written and are listed in ``missing``; an input that would
    include itself is left as written. Bibliography commands are kept. ``text`` is an unsaved buffer for ``root``,
    ``override`` one for another file of the document (an editor's buffer of a chapter).
    Raises LatexInputError when the expansion grows past ``max_bytes`` characters (a runaway input loop).
    ``rules`` decide which inputs may be read, as for ``discover_bibliographies`` (an input they refuse stays as
    written, like a missing one: no existence oracle).
    """
    root = _abs(Path(root))
    if override is not None:
        override = (_abs(Path(override[0])), override[1])
    walker = _Walker(root, (root, text) if text is not None else override, None, rules)
    doc = FlatDocument(text="")
    out: list[str] = []
    out_len = 0
    total = 0

    def emit(file: Path, source: str, base: int, lo: int, hi: int) -> None:
        nonlocal out_len
        if hi > lo:
            out.append(source[lo:hi])
            doc.pieces.append(FlatPiece(out_len, out_len + hi - lo, file, base + lo))
            out_len += hi - lo

    def expand(file: Path, current_dir: Path, source: str, base: int, stack: tuple[Path, ...]) -> None:
        """Append ``source`` (the text of ``file`` from offset ``base`` on) to ``out``, inputs expanded."""
        nonlocal total
        if file not in doc.files:
            doc.files.append(file)
        ignored = ignored_spans(source)
        starts = [s for s, _ in ignored]
        pos = 0
        for cmd in _commands(source):
            if cmd.cmd in _BIB_COMMANDS or in_spans(ignored, cmd.start, starts):
                continue
            target, folder = walker.resolve_input(cmd, current_dir if cmd.cmd.startswith("sub") else file.parent)
            if target is None or target in stack:
                if target is None:
                    doc.missing.append(cmd.args[-1] if len(cmd.args) == 1 else "/".join(cmd.args))
                continue
            if override is not None and _same(target, override[0]):
                sub_text = override[1]
            else:
                try:
                    sub = read_tex(target)
                except LatexInputError as err:
                    doc.missing.append(cmd.args[-1])
                    doc.warnings.append(str(err))
                    continue
                doc.warnings.extend(sub.warnings)
                sub_text = sub.text
            doc.sources.setdefault(target, sub_text)
            body, body_start = (_subfile_body(sub_text), _subfile_start(sub_text)) if cmd.cmd == "subfile" else (sub_text, 0)
            total += len(body)
            if total > max_bytes:
                raise LatexInputError(
                    f"flattened document grows past {max_bytes} characters (an input loop?)", path=str(root),
                    code=LatexInputError.FILE_UNREADABLE,
                )
            emit(file, source, base, pos, cmd.start)
            expand(target, folder, body, body_start, stack + (target,))
            pos = cmd.end
        emit(file, source, base, pos, len(source))

    if text is None:
        if override is not None and _same(root, override[0]):
            text = override[1]
        else:
            source = read_tex(root)
            doc.warnings.extend(source.warnings)
            text = source.text
    total = len(text)
    doc.sources[root] = text
    expand(root, root.parent, text, 0, (root,))
    doc.text = "".join(out)
    return doc
