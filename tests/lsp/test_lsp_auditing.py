"""The pieces of the in-editor audit that need no editor: the runner that supersedes stale audits, and reading
``startref.check.*`` in the shapes clients send."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from startref.lsp.settings import CheckSettings, read_check_settings


def test_a_newer_request_supersedes_the_running_audit() -> None:
    """The runner: the first audit of a document sees ``stale()`` turn True when a second is requested, stops,
    and only the second completes."""
    from startref.lsp.auditing import AuditRunner, Superseded, raise_if

    started, runs, errors = threading.Event(), [], []

    def job(uri: str, stale: Callable[[], bool]) -> None:
        started.set()
        progress = raise_if(stale)
        for _ in range(200):  # a long audit checking its progress at each citation
            progress("ranking", 0, 0)
            time.sleep(0.01)
        runs.append(uri)

    runner = AuditRunner(job, lambda uri, err: errors.append(err))
    runner.schedule("file:///a.tex")
    assert started.wait(5)
    runner.schedule("file:///a.tex")
    deadline = time.time() + 10
    while runner.completed < 1 and time.time() < deadline:
        time.sleep(0.05)
    assert (runner.completed, runner.superseded, runs, errors) == (1, 1, ["file:///a.tex"], [])
    assert issubclass(Superseded, Exception)


def test_settings_in_every_shape_clients_send() -> None:
    nested, _ = read_check_settings({"startref": {"check": {"enabled": False, "sensitivity": "high"}}})
    init, _ = read_check_settings({"check": {"minSeverity": "info", "run": "onType"}})
    dotted, _ = read_check_settings({"startref.check.sensitivity": "low"})
    assert nested == CheckSettings(enabled=False, sensitivity="high")
    assert init == CheckSettings(min_severity="info", run="onType")
    assert dotted == CheckSettings(sensitivity="low")
    assert read_check_settings(None) == (CheckSettings(), [])
    assert read_check_settings({"startref": {"other": 1}}) == (CheckSettings(), [])


def test_bad_settings_are_named_and_ignored() -> None:
    current = CheckSettings(sensitivity="high")
    got, problems = read_check_settings({"startref": {"check": {"sensitivity": "max", "enabled": "yes", "colour": 1}}},
                                        current)
    assert got == current
    assert len(problems) == 3 and any("'max'" in p and "low, default, high" in p for p in problems)
    assert any("startref.check.colour" in p for p in problems)
