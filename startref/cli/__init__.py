"""Command-line interface of startref: one module per command, registered in ``startref.cli.main.COMMANDS``.

The CLI only translates between the terminal and the engine (``startref.citations``); it never ranks anything
itself. Heavy imports (torch, the server) happen inside the commands that need them, so ``startref --help`` and
``startref index`` stay fast.
"""

from startref.cli.main import main

__all__ = ["main"]
