"""IAM decisions from principalmapper's local policy simulator (PyPI ``principalmapper``).

principalmapper 1.1.5 imports ``collections.Mapping``, gone since Python 3.10: the shim below
restores the aliases before importing it. The decision follows IAM's order for one account: an
explicit Deny in any policy wins, else an Allow in an identity policy, else the implicit deny.
"""

from __future__ import annotations

import collections
import collections.abc
from typing import Any

for _name in ("Mapping", "MutableMapping", "Sequence", "Iterable", "Callable"):
    if not hasattr(collections, _name):
        setattr(collections, _name, getattr(collections.abc, _name))

from principalmapper.querying.local_policy_simulation import (  # noqa: E402
    policy_has_matching_statement,
)
from principalmapper.util.case_insensitive_dict import CaseInsensitiveDict  # noqa: E402


def is_allowed(
    identity_policies: list[dict[str, Any]],
    action: str,
    resource: str,
    context: dict[str, Any] | None = None,
    resource_policy: dict[str, Any] | None = None,
) -> bool:
    keys = CaseInsensitiveDict({"aws:SecureTransport": "true", **(context or {})})
    everything = [*identity_policies, *([resource_policy] if resource_policy else [])]
    if any(policy_has_matching_statement(p, "Deny", action, resource, keys) for p in everything):
        return False
    return any(
        policy_has_matching_statement(p, "Allow", action, resource, keys) for p in identity_policies
    )
