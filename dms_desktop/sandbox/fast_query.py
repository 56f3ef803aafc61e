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
  way DynamoDB meters it (names count one byte, see sandbox.item_sizes), which is what dynalite
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

The sorted lists are not saved: they are built again from moto's items after a restart.
Writes that bypass the four methods above (none in moto 5.2) would leave them stale; a
partition whose item count no longer matches is rebuilt.

:func:`install` also stops moto from keeping every ``Item`` and ``Table`` it ever creates in a
class-level list (for its dashboard, which the sandbox does not serve): each page a Query returned,
moto's or this module's, stayed in memory for the life of the server.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import inspect
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final

import moto
from moto.core.responses import ActionContext, ActionResult
from moto.dynamodb import responses as moto_responses
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import SecondaryIndex, Table
from moto.dynamodb.responses import DynamoHandler, DynamoResult

from dms_desktop.sandbox.item_sizes import MeteredSizes
from dms_desktop.sandbox.query_json import JsonItem, json_value
from dms_desktop.sandbox.query_plans import QueryPlan, key_range, plan_query
from dms_desktop.sandbox.sorted_lists import (
    Unordered,
    log_fallback,
    orders_of,
)

log = logging.getLogger(__name__)

DISABLE_ENV = "DMS_SANDBOX_FAST_QUERY"
"""Set to ``0`` in the environment of the process that starts the sandbox: moto answers every
Query (to compare the two)."""

PAGE_BYTES: Final = 1024 * 1024  # a Query reads at most 1 MB
Method = Callable[..., Any]

# One lock for the sorted lists and the items they point to: held by a covered Query from its
# first read to its last copy, and by every write around moto's change and the lists' update.
_lock = threading.RLock()
_enabled = True
_moto_only = threading.local()
# .handling: moto's Query handler runs on this thread; .sorted: and _answer answered it
_this_request = threading.local()
_sizes = MeteredSizes()
answered = {"sorted": 0, "moto": 0}
"""How many Queries each way answered since :func:`install` (for tests and the docs' check)."""


# --- writes ----------------------------------------------------------------------------------


@contextlib.contextmanager
def _kept_in_step(
    table: Table, hash_key: DynamoType, range_key: DynamoType | None
) -> Iterator[None]:
    """Around a write of one key: the sorted lists follow it (also if it raised half-way), and
    the stored item's metered size is measured again when next read."""
    stored = None
    if table.range_key_attr:  # the tables this module answers for (items by hash, then range)
        stored_items = table.items.get(hash_key)
        stored = stored_items.get(range_key) if stored_items is not None else None
    _sizes.forget(stored)
    orders = orders_of(table, create=False)
    if orders is None:
        yield
        return
    before = orders.positions(stored)
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


def _answer(
    table: Table,
    plan: QueryPlan,
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
    low, high = key_range(entries, plan)
    if low < high:
        for entry in entries.islice(low, high, reverse=not plan.forward):
            if len(read) == plan.limit or size >= PAGE_BYTES:
                break
            item: Item = entry[-1]
            view = index.project(item) if index is not None else item
            size += _sizes.size(item, view, order.index_name, table.range_key_attr)
            read.append((item, view))
    as_json = getattr(_this_request, "handling", False)
    last_key = None
    if read and (len(read) == plan.limit or size >= PAGE_BYTES):
        stored = table._get_last_evaluated_key(read[-1][0], order.index_name)
        last_key = {
            name: json_value(value) if as_json else DynamoType(value)
            for name, value in stored.items()
        }
    results: list[Any] = []
    for item, view in read:
        if filter_expression is not None and not filter_expression.expr(view):
            continue
        if projection_expressions:
            view = view.project(projection_expressions)
        if as_json:
            results.append(JsonItem(view))
        else:
            results.append(copy.deepcopy(view) if view is item else view)
    if as_json:
        _this_request.sorted = True
    return results, len(read), last_key


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
            plan: QueryPlan | str = "a QueryFilter"
        else:
            with _lock:
                plan = plan_query(
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
                    except Unordered as exc:
                        plan.orders.give_up(plan.order.index_name, exc)
                        plan = str(exc)
                    else:
                        answered["sorted"] += 1
                        return _answer(
                            self, plan, entries, filter_expression, projection_expressions
                        )
        log_fallback(f"a Query on {self.name}: {plan}")
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
