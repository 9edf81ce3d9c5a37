"""The user's configuration file: ``$XDG_CONFIG_HOME/startref/config.toml`` (default ``~/.config/startref``).

Why a file: a library is set up once (where the Zotero database or the Better BibTeX export lives) and every
command, the server and the editors use it; flags (``--library``) still win for one run. Read with the standard
library's ``tomllib``; written by ``startref config set`` as a small TOML document of our own keys (the file
holds only what this module writes, so nothing a person added by hand beyond those keys is lost: unknown keys are
kept).

    [library]
    sources = ["~/Zotero/zotero.sqlite", "~/papers/library.bib"]
    append_to = "refs.bib"     # optional: which of the paper's .bib files receives new entries
    enabled = true
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from startref.citations.errors import StartrefError
from startref.fileio import atomic_write_bytes

__all__ = ["config_path", "load_config", "save_config", "set_value", "unset_value", "library_sources",
           "ConfigError", "KNOWN_KEYS"]

#: Keys ``startref config set`` accepts, with their type.
KNOWN_KEYS: dict[str, type] = {"library.sources": list, "library.append_to": str, "library.enabled": bool}


class ConfigError(StartrefError):
    """The configuration file cannot be read or a value is invalid; the message names the file (and line)."""

    code = "bad_config"


def config_path() -> Path:
    """``$STARTREF_CONFIG`` if set, else ``$XDG_CONFIG_HOME/startref/config.toml``, else ``~/.config/…``."""
    explicit = os.environ.get("STARTREF_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CONFIG_HOME", "").strip()
    base = Path(xdg).expanduser() if xdg and Path(xdg).is_absolute() else Path.home() / ".config"
    return base / "startref" / "config.toml"


def load_config(path: Path | None = None) -> dict[str, Any]:
    """The configuration as a dict (empty when the file does not exist)."""
    p = path or config_path()
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as err:
        raise ConfigError(f"{p}: cannot read the configuration: {err.strerror or err}") from None
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise ConfigError(f"{p}: not valid TOML: {err}") from None


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise ConfigError(f"cannot write {value!r} to the configuration")


def dump_toml(config: Mapping[str, Any]) -> str:
    """TOML text for a two-level configuration (top-level values, then one table per section)."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in config.items() if not isinstance(v, Mapping)]
    for section, values in config.items():
        if isinstance(values, Mapping):
            if lines:
                lines.append("")
            lines.append(f"[{section}]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in values.items()]
    return "\n".join(lines) + "\n"


def save_config(config: Mapping[str, Any], path: Path | None = None) -> Path:
    """Write the configuration atomically (the directory is created)."""
    p = path or config_path()
    p.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(p, dump_toml(config).encode("utf-8"))
    return p


def _parse(key: str, raw: str) -> Any:
    kind = KNOWN_KEYS.get(key)
    if kind is None:
        raise ConfigError(f"unknown setting {key!r}; known: {', '.join(KNOWN_KEYS)}")
    if kind is bool:
        low = raw.strip().lower()
        if low not in ("true", "false", "yes", "no", "on", "off", "1", "0"):
            raise ConfigError(f"{key} is true or false, got {raw!r}")
        return low in ("true", "yes", "on", "1")
    if kind is list:
        return [part.strip() for part in raw.split(",") if part.strip()]
    return raw


def set_value(key: str, raw: str, path: Path | None = None) -> Path:
    """``startref config set library.sources a.bib,~/Zotero/zotero.sqlite`` (a list is comma-separated)."""
    value = _parse(key, raw)
    config = load_config(path)
    section, _, name = key.partition(".")
    table = dict(config.get(section, {}))
    table[name] = value
    config[section] = table
    return save_config(config, path)


def unset_value(key: str, path: Path | None = None) -> Path:
    if key not in KNOWN_KEYS:
        raise ConfigError(f"unknown setting {key!r}; known: {', '.join(KNOWN_KEYS)}")
    config = load_config(path)
    section, _, name = key.partition(".")
    table = dict(config.get(section, {}))
    table.pop(name, None)
    config[section] = table
    return save_config(config, path)


def library_sources(config: Mapping[str, Any] | None = None) -> tuple[str, ...]:
    """The configured library sources (none when ``library.enabled`` is false)."""
    cfg = load_config() if config is None else config
    lib = cfg.get("library", {})
    if not isinstance(lib, Mapping) or lib.get("enabled", True) is False:
        return ()
    sources = lib.get("sources", [])
    if isinstance(sources, str):
        sources = [sources]
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        raise ConfigError(f"{config_path()}: library.sources must be a list of paths")
    return tuple(sources)
