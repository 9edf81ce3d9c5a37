"""The local HTTP model server (FastAPI). It only translates requests to citations/ and latex/.

Public surface: ``ServerSettings`` (plain data, imports nothing heavy), ``create_app`` and ``serve`` (imported on
first use, so ``import startref.server`` works without FastAPI/uvicorn until the server is actually built).
"""

from __future__ import annotations

from typing import Any

from startref.server.settings import ServerSettings

__all__ = ["ServerSettings", "create_app", "serve"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from startref.server.app import create_app

        return create_app
    if name == "serve":
        from startref.server.run import serve

        return serve
    raise AttributeError(f"module 'startref.server' has no attribute {name!r}")
