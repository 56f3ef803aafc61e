"""DynamoDB Queries in the sandbox at DynamoDB's cost: O(log n + page), not O(table) per page.

moto answers a Query by collecting every item of the table, sorting them all and copying the
ones it returns, for every page, and writes the page out through a model-driven serializer that
walks each attribute value against the service model: a page cost more the larger the table, and
a scroll through a partition was quadratic. DynamoDB keeps each partition in sort-key order, for
the table and for each index. So does this module, beside moto's own item storage: per partition,
a sorted list of the items' sort keys, one for the table and one for each index a Query has used,
built on that Query's first visit and kept in step by every write from then on. moto stays the
engine: it parses and validates the request, evaluates the filter and projection expressions and
makes every write; only the choice of the items read, and the writing of the response's JSON,
come from here.

:func:`install` changes these parts of moto (process-wide, idempotent; each hook calls the method
it replaces, so other hooks on the same methods, such as the write-ahead log's, keep working):

- ``Table.query`` answers a Query from the sorted lists when it has the shapes below, and calls
  moto's own ``query``, unchanged, otherwise.
- ``Table.put_item``, ``Table.delete_item`` and ``DynamoDBBackend.update_item`` (through which
  PutItem, BatchWriteItem, TransactWriteItems, DeleteItem and UpdateItem change items, conditional
  or not) update the sorted lists of the item's partition, if they have been built.
- ``DynamoHandler.query`` and ``DynamoResult`` (moto's DynamoDB response): a Query answered here
  is written out with ``json.dumps``, every other response by moto's serializer as before.

What a covered Query does, as DynamoDB does (and moto does not):

- It reads the items in sort-key order from the key condition's first match (or from just after
  ``ExclusiveStartKey``), in either direction, and stops after ``Limit`` items or once it has read
  1 MB, whichever comes first; then it returns a ``LastEvaluatedKey``, even when no further item
  follows (moto omits the key at such an exact page boundary). ``FilterExpression`` is applied
  to the items read, so a filtered page costs what it reads. The size of an item is counted the
  way DynamoDB meters it (names count one byte, see :func:`read_size`), which is what dynalite
  implements; moto counts names in full and stops before the item that crosses 1 MB.
- Items that share an index's sort key are ordered by the table's key (moto's order; DynamoDB's
  is unspecified).

Covered: a ``KeyConditionExpression`` (or ``KeyConditions``) on the table or on an index with one
partition key and one sort key, both strings or numbers; the key condition's sort key part any
of ``=``, ``<``, ``<=``, ``>``, ``>=``, ``BETWEEN``, ``begins_with``; any ``FilterExpression``,
``ProjectionExpression``, ``Select``, ``Limit``, ``ScanIndexForward``; an ``ExclusiveStartKey``
with the index's and the table's key attributes, inside the key condition. Anything else (a
table without a sort key, binary keys, multi-attribute keys, ``QueryFilter``, a start key that
DynamoDB would reject, an index whose items have keys of the wrong type) is answered by moto.
Each such shape is logged once at INFO, with its reason.

The sorted lists are not saved: they are built again from moto's items after a restart (and
after a failed TransactWriteItems, which moto undoes by putting back a copy of the whole table).
Writes that bypass the four methods above (none in moto 5.2) would leave them stale; a
partition whose item count no longer matches is rebuilt.

:func:`install` also stops moto from keeping every ``Item`` and ``Table`` it ever creates in a
class-level list (for its dashboard, which the sandbox does not serve): each page a Query returned,
moto's or this module's, stayed in memory for the life of the server, and so did the copy of the
whole table moto makes for each TransactWriteItems (to undo it if it fails).
"""

from __future__ import annotations

import base64
import contextlib
import copy
import functools
import inspect
import json
import logging
import os
import re
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Final

import moto
from moto.core.responses import ActionContext, ActionResult
from moto.dynamodb import responses as moto_responses
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import GlobalSecondaryIndex, SecondaryIndex, Table
from moto.dynamodb.responses import DynamoHandler, DynamoResult
from sortedcontainers import SortedList  # type: ignore[import-untyped]

log = logging.getLogger(__name__)

