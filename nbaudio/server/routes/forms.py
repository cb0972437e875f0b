"""The multipart form of `/audio/transcriptions` and `/audio/translations`, read field by field.

Parsed by hand rather than by FastAPI's `Form(...)` so every mistake gets OpenAI's wording and
the right `param`, and so the file is read with a cap instead of whole.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..._wire.spec import UPLOAD_FORMATS
from ...audio import AudioClip
from ...codec import guess_format
from .. import untrusted_json
from ..api_errors import EngineError, bad_request
from ..untrusted_json import UntrustedJSONError

__all__ = ["read_form", "text_field", "list_field", "bool_field", "float_field", "upload_clip"]


async def read_form(request: Request) -> Any:
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith("multipart/form-data"):
        raise bad_request("This endpoint expects multipart/form-data with a 'file' part "
                          f"(got Content-Type {ctype or 'none'!r}).", code="invalid_content_type")
    try:
        return await request.form(max_files=8, max_fields=64)
    except StarletteHTTPException as exc:  # starlette's multipart parser errors arrive as 400s
        raise bad_request(f"Could not parse the multipart body: {exc.detail}") from None


def text_field(form: Any, name: str) -> str | None:
    value = form.get(name)
    if value is None:
        return None
    if isinstance(value, UploadFile):
        raise bad_request(f"Invalid type for '{name}': expected a string, got a file.", param=name)
    return value


def list_field(form: Any, name: str) -> list[str]:
    """`name[]` (or `name`) given several times, comma-separated, or as a JSON list."""
    values = form.getlist(name + "[]") + form.getlist(name)
    out = []
    for v in values:
        if isinstance(v, UploadFile):
            raise bad_request(f"Invalid type for '{name}[]': expected strings.", param=f"{name}[]")
        v = v.strip()
        if v.startswith("["):  # some clients send the whole list as JSON
            try:
                items = untrusted_json.loads(v)
            except UntrustedJSONError as exc:
                raise bad_request(f"Invalid value for '{name}[]': {v[:80]!r} {exc}; send the names one per field "
                                  f"or comma-separated.", param=f"{name}[]") from None
            out.extend(str(x) for x in items)
        else:
            out.extend(x.strip() for x in v.split(",") if x.strip())
    return out


def bool_field(form: Any, name: str) -> bool:
    v = text_field(form, name)
    if v is None or v == "":
        return False
    if v.lower() in ("true", "1"):
        return True
    if v.lower() in ("false", "0"):
        return False
    raise bad_request(f"Invalid value for '{name}': expected true or false, got {v!r}.", param=name)


def float_field(form: Any, name: str, lo: float, hi: float) -> float | None:
    v = text_field(form, name)
    if v is None or v == "":
        return None
    try:
        x = float(v)
    except ValueError:
        raise bad_request(f"Invalid type for '{name}': expected a number, got {v!r}.", param=name) from None
    if not lo <= x <= hi:
        raise bad_request(f"Invalid value for '{name}': {x} is outside [{lo}, {hi}].", param=name)
    return x


async def upload_clip(form: Any, max_bytes: int) -> AudioClip:
    """The `file` part as a clip, read up to `max_bytes` (413 beyond), its format from its bytes."""
    upload = form.get("file")
    if upload is None:
        raise bad_request("Missing required parameter: 'file'.", param="file")
    if not isinstance(upload, UploadFile):
        raise bad_request("Invalid type for 'file': send the audio as a file part "
                          "(multipart with a filename), not as a text field.", param="file")
    data = await upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise EngineError(413, f"The file is larger than {max_bytes // (1024 * 1024)} MB; split or compress it.",
                          param="file", code="file_too_large")
    name = upload.filename or "audio"
    if not data:
        raise bad_request(f"The file '{name}' is empty (0 bytes).", param="file", code="empty_file")
    fmt = guess_format(data, name)
    if fmt is None:
        raise EngineError(415, f"Unsupported file format for '{name}': the bytes are not audio in any supported "
                               f"format. Supported formats: {', '.join(UPLOAD_FORMATS)}.",
                          param="file", code="unsupported_file_format")
    return AudioClip(data, fmt, name=name)
