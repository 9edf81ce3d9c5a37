"""The client's settings for the citation audit (``startref.check.*``), read the way LSP clients send them.

Why accept several shapes: editors disagree. VS Code-style clients and Neovim's ``settings = {startref = {check =
{...}}}`` send nested objects through ``workspace/didChangeConfiguration``; eglot and Helix put the server's own part
in ``initializationOptions`` (``{"check": {...}}``); some users write dotted keys (``"startref.check.enabled"``).
All three mean the same, so all three are read; an unknown value is reported (a log line), never fatal.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from startref.citations.audit import SENSITIVITIES, SEVERITIES

__all__ = ["CheckSettings", "RUN_MODES", "read_check_settings"]

#: When the audit reruns: on open and save only (default: it ranks every citation of the document), or also
#: while typing (after ``TYPE_DELAY_S`` of quiet).
RUN_MODES: tuple[str, ...] = ("onSave", "onType")


@dataclass(frozen=True)
class CheckSettings:
    """``startref.check.enabled`` / ``sensitivity`` / ``minSeverity`` / ``run``, with their defaults."""

    enabled: bool = True
    sensitivity: str = "default"
    min_severity: str = "warning"
    run: str = "onSave"


#: The values each setting may take.
_ALLOWED: dict[str, tuple[Any, ...]] = {"enabled": (True, False), "sensitivity": SENSITIVITIES,
                                        "min_severity": SEVERITIES, "run": RUN_MODES}
_FIELDS = {"enabled": "enabled", "sensitivity": "sensitivity", "minSeverity": "min_severity",
           "min_severity": "min_severity", "run": "run"}


def _check_part(value: Any) -> dict[str, Any] | None:
    """The ``check`` object inside whatever shape the client sent, or None when it sent none."""
    if not isinstance(value, dict):
        return None
    found: dict[str, Any] = {}
    for key, item in value.items():  # dotted keys: {"startref.check.enabled": false} or {"check.enabled": false}
        if isinstance(key, str) and key.count(".") >= 1:
            parts = key.split(".")
            if parts[0] == "startref":
                parts = parts[1:]
            if len(parts) == 2 and parts[0] == "check":
                found[parts[1]] = item
    inner = value.get("startref", value)
    if isinstance(inner, dict) and isinstance(inner.get("check"), dict):
        found = {**inner["check"], **found}
    return found if found else None


def read_check_settings(value: Any, current: CheckSettings | None = None) -> tuple[CheckSettings, list[str]]:
    """``current`` updated with what ``value`` (initializationOptions or didChangeConfiguration's settings) says,
    and a message for each value that was ignored."""
    settings = current or CheckSettings()
    part = _check_part(value)
    if part is None:
        return settings, []
    problems: list[str] = []
    changes: dict[str, Any] = {}
    for name, item in part.items():
        field = _FIELDS.get(name)
        if field is None:
            problems.append(f"unknown setting startref.check.{name} ignored")
            continue
        allowed = _ALLOWED[field]
        if item in allowed and (field != "enabled" or isinstance(item, bool)):
            changes[field] = item
        else:
            shown = ", ".join(str(a).lower() for a in allowed)
            problems.append(f"startref.check.{name} {item!r} ignored (expected {shown})")
    return replace(settings, **changes), problems
