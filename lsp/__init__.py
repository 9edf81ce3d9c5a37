"""``startref lsp``: the language server that brings ranked citations to every LSP editor (imported as ``startref.lsp``).

Shape (as texlab's): one module per feature -- ``completion``, ``actions`` (code actions and the
``startref.suggest`` command), ``hover``, ``definition``, ``diagnostics`` -- over one document view
(``documents``). Features take text, code-point offsets and the ``Engine`` and return plain dataclasses; only
``server`` (pygls) and ``convert`` (lsprotocol types, UTF-16 positions) know the protocol. ``citations`` never
imports this package (tests/test_layers.py keeps it so).
"""

from __future__ import annotations

__all__ = ["create_server", "StartrefLanguageServer"]


def __getattr__(name: str) -> object:
    # pygls is imported only when the server is wanted, so ``import startref.lsp.completion`` stays light.
    if name in __all__:
        from . import server

        return getattr(server, name)
    raise AttributeError(f"module 'startref.lsp' has no attribute {name!r}")
