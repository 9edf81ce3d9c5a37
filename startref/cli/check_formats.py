"""How ``startref check`` prints its report: for people (text), compilers' style (gcc), CI annotations (github),
code-scanning tools (SARIF 2.1.0) and machines (json, the ``POST /v1/check`` body).

Why one module of pure functions from an ``AuditReport`` to lines or a dict: every format says the same findings,
and tests can check each one without running a model.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from startref import __version__
from startref.citations.audit.findings import CODES, SEVERITIES, AuditReport, Finding, group_by_file

__all__ = ["FORMATS", "format_text", "format_gcc", "format_github", "to_sarif", "use_color", "summary_line"]

FORMATS: tuple[str, ...] = ("text", "json", "gcc", "github", "sarif")

_COLORS = {"error": "\033[1;31m", "warning": "\033[1;33m", "info": "\033[1;36m"}
_BOLD, _DIM, _RESET = "\033[1m", "\033[2m", "\033[0m"
_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
_GCC_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
_GITHUB_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/startref/startref"


def use_color(choice: str, stream: TextIO | None = None) -> bool:
    """``always``/``never``, or ``auto``: a terminal and no ``NO_COLOR`` in the environment (no-color.org)."""
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    out = stream or sys.stdout
    return bool(getattr(out, "isatty", lambda: False)())


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 or word == 'info' else 's'}"


def summary_line(report: AuditReport, hidden: int = 0) -> str:
    """``3 problems (1 error, 2 warnings) in 45 cite commands, 54 keys scored``, plus how many were hidden."""
    counts = report.counts()
    n = len(report.findings)
    scope = f"{_plural(report.citations, 'cite command')}, {_plural(report.checked, 'key')} scored"
    if n == 0:
        line = f"no problems found in {scope}"
    else:
        parts = ", ".join(_plural(counts[s], s) for s in SEVERITIES if counts[s])
        line = f"{_plural(n, 'problem')} ({parts}) in {scope}"
    if hidden:
        line += f"; {hidden} less severe not shown (--min-severity)"
    return line


def _finding_line(f: Finding, color: bool) -> str:
    sev = f"{_COLORS[f.severity]}{f.severity}{_RESET}" if color else f.severity
    code = f"{_DIM}[{f.code}]{_RESET}" if color else f"[{f.code}]"
    return f"{f.location}: {sev}: {f.message} {code}"


def format_text(report: AuditReport, color: bool = False, hidden: int = 0) -> list[str]:
    """Findings grouped by file (a bold header per file), each as ``file:line:col: severity: message [code]`` so
    terminals and editors can jump to it, then a summary line."""
    lines: list[str] = []
    for file, findings in group_by_file(report.findings):
        lines.append(f"{_BOLD}{file}{_RESET}" if color else file)
        for f in findings:
            lines.append("  " + _finding_line(f, color))
            if f.replacements and f.code != "undefined_key":
                lines.append(f"      fix: replace `{f.key}` with `{f.replacements[0].text}`")
        lines.append("")
    lines.append(summary_line(report, hidden))
    return lines


def format_gcc(report: AuditReport) -> list[str]:
    """``file:line:col: warning: message [code]``, one a line (``note`` for info), as gcc and most CI parsers read."""
    return [f"{f.location}: {_GCC_LEVEL[f.severity]}: {f.message} [{f.code}]" for f in report.findings]


def _gh_escape(value: str, prop: bool = False) -> str:
    """GitHub workflow-command escaping: ``%``, CR, LF always; ``:`` and ``,`` in properties too."""
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        value = value.replace(":", "%3A").replace(",", "%2C")
    return value


def format_github(report: AuditReport) -> list[str]:
    """GitHub Actions annotations: ``::warning file=…,line=…,col=…,endLine=…,endColumn=…,title=…::message``."""
    out: list[str] = []
    for f in report.findings:
        loc = f.location
        props = [f"file={_gh_escape(loc.file, True)}", f"line={loc.line}", f"col={loc.column}"]
        if loc.end_line >= loc.line:
            props += [f"endLine={loc.end_line}", f"endColumn={loc.end_column}"]
        props.append(f"title={_gh_escape('startref ' + f.code, True)}")
        out.append(f"::{_GITHUB_LEVEL[f.severity]} {','.join(props)}::{_gh_escape(f.message)}")
    return out


def _uri(file: str) -> str:
    """A SARIF artifact URI: relative paths as forward-slash relative references, absolute ones as file URIs."""
    path = Path(file)
    if path.is_absolute():
        return path.as_uri()
    return path.as_posix()


def _region(loc: Any) -> dict[str, int]:
    region = {"startLine": loc.line, "startColumn": loc.column}
    if (loc.end_line, loc.end_column) > (loc.line, loc.column):
        region.update(endLine=loc.end_line, endColumn=loc.end_column)
    return region


def _physical(loc: Any) -> dict[str, Any]:
    return {"artifactLocation": {"uri": _uri(loc.file)}, "region": _region(loc)}


def _sarif_result(f: Finding, rule_index: dict[str, int]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": f.code,
        "ruleIndex": rule_index[f.code],
        "level": _SARIF_LEVEL[f.severity],
        "message": {"text": f.message},
        "locations": [{"physicalLocation": _physical(f.location)}],
    }
    if f.related:
        result["relatedLocations"] = [
            {"id": i, "physicalLocation": _physical(r.location), "message": {"text": r.message}}
            for i, r in enumerate(f.related)
        ]
    if f.replacements and f.code != "undefined_key":
        result["fixes"] = [{
            "description": {"text": f"replace `{f.key}` with `{r.text}`"},
            "artifactChanges": [{
                "artifactLocation": {"uri": _uri(r.location.file)},
                "replacements": [{"deletedRegion": _region(r.location), "insertedContent": {"text": r.text}}],
            }],
        } for r in f.replacements]
    if f.details:
        result["properties"] = {k: v for k, v in f.details.items() if isinstance(v, (str, int, float, bool))}
    return result


def to_sarif(report: AuditReport, codes: Sequence[str] | None = None) -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run: a rule per finding code (with its default level), one result per finding."""
    rules = list(codes or CODES)
    rule_index = {code: i for i, code in enumerate(rules)}
    driver = {
        "name": "startref",
        "version": __version__,
        "informationUri": INFORMATION_URI,
        "rules": [{
            "id": code,
            "name": "".join(part.capitalize() for part in code.split("_")),
            "shortDescription": {"text": CODES[code][1]},
            "defaultConfiguration": {"level": _SARIF_LEVEL[CODES[code][0]]},
        } for code in rules],
    }
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": driver},
            "results": [_sarif_result(f, rule_index) for f in report.findings],
            "columnKind": "unicodeCodePoints",
            "properties": {"sensitivity": report.sensitivity, "citations": report.citations,
                           "keysScored": report.checked},
        }],
    }
