"""``python -m startref.server``: the same flags as ``startref serve``.

Why the parser lives here and is importable: ``add_serve_arguments`` and ``settings_from_args`` let the CLI's
``serve`` command reuse the exact flags, so the two entry points cannot drift.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from startref.server.settings import TOKEN_ENV, ServerSettings, default_threads, extension_origin

__all__ = ["add_serve_arguments", "settings_from_args", "main"]


def add_serve_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the server flags (--host --port --model --device --no-generator --allow-origin --token ...)."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, loopback only)")
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    parser.add_argument("--model", default=None, metavar="PATH_OR_ID",
                        help="generator LM: local path or cached Hugging Face id (default: the shipped model)")
    parser.add_argument("--device", choices=("cpu", "cuda", "mps"), default="cpu", help="device (default cpu)")
    parser.add_argument("--no-generator", action="store_true", help="retrieval only: do not load the LM")
    parser.add_argument("--encoder", default=None, metavar="PATH", help="sentence encoder (default: shipped MiniLM)")
    parser.add_argument("--model-dir", default=None, metavar="DIR", help="trained ranker (startref train -o DIR)")
    parser.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN", dest="allow_origin",
                        help="allow browser requests from ORIGIN (repeatable), e.g. https://www.overleaf.com")
    parser.add_argument("--allow-extension", action="append", default=[], metavar="ID", dest="allow_extension",
                        help="allow exactly the browser extension with this id (repeatable): the same as "
                        "--allow-origin chrome-extension://ID, e.g. the Overleaf extension's id")
    parser.add_argument("--token", default=None,
                        help=f"require 'Authorization: Bearer TOKEN' (default: env {TOKEN_ENV}; none if unset)")
    parser.add_argument("--workers", type=int, default=1,
                        help="uvicorn processes, each with its own models (default 1)")
    parser.add_argument("--threads", type=int, default=default_threads(),
                        help=f"model calls run at once per process (default {default_threads()}: cores, max 4)")
    parser.add_argument("--library", action="append", default=None, metavar="SOURCE",
                        help="also rank your library: a .bib, a zotero.sqlite or 'zotero' (repeatable; default: "
                             "library.sources from `startref config`)")
    parser.add_argument("--no-library", action="store_true", help="do not use the configured library")
    parser.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"),
                        help="log level (default info: one line per request)")
    parser.add_argument("--lm-mode", choices=("score", "constrained", "free"), default="score",
                        help="how the LM stage works (default score; see `startref suggest --help`)")
    from startref.citations.remote.options import add_generator_arguments

    add_generator_arguments(parser)
    return parser


def settings_from_args(args: argparse.Namespace) -> ServerSettings:
    """``ServerSettings`` from parsed flags; ``--token`` wins over the environment variable."""
    token = args.token if args.token else (os.environ.get(TOKEN_ENV, "").strip() or None)
    return ServerSettings(
        host=args.host,
        port=args.port,
        token=token,
        allow_origins=(*args.allow_origin, *(extension_origin(i) for i in getattr(args, "allow_extension", []))),
        model=args.model,
        device=args.device,
        no_generator=args.no_generator,
        encoder=getattr(args, "encoder", None),
        model_dir=getattr(args, "model_dir", None),
        workers=args.workers,
        threads=getattr(args, "threads", default_threads()),
        log_level=args.log_level,
        lm_mode=getattr(args, "lm_mode", "score"),
        generator_url=getattr(args, "generator_url", None),
        generator_api=getattr(args, "generator_api", "openai"),
        generator_model=getattr(args, "generator_model", None),
        generator_timeout_s=getattr(args, "generator_timeout", 10.0),
        library=_library(args),
    )


def _library(args: argparse.Namespace) -> tuple[str, ...]:
    """``--library`` values, else the configuration's sources (none with ``--no-library``)."""
    if getattr(args, "no_library", False):
        return ()
    if getattr(args, "library", None):
        return tuple(args.library)
    from startref.citations.library.config import ConfigError, library_sources

    try:
        return library_sources()
    except ConfigError as exc:
        raise ValueError(str(exc)) from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = add_serve_arguments(argparse.ArgumentParser(
        prog="python -m startref.server", description="Run the local startref model server."))
    args = parser.parse_args(argv)
    try:
        settings = settings_from_args(args)
    except ValueError as exc:
        parser.error(str(exc))
    from startref.server.run import serve

    serve(settings)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