DISABLE_ENV = "DMS_SANDBOX_FAST_QUERY"
"""Set to ``0`` in the environment of the process that starts the sandbox: moto answers every
Query (to compare the two)."""

PAGE_BYTES: Final = 1024 * 1024  # a Query reads at most 1 MB
_SUPPORTED_COMPARISONS = frozenset({"=", "<", "<=", ">", ">=", "BETWEEN", "BEGINS_WITH"})
_INTEGER = re.compile(r"-?[0-9]+")

Method = Callable[..., Any]

# One lock for the sorted lists and the items they point to: held by a covered Query from its
# first read to its last copy, and by every write around moto's change and the lists' update.
_lock = threading.RLock()
_enabled = True
_moto_only = threading.local()
# .handling: moto's Query handler runs on this thread; .sorted: and _answer answered it
_this_request = threading.local()
_logged_reasons: set[str] = set()
answered = {"sorted": 0, "moto": 0}
"""How many Queries each way answered since :func:`install` (for tests and the docs' check)."""


class _Unordered(Exception):
    """A key value this module cannot order as DynamoDB does (wrong or unsupported type)."""


class _Top:
    """Greater than any key value: ``(v, TOP)`` sorts after every entry whose first key is v."""

    def __lt__(self, other: object) -> bool:
        return False

    def __le__(self, other: object) -> bool:
        return other is self

    def __gt__(self, other: object) -> bool:
        return other is not self

    def __ge__(self, other: object) -> bool:
        return True


_TOP: Final = _Top()


def _sort_value(value: DynamoType, declared_type: str) -> Any:
    """A key attribute's value as a Python value that sorts as DynamoDB sorts it.

    Strings: by code point, which is the order of their UTF-8 bytes (DynamoDB's). Numbers:
    exactly (int where the text is an integer, else Decimal; the two compare exactly)."""
    if value.type != declared_type:
        raise _Unordered(f"a key of type {value.type} where the table declares {declared_type}")
    if declared_type == "S" and isinstance(value.value, str):
        return value.value
    if declared_type == "N" and isinstance(value.value, str):
        if _INTEGER.fullmatch(value.value):
            return int(value.value)
        try:
            return Decimal(value.value)
        except InvalidOperation as exc:
            raise _Unordered(f"a malformed number {value.value!r}") from exc
    raise _Unordered(f"a key of type {declared_type}")


# --- the orders ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Order:
    """The sort order of the table (``index_name`` None) or of one of its indexes.

    An entry is ``(table sort key, table partition key, item)`` for the table, and ``(index sort
    key, table partition key, table sort key, item)`` for an index (moto's order for items that
    share an index sort key). An entry's keys are unique within its list and every bound a
    Query looks up has fewer or other keys, so items are never compared."""

    index_name: str | None
    hash_attr: str
    hash_type: str
    range_attr: str
    range_type: str
    table_hash_attr: str
    table_hash_type: str
    table_range_attr: str
    table_range_type: str
    projection: SecondaryIndex | None = field(compare=False, hash=False, default=None)

    @property
    def local(self) -> bool:
        """Partitioned as the table is: one partition's list is built from that partition."""
        return self.hash_attr == self.table_hash_attr

    def keys(self, attrs: Mapping[str, DynamoType]) -> tuple[Any, tuple[Any, ...]] | None:
        """(partition, sort keys) of an item in this order; None if the index leaves it out."""
        table_hash = _sort_value(attrs[self.table_hash_attr], self.table_hash_type)
        table_range = _sort_value(attrs[self.table_range_attr], self.table_range_type)
        if self.index_name is None:
            return table_hash, (table_range, table_hash)
        hash_value = attrs.get(self.hash_attr)
        range_value = attrs.get(self.range_attr)
        if hash_value is None or range_value is None:
            return None  # a sparse index
        return (
            _sort_value(hash_value, self.hash_type),
            (_sort_value(range_value, self.range_type), table_hash, table_range),
        )

    def start_key(self, key: Mapping[str, Any]) -> tuple[Any, tuple[Any, ...]]:
        """(partition, sort keys) of an ExclusiveStartKey; _Unordered if it is not one of ours."""
        names = {self.table_hash_attr, self.table_range_attr, self.hash_attr, self.range_attr}
        if set(key) != names:
            raise _Unordered("a start key without exactly the key attributes")
        attrs = {}
        for name, value in key.items():
            if not isinstance(value, Mapping) or len(value) != 1:
                raise _Unordered("a malformed start key")
            attrs[name] = DynamoType(dict(value))
        keys = self.keys(attrs)
        assert keys is not None  # every key attribute is there
        return keys


