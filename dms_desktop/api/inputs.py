"""Requests of the web API, read from API Gateway proxy events and checked field by field.

The rules are the core's (filenames, tags, folders, page sizes, document ids); this module only
reads the JSON and query strings and names the field each problem belongs to.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import pydantic
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from ..core.errors import ValidationError
from ..core.ids import is_document_id
from ..core.listing import MAX_PAGE_SIZE, ListQuery
from ..core.localfiles import guess_file_type
from ..core.models import normalize_filename, normalize_folder, normalize_tag, normalize_tags

MAX_UPLOAD_BYTES = 5 * 1024**3  # one presigned PUT: S3's single-request limit
DEFAULT_PAGE_SIZE = 50
MAX_FILE_TYPE_CHARS = 255

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
# RFC 6838 restricted names: type "/" subtype, lower-cased here.
_MIME_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")
_IDEMPOTENCY_KEY = r"^[A-Za-z0-9_.:-]{1,128}$"


class InvalidInput(ValidationError):
    """One or more fields of the request are invalid; ``fields`` maps each to its problem."""

    def __init__(self, fields: Mapping[str, str]) -> None:
        self.fields = dict(fields)
        super().__init__(
            "The request is invalid: "
            + "; ".join(f"{name}: {problem}" for name, problem in self.fields.items())
        )


def _checksum(value: str) -> str:
    lowered = value.lower()
    if not _SHA256_HEX.fullmatch(lowered):
        raise ValidationError("The checksum must be the SHA-256 of the file as 64 hex digits.")
    return lowered


def _file_type(value: str) -> str:
    lowered = value.strip().lower()
    if len(lowered) > MAX_FILE_TYPE_CHARS or not _MIME_TYPE.fullmatch(lowered):
        raise ValidationError(
            f"{value[:40]!r} is not a media type; use one such as 'application/pdf'."
        )
    return lowered


class CreateDocumentInput(BaseModel):
    """The body of ``POST /documents``. There is no ``userId`` field: it comes from sign-in."""

    model_config = ConfigDict(alias_generator=to_camel, extra="forbid", strict=True, frozen=True)

    filename: Annotated[str, AfterValidator(normalize_filename)]
    size: int = Field(ge=0, le=MAX_UPLOAD_BYTES)
    checksum: Annotated[str, AfterValidator(_checksum)]
    file_type: Annotated[str, AfterValidator(_file_type)] | None = None
    tags: Annotated[tuple[str, ...], AfterValidator(normalize_tags)] = ()
    folder: Annotated[str, AfterValidator(normalize_folder)] = ""
    client_token: str | None = Field(default=None, pattern=_IDEMPOTENCY_KEY)

    @property
    def media_type(self) -> str:
        """The given file type, or the one the filename suggests."""
        return self.file_type or guess_file_type(self.filename)

    def fingerprint(self) -> str:
        """SHA-256 of what this request asks for (without the client token): a retry with the
        same client token must ask for the same document."""
        wanted = self.model_dump(by_alias=True, exclude={"client_token"})
        wanted["fileType"] = self.media_type
        canonical = json.dumps(wanted, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def parse_create_input(body: Any, is_base64: bool = False) -> CreateDocumentInput:
    if not isinstance(body, str) or not body.strip():
        raise InvalidInput({"body": "The request needs a JSON object body."})
    if is_base64:
        try:
            body = base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise InvalidInput({"body": "The body is not UTF-8 JSON."}) from exc
    try:
        return CreateDocumentInput.model_validate_json(body)
    except pydantic.ValidationError as exc:
        raise InvalidInput(_field_problems(exc)) from exc


def _field_problems(exc: pydantic.ValidationError) -> dict[str, str]:
    problems: dict[str, str] = {}
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "body"
        kind = error["type"]
        cause = error.get("ctx", {}).get("error")
        if isinstance(cause, ValidationError):
            problem = cause.message  # the core's own message
        elif kind == "missing":
            problem = "This field is required."
        elif kind == "extra_forbidden":
            problem = "Not a field of this request."
        elif kind == "json_invalid":
            problem = "The body is not valid JSON."
        elif kind == "model_type":
            problem = "The body must be a JSON object."
        else:
            problem = error["msg"] + "."
        problems.setdefault(field, problem)
    return problems


@dataclass(frozen=True)
class ListInput:
    """``GET /documents``: newest first, ``limit`` per page, an optional tag filter."""

    query: ListQuery
    next_token: str | None


def parse_list_input(parameters: Any) -> ListInput:
    if parameters is None:
        parameters = {}
    if not isinstance(parameters, Mapping):
        raise InvalidInput({"queryStringParameters": "The query parameters are malformed."})
    problems: dict[str, str] = {}
    for name, value in parameters.items():
        if not isinstance(value, str):
            problems[str(name)] = "A query parameter must be text."
    for unknown in sorted(set(map(str, parameters)) - {"limit", "nextToken", "tag"}):
        problems[unknown] = "Not a parameter of this request (limit, nextToken, tag)."
    if problems:
        raise InvalidInput(problems)
    page_size = DEFAULT_PAGE_SIZE
    tag: str | None = None
    if "limit" in parameters:
        text = parameters["limit"].strip()
        if not (text.isdecimal() and text.isascii()):
            problems["limit"] = "The limit must be a whole number."
        elif len(text.lstrip("0")) > len(str(MAX_PAGE_SIZE)):  # never int() of 5,000 digits
            problems["limit"] = f"The limit must be at most {MAX_PAGE_SIZE}."
        else:
            page_size = int(text.lstrip("0") or "0")
    if "tag" in parameters:
        try:
            tag = normalize_tag(parameters["tag"])
        except ValidationError as exc:
            problems["tag"] = exc.message
    next_token = parameters.get("nextToken") or None
    try:
        query = ListQuery(page_size=page_size, tag=tag)
    except ValidationError as exc:
        problems.setdefault("limit", exc.message)
    if problems:
        raise InvalidInput(problems)
    return ListInput(query, next_token)


def parse_document_id(path_parameters: Any) -> str:
    value = path_parameters.get("documentId") if isinstance(path_parameters, Mapping) else None
    text = value if isinstance(value, str) else ""
    if not is_document_id(text):
        raise InvalidInput(
            {
                "documentId": f"{text[:60]!r} is not a document id "
                "(ids are UUIDs such as 01938f2c-7a4e-7b1a-9c3d-5e6f7a8b9c0d)."
            }
        )
    return text


def parse_permanently(parameters: Any) -> bool:
    """``DELETE /documents/{documentId}``'s one query parameter: ``permanently=true`` deletes for
    good; without it (or ``false``) the document moves to the trash."""
    if parameters is None:
        return False
    if not isinstance(parameters, Mapping):
        raise InvalidInput({"queryStringParameters": "The query parameters are malformed."})
    unknown = sorted(set(map(str, parameters)) - {"permanently"})
    if unknown:
        raise InvalidInput(
            {name: "Not a parameter of this request (permanently)." for name in unknown}
        )
    value = parameters.get("permanently")
    text = value.strip().lower() if isinstance(value, str) else None
    if text not in ("true", "false"):
        raise InvalidInput({"permanently": "Either true or false."})
    return text == "true"
