"""How the local server is configured: one frozen object built from CLI flags or the environment.

Why a module of its own: the CLI (``startref serve``), ``python -m startref.server`` and the tests build the same
settings, and ``serve`` has to hand them to uvicorn worker processes (as JSON in an environment variable) when
``--workers`` is above one. Keeping the settings plain data makes both easy.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

__all__ = ["ServerSettings", "LOOPBACK_HOSTS", "TOKEN_ENV", "SETTINGS_ENV", "default_threads"]

#: Host names that always count as loopback, whatever the bind address (checked against the ``Host`` header).
LOOPBACK_HOSTS: frozenset[str] = frozenset({"localhost", "127.0.0.1", "::1"})
#: Environment variable that supplies the bearer token when ``--token`` is not given.
TOKEN_ENV = "STARTREF_TOKEN"
#: Environment variable through which ``serve`` passes settings to uvicorn worker processes.
SETTINGS_ENV = "STARTREF_SERVER_SETTINGS"


def default_threads() -> int:
    """Model threads per process: one per core, at least 1, at most 4 (more only queues inside torch)."""
    return max(1, min(4, os.cpu_count() or 1))


def _env_token() -> str | None:
    token = os.environ.get(TOKEN_ENV, "").strip()
    return token or None


@dataclass(frozen=True)
class ServerSettings:
    """Everything the server needs to start; defaults are the safe local ones (loopback, no CORS).

    ``threads`` bounds how many model calls run at once per process (requests beyond it wait their turn off the
    event loop); ``workers`` is the number of uvicorn processes, each with its own models (memory x workers).
    """

    host: str = "127.0.0.1"
    port: int = 8765
    token: str | None = field(default_factory=_env_token)
    allow_origins: tuple[str, ...] = ()
    max_body_bytes: int = 8 * 1024 * 1024
    max_bib_bytes: int = 20 * 1024 * 1024
    model: str | None = None
    device: str = "cpu"
    no_generator: bool = False
    encoder: str | None = None
    model_dir: str | None = None
    workers: int = 1
    threads: int = field(default_factory=default_threads)
    log_level: str = "info"
    #: How long a request waits for models still loading at startup before answering 503 ``not_ready``.
    ready_timeout_s: float = 120.0
    #: Library sources ranked with each request's bibliography (``--library``; see ``citations.library``).
    library: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be 0..65535, got {self.port}")
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1, got {self.workers}")
        if self.threads < 1:
            raise ValueError(f"threads must be at least 1, got {self.threads}")
        if self.device not in ("cpu", "cuda", "mps"):
            raise ValueError(f"device must be cpu, cuda or mps, got {self.device!r}")
        object.__setattr__(self, "allow_origins", tuple(o.rstrip("/") for o in self.allow_origins))
        object.__setattr__(self, "library", tuple(self.library))

    @property
    def allowed_hosts(self) -> frozenset[str]:
        """Host names accepted in the ``Host`` header: loopback names plus an explicit non-wildcard bind address."""
        bound = self.host.strip("[]").lower()
        if bound and bound not in ("0.0.0.0", "::"):
            return LOOPBACK_HOSTS | {bound}
        return LOOPBACK_HOSTS

    def engine_config(self) -> Any:
        """The ``EngineConfig`` these settings ask for (imported lazily so settings load without torch)."""
        from startref.citations.engine import EngineConfig

        return EngineConfig(
            generator=self.model,
            use_generator=False if self.no_generator else None,
            device=self.device,
            encoder=self.encoder,
            model_dir=self.model_dir,
            library=self.library,
        )

    def with_changes(self, **changes: Any) -> ServerSettings:
        """A copy with some fields changed (the dataclass is frozen)."""
        return replace(self, **changes)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: str) -> ServerSettings:
        data = json.loads(raw)
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in data.items() if k in known}
        if "allow_origins" in data:
            data["allow_origins"] = tuple(data["allow_origins"])
        return cls(**data)