def _order_of(table: Table, index: SecondaryIndex | None) -> _Order | str:
    """The order a Query on ``index`` (None: the table) reads, or why it is not covered."""
    types = {a["AttributeName"]: a["AttributeType"] for a in table.attr}
    if table.range_key_attr is None:
        return "a table without a sort key"
    if index is None:
        hash_attr, range_attr = table.hash_key_attr, table.range_key_attr
    else:
        hashes = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
        ranges = [k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"]
        if len(hashes) != 1 or len(ranges) != 1:
            return "an index without exactly one partition key and one sort key"
        hash_attr, range_attr = hashes[0], ranges[0]
    key_types = [
        types.get(name, "")
        for name in (hash_attr, range_attr, table.hash_key_attr, table.range_key_attr)
    ]
    if any(kind not in ("S", "N") for kind in key_types):
        return "a key that is neither a string nor a number"
    return _Order(
        index_name=None if index is None else index.name,
        hash_attr=hash_attr,
        hash_type=key_types[0],
        range_attr=range_attr,
        range_type=key_types[1],
        table_hash_attr=table.hash_key_attr,
        table_hash_type=key_types[2],
        table_range_attr=table.range_key_attr,
        table_range_type=key_types[3],
        projection=index,
    )


def _entry_key(entry: tuple[Any, ...]) -> tuple[Any, ...]:
    return entry[:-1]


def _remove_key(entries: Any, key: tuple[Any, ...]) -> None:
    position = entries.bisect_left(key)
    if position < len(entries) and _entry_key(entries[position]) == key:
        del entries[position]


def _add_entry(entries: Any, entry: tuple[Any, ...]) -> None:
    _remove_key(entries, _entry_key(entry))  # one entry per key: items are never compared
    entries.add(entry)


_WHOLE_INDEX = object()  # (name, _WHOLE_INDEX) in partitions: a global index built whole


class _TableOrders:
    """The sorted lists of one moto Table: for each order used, the partitions built so far.

    A local order (the table, a local index, a global index on the table's partition key) is
    built one partition at a time, when a Query first reads that partition; a global index on
    another attribute is built whole. Writes keep the built lists in step."""

    def __init__(self, table: Table) -> None:
        self.table = weakref.ref(table)
        self.orders: dict[str | None, _Order] = {}
        self.partitions: dict[tuple[str | None, Any], Any] = {}  # (index name, partition) ->
        self.item_counts: dict[Any, int] = {}  # table partition -> its items, as kept in step
        self.unusable: set[str | None] = set()  # orders whose items have unorderable keys

    def use(self, order: _Order) -> _Order:
        """The stored order of ``order``'s index; a changed definition (UpdateTable) starts
        afresh."""
        name = order.index_name
        known = self.orders.get(name)
        if known != order:
            self.forget(name)
            self.orders[name] = order
            known = order
        return known

    def forget(self, name: str | None) -> None:
        self.orders.pop(name, None)
        for key in [key for key in self.partitions if key[0] == name]:
            del self.partitions[key]

    def give_up(self, name: str | None, exc: Exception) -> None:
        """Leave an order to moto from now on: an item has a key it cannot order."""
        table = self.table()
        _log_fallback(f"Queries on {table.name if table else '?'} index {name}: {exc}")
        self.forget(name)
        self.unusable.add(name)

    def entries(self, table: Table, order: _Order, partition: Any, hash_key: DynamoType) -> Any:
        """The sorted entries of one partition of ``order``, built on first use (_Unordered if
        an item has a key of the wrong type)."""
        name = order.index_name
        if not order.local:
            if (name, _WHOLE_INDEX) not in self.partitions:
                grouped: dict[Any, list[tuple[Any, ...]]] = {}
                for partition_items in table.items.values():
                    for item in partition_items.values():
                        keys = order.keys(item.attrs)
                        if keys is not None:
                            grouped.setdefault(keys[0], []).append((*keys[1], item))
                self.partitions[(name, _WHOLE_INDEX)] = None
                for index_partition, found in grouped.items():
                    self.partitions[(name, index_partition)] = SortedList(found)
            return self.partitions.setdefault((name, partition), SortedList())
        stored_items = table.items.get(hash_key)
        count = len(stored_items) if stored_items is not None else 0
        if self.item_counts.get(partition, count) != count:
            log.warning(
                "A write to %s went around the sandbox's sorted lists: partition rebuilt",
                table.name,
            )
            for known in list(self.orders):
                if self.orders[known].local:
                    self.partitions.pop((known, partition), None)
        self.item_counts[partition] = count
        if (name, partition) not in self.partitions:
            built = []
            for item in (stored_items or {}).values():
                keys = order.keys(item.attrs)
                if keys is not None:
                    built.append((*keys[1], item))
            self.partitions[(name, partition)] = SortedList(built)
        return self.partitions[(name, partition)]

    def positions(self, item: Item | None) -> list[tuple[str | None, Any, tuple[Any, ...]]]:
        """Where ``item`` is (or belongs) in each built list: (index name, partition, keys)."""
        if item is None:
            return []
        found = []
        for name, order in list(self.orders.items()):
            try:
                keys = order.keys(item.attrs)
            except (_Unordered, KeyError) as exc:
                self.give_up(name, exc)
                continue
            if keys is None:
                continue
            built = (name, keys[0] if order.local else _WHOLE_INDEX) in self.partitions
            if built:
                found.append((name, keys[0], keys[1]))
        return found

    def resync(
        self, table: Table, hash_key: DynamoType, range_key: DynamoType | None, before: list[Any]
    ) -> None:
        """After a write to one key: drop its old entries, add its current ones."""
        for name, partition, keys in before:
            entries = self.partitions.get((name, partition))
            if entries is not None:
                _remove_key(entries, keys)
        stored_items = table.items.get(hash_key)
        item = stored_items.get(range_key) if stored_items is not None else None
        for name, partition, keys in self.positions(item):
            entries = self.partitions.setdefault((name, partition), SortedList())
            _add_entry(entries, (*keys, item))
        if table.range_key_attr is None:
            return
        try:
            partition = _sort_value(hash_key, _table_hash_type(table))
        except _Unordered:
            return
        if partition in self.item_counts:
            self.item_counts[partition] = len(stored_items) if stored_items is not None else 0


def _table_hash_type(table: Table) -> str:
    return next(
        (a["AttributeType"] for a in table.attr if a["AttributeName"] == table.hash_key_attr), ""
    )


_tables: dict[int, _TableOrders] = {}


def _orders(table: Table, create: bool) -> _TableOrders | None:
    """The sorted lists of ``table`` (None if none yet and not ``create``)."""
    orders = _tables.get(id(table))
    if orders is not None and orders.table() is table:
        return orders
    if not create:
        return None
    orders = _TableOrders(table)
    _tables[id(table)] = orders
    weakref.finalize(table, _tables.pop, id(table), None)
    return orders


# --- writes ----------------------------------------------------------------------------------


@contextlib.contextmanager
def _kept_in_step(
    table: Table, hash_key: DynamoType, range_key: DynamoType | None
) -> Iterator[None]:
    """Around a write of one key: the sorted lists follow it (also if it raised half-way)."""
    orders = _orders(table, create=False)
    if orders is None:
        yield
        return
    stored_items = table.items.get(hash_key)
    before = orders.positions(stored_items.get(range_key) if stored_items is not None else None)
    try:
        yield
    finally:
        orders.resync(table, hash_key, range_key, before)


def _primary_key(
    table: Table, attrs: Mapping[str, Any]
) -> tuple[DynamoType, DynamoType | None] | None:
    try:
        hash_key = DynamoType(attrs[table.hash_key_attr])
        range_key = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
    except (KeyError, TypeError, IndexError, AttributeError):
        return None  # moto rejects it
    return hash_key, range_key


# Each hook takes the method it replaces first (moto's, or another hook on it: the sandbox's
# write-ahead log hooks the same methods), then that method's arguments.


def _put_item(
    put_item: Method, self: Table, item_attrs: dict[str, Any], *args: Any, **kwargs: Any
) -> Any:
    with _lock:
        key = _primary_key(self, item_attrs) if isinstance(item_attrs, Mapping) else None
        if key is None:
            return put_item(self, item_attrs, *args, **kwargs)
        with _kept_in_step(self, *key):
            return put_item(self, item_attrs, *args, **kwargs)


def _delete_item(
    delete_item: Method, self: Table, hash_key: DynamoType, range_key: DynamoType | None
) -> Any:
    with _lock, _kept_in_step(self, hash_key, range_key):
        return delete_item(self, hash_key, range_key)


def _update_item(
    update_item: Method,
    self: DynamoDBBackend,
    table_name: str,
    key: dict[str, Any],
    *args: Any,
    **kwargs: Any,
) -> Any:
    with _lock:
        try:
            table = self.get_table(table_name)
        except Exception:  # noqa: BLE001 (moto raises its own error below)
            return update_item(self, table_name, key, *args, **kwargs)
        primary = _primary_key(table, key) if isinstance(key, Mapping) else None
        if primary is None:
            return update_item(self, table_name, key, *args, **kwargs)
        with _kept_in_step(table, *primary):  # moto changes the stored item in place
            return update_item(self, table_name, key, *args, **kwargs)


# --- reads -----------------------------------------------------------------------------------


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


def _value_size(value: DynamoType) -> int:
    kind, raw = value.type, value.value
    if kind == "S":
        return len(raw.encode("utf-8"))
    if kind == "N":
        return _number_size(raw)
    if kind == "B":
        return len(_binary(raw))
    if kind == "SS":
        return sum(len(element.encode("utf-8")) for element in raw)
    if kind == "NS":
        return sum(_number_size(element) for element in raw)
    if kind == "BS":
        return sum(len(_binary(element)) for element in raw)
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


def _binary(raw: Any) -> bytes:
    return raw if isinstance(raw, bytes) else base64.b64decode(raw)


@dataclass
class _Plan:
    """A covered Query: which entries to read, in which direction, how many."""

    orders: _TableOrders
    order: _Order
    partition: Any
    hash_key: DynamoType
    comparison: str | None
    bounds: list[Any]
    start: tuple[Any, ...] | None
    forward: bool
    limit: int | None


def _plan(
    table: Table,
    range_objs: list[DynamoType],
    limit: Any,
    exclusive_start_key: Any,
    scan_index_forward: Any,
    index_name: str | None,
    consistent_read: Any,
    hash_key_conditions: list[tuple[str, DynamoType]] | None,
    range_key_conditions: list[tuple[str, str, list[DynamoType]]] | None,
) -> _Plan | str:
    """How to answer a Query from the sorted lists, or why moto answers it."""
    index: SecondaryIndex | None = None
    if index_name:
        index = next((i for i in table.all_indexes() if i.name == index_name), None)
        if index is None:
            return "an unknown index"
        if consistent_read and isinstance(index, GlobalSecondaryIndex):
            return "a consistent read on a global index"
    order = _order_of(table, index)
    if isinstance(order, str):
        return order
    orders = _orders(table, create=True)
    assert orders is not None
    if order.index_name in orders.unusable:
        return f"index {order.index_name}, which has keys of the wrong type"
    order = orders.use(order)
    if not hash_key_conditions or len(hash_key_conditions) != 1:
        return "not one partition key condition"
    (hash_name, hash_key) = hash_key_conditions[0]
    if hash_name != order.hash_attr:
        return "a condition on another partition key"
    comparison: str | None = None
    bounds: list[Any] = []
    if range_key_conditions:
        if len(range_key_conditions) != 1 or range_key_conditions[0][0] != order.range_attr:
            return "a condition on several sort keys"
        comparison, values = range_key_conditions[0][1].upper(), range_key_conditions[0][2]
        if comparison not in _SUPPORTED_COMPARISONS:
            return f"a sort key condition {comparison}"
        if len(values) != (2 if comparison == "BETWEEN" else 1):
            return "a sort key condition with the wrong number of values"
    if isinstance(limit, bool) or not (limit is None or (isinstance(limit, int) and limit > 0)):
        return "an unusual Limit"
    try:
        partition = _sort_value(hash_key, order.hash_type)
        if comparison is not None:
            bounds = [_sort_value(DynamoType(value), order.range_type) for value in range_objs]
        start = None
        if exclusive_start_key is not None:
            if not isinstance(exclusive_start_key, Mapping):
                return "a malformed start key"
            start_partition, start = order.start_key(exclusive_start_key)
            if start_partition != partition:
                return "a start key in another partition"
            if comparison is not None and not _matches(comparison, start[0], bounds):
                return "a start key outside the key condition"
    except _Unordered as exc:
        return str(exc)
    if comparison == "BETWEEN" and bounds[0] > bounds[1]:
        return "BETWEEN with its bounds the wrong way round"
    if comparison == "BEGINS_WITH":
        if order.range_type != "S" or not bounds[0]:
            return "begins_with on a number or with an empty prefix"
        if bounds[0][-1] == chr(0x10FFFF):
            return "begins_with a prefix ending in U+10FFFF"
    return _Plan(
        orders=orders,
        order=order,
        partition=partition,
        hash_key=hash_key,
        comparison=comparison,
        bounds=bounds,
        start=start,
        forward=scan_index_forward is not False,  # moto's reading of it
        limit=limit,
    )


def _matches(comparison: str, value: Any, bounds: list[Any]) -> bool:
    first = bounds[0]
    if comparison == "=":
        return bool(value == first)
    if comparison == "<":
        return bool(value < first)
    if comparison == "<=":
        return bool(value <= first)
    if comparison == ">":
        return bool(value > first)
    if comparison == ">=":
        return bool(value >= first)
    if comparison == "BETWEEN":
        return bool(first <= value <= bounds[1])
    return isinstance(value, str) and value.startswith(first)


def _range(entries: Any, plan: _Plan) -> tuple[int, int]:
    """The positions [low, high) of the entries the key condition selects."""
    low, high = 0, len(entries)
    comparison, bounds = plan.comparison, plan.bounds
    if comparison in ("=", ">=", "BETWEEN", "BEGINS_WITH"):
        low = entries.bisect_left((bounds[0],))
    elif comparison == ">":
        low = entries.bisect_left((bounds[0], _TOP))
    if comparison in ("=", "<="):
        high = entries.bisect_left((bounds[0], _TOP))
    elif comparison == "<":
        high = entries.bisect_left((bounds[0],))
    elif comparison == "BETWEEN":
        high = entries.bisect_left((bounds[1], _TOP))
    elif comparison == "BEGINS_WITH":
        prefix: str = bounds[0]
        high = entries.bisect_left((prefix[:-1] + chr(ord(prefix[-1]) + 1),))
    if plan.start is not None:
        if plan.forward:
            after = entries.bisect_left(plan.start)
            if after < len(entries) and _entry_key(entries[after]) == plan.start:
                after += 1
            low = max(low, after)
        else:
            high = min(high, entries.bisect_left(plan.start))
    return low, high


def _answer(
    table: Table,
    plan: _Plan,
    entries: Any,
    filter_expression: Any,
    projection_expressions: list[list[str]] | None,
) -> tuple[list[Any], int, dict[str, Any] | None]:
    """moto's ``Table.query`` result for a covered Query: (items, scanned count, last key).

    For moto's Query handler (see :func:`_handle_query`) the items and the key are written out
    as DynamoDB JSON here, under the lock; for any other caller they are copies, as moto's."""
    order = plan.order
    index = order.projection
    read: list[tuple[Item, Item]] = []  # (stored item, the index's view of it)
    size = 0
    low, high = _range(entries, plan)
    if low < high:
        for entry in entries.islice(low, high, reverse=not plan.forward):
            if len(read) == plan.limit or size >= PAGE_BYTES:
                break
            item: Item = entry[-1]
            view = index.project(item) if index is not None else item
            size += read_size(view.attrs, table.range_key_attr)
            read.append((item, view))
    as_json = getattr(_this_request, "handling", False)
    last_key = None
    if read and (len(read) == plan.limit or size >= PAGE_BYTES):
        stored = table._get_last_evaluated_key(read[-1][0], order.index_name)
        last_key = {
            name: _json_value(value) if as_json else DynamoType(value)
            for name, value in stored.items()
        }
    results: list[Any] = []
    for item, view in read:
        if filter_expression is not None and not filter_expression.expr(view):
            continue
        if projection_expressions:
            view = view.project(projection_expressions)
        if as_json:
            results.append(_JsonItem(view))
        else:
            results.append(copy.deepcopy(view) if view is item else view)
    if as_json:
        _this_request.sorted = True
    return results, len(read), last_key


class _JsonItem:
    """An item of a Query's response, as DynamoDB JSON (what moto's handler reads of it)."""

    __slots__ = ("attrs",)

    def __init__(self, item: Item) -> None:
        self.attrs = {name: _json_value(value) for name, value in item.attrs.items()}


def _json_value(value: DynamoType) -> dict[str, Any]:
    kind, raw = value.type, value.value
    if kind in _SCALARS:
        return {kind: raw}
    if kind == "L":
        return {"L": [_json_value(element) for element in raw]}
    if kind == "M":
        return {"M": {name: _json_value(element) for name, element in raw.items()}}
    if kind == "B":
        return {"B": _base64(raw)}
    if kind == "BS":
        return {"BS": [_base64(element) for element in raw]}
    if kind in ("SS", "NS"):
        return {kind: list(raw)}
    return {kind: raw}


_SCALARS = frozenset({"S", "N", "BOOL", "NULL"})


def _base64(raw: str | bytes) -> str:
    return base64.b64encode(_binary(raw)).decode("ascii")


def _query(
    query: Method,
    self: Table,
    hash_key: DynamoType | None,
    range_comparison: str | None,
    range_objs: list[DynamoType],
    limit: int,
    exclusive_start_key: dict[str, Any],
    scan_index_forward: bool,
    projection_expressions: list[list[str]] | None,
    index_name: str | None = None,
    consistent_read: bool = False,
    filter_expression: Any = None,
    hash_key_conditions: list[tuple[str, DynamoType]] | None = None,
    range_key_conditions: list[tuple[str, str, list[DynamoType]]] | None = None,
    **filter_kwargs: Any,
) -> tuple[list[Item], int, dict[str, Any] | None]:
    """moto's ``Table.query``, answered from the sorted lists where the shape is covered."""
    if _enabled and not getattr(_moto_only, "active", False):
        if filter_kwargs:
            plan: _Plan | str = "a QueryFilter"
        else:
            with _lock:
                plan = _plan(
                    self,
                    range_objs,
                    limit,
                    exclusive_start_key,
                    scan_index_forward,
                    index_name,
                    consistent_read,
                    hash_key_conditions,
                    range_key_conditions,
                )
                if not isinstance(plan, str):
                    try:
                        entries = plan.orders.entries(
                            self, plan.order, plan.partition, plan.hash_key
                        )
                    except _Unordered as exc:
                        plan.orders.give_up(plan.order.index_name, exc)
                        plan = str(exc)
                    else:
                        answered["sorted"] += 1
                        return _answer(
                            self, plan, entries, filter_expression, projection_expressions
                        )
        _log_fallback(f"a Query on {self.name}: {plan}")
    answered["moto"] += 1
    return query(  # type: ignore[no-any-return]
        self,
        hash_key,
        range_comparison,
        range_objs,
        limit,
        exclusive_start_key,
        scan_index_forward,
        projection_expressions,
        index_name,
        consistent_read,
        filter_expression,
        hash_key_conditions=hash_key_conditions,
        range_key_conditions=range_key_conditions,
        **filter_kwargs,
    )


class _QueryResult(DynamoResult):
    """moto's result of a DynamoDB request; written out by ``json.dumps`` for a Query answered
    here.

    moto's model-driven serializer walks a response against the service model, each of an
    attribute value's ten members in turn: for a page of items it cost more than finding them.
    A Query answered here is already DynamoDB JSON (see :func:`_answer`), for ``json.dumps``."""

    def __init__(self, result: object) -> None:
        self.as_json = getattr(_this_request, "sorted", False)
        if self.as_json:
            ActionResult.__init__(self, result)
        else:
            super().__init__(result)

    def execute_result(self, context: ActionContext) -> Any:
        if not self.as_json:
            return super().execute_result(context)
        version = context.service_model.metadata.get("jsonVersion", "1.0")
        body = json.dumps(self.result, separators=(",", ":"))
        status = context.operation_model.http.get("responseCode", 200)
        return status, {"Content-Type": f"application/x-amz-json-{version}"}, body


def _handle_query(handle_query: Method, self: DynamoHandler) -> Any:
    """moto's Query handler, marked so that :func:`_answer` writes the response as JSON."""
    _this_request.handling, _this_request.sorted = True, False
    try:
        return handle_query(self)
    finally:
        _this_request.handling, _this_request.sorted = False, False


def _log_fallback(reason: str) -> None:
    if reason not in _logged_reasons:
        _logged_reasons.add(reason)
        log.info("moto answers %s (not covered by the sandbox's sorted lists)", reason)


# --- installing ------------------------------------------------------------------------------


def _untracked_new(cls: type[Any], *_args: Any, **_kwargs: Any) -> Any:
    return object.__new__(cls)


_HOOKS: list[tuple[type, str, Method, set[str]]] = [
    # (class, method, hook, parameters the hook relies on)
    (Table, "query", _query, {"hash_key_conditions", "range_key_conditions", "filter_expression"}),
    (Table, "put_item", _put_item, {"item_attrs"}),
    (Table, "delete_item", _delete_item, {"hash_key", "range_key"}),
    (DynamoDBBackend, "update_item", _update_item, {"table_name", "key"}),
    (DynamoHandler, "query", _handle_query, set()),
]


def _fits_moto() -> bool:
    """Whether moto's methods take what this module hands them (moto 5.2's internals)."""
    for cls, name, _hook, parameters in _HOOKS:
        if not parameters <= set(inspect.signature(getattr(cls, name)).parameters):
            return False
    return hasattr(Table, "_get_last_evaluated_key") and hasattr(SecondaryIndex, "project")


def _hooked(method: Method, hook: Method) -> Method:
    @functools.wraps(method)
    def hooked(*args: Any, **kwargs: Any) -> Any:
        return hook(method, *args, **kwargs)

    hooked._dms_sorted_lists = True  # type: ignore[attr-defined]
    return hooked


@contextlib.contextmanager
def answered_by_moto() -> Iterator[None]:
    """Within this block (on this thread), moto answers every Query: to compare the two."""
    previous = getattr(_moto_only, "active", False)
    _moto_only.active = True
    try:
        yield
    finally:
        _moto_only.active = previous


def install() -> None:
    """Answer covered Queries from sorted lists (process-wide, idempotent); see the module.

    With ``DMS_SANDBOX_FAST_QUERY=0`` in the environment moto answers every Query."""
    global _enabled
    _enabled = os.environ.get(DISABLE_ENV, "1").strip() != "0"
    if not _fits_moto():
        log.warning(
            "moto %s is not the moto this sandbox knows: moto answers every DynamoDB Query "
            "(slower at scale)",
            moto.__version__,
        )
        return
    for model in (Item, Table):  # see the module's last paragraph
        model.__new__ = staticmethod(_untracked_new)  # type: ignore[method-assign]
    for cls, name, hook, _parameters in _HOOKS:
        method = getattr(cls, name)
        if not getattr(method, "_dms_sorted_lists", False):  # a hook wrapping ours keeps this
            setattr(cls, name, _hooked(method, hook))
    moto_responses.DynamoResult = _QueryResult  # type: ignore[misc]
    if not _enabled:
        log.info("%s=0: moto answers every DynamoDB Query", DISABLE_ENV)
