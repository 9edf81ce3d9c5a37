"""``startref doctor``: is everything startref needs here, and is the model server (if any) up?

Why a command of its own: when suggestions look worse than expected, the first questions are "is the LM stage on,
and is the server it talks to answering, with which model?". ``doctor`` answers them without a paper or a request:
the embedded models and ranker on disk, and, with ``--generator-url`` (or ``$STARTREF_GENERATOR_URL``), the
server's health, the model it serves, whether its tokenizer has the Galactica markers, and the time to answer.
Exit 0 when everything asked about is fine, 1 otherwise.
"""

from __future__ import annotations

import argparse
import platform
from pathlib import Path
from typing import Any

from startref import __version__
from startref.cli.common import add_generator_server_options, add_json_option, remote_config
from startref.cli.errors import EXIT_NOTHING_FOUND, EXIT_OK
from startref.cli.output import print_json, print_table

__all__ = ["register", "run", "local_checks"]


def register(subparsers: Any) -> None:
    """Add ``doctor`` to the ``startref`` parser."""
    parser = subparsers.add_parser(
        "doctor",
        help="check the embedded models and the model server's health",
        description="Check that the embedded models and ranker are installed and, with --generator-url, that the "
        "model server answers: its model, its tokenizer's Galactica markers, its latency. Exit 1 if anything is "
        "missing or down.",
    )
    add_generator_server_options(parser)
    add_json_option(parser)
    parser.set_defaults(func=run)


def _check(name: str, find: Any) -> dict[str, Any]:
    try:
        path = Path(find())
    except Exception as error:  # noqa: BLE001 - any failure to locate is the report itself
        return {"check": name, "status": "missing", "detail": str(error)}
    return {"check": name, "status": "ok" if path.exists() else "missing", "detail": str(path)}


def local_checks() -> list[dict[str, Any]]:
    """The embedded encoder, the generator GGUF and the shipped ranker: present or not (nothing is loaded)."""
    from startref.citations.models import default_encoder_path, default_generator_gguf
    from startref.citations.ranker import default_ranker_path

    return [
        _check("encoder (MiniLM)", default_encoder_path),
        _check("in-process generator (SmolLM2 GGUF)", default_generator_gguf),
        _check("ranker", default_ranker_path),
    ]


def run(args: argparse.Namespace) -> int:
    """Print the checks (a table, or ``--json``); exit 1 when one failed."""
    checks = local_checks()
    config = remote_config(args)
    server: dict[str, Any] | None = None
    if config is not None:
        from startref.citations.remote import RemoteGenerator

        generator = RemoteGenerator(config)
        try:
            server = generator.health()
        finally:
            generator.close()
    healthy = all(c["status"] == "ok" for c in checks) and (server is None or server["status"] == "ok")
    if args.json:
        print_json({"version": __version__, "python": platform.python_version(), "checks": checks,
                    "generator_server": server, "ok": healthy})
        return EXIT_OK if healthy else EXIT_NOTHING_FOUND
    print(f"startref {__version__} (Python {platform.python_version()})")
    rows = [(c["check"], c["status"], c["detail"]) for c in checks]
    if server is not None:
        detail = (f"{server['api']} at {server['url']}, model {server.get('model') or '?'}, "
                  f"{server.get('latency_ms', '?')} ms")
        if server["status"] == "ok":
            detail += f", Galactica markers: {server.get('markers', 'unknown')}"
        else:
            detail += f": {server.get('error', 'no answer')}"
        rows.append(("model server", server["status"], detail))
    else:
        rows.append(("model server", "none", "in-process LM (no --generator-url / $STARTREF_GENERATOR_URL)"))
    print_table(("check", "status", "detail"), rows)
    return EXIT_OK if healthy else EXIT_NOTHING_FOUND
