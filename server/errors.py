"""Every error the server returns, in one JSON shape: ``{"error": {"code": "...", "message": "..."}}``.

Why: editors and scripts branch on ``code`` (stable names) and show ``message`` (written for the user, naming the
file and line when there is one). Engine exceptions already carry a ``code`` attribute, so mapping is a table
lookup; nothing a user sends may surface as a 500 with a traceback.

Status per code (anything not listed: 400 for user-input errors, 500 ``internal_error`` for bugs):

    400 forbidden_path, bibliography_empty, bibliography_unreadable, file_unreadable, binary_input, bad_request,
        invalid_input
    401 unauthorized              403 forbidden_host, forbidden_origin
    404 bibliography_not_found, not_found            405 method_not_allowed       408 request_timeout
    413 payload_too_large, bibliography_too_large, file_too_large
    422 invalid_request, cursor_out_of_range
    500 internal_error
    503 not_ready, model_not_found, model_error, deadline_exceeded

README.md's error table lists exactly these; ``tests/server/test_error_table.py`` keeps the two (and every code the
server and the engine can raise) in step.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

__all__ = [
    "ApiError",
    "STATUS_BY_CODE",
    "error_body",
    "error_response",
    "status_for_code",
    "api_error_from_exception",
    "install_error_handlers",
]

log = logging.getLogger("startref.server")

STATUS_BY_CODE: dict[str, int] = {
    "bad_request": 400,
    "forbidden_path": 400,
    "bibliography_empty": 400,
    "bibliography_unreadable": 400,
    "file_unreadable": 400,
    "binary_input": 400,
    "invalid_input": 400,  # StartrefError's own code: an engine input error without a more specific one
    "unauthorized": 401,
    "forbidden_host": 403,
    "forbidden_origin": 403,
    "bibliography_not_found": 404,
    "not_found": 404,
    "method_not_allowed": 405,
    "request_timeout": 408,
    "payload_too_large": 413,
    "bibliography_too_large": 413,
    "file_too_large": 413,
    "invalid_request": 422,
    "cursor_out_of_range": 422,
    "not_ready": 503,
    "model_not_found": 503,
    "model_error": 503,
    "deadline_exceeded": 503,
    "internal_error": 500,
}


def status_for_code(code: str) -> int:
    """HTTP status of an error code; unknown codes are user-input errors (400), never 500."""
    return STATUS_BY_CODE.get(code, 400)


class ApiError(Exception):
    """An error the server answers with on purpose (raised by the server's own checks)."""

    def __init__(self, code: str, message: str, status: int | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status if status is not None else status_for_code(code)
        self.headers = headers or {}


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def error_response(code: str, message: str, status: int | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(code, message), status_code=status or status_for_code(code), headers=headers)


def api_error_from_exception(exc: BaseException) -> ApiError | None:
    """Translate an engine/latex exception that carries a ``code`` into an ApiError; None for anything else.

    Model problems (``model_not_found``/``model_error``) are the server's configuration, not the request, so they
    map to 503; every other coded exception is about the user's input.
    """
    if isinstance(exc, ApiError):
        return exc
    code = getattr(exc, "code", None)
    if isinstance(code, str) and code:
        retry = {"Retry-After": "1"} if code == "deadline_exceeded" else None  # its finished work is cached
        return ApiError(code, str(exc) or code, headers=retry)
    from startref.citations.errors import BibliographyError, ModelError, ModelNotFoundError, StartrefError
    from startref.latex.errors import LatexInputError

    if isinstance(exc, BibliographyError):  # an uncoded one: tell "missing" from "there but unusable" by the disk
        path = Path(str(getattr(exc, "path", "")))
        missing = bool(str(path)) and not path.exists() and not path.is_symlink()
        return ApiError("bibliography_not_found" if missing else "bibliography_unreadable", str(exc))
    if isinstance(exc, LatexInputError):
        return ApiError("bad_request", str(exc))
    if isinstance(exc, ModelNotFoundError):
        return ApiError("model_not_found", str(exc))
    if isinstance(exc, ModelError):
        return ApiError("model_error", str(exc))
    if isinstance(exc, StartrefError):
        return ApiError("bad_request", str(exc))
    return None


def _validation_message(exc: RequestValidationError) -> str:
    """One readable line per problem: ``k: Input should be less than or equal to 50``."""
    parts = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            where = err.get("loc", ("body", "?"))[-1]
            reason = (err.get("ctx") or {}).get("error", "invalid JSON")
            parts.append(f"request body is not valid JSON: {reason} at character {where}")
            continue
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}")
    return "; ".join(parts) or "invalid request"


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large", 401: "unauthorized"}


def install_error_handlers(app: FastAPI) -> None:
    """Register handlers so every error, including FastAPI's own, leaves in the one JSON shape."""

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.code, exc.message, exc.status, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response("invalid_request", _validation_message(exc), 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "bad_request" if exc.status_code < 500 else "internal_error")
        return error_response(code, str(exc.detail), exc.status_code, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        mapped = api_error_from_exception(exc)
        if mapped is not None:
            return error_response(mapped.code, mapped.message, mapped.status)
        log.exception("internal error on %s %s", request.method, request.url.path)
        return error_response("internal_error", f"internal error ({type(exc).__name__}); see the server log", 500)
