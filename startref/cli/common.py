"""Options shared by the commands that run the engine, and the one place they become an ``EngineConfig``.

Why: ``suggest``, ``annotate`` and ``eval`` must accept the same model flags with the same meaning, and a new
command (``train``) should get them with one call.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from startref.cli.errors import CliError, located
from startref.cli.output import warn

if TYPE_CHECKING:
    from startref.citations.engine import Engine, EngineConfig
    from startref.latex.source import SourceText

__all__ = [
    "add_engine_options",
    "add_generator_server_options",
    "add_concurrency_option",
    "remote_config",
    "add_bib_option",
    "add_json_option",
    "engine_config",
    "make_engine",
    "read_source",
    "bib_paths",
    "line_col",
    "positive_int",
    "non_negative_int",
]


def positive_int(value: str) -> int:
    """argparse type: an integer >= 1 (``-k``, ``--max-cases``)."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {number}")
    return number


def non_negative_int(value: str) -> int:
    """argparse type: an integer >= 0 (``--offset``, ``--keep-k``)."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {value!r}") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {number}")
    return number


def add_engine_options(parser: argparse.ArgumentParser) -> None:
    """``--model``, ``--no-generator``/``--generator``, ``--device``, ``--encoder``, ``--model-dir``."""
    group = parser.add_argument_group("model options")
    group.add_argument(
        "--model",
        metavar="PATH_OR_ID",
        help="causal LM for citation generation: a local path or a Hugging Face id already in the local cache "
        "(default: the embedded SmolLM2; nothing is downloaded)",
    )
    switch = group.add_mutually_exclusive_group()
    switch.add_argument(
        "--no-generator",
        dest="use_generator",
        action="store_const",
        const=False,
        default=None,
        help="rank with retrieval only (fast; the LM is not loaded)",
    )
    switch.add_argument(
        "--generator",
        dest="use_generator",
        action="store_const",
        const=True,
        help="always use the LM stage (default: whatever the benchmark chose for the shipped default)",
    )
    group.add_argument("--device", choices=("cpu", "cuda", "mps"), default="cpu", help="where models run (default: cpu)")
    group.add_argument("--encoder", metavar="PATH", help="sentence encoder path (default: the embedded MiniLM)")
    group.add_argument(
        "--model-dir", metavar="DIR", help="trained ranker artifacts from `startref train -o DIR` (default: shipped)"
    )
    group.add_argument(
        "--lm-mode",
        choices=("score", "constrained", "free"),
        default="score",
        help="how the LM stage works: score the top titles (default), write titles constrained to your .bib "
        "(beam search over a title trie), or write freely and resolve (unmatched text is shown as unresolved)",
    )
    add_generator_server_options(parser)


def add_generator_server_options(parser: argparse.ArgumentParser) -> None:
    """``--generator-url``/``--generator-model``/``--generator-api``/``--generator-timeout`` (token from
    ``$STARTREF_GENERATOR_TOKEN``): the LM stage on a model server. Part of ``add_engine_options``; a command
    that builds an engine another way can add just these."""
    from startref.citations.remote.options import add_generator_arguments

    add_generator_arguments(parser)


def add_concurrency_option(parser: argparse.ArgumentParser) -> None:
    """``--concurrency N``: LM-stage calls in flight at once (batch commands: annotate, check)."""
    parser.add_argument(
        "--concurrency", type=positive_int, default=1, metavar="N",
        help="LM-stage requests sent at once to a model server, to keep its batches full (default: 1)",
    )


def remote_config(args: argparse.Namespace) -> Any:
    """The ``RemoteConfig`` the flags ask for, or None without ``--generator-url``; bad values are CliErrors."""
    from startref.citations.remote.options import DEFAULT_TIMEOUT_S, config_from_values

    try:
        return config_from_values(
            getattr(args, "generator_url", None), getattr(args, "generator_api", "openai"),
            getattr(args, "generator_model", None), getattr(args, "generator_timeout", DEFAULT_TIMEOUT_S),
            getattr(args, "lm_mode", "score"),
        )
    except ValueError as error:
        raise CliError(str(error), code="bad_usage") from None


def add_bib_option(parser: argparse.ArgumentParser) -> None:
    """``--bib FILE`` (repeatable); when given it wins over discovery from ``\\bibliography``/``\\addbibresource``."""
    parser.add_argument(
        "--bib",
        action="append",
        metavar="FILE",
        help="bibliography to use (repeatable); default: discovered from the document",
    )


def add_json_option(parser: argparse.ArgumentParser) -> None:
    """``--json``: machine-readable output on stdout."""
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON on stdout")


def engine_config(args: argparse.Namespace) -> EngineConfig:
    """Translate the parsed model options into the engine's configuration."""
    from startref.citations.engine import EngineConfig

    model_dir = getattr(args, "model_dir", None)
    if model_dir is not None and not Path(model_dir).is_dir():
        raise CliError(f"{model_dir}: model directory does not exist", code="model_not_found")
    encoder = getattr(args, "encoder", None)
    if encoder is not None and not Path(encoder).exists():
        raise CliError(f"{encoder}: encoder path does not exist", code="model_not_found")
    return EngineConfig(
        generator=getattr(args, "model", None),
        use_generator=getattr(args, "use_generator", None),
        device=getattr(args, "device", "cpu"),
        encoder=encoder,
        model_dir=model_dir,
        lm_mode=getattr(args, "lm_mode", "score"),
        remote=remote_config(args),
        library=_library(args),
    )


def _library(args: argparse.Namespace) -> tuple[str, ...]:
    from startref.cli.library_options import library_sources_from_args

    return library_sources_from_args(args) if hasattr(args, "no_library") else ()


def make_engine(args: argparse.Namespace) -> Engine:
    """An engine built from the command line (models load lazily, on first use)."""
    from startref.citations.engine import Engine

    return Engine(engine_config(args))


def bib_paths(args: argparse.Namespace) -> list[Path] | None:
    """The ``--bib`` files as paths, checked to exist so the message names the exact argument; ``None`` if absent."""
    raw: list[str] | None = getattr(args, "bib", None)
    if not raw:
        return None
    paths = [Path(p) for p in raw]
    for path in paths:
        if not path.exists():
            raise CliError(f"{path}: bibliography file not found (given with --bib)", code="bibliography_not_found")
        if path.is_dir():
            raise CliError(f"{path}: is a directory, not a .bib file (given with --bib)", code="bibliography_unreadable")
    return paths


def read_source(path: str | Path) -> SourceText:
    """Read a .tex file with the LaTeX package's reader, printing its warnings (e.g. latin-1 fallback) to stderr."""
    from startref.latex.source import read_tex

    source_path = Path(path)
    if source_path.is_dir():
        raise CliError(f"{source_path}: is a directory, not a .tex file", code="file_unreadable")
    source = read_tex(source_path)
    for message in getattr(source, "warnings", []) or []:
        warn(located(message, source_path))
    return source


def line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of a code-point ``offset``, the inverse of ``LINE:COL`` on the command line."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    start = text.rfind("\n", 0, offset) + 1
    return line, offset - start + 1
