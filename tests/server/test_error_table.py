"""README's error table is the server's: every code the server can answer with is listed, at its real status.

Why: outside tools branch on these codes, and they read the README, not server/errors.py. The codes are gathered
from where they are made: the server's status table, the literal codes its modules raise, the codes Starlette's
own HTTP errors are mapped to, and the codes the engine's and the LaTeX layer's exceptions carry (the server
passes those through). A new code anywhere fails this test until the table (and STATUS_BY_CODE) has it.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

from startref.citations import errors as citation_errors
from startref.latex.errors import LatexInputError
from startref.server import errors as server_errors

CODE = re.compile(r"^[a-z][a-z_]*$")
SERVER_RAISES = re.compile(r"\b(?:ApiError|error_response|_send_error)\(\s*(?:send,\s*)?\"([a-z_]+)\"")
ENGINE_RAISES = re.compile(r"\bcode\s*=\s*\"([a-z_]+)\"|_bib_error\([^,]+,\s*\"([a-z_]+)\"")


def _readme_table(repo_root: Path) -> dict[str, int]:
    """{code: status} from the table under "Errors are always" in README.md."""
    text = (repo_root / "README.md").read_text(encoding="utf-8")
    start = text.index("Errors are always")
    rows: dict[str, int] = {}
    for line in text[start:].splitlines()[1:]:
        if rows and not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 2 or not cells[0].isdigit():
            continue
        for code in re.findall(r"`([^`]+)`", re.sub(r"\([^()]*(?:\([^()]*\)[^()]*)*\)", "", cells[1])):
            assert CODE.match(code), f"README error table: {code!r} is not a code"
            assert code not in rows, f"README error table lists {code} twice"
            rows[code] = int(cells[0])
    assert rows, "README.md: no error table after 'Errors are always'"
    return rows


def _codes_made_in(folder: Path, pattern: re.Pattern[str]) -> set[str]:
    found: set[str] = set()
    for path in sorted(folder.rglob("*.py")):  # sub-packages too (citations/library/, audit/, remote/)
        for match in pattern.finditer(path.read_text(encoding="utf-8")):
            found.update(g for g in match.groups() if g)
    return found


def _exception_codes() -> set[str]:
    # Every module of the engine is imported first: an exception class exists only once its module is imported,
    # and which ones other tests happened to import must not decide what this test sees.
    import startref.citations as package

    for module in pkgutil.walk_packages(package.__path__, "startref.citations."):
        importlib.import_module(module.name)
    codes: set[str] = set()
    todo = [citation_errors.StartrefError]
    while todo:
        cls = todo.pop()
        codes.add(cls.code)
        todo.extend(cls.__subclasses__())
    codes.update(v for k, v in vars(LatexInputError).items() if k.isupper() and isinstance(v, str))
    return codes


#: Codes that exist on exceptions but never reach an HTTP answer: the engine catches them and says why in a field.
NEVER_ANSWERED = {
    "generator_error": "Engine.with_generation_or_error: the ranker's order, reason in `generator_error`",
    "generator_unavailable": "the same",
    "generator_request_rejected": "the same",
    "library_unreadable": "Engine.library_or_warning: the paper's .bib alone, reason in `warnings`",
    "library_not_found": "the same",
    "library_empty": "the same",
    "bad_config": "config.toml problems stop the CLI (exit 2) before a server exists",
}


def test_every_code_the_server_can_emit_has_a_status(repo_root: Path) -> None:
    defined = set(server_errors.STATUS_BY_CODE)
    made = (
        _codes_made_in(repo_root / "server", SERVER_RAISES)
        | set(server_errors._HTTP_CODES.values())
        | _codes_made_in(repo_root / "citations", ENGINE_RAISES)
        | _codes_made_in(repo_root / "latex", ENGINE_RAISES)
        | _exception_codes()
        | {"bad_request", "internal_error"}  # the fallbacks of server/errors.py itself
    ) - set(NEVER_ANSWERED)
    assert {"forbidden_host", "payload_too_large", "not_ready", "cursor_out_of_range", "model_error"} <= made
    assert made - defined == set(), "codes the server can answer with but STATUS_BY_CODE does not list"


def test_the_readme_table_lists_every_code_at_its_status(repo_root: Path) -> None:
    assert _readme_table(repo_root) == server_errors.STATUS_BY_CODE
