"""``startref lsp``: the language server for Neovim, Emacs, Helix, Kate, Sublime Text, Zed (any LSP editor).

It speaks LSP over stdio (what editors start) or, for debugging, over TCP (``--tcp PORT``). The models are the
same as ``startref serve``'s (the same ``Engine`` and model flags); they load in the background after
``initialize``. pygls is imported only when the command runs, so the other commands work without the ``lsp``
extra.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any

from startref.cli.common import add_engine_options, engine_config
from startref.cli.errors import EXIT_OK, CliError
from startref.cli.library_options import add_library_options, append_to_from_args

__all__ = ["register", "run"]

_INSTALL_HINT = "the language server needs the 'lsp' extra: pip install 'startref[lsp]'"


def register(subparsers: Any) -> None:
    """Add ``lsp`` to the ``startref`` parser."""
    parser = subparsers.add_parser(
        "lsp",
        help="run the language server (stdio) for Neovim, Emacs, Helix, Kate, Sublime, Zed",
        description="Run startref as a Language Server: ranked citation completion inside \\cite{...}, "
        "'Cite: ...' code actions, hover and go-to-definition on keys, diagnostics for undefined keys and .bib "
        "problems. Speaks LSP on stdin/stdout unless --tcp is given.",
    )
    parser.add_argument("--stdio", action="store_true", help="use stdin/stdout (the default; accepted for editors "
                        "that always pass it)")
    parser.add_argument("--tcp", type=int, metavar="PORT", help="listen on TCP PORT instead of stdio (debugging)")
    parser.add_argument("--host", default="127.0.0.1", help="address for --tcp (default 127.0.0.1)")
    parser.add_argument("--log-file", metavar="FILE", help="write the server's own log here (stdout is the protocol)")
    parser.add_argument("--log-level", default="warning", choices=("debug", "info", "warning", "error"),
                        help="level of --log-file / stderr logging (default warning)")
    add_engine_options(parser)
    add_library_options(parser, append=True)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Start the server and serve until the client says exit (or the connection closes)."""
    try:
        from startref.lsp.server import create_server
    except ImportError as error:
        raise CliError(f"{_INSTALL_HINT} ({error})", code="missing_dependency") from None
    if args.tcp is not None and not 0 <= args.tcp <= 65535:
        raise CliError(f"--tcp: port must be 0..65535, got {args.tcp}", code="bad_usage")
    handler: logging.Handler = logging.FileHandler(args.log_file) if args.log_file else logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logging.basicConfig(level=getattr(logging, args.log_level.upper()), handlers=[handler], force=True)
    server = create_server(engine_config(args), append_to=append_to_from_args(args))
    if args.tcp is not None:
        server.start_tcp(args.host, args.tcp)
    else:
        server.start_io(sys.stdin.buffer, _protocol_stdout())
    return EXIT_OK


def _protocol_stdout() -> Any:
    """The real stdout for the protocol alone; fd 1 and ``sys.stdout`` then point at stderr.

    Why: over stdio, one stray byte on stdout (a library's print or warning, from Python or C) corrupts the message
    the editor is reading. The protocol keeps its own copy of the descriptor; everything else lands in stderr,
    which editors show as the server's log.
    """
    protocol_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return os.fdopen(protocol_fd, "wb")
