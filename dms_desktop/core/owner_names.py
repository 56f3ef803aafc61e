"""Owners by name, for the admin tools: an owner id means nothing to a person.

An owner id is what the system derives: the identity id on AWS (``region:random-uuid``), the
user's pool ``sub`` prefixed by the region on the sandbox, the bare ``sub`` for documents stored
through the web API. Names come from two places:

- **The user pool** (Cognito ``ListUsers``): each user's name and ``sub``. Authoritative, and it
  names every id that carries a ``sub``: all of the sandbox's, and the web API's. The sandbox
  answers it for admins; on AWS only if the admins' role is granted ``cognito-idp:ListUsers``
  (the template does not: it would only name the web API's documents). An AWS identity id
  carries no ``sub``, and no Cognito call leads from it to a user.
- **The name recorded on the documents**: the app keeps its user's name on each document it
  uploads (``ownerName``). It is the only link from an AWS identity id to a name. The owner's own
  app writes it, so an owner could record another name on *their own* documents (never on anyone
  else's): such a name is shown as "recorded", and a name recorded on two owners' documents shows
  each owner's id with it. Names only label owners; what is deleted is still chosen by id.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .aws import translate
from .errors import ValidationError

log = logging.getLogger(__name__)

FROM_USER_POOL = "user pool"
RECORDED = "recorded on the documents"


def user_names_from_pool(idp: Any, user_pool_id: str) -> dict[str, str]:
    """Every user of the pool as ``{sub: user name}`` (ListUsers, page by page); a DmsError if the
    pool cannot be read (e.g. the caller may not list users)."""
    names: dict[str, str] = {}
    request: dict[str, Any] = {"UserPoolId": user_pool_id, "AttributesToGet": ["sub"]}
    try:
        while True:
            response = idp.list_users(**request)
            for user in response.get("Users", []):
                attributes = {a["Name"]: a.get("Value", "") for a in user.get("Attributes", [])}
                sub = attributes.get("sub")
                if sub and user.get("Username"):
                    names[sub] = str(user["Username"])
            token = response.get("PaginationToken")
            if not token:
                return names
            request["PaginationToken"] = token
    except (ClientError, BotoCoreError) as exc:
        raise translate(exc, "read the users of the user pool") from exc


@dataclass(frozen=True)
class OwnerName:
    """An owner id and the name found for it (None: unknown), and where it came from."""

    user_id: str
    name: str | None
    source: str = ""  # FROM_USER_POOL, RECORDED, or "" when unknown

    @property
    def verified(self) -> bool:
        return self.source == FROM_USER_POOL


class OwnerDirectory:
    """Names for owner ids, from the user pool and the names recorded on documents."""

    def __init__(
        self,
        pool_users: Mapping[str, str] | None = None,
        recorded: Mapping[str, str] | None = None,
    ) -> None:
        self._pool_users = dict(pool_users or {})  # sub -> user name
        self._recorded = dict(recorded or {})  # owner id -> recorded name

    def lookup(self, user_id: str) -> OwnerName:
        sub = user_id.rsplit(":", 1)[-1]
        pooled = self._pool_users.get(sub) or self._pool_users.get(user_id)
        if pooled:
            return OwnerName(user_id, pooled, FROM_USER_POOL)
        recorded = self._recorded.get(user_id)
        if recorded:
            return OwnerName(user_id, recorded, RECORDED)
        return OwnerName(user_id, None)

    def labels(self, user_ids: Iterable[str]) -> dict[str, str]:
        """A label for each id that tells the owners apart: the name, or the id when no name is
        known; a name that several of these owners share carries a short form of the id."""
        found = {user_id: self.lookup(user_id) for user_id in dict.fromkeys(user_ids)}
        owners_by_name: dict[str, set[str]] = {}
        for owner in found.values():
            if owner.name:
                owners_by_name.setdefault(owner.name.casefold(), set()).add(owner.user_id)
        labels: dict[str, str] = {}
        for user_id, owner in found.items():
            if not owner.name:
                labels[user_id] = user_id
            elif len(owners_by_name[owner.name.casefold()]) > 1:
                labels[user_id] = f"{owner.name} ({short_id(user_id)})"
            else:
                labels[user_id] = owner.name
        return labels

    def ids_for(self, wanted: Iterable[str], user_ids: Iterable[str]) -> set[str]:
        """The ids among ``user_ids`` that ``wanted`` names: each entry an owner id or a user
        name (case-insensitive). ValidationError for an entry that names nobody known."""
        known = list(dict.fromkeys(user_ids))
        chosen: set[str] = set()
        for entry in wanted:
            if entry in known or looks_like_an_id(entry):
                chosen.add(entry)
                continue
            folded = entry.casefold()
            matches = {
                user_id
                for user_id in known
                if (self.lookup(user_id).name or "").casefold() == folded
            }
            if not matches:
                raise ValidationError(f"No user named {entry!r} is known.")
            chosen |= matches
        return chosen

    def candidate_ids(self, regions: Iterable[str]) -> set[str]:
        """Every owner id a name here can stand for: the ids names were recorded on, and each
        pool user's ``sub`` as the web API keys it and, prefixed by each of ``regions``, as the
        sandbox does."""
        prefixes = {region for region in regions if region}
        ids = set(self._recorded)
        for sub in self._pool_users:
            ids.add(sub)
            ids.update(f"{region}:{sub}" for region in prefixes)
        return ids


def short_id(user_id: str) -> str:
    """The first 8 characters of an owner id's uuid (enough to tell two owners apart)."""
    bare = user_id.rsplit(":", 1)[-1]
    return f"{bare[:8]}…" if len(bare) > 8 else bare


def looks_like_an_id(entry: str) -> bool:
    """An owner id (``region:uuid``) or a bare ``sub`` (a uuid), not a user name."""
    return ":" in entry or (len(entry) == 36 and entry.count("-") == 4)
