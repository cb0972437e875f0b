"""Every error the engine sends is OpenAI's `{"error": {message, type, param, code}}`.

Routes raise `EngineError`; the handlers here turn it, FastAPI's validation errors, unknown
routes and unexpected exceptions into that shape. A traceback goes to the server log, never
into a response body.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from .._wire.error_bodies import error_payload
from ..errors import AudioDecodeError, InvalidInputError, MissingDependencyError
from .untrusted_json import TOO_DEEP

__all__ = ["EngineError", "ClientStalled", "install_error_handlers", "error_response", "bad_request",
           "model_not_found", "model_unavailable", "validation_message"]

log = logging.getLogger("nbaudio.server")


class EngineError(Exception):
    """An error response: status, message (what went wrong and how to fix it), param, code."""

    def __init__(self, status_code: int, message: str, *, param: str | None = None, code: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.param = param
        self.code = code
        self.headers = headers


class ClientStalled(OSError):
    """The client stopped reading the response; the engine gives up on the connection (not a server fault)."""


def bad_request(message: str, *, param: str | None = None, code: str | None = None) -> EngineError:
    """A 400: the request itself is wrong (`param` names the field)."""
    return EngineError(400, message, param=param, code=code)


def model_not_found(model: str, param: str = "model") -> EngineError:
    """A 404 for a model name this route does not answer, in OpenAI's words."""
    return EngineError(404, f"The model `{model}` does not exist or you do not have access to it.",
                       param=param, code="model_not_found")


def model_unavailable(what: str, exc: Exception) -> EngineError:
    """A 503 for a model whose weights are missing or fail their check (a WeightError)."""
    return EngineError(503, f"The {what} could not be loaded: {exc}", code="model_unavailable")


def error_response(status_code: int, message: str, *, param: str | None = None, code: str | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_payload(message, status_code=status_code, param=param, code=code),
                        status_code=status_code, headers=headers)


# Union member tags pydantic puts in `loc` (`voice.str`, `voice.dict[str,any]`): not parameter names.
_TYPE_TAGS = {"str", "int", "float", "bool", "list", "dict", "none"}


def _loc_param(loc: tuple[Any, ...] | list[Any]) -> str | None:
    parts = [p for p in loc if p not in ("body", "query", "path", "header")
             and not (isinstance(p, str) and (p in _TYPE_TAGS or "[" in p))]
    if not parts:
        return None
    out = str(parts[0])
    for p in parts[1:]:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def validation_message(errors: list[dict[str, Any]]) -> tuple[str, str | None]:
    """One OpenAI-style sentence for pydantic/FastAPI validation errors, and the first param."""
    msgs, first = [], None
    for e in errors:
        kind = e.get("type", "")
        param = None if kind == "json_invalid" else _loc_param(e.get("loc", ()))  # its loc is a position
        first = first or param
        if param is None and kind in ("missing", "model_attributes_type", "dict_type", "model_type"):
            msgs.append("The request body must be a JSON object with the endpoint's parameters "
                        "(e.g. {\"model\": ..., ...}).")
        elif kind == "missing":
            msgs.append(f"Missing required parameter: '{param}'.")
        elif kind == "json_invalid":
            msgs.append("We could not parse the JSON body of your request. (HINT: This likely means you aren't "
                        "using your HTTP library correctly. The OpenAI API expects a JSON payload.)")
        elif kind == "extra_forbidden":
            msgs.append(f"Unrecognized request argument supplied: {param}")
        else:
            got = e.get("input")
            got_s = repr(got) if not isinstance(got, (dict, list)) else type(got).__name__
            msgs.append(f"Invalid value for '{param}': {e.get('msg', 'invalid')} (got {got_s[:80]}).")
    return " ".join(msgs) or "Invalid request.", first


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(EngineError)
    async def _engine_error(request: Request, exc: EngineError) -> JSONResponse:
        return error_response(exc.status_code, exc.message, param=exc.param, code=exc.code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        # OpenAI answers malformed requests with 400, not FastAPI's 422.
        message, param = validation_message(list(exc.errors()))
        return error_response(400, message, param=param)

    @app.exception_handler(AudioDecodeError)
    async def _decode(request: Request, exc: AudioDecodeError) -> JSONResponse:
        return error_response(400, f"Invalid file: {exc.message}", param=exc.param or "file", code="invalid_value")

    @app.exception_handler(InvalidInputError)
    async def _invalid(request: Request, exc: InvalidInputError) -> JSONResponse:
        return error_response(400, exc.message, param=exc.param)

    @app.exception_handler(MissingDependencyError)
    async def _missing(request: Request, exc: MissingDependencyError) -> JSONResponse:
        return error_response(503, f"The local engine cannot do this here: {exc}", code="engine_unavailable")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            message = f"Invalid URL ({request.method} {request.url.path})"
        elif exc.status_code == 405:
            message = f"Method {request.method} is not allowed for {request.url.path}"
        elif exc.status_code == 400 and isinstance(exc.__cause__, (RecursionError, UnicodeDecodeError)):
            # FastAPI read the JSON body and raised this "from" what json.loads raised.
            why = f"{TOO_DEEP} to read" if isinstance(exc.__cause__, RecursionError) else "is not UTF-8 text"
            message = (f"We could not parse the JSON body of your request: it {why}. Send the endpoint's "
                       "parameters as a JSON object, as the API documents them.")
        else:
            message = str(exc.detail)
        return error_response(exc.status_code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, (ClientStalled, ClientDisconnect)):  # the client's doing: nobody is listening
            return error_response(499, "The client went away or stopped reading.")
        # The server boundary: log the traceback for the operator, answer without it.
        log.exception("unexpected error in %s %s", request.method, request.url.path)
        return error_response(500, f"The local engine failed while handling this request ({type(exc).__name__}); "
                                   "see the server log for details.")
