"""``--library`` / ``--no-library`` / ``--append-to``, shared by suggest, annotate and eval.

Why a module: the three commands (and ``serve``) must read the library the same way — the flags first, else
``library.sources`` from ``~/.config/startref/config.toml`` — and report a bad configuration the same way.
"""

from __future__ import annotations

import argparse

from startref.cli.errors import CliError

__all__ = ["add_library_options", "library_sources_from_args", "append_to_from_args", "prepare_library"]


def add_library_options(parser: argparse.ArgumentParser, *, append: bool = True) -> None:
    group = parser.add_argument_group("library options")
    group.add_argument(
        "--library", action="append", metavar="SOURCE",
        help="also rank your library: a .bib (e.g. Better BibTeX's auto-export), a zotero.sqlite, or 'zotero' "
             "(repeatable; default: library.sources from `startref config`)")
    group.add_argument("--no-library", action="store_true", help="ignore the configured library for this run")
    if append:
        group.add_argument("--append-to", metavar="FILE.bib",
                           help="the .bib that receives library entries (default: the first one the document names)")


def library_sources_from_args(args: argparse.Namespace) -> tuple[str, ...]:
    """The sources for this run: ``--library`` values, else the configuration's (none with ``--no-library``)."""
    if getattr(args, "no_library", False):
        return ()
    given = getattr(args, "library", None)
    if given:
        return tuple(given)
    from startref.citations.library.config import ConfigError, library_sources

    try:
        return library_sources()
    except ConfigError as err:
        raise CliError(str(err), code="bad_config") from None


def append_to_from_args(args: argparse.Namespace) -> str | None:
    """The .bib that receives library entries: ``--append-to``, else ``library.append_to`` of the configuration
    (None: the first .bib the document names)."""
    given = getattr(args, "append_to", None)
    if given or getattr(args, "no_library", False):
        return given
    from startref.citations.library.config import ConfigError, load_config

    try:
        value = load_config().get("library", {}).get("append_to")
    except (ConfigError, AttributeError) as err:
        raise CliError(str(err), code="bad_config") from None
    return value if isinstance(value, str) and value else None


def prepare_library(engine: object) -> None:
    """Load the configured library before the command works, saying so on stderr when it has to be indexed (the
    first time, or after a source changed: a minute or more for a large library) with a progress bar on a
    terminal, so a long first run is not a silent one. A library that cannot be used is left to the engine, which
    answers from the paper's .bib with a warning."""
    from startref.cli.output import note, progress_callback
    from startref.citations.library import LibraryError, open_library

    sources = getattr(getattr(engine, "config", None), "library", ())
    if not sources:
        return
    encoder = engine.encoder  # type: ignore[attr-defined]
    try:
        library = open_library(sources)
        if not library.needs_indexing(encoder):
            library.features(encoder)
            return
        note(f"indexing your library: embedding {len(library)} entries (once; cached after)")
        with progress_callback("indexing library", unit="entry") as progress:
            library.features(encoder, progress=progress)
    except LibraryError:
        return
