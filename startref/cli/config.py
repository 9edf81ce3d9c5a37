"""``startref config``: show or change ``~/.config/startref/config.toml`` (XDG_CONFIG_HOME honoured).

    startref config                                   # the file's path and every setting
    startref config set library.sources ~/Zotero/zotero.sqlite,~/papers/library.bib
    startref config set library.append_to refs.bib
    startref config unset library.sources
"""

from __future__ import annotations

import argparse
from typing import Any

from startref.cli.errors import EXIT_OK, CliError
from startref.cli.output import print_json

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add ``config`` to the ``startref`` parser."""
    parser = subparsers.add_parser(
        "config",
        help="show or set your configuration (the library: Zotero, a Better BibTeX export, a big .bib)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("action", nargs="?", choices=("show", "set", "unset", "path"), default="show")
    parser.add_argument("key", nargs="?", help="library.sources | library.append_to | library.enabled")
    parser.add_argument("value", nargs="?", help="the value (a list is comma-separated)")
    parser.add_argument("--json", action="store_true", help="print the settings as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from startref.citations.library.config import (
        KNOWN_KEYS,
        ConfigError,
        config_path,
        dump_toml,
        load_config,
        set_value,
        unset_value,
    )

    try:
        if args.action == "path":
            print(config_path())
            return EXIT_OK
        if args.action == "set":
            if not args.key or args.value is None:
                raise CliError("usage: startref config set KEY VALUE  (keys: " + ", ".join(KNOWN_KEYS) + ")",
                               code="bad_usage")
            print(f"wrote {set_value(args.key, args.value)}")
            return EXIT_OK
        if args.action == "unset":
            if not args.key:
                raise CliError("usage: startref config unset KEY", code="bad_usage")
            print(f"wrote {unset_value(args.key)}")
            return EXIT_OK
        config = load_config()
    except ConfigError as err:
        raise CliError(str(err), code="bad_config") from None
    if args.json:
        print_json({"path": str(config_path()), "config": config})
    else:
        print(f"# {config_path()}" + ("" if config_path().exists() else " (does not exist yet)"))
        print(dump_toml(config), end="")
    return EXIT_OK
