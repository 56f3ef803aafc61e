"""How big a DynamoDB item is, as DynamoDB meters it for a Query's 1 MB page (attribute names count
one byte each, as dynalite implements it): see sandbox.fast_query."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from moto.dynamodb.models.dynamo_type import DynamoType, Item


def read_size(attrs: Mapping[str, DynamoType], range_attr: str | None) -> int:
    """The size DynamoDB counts against a Query's 1 MB for one item (dynalite's model of it:
    names count one byte, each value its stored size, plus a per-item overhead that grows with
    the table's sort key). Strings count their UTF-8 bytes."""
    range_size = 0
    total = 0
    for name, value in attrs.items():
        if name == range_attr:
            range_size = _value_size(value)
            continue
        total += _stored_size(value) + 1
    return 2 + total + (1 + (1 + total) // 3072) * (18 + range_size)


class MeteredSizes:
    """The metered size of each stored item a Query has read, per index (its view of the item):
    measuring every item read was half the sandbox's time on a filtered page, which reads ten
    items for each one it returns. Kept by the stored item's identity, with the item itself, so
    an item replaced by a write is measured again; :meth:`forget` an item before it is changed
    in place (UpdateItem) or deleted. Callers hold the lock that guards the items."""

    def __init__(self) -> None:
        self._sizes: dict[int, tuple[Item, dict[str | None, int]]] = {}

    def size(self, item: Item, view: Item, index: str | None, range_attr: str | None) -> int:
        entry = self._sizes.get(id(item))
        if entry is None or entry[0] is not item:
            entry = self._sizes[id(item)] = (item, {})
        sizes = entry[1]
        size = sizes.get(index)
        if size is None:
            size = sizes[index] = read_size(view.attrs, range_attr)
        return size

    def forget(self, item: Item | None) -> None:
        if item is not None:
            self._sizes.pop(id(item), None)


def _value_size(value: DynamoType) -> int:
    kind, raw = value.type, value.value
    if kind == "S":
        return len(raw.encode("utf-8"))
    if kind == "N":
        return _number_size(raw)
    if kind == "B":
        return len(binary(raw))
    if kind == "SS":
        return sum(len(element.encode("utf-8")) for element in raw)
    if kind == "NS":
        return sum(_number_size(element) for element in raw)
    if kind == "BS":
        return sum(len(binary(element)) for element in raw)
    if kind in ("NULL", "BOOL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + _stored_size(element) for element in raw)
    if kind == "M":
        return 3 + len(raw) + sum(_stored_size(element) + 1 for element in raw.values())
    return 0


def _stored_size(value: DynamoType) -> int:
    size = _value_size(value)
    kind = value.type
    if kind == "S":
        return size + (1 if size < 128 else 2 if size < 16384 else 3)
    if kind in ("B", "N"):
        return size + 1
    if kind in ("SS", "NS", "BS"):
        return size + len(value.value) + 1
    if kind == "NULL":
        return 0
    return size


def _number_size(text: str) -> int:
    number = Decimal(text).normalize()
    if number.is_zero():
        return 1
    digits = len(number.as_tuple().digits)
    exponent = number.adjusted()
    return 1 + -(-digits // 2) + (0 if digits % 2 or exponent % 2 else 1) + number.is_signed()


def binary(raw: Any) -> bytes:
    return raw if isinstance(raw, bytes) else base64.b64decode(raw)
