"""Start the server under uvicorn: ``serve(settings)`` is what ``startref serve`` and ``python -m startref.server`` call.

Why an app factory read from the environment: with ``--workers N`` uvicorn starts N processes that each import the
app by name, so the settings travel to them as JSON in ``STARTREF_SERVER_SETTINGS``; each worker loads its own
models (memory grows with N). One worker with ``threads`` model threads is the default and suits a laptop.
"""

from __future__ import annotations

import logging
import os
import sys

from fastapi import FastAPI

from startref.server.settings import LOOPBACK_HOSTS, SETTINGS_ENV, ServerSettings

__all__ = ["serve", "app_from_env", "configure_logging"]

log = logging.getLogger("startref.server")


def configure_logging(level: str) -> None:
    """Log lines of ``startref.server`` go to stderr with a timestamp, at ``level``."""
    logger = logging.getLogger("startref")
    if not any(getattr(h, "_startref", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler._startref = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(level.upper())
    logger.propagate = False


def app_from_env() -> FastAPI:
    """uvicorn factory for worker processes: settings from ``STARTREF_SERVER_SETTINGS`` (defaults when unset)."""
    from startref.server.app import create_app

    raw = os.environ.get(SETTINGS_ENV)
    settings = ServerSettings.from_json(raw) if raw else ServerSettings()
    configure_logging(settings.log_level)
    return create_app(settings)


def serve(settings: ServerSettings) -> None:
    """Run the server in the foreground until interrupted (Ctrl-C)."""
    import uvicorn

    configure_logging(settings.log_level)
    if settings.host.strip("[]").lower() not in LOOPBACK_HOSTS and not settings.token:
        log.warning("binding %s without --token: anyone who can reach this address can use the server",
                    settings.host)
    log.info("startref server on http://%s:%d (docs at /docs; threads=%d, workers=%d)",
             settings.host, settings.port, settings.threads, settings.workers)
    common = dict(host=settings.host, port=settings.port, log_level=settings.log_level.lower(), access_log=False,
                  server_header=False, timeout_graceful_shutdown=5)
    if settings.workers > 1:
        os.environ[SETTINGS_ENV] = settings.to_json()
        uvicorn.run("startref.server.run:app_from_env", factory=True, workers=settings.workers, **common)
        return
    from startref.server.app import create_app

    uvicorn.run(create_app(settings), **common)
