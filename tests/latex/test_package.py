"""The public surface of startref.latex stays complete, and the package stays free of higher layers."""

import ast
import importlib
from pathlib import Path

import startref.latex as latex

MODULES = [
    "errors", "source", "position", "commands", "cites", "context", "plaintext", "placeholders", "discovery",
    "flatten", "inputs", "quicktext",
]


def test_every_module_name_is_exported_from_the_package() -> None:
    exported = set(latex.__all__)
    for name in MODULES:
        module = importlib.import_module(f"startref.latex.{name}")
        missing = set(module.__all__) - exported
        assert not missing, (name, missing)
        for public in module.__all__:
            assert getattr(latex, public) is getattr(module, public)
    assert len(latex.__all__) == len(exported)


def test_latex_never_imports_citations_server_or_cli(repo_root: Path) -> None:
    for path in sorted((repo_root / "latex").glob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [("." * node.level) + (node.module or "")]
            for name in names:
                assert not any(part in name for part in ("citations", "server", "startref.cli")), (path.name, name)
