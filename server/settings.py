"""How the local server is configured: one frozen object built from CLI flags or the environment.

Why a module of its own: the CLI (``startref serve``), ``python -m startref.server`` and the tests build the same
settings, and ``serve`` has to hand them to uvicorn worker processes (as JSON in an environment variable) when
``--workers`` is above one. Keeping the settings plain data makes both easy.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

__all__ = ["ServerSettings", "LOOPBACK_HOSTS", "TOKEN_ENV", "SETTINGS_ENV", "default_threads", "extension_origin"]

#: Host names that always count as loopback, whatever the bind address (checked against the ``Host`` header).
LOOPBACK_HOSTS: frozenset[str] = frozenset({"localhost", "127.0.0.1", "::1"})
#: Environment variable that supplies the bearer token when ``--token`` is not given.
TOKEN_ENV = "STARTREF_TOKEN"
#: Environment variable through which ``serve`` passes settings to uvicorn worker processes.
SETTINGS_ENV = "STARTREF_SERVER_SETTINGS"


def default_threads() -> int:
    """Model threads per process: one per core, at least 1, at most 4 (more only queues inside torch)."""
    return max(1, min(4, os.cpu_count() or 1))


_EXTENSION_ID = re.compile(r"[a-p]{32}")


def extension_origin(extension_id: str) -> str:
    """``chrome-extension://ID`` for a Chromium extension id (32 letters a-p), so a typo cannot allow a wrong origin.

    Why a flag of its own: ``--allow-extension ID`` says what is allowed (one extension) without the user having to
    know how Chromium spells an extension's origin; the result is an ordinary ``allow_origins`` entry.
    """
    value = extension_id.strip().lower()
    if value.startswith("chrome-extension://"):
        value = value[len("chrome-extension://"):].rstrip("/")
    if not _EXTENSION_ID.fullmatch(value):
        raise ValueError(f"--allow-extension: {extension_id!r} is not a Chromium extension id (32 letters a-p)")
    return f"chrome-extension://{value}"


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
    #: The LM stage: how it works, and an optional model server for it (token: $STARTREF_GENERATOR_TOKEN).
    lm_mode: str = "score"
    generator_url: str | None = None
    generator_api: str = "openai"
    generator_model: str | None = None
    generator_timeout_s: float = 10.0
    #: How long a request waits for models still loading at startup before answering 503 ``not_ready``.
    ready_timeout_s: float = 120.0
    #: Per-request time limit, checked between stages (503 ``deadline_exceeded``; annotate returns what it filled).
    request_deadline_s: float = 10.0
    #: Placeholders filled per ``/v1/annotate`` request; the rest stay as written, with a warning.
    max_placeholders: int = 50
    #: ``/v1/annotate`` stops filling after this many seconds and returns what it filled (with a warning).
    annotate_budget_s: float = 4.0
    #: How long the server waits for a request body to arrive in full (408 ``request_timeout``).
    body_timeout_s: float = 30.0
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
        if self.lm_mode not in ("score", "constrained", "free"):
            raise ValueError(f"lm_mode must be score, constrained or free, got {self.lm_mode!r}")
        self.remote_config()  # a bad URL/API combination fails here, before the server starts
        object.__setattr__(self, "allow_origins", tuple(o.rstrip("/") for o in self.allow_origins))
        object.__setattr__(self, "library", tuple(self.library))

    def remote_config(self) -> Any:
        """The model server for the LM stage (a ``RemoteConfig``), or None for the in-process LM."""
        from startref.citations.remote.options import config_from_values

        return config_from_values(self.generator_url, self.generator_api, self.generator_model,
                                  self.generator_timeout_s, self.lm_mode)

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
            file_rules=self.file_rules,
            generator=self.model,
            use_generator=False if self.no_generator else None,
            device=self.device,
            encoder=self.encoder,
            model_dir=self.model_dir,
            lm_mode=self.lm_mode,
            remote=self.remote_config(),
            library=self.library,
        )

    @property
    def file_rules(self) -> Any:
        """The rules for every file a request makes the server read: ``.tex``/``.bib`` only, regular files,
        at most ``max_bib_bytes`` (imported lazily, like the engine)."""
        from startref.filerules import FileRules

        return FileRules.server(self.max_bib_bytes)

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
