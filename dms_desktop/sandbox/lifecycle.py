"""What the sandbox keeps up to date beyond moto: resources an earlier version did not create.

A sandbox folder outlives app versions: its table was made from the template of its first
start. :func:`upgrade_resources` adds what later templates define (the trash index), through the
sandbox's own API, so the change is logged and kept like any other.
"""

from __future__ import annotations

import logging
from typing import Any

from dms_desktop.core.schema import table_definition

log = logging.getLogger(__name__)


def upgrade_resources(dynamodb: Any, table: str) -> None:
    """Add the global indexes of ``table_definition`` that the sandbox's table lacks (through
    ``dynamodb``, a client of the sandbox, closed when done)."""
    try:
        _add_missing_indexes(dynamodb, table)
    finally:
        dynamodb.close()


def _add_missing_indexes(dynamodb: Any, table: str) -> None:
    wanted = table_definition(table)
    existing = dynamodb.describe_table(TableName=table)["Table"]
    have = {index["IndexName"] for index in existing.get("GlobalSecondaryIndexes", [])}
    types = {item["AttributeName"]: item for item in wanted["AttributeDefinitions"]}
    for index in wanted["GlobalSecondaryIndexes"]:
        if index["IndexName"] in have:
            continue
        keys = [part["AttributeName"] for part in index["KeySchema"]]
        dynamodb.update_table(
            TableName=table,
            AttributeDefinitions=[types[name] for name in keys],
            GlobalSecondaryIndexUpdates=[{"Create": index}],
        )
        log.info("Added the index %s to the sandbox's table %s", index["IndexName"], table)
