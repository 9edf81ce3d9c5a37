"""Generation on a model server (vLLM, llama.cpp's server, SGLang, TGI, Ollama: any OpenAI-compatible
``/v1/completions``), behind the same ``Generator`` contract as the in-process LM.

Modules, each with one job: ``config`` (where and how patiently), ``payloads`` (request bodies per API and mode),
``gbnf`` (llama.cpp grammar from titles), ``parse`` (answers and log-probs), ``client`` (HTTP, deadline, retries),
``breaker`` (circuit breaker), ``generator`` (the contract), ``health`` (what doctor and /v1/info report).
"""

from startref.citations.remote.breaker import CircuitBreaker
from startref.citations.remote.config import GENERATOR_APIS, TOKEN_ENV, RemoteConfig
from startref.citations.remote.errors import GeneratorRequestError, GeneratorUnavailable, RemoteGeneratorError
from startref.citations.remote.generator import RemoteGenerator

__all__ = [
    "RemoteConfig",
    "RemoteGenerator",
    "CircuitBreaker",
    "RemoteGeneratorError",
    "GeneratorUnavailable",
    "GeneratorRequestError",
    "GENERATOR_APIS",
    "TOKEN_ENV",
]
