"""The sandbox's sorted lists of DynamoDB items (see sandbox.fast_query): per moto Table, for the
table and each index a Query has used, each partition's items in sort-key order, built on a
Query's first visit and kept in step by every write. Callers hold fast_query's lock."""

from __future__ import annotations

import logging
import re
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import SecondaryIndex, Table
from sortedcontainers import SortedList  # type: ignore[import-untyped]

log = logging.getLogger(__name__)

_INTEGER = re.compile(r"-?[0-9]+")
_logged_reasons: set[str] = set()


def log_fallback(reason: str) -> None:
    """Say once (INFO) that moto answers a shape of Query, and why."""
    if reason not in _logged_reasons:
        _logged_reasons.add(reason)
        log.info("moto answers %s (not covered by the sandbox's sorted lists)", reason)


class Unordered(Exception):
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


TOP: Final = _Top()


def sort_value(value: DynamoType, declared_type: str) -> Any:
    """A key attribute's value as a Python value that sorts as DynamoDB sorts it.

    Strings: by code point, which is the order of their UTF-8 bytes (DynamoDB's). Numbers:
    exactly (int where the text is an integer, else Decimal; the two compare exactly)."""
    if value.type != declared_type:
        raise Unordered(f"a key of type {value.type} where the table declares {declared_type}")
    if declared_type == "S" and isinstance(value.value, str):
        return value.value
    if declared_type == "N" and isinstance(value.value, str):
        if _INTEGER.fullmatch(value.value):
            return int(value.value)
        try:
            return Decimal(value.value)
        except InvalidOperation as exc:
            raise Unordered(f"a malformed number {value.value!r}") from exc
    raise Unordered(f"a key of type {declared_type}")


# --- the orders ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Order:
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
        table_hash = sort_value(attrs[self.table_hash_attr], self.table_hash_type)
        table_range = sort_value(attrs[self.table_range_attr], self.table_range_type)
        if self.index_name is None:
            return table_hash, (table_range, table_hash)
        hash_value = attrs.get(self.hash_attr)
        range_value = attrs.get(self.range_attr)
        if hash_value is None or range_value is None:
            return None  # a sparse index
        return (
            sort_value(hash_value, self.hash_type),
            (sort_value(range_value, self.range_type), table_hash, table_range),
        )

    def start_key(self, key: Mapping[str, Any]) -> tuple[Any, tuple[Any, ...]]:
        """(partition, sort keys) of an ExclusiveStartKey; Unordered if it is not one of ours."""
        names = {self.table_hash_attr, self.table_range_attr, self.hash_attr, self.range_attr}
        if set(key) != names:
            raise Unordered("a start key without exactly the key attributes")
        attrs = {}
        for name, value in key.items():
            if not isinstance(value, Mapping) or len(value) != 1:
                raise Unordered("a malformed start key")
            attrs[name] = DynamoType(dict(value))
        keys = self.keys(attrs)
        assert keys is not None  # every key attribute is there
        return keys


def order_of(table: Table, index: SecondaryIndex | None) -> Order | str:
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
    return Order(
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


def entry_key(entry: tuple[Any, ...]) -> tuple[Any, ...]:
    return entry[:-1]


def _remove_key(entries: Any, key: tuple[Any, ...]) -> None:
    position = entries.bisect_left(key)
    if position < len(entries) and entry_key(entries[position]) == key:
        del entries[position]


def _add_entry(entries: Any, entry: tuple[Any, ...]) -> None:
    _remove_key(entries, entry_key(entry))  # one entry per key: items are never compared
    entries.add(entry)


_WHOLE_INDEX = object()  # (name, _WHOLE_INDEX) in partitions: a global index built whole


class TableOrders:
    """The sorted lists of one moto Table: for each order used, the partitions built so far.

    A local order (the table, a local index, a global index on the table's partition key) is
    built one partition at a time, when a Query first reads that partition; a global index on
    another attribute is built whole. Writes keep the built lists in step."""

    def __init__(self, table: Table) -> None:
        self.table = weakref.ref(table)
        self.orders: dict[str | None, Order] = {}
        self.partitions: dict[tuple[str | None, Any], Any] = {}  # (index name, partition) ->
        self.item_counts: dict[Any, int] = {}  # table partition -> its items, as kept in step
        self.unusable: set[str | None] = set()  # orders whose items have unorderable keys

    def use(self, order: Order) -> Order:
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
        log_fallback(f"Queries on {table.name if table else '?'} index {name}: {exc}")
        self.forget(name)
        self.unusable.add(name)

    def entries(self, table: Table, order: Order, partition: Any, hash_key: DynamoType) -> Any:
        """The sorted entries of one partition of ``order``, built on first use (Unordered if
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
            except (Unordered, KeyError) as exc:
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
            partition = sort_value(hash_key, _table_hash_type(table))
        except Unordered:
            return
        if partition in self.item_counts:
            self.item_counts[partition] = len(stored_items) if stored_items is not None else 0


def _table_hash_type(table: Table) -> str:
    return next(
        (a["AttributeType"] for a in table.attr if a["AttributeName"] == table.hash_key_attr), ""
    )


_tables: dict[int, TableOrders] = {}


def orders_of(table: Table, create: bool) -> TableOrders | None:
    """The sorted lists of ``table`` (None if none yet and not ``create``)."""
    orders = _tables.get(id(table))
    if orders is not None and orders.table() is table:
        return orders
    if not create:
        return None
    orders = TableOrders(table)
    _tables[id(table)] = orders
    weakref.finalize(table, _tables.pop, id(table), None)
    return orders
