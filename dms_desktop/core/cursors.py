"""Page cursors: the key of the last document a page returned, as an opaque string.

A cursor is base64 JSON of that key, checked on the way back in: a cursor from another user or
another listing (its key's attributes and types differ) is refused.
"""

from __future__ import annotations

import base64
import binascii
import json
from decimal import Decimal
from typing import Any

from .errors import ValidationError

_CURSOR_VERSION = 1


def encode_cursor(item: dict[str, Any], key_names: tuple[str, ...]) -> str:
    key = {name: item[name] for name in key_names}
    payload = json.dumps({"v": _CURSOR_VERSION, "k": key}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, user_id: str, key_types: dict[str, str]) -> dict[str, Any]:
    malformed = ValidationError(
        "The page cursor is malformed or belongs to another listing; start from the first page."
    )
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error) as exc:
        raise malformed from exc
    if not isinstance(payload, dict) or payload.get("v") != _CURSOR_VERSION:
        raise malformed
    key = payload.get("k")
    if not isinstance(key, dict) or set(key) != set(key_types):
        raise malformed
    for name, value in key.items():
        if not isinstance(value, dict) or len(value) != 1:
            raise malformed
        ((kind, raw),) = value.items()
        # A wrongly typed key is a ValidationException on DynamoDB but a server error on moto.
        if kind != key_types[name] or not isinstance(raw, str):
            raise malformed
        if kind == "N" and not _is_number(raw):
            raise malformed
    if key["userId"] != {"S": user_id}:
        raise malformed
    return key


def _is_number(text: str) -> bool:
    try:
        return Decimal(text).is_finite()
    except ArithmeticError:
        return False
