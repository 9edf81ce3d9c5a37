"""``startref serve``: run the local HTTP model server for editors.

The flags and the settings object belong to ``startref.server`` (so ``python -m startref.server`` and this command
cannot drift); the server itself (FastAPI, uvicorn) is imported only when the command runs, so every other
command works without the ``server`` extra installed.
"""

from __future__ import annotations

import argparse
from typing import Any

from startref.cli.errors import EXIT_OK, CliError

__all__ = ["register", "run"]

_INSTALL_HINT = "the server needs the 'server' extra: pip install 'startref[server]'"


def register(subparsers: Any) -> None:
    """Add ``serve`` to the ``startref`` parser, with the server's own flags."""
    parser = subparsers.add_parser(
        "serve",
        help="run the local HTTP server for editor extensions",
        description="Run the local startref model server (loopback only by default; see --token and "
        "--allow-origin before exposing it).",
    )
    try:
        from startref.server.__main__ import add_serve_arguments
    except ImportError as error:  # a broken or stripped install must not take the other commands down
        parser.set_defaults(func=_unavailable(str(error)))
        return
    add_serve_arguments(parser)
    parser.set_defaults(func=run)


def _unavailable(reason: str) -> Any:
    def fail(_: argparse.Namespace) -> int:
        raise CliError(f"{_INSTALL_HINT} ({reason})", code="missing_dependency")

    return fail


def run(args: argparse.Namespace) -> int:
    """Build ``ServerSettings`` from the flags and serve in the foreground until Ctrl-C."""
    from startref.server.__main__ import settings_from_args

    try:
        settings = settings_from_args(args)
    except ValueError as error:
        raise CliError(str(error), code="bad_usage") from None
    try:
        from startref.server.run import serve
    except ImportError as error:
        raise CliError(f"{_INSTALL_HINT} ({error})", code="missing_dependency") from None
    serve(settings)
    return EXIT_OK
