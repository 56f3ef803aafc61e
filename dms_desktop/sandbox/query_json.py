"""A covered Query's items written out as DynamoDB JSON (with ``json.dumps``, not moto's
model-driven serializer), see ``fast_query``."""

from __future__ import annotations

import base64
from typing import Any

from moto.dynamodb.models.dynamo_type import DynamoType, Item

from dms_desktop.sandbox.item_sizes import binary


class JsonItem:
    """An item of a Query's response, as DynamoDB JSON (what moto's handler reads of it)."""

    __slots__ = ("attrs",)

    def __init__(self, item: Item) -> None:
        self.attrs = {name: json_value(value) for name, value in item.attrs.items()}


def json_value(value: DynamoType) -> dict[str, Any]:
    kind, raw = value.type, value.value
    if kind in _SCALARS:
        return {kind: raw}
    if kind == "L":
        return {"L": [json_value(element) for element in raw]}
    if kind == "M":
        return {"M": {name: json_value(element) for name, element in raw.items()}}
    if kind == "B":
        return {"B": _base64(raw)}
    if kind == "BS":
        return {"BS": [_base64(element) for element in raw]}
    if kind in ("SS", "NS"):
        return {kind: list(raw)}
    return {kind: raw}


_SCALARS = frozenset({"S", "N", "BOOL", "NULL"})


def _base64(raw: str | bytes) -> str:
    return base64.b64encode(binary(raw)).decode("ascii")
