"""Which items a covered Query reads from the sorted lists: its plan (the partition's order,
the key condition's bounds, where to start, which way, how many), see ``fast_query``."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import GlobalSecondaryIndex, SecondaryIndex, Table

from dms_desktop.sandbox.sorted_lists import (
    TOP,
    Order,
    TableOrders,
    Unordered,
    entry_key,
    order_of,
    orders_of,
    sort_value,
)

log = logging.getLogger(__name__)

_SUPPORTED_COMPARISONS = frozenset({"=", "<", "<=", ">", ">=", "BETWEEN", "BEGINS_WITH"})
_INTEGER = re.compile(r"-?[0-9]+")


@dataclass
class QueryPlan:
    """A covered Query: which entries to read, in which direction, how many."""

    orders: TableOrders
    order: Order
    partition: Any
    hash_key: DynamoType
    comparison: str | None
    bounds: list[Any]
    start: tuple[Any, ...] | None
    forward: bool
    limit: int | None


def plan_query(
    table: Table,
    range_objs: list[DynamoType],
    limit: Any,
    exclusive_start_key: Any,
    scan_index_forward: Any,
    index_name: str | None,
    consistent_read: Any,
    hash_key_conditions: list[tuple[str, DynamoType]] | None,
    range_key_conditions: list[tuple[str, str, list[DynamoType]]] | None,
) -> QueryPlan | str:
    """How to answer a Query from the sorted lists, or why moto answers it."""
    index: SecondaryIndex | None = None
    if index_name:
        index = next((i for i in table.all_indexes() if i.name == index_name), None)
        if index is None:
            return "an unknown index"
        if consistent_read and isinstance(index, GlobalSecondaryIndex):
            return "a consistent read on a global index"
    order = order_of(table, index)
    if isinstance(order, str):
        return order
    orders = orders_of(table, create=True)
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
        partition = sort_value(hash_key, order.hash_type)
        if comparison is not None:
            bounds = [sort_value(DynamoType(value), order.range_type) for value in range_objs]
        start = None
        if exclusive_start_key is not None:
            if not isinstance(exclusive_start_key, Mapping):
                return "a malformed start key"
            start_partition, start = order.start_key(exclusive_start_key)
            if start_partition != partition:
                return "a start key in another partition"
            if comparison is not None and not matches(comparison, start[0], bounds):
                return "a start key outside the key condition"
    except Unordered as exc:
        return str(exc)
    if comparison == "BETWEEN" and bounds[0] > bounds[1]:
        return "BETWEEN with its bounds the wrong way round"
    if comparison == "BEGINS_WITH":
        if order.range_type != "S" or not bounds[0]:
            return "begins_with on a number or with an empty prefix"
        if bounds[0][-1] == chr(0x10FFFF):
            return "begins_with a prefix ending in U+10FFFF"
    return QueryPlan(
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


def matches(comparison: str, value: Any, bounds: list[Any]) -> bool:
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


def key_range(entries: Any, plan: QueryPlan) -> tuple[int, int]:
    """The positions [low, high) of the entries the key condition selects."""
    low, high = 0, len(entries)
    comparison, bounds = plan.comparison, plan.bounds
    if comparison in ("=", ">=", "BETWEEN", "BEGINS_WITH"):
        low = entries.bisect_left((bounds[0],))
    elif comparison == ">":
        low = entries.bisect_left((bounds[0], TOP))
    if comparison in ("=", "<="):
        high = entries.bisect_left((bounds[0], TOP))
    elif comparison == "<":
        high = entries.bisect_left((bounds[0],))
    elif comparison == "BETWEEN":
        high = entries.bisect_left((bounds[1], TOP))
    elif comparison == "BEGINS_WITH":
        prefix: str = bounds[0]
        high = entries.bisect_left((prefix[:-1] + chr(ord(prefix[-1]) + 1),))
    if plan.start is not None:
        if plan.forward:
            after = entries.bisect_left(plan.start)
            if after < len(entries) and entry_key(entries[after]) == plan.start:
                after += 1
            low = max(low, after)
        else:
            high = min(high, entries.bisect_left(plan.start))
    return low, high
