"""The commands that pull other files into a LaTeX document, and where the named files are.

Why a module of its own: discovery (which .bib files a document uses) and flattening (one text per paper) both
walk ``\\input``/``\\include``/``\\subfile``/``\\import`` and the bibliography commands, and both must resolve
a name exactly as LaTeX and BibTeX/biber would (relative to the root's folder, then the including file's folder;
``.bib`` names also through BIBINPUTS). One scanner and one resolver keep the two from disagreeing.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from startref.filerules import ANY_FILE, BIB, TEX, FileRules

from .cites import comment_spans
from .source import read_tex

#: The package exports only ``bibinputs_dirs``; the scanner and the resolver serve discovery and flatten.
__all__ = ["bibinputs_dirs"]

BIB_COMMANDS = frozenset({"bibliography", "addbibresource", "addglobalbib", "addsectionbib"})
_COMMAND = re.compile(
    r"\\(?P<cmd>bibliography|addbibresource|addglobalbib|addsectionbib|input|include|subfile|"
    r"import|subimport|inputfrom|subinputfrom|includefrom|subincludefrom)(?![A-Za-z@])\*?"
)
_BARE_INPUT = re.compile(r"[ \t]+(?P<name>[^\s{}\\%]+)")
_MAX_WALK_DIRS = 2000


def absolute(path: Path) -> Path:
    """``path`` made absolute without resolving links: the names a user wrote stay the names we report."""
    return Path(os.path.abspath(path))


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths are one file (links resolved); an unresolvable one compares by its absolute name."""
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return absolute(a) == absolute(b)


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


def blank_comments(text: str) -> str:
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
class IncludeCommand:
    """One bibliography or input command found in a file."""

    cmd: str
    start: int
    end: int
    args: list[str]
    options: list[str]


def include_commands(text: str) -> list[IncludeCommand]:
    """Bibliography and input commands of ``text`` (comments already blanked), in order, with their arguments."""
    out: list[IncludeCommand] = []
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
            out.append(IncludeCommand(cmd, m.start(), end, args, options))
    return out


class FileResolver:
    """Resolves names the way LaTeX and BibTeX/biber would, relative to the root and the including file."""

    def __init__(self, root: Path, override: tuple[Path, str] | None, bibinputs: str | None,
                 rules: FileRules = ANY_FILE) -> None:
        self.rules = rules
        self.root = root
        self.root_dir = root.parent
        self.override = override
        self.bib_dirs = bibinputs_dirs(bibinputs)

    def read(self, path: Path) -> str:
        if self.override is not None and same_file(path, self.override[0]):
            return self.override[1]
        return read_tex(path, self.rules).text

    def resolve_input(self, cmd: IncludeCommand, current_dir: Path) -> tuple[Path | None, Path]:
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
                    return absolute(candidate), absolute(folder if len(dirs) == 1 else candidate.parent)
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
                    return absolute(candidate)
        for folder, recursive in self.bib_dirs:
            for n in names:
                candidate = folder / n
                if self.rules.is_candidate(candidate, BIB):
                    return absolute(candidate)
                if recursive:
                    found = _find_in_tree(folder, n, self.rules)
                    if found is not None:
                        return absolute(found)
        return None


def bib_names(cmd: IncludeCommand) -> tuple[list[str], bool]:
    """Names a bibliography command lists, and whether ``.bib`` is implied (BibTeX) rather than written (biber)."""
    if cmd.cmd == "bibliography":
        return [n.strip() for n in cmd.args[0].split(",") if n.strip()], True
    if any("remote" in opt for opt in cmd.options):
        return [cmd.args[0]], False  # a URL resource: reported as missing, never fetched
    return [cmd.args[0]], False
