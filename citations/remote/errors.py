"""What can go wrong when startref asks a model server to generate, as two kinds the engine treats differently.

    ModelError (startref.citations.errors)
    └── RemoteGeneratorError          base: the LM stage could not use the model server for this request
        ├── GeneratorUnavailable      down, slow (timeout), 5xx/429, or the circuit breaker is open: retried, and
        │                             counted by the breaker; the engine answers from the ranker alone
        └── GeneratorRequestError     the server refused the request (4xx: wrong model name, unsupported
                                      parameter): not retried, since the same request would fail the same way

Either way a suggestion still comes back (ranked without the LM) with the message as ``generator_error``.
"""

from __future__ import annotations

from startref.citations.errors import ModelError

__all__ = ["RemoteGeneratorError", "GeneratorUnavailable", "GeneratorRequestError"]


class RemoteGeneratorError(ModelError):
    """The model server could not serve a generation or scoring call."""

    code = "generator_error"


class GeneratorUnavailable(RemoteGeneratorError):
    """The server did not answer in time, or answered with a transient error; worth retrying later."""

    code = "generator_unavailable"


class GeneratorRequestError(RemoteGeneratorError):
    """The server rejected the request itself (HTTP 4xx); the message carries the server's own explanation."""

    code = "generator_request_rejected"
