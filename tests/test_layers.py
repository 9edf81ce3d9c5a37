"""The layering of DEVELOPERS.md, checked: latex <- citations <- server / cli, never the other way."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import startref.citations as citations

FORBIDDEN = {
    "citations": ("startref.server", "startref.cli", "startref.lsp", "fastapi", "uvicorn", "pygls", "lsprotocol"),
    "server": ("startref.cli", "startref.lsp"),
    "lsp": ("startref.cli", "startref.server", "fastapi", "uvicorn"),
}


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def test_lower_layers_never_import_higher_ones(repo_root: Path) -> None:
    for folder, banned in FORBIDDEN.items():
        for path in sorted((repo_root / folder).rglob("*.py")):  # sub-packages too (citations/library/)
            for name in _imports(path):
                assert not name.startswith(banned), f"{folder}/{path.name} imports {name}"


def test_citations_public_surface_is_complete() -> None:
    for name in citations.__all__:
        assert getattr(citations, name) is not None, name
    assert citations.Engine is importlib.import_module("startref.citations.engine").Engine


def test_light_imports_do_not_load_torch() -> None:
    code = "import sys, startref.citations, startref.latex; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_test_module_names_are_unique(repo_root: Path) -> None:
    """pytest imports test files by basename (rootdir mode): two ``test_x.py`` in different folders collide."""
    names = [p.name for p in (repo_root / "tests").rglob("test_*.py")]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


def test_every_package_folder_is_listed_for_the_wheel(repo_root: Path) -> None:
    """An editable install finds a new sub-package by its folder, a built wheel only if pyproject lists it:
    a folder left out of ``packages`` works in development and is missing for users (pip install)."""
    import tomllib

    setuptools = tomllib.loads((repo_root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    listed = set(setuptools["packages"])
    for package, folder in setuptools["package-dir"].items():
        for init in sorted((repo_root / folder).rglob("__init__.py")):
            parts = init.parent.relative_to(repo_root / folder).parts
            if "node_modules" in parts or any(part.startswith(".") for part in parts):
                continue
            name = ".".join((package, *parts))
            assert name in listed, f"{init.parent} holds a package that pyproject.toml's packages does not list: {name}"
