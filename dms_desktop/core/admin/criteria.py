"""Who may use the admin tools, and which documents a cleanup selects."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..errors import AuthError, ValidationError
from ..identity import ADMIN_GROUP, SignedIn
from ..items import ScanFilter, StoredItem, fold
from ..models import format_timestamp

CONFIRM_TYPED_ABOVE = 100  # more documents than this: the admin types the number to confirm
DEFAULT_STALE_HOURS = 24.0
DEFAULT_ORPHAN_GRACE = timedelta(minutes=10)


def require_admin(user: SignedIn | None) -> SignedIn:
    """``user`` if they are an admin; AuthError (nothing runs) otherwise."""
    if user is None:
        raise AuthError("This tool needs admin rights: sign in as an administrator first.")
    if not user.is_admin:
        raise AuthError(
            f"This tool needs admin rights: {user.username} is not in the {ADMIN_GROUP!r} group. "
            "Sign in as an administrator."
        )
    return user


def needs_typed_confirmation(count: int) -> bool:
    """More than :data:`CONFIRM_TYPED_ABOVE` documents: confirm by typing their number."""
    return count > CONFIRM_TYPED_ABOVE


@dataclass(frozen=True)
class CleanupCriteria:
    """Which documents a cleanup removes; every criterion given must hold (AND).

    ``orphans`` restricts the match to documents whose body is missing, and adds the bodies that
    have no metadata (matched by owner, size and upload time; not when a tag or name criterion is
    given, as such bodies have neither). ``expired`` matches records whose ``expiresAt`` is past.
    """

    tag: str | None = None
    name_prefix: str | None = None
    name_glob: str | None = None
    created_before: datetime | None = None
    created_after: datetime | None = None
    owners: tuple[str, ...] = ()
    min_size: int | None = None
    max_size: int | None = None
    orphans: bool = False
    expired: bool = False

    def __post_init__(self) -> None:
        if self.name_prefix and self.name_glob:
            raise ValidationError("Give a filename prefix or a glob, not both.")
        if self.tag is not None and not self.tag.strip():
            raise ValidationError("The tag is empty.")
        for moment in (self.created_before, self.created_after):
            if moment is not None and moment.tzinfo is None:
                raise ValidationError("Dates must carry a time zone (e.g. 2024-05-01T00:00Z).")
        for size in (self.min_size, self.max_size):
            if size is not None and size < 0:
                raise ValidationError("Sizes are numbers of bytes, 0 or more.")
        if (
            self.min_size is not None
            and self.max_size is not None
            and self.min_size > self.max_size
        ):
            raise ValidationError("The minimum size is larger than the maximum size.")
        if (
            self.created_before is not None
            and self.created_after is not None
            and self.created_after >= self.created_before
        ):
            raise ValidationError("'Created after' must be earlier than 'created before'.")
        object.__setattr__(self, "owners", tuple(dict.fromkeys(o.strip() for o in self.owners)))
        if not self.is_selective:
            raise ValidationError(
                "Give at least one criterion (a tag, a name, dates, owners, sizes, orphans or "
                "expired): a cleanup never matches every document."
            )

    @property
    def is_selective(self) -> bool:
        return any(
            (
                self.tag,
                self.name_prefix,
                self.name_glob,
                self.created_before,
                self.created_after,
                self.owners,
                self.min_size is not None,
                self.max_size is not None,
                self.orphans,
                self.expired,
            )
        )

    @property
    def needs_metadata(self) -> bool:
        """Criteria that only metadata can satisfy (bodies without metadata never match)."""
        return bool(self.tag or self.name_prefix or self.name_glob or self.expired)

    def matches(self, item: StoredItem, now: datetime) -> bool:
        """The same test as the scan's filter (:meth:`scan_filter`), plus the glob."""
        if self.tag and fold(self.tag.strip()) not in item.tag_keys:
            return False
        name = fold(item.filename)
        if self.name_prefix and not name.startswith(fold(self.name_prefix)):
            return False
        if self.name_glob and not fnmatch.fnmatchcase(name, fold(self.name_glob)):
            return False
        if self.expired and (item.expires_at is None or item.expires_at >= now.timestamp()):
            return False
        return self.matches_body(item.user_id, item.size, item.created_at)

    def matches_body(self, user_id: str, size: int, created_at: datetime | None) -> bool:
        """The criteria that also apply to a body without metadata."""
        if self.owners and user_id not in self.owners:
            return False
        if self.min_size is not None and size < self.min_size:
            return False
        if self.max_size is not None and size > self.max_size:
            return False
        if self.created_before is not None and (
            created_at is None or created_at >= self.created_before
        ):
            return False
        return not (
            self.created_after is not None
            and (created_at is None or created_at <= self.created_after)
        )

    def scan_filter(self, now: datetime) -> ScanFilter:
        """What the table's scan can filter on the server (everything but the glob)."""
        return ScanFilter(
            tag=self.tag,
            name_prefix=self.name_prefix,
            created_before=self.created_before,
            created_after=self.created_after,
            owners=self.owners,
            min_size=self.min_size,
            max_size=self.max_size,
            expired_before=now if self.expired else None,
        )

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "tag": self.tag,
            "namePrefix": self.name_prefix,
            "nameGlob": self.name_glob,
            "createdBefore": format_timestamp(self.created_before) if self.created_before else None,
            "createdAfter": format_timestamp(self.created_after) if self.created_after else None,
            "owners": list(self.owners),
            "minSize": self.min_size,
            "maxSize": self.max_size,
            "orphans": self.orphans,
            "expired": self.expired,
        }
