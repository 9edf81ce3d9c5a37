"""Real editors and browsers in pytest: a missing one skips the test on a developer's machine and FAILS under CI.

Why: a real-editor test (Neovim or Emacs talking to ``startref lsp``, Chromium on Overleaf) that silently skips
proves nothing, and the place it happens unnoticed is a CI image that lost a package. The rule is the repo's one
rule (``scripts/real-tools.sh`` for shell, ``scripts/real-tools.cjs`` for node): "CI" is ``CI=true`` (also 1/yes)
or ``STARTREF_REAL_TOOLS=require``. The Makefile's ``REAL_TOOL_DEPS`` installs the Debian packages.

    from realtools import require_tool

    def test_neovim_completes_a_key(tmp_path):
        nvim = require_tool("nvim", package="neovim", what="the Neovim LSP test")
        ...

``tests/`` is on ``sys.path`` for every test (its conftest.py lives there), so ``from realtools import ...`` works
from any test folder.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import NoReturn

import pytest

__all__ = ["real_tools_required", "require_tool", "missing_real_tool"]


def real_tools_required(env: Mapping[str, str] | None = None) -> bool:
    """Whether a missing real-editor dependency must fail (CI) rather than skip."""
    env = os.environ if env is None else env
    return env.get("STARTREF_REAL_TOOLS") == "require" or env.get("CI", "").strip().lower() in {"1", "true", "yes"}


def missing_real_tool(what: str, reason: str) -> NoReturn:
    """Stop the current test because ``what`` cannot run: ``pytest.fail`` under CI, ``pytest.skip`` otherwise."""
    if real_tools_required():
        pytest.fail(f"{what} cannot run: {reason} (CI=true or STARTREF_REAL_TOOLS=require: a missing real-editor "
                    "dependency is a failure, not a skip)", pytrace=False)
    pytest.skip(f"{what} cannot run here: {reason} (under CI=true this is a failure)")


def require_tool(name: str, *, package: str | None = None, what: str | None = None) -> Path:
    """The absolute path of the command ``name`` (on PATH) or of the file ``name`` (absolute), else skip/fail.

    ``package`` is the Debian package that provides it, named in the message; ``what`` names the test.
    """
    found = (name if Path(name).exists() else None) if os.path.isabs(name) else shutil.which(name)
    if found is None:
        hint = f" (apt-get install -y {package})" if package else ""
        missing_real_tool(what or f"a test that needs {name}", f"{name} not found{hint}")
    return Path(found).resolve()
