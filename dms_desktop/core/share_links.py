"""Share links: a download link of one document that works without signing in, until it expires.

A link is a presigned S3 GET of the document's body (its key derived from the owner and the id,
never a stored one), saved under the document's name. It carries the signature of the
credentials that made it and dies with them: on the local sandbox and with an AWS profile's
long-term keys it lasts what was asked (at most 7 days, SigV4's limit); with a Cognito sign-in
the identity pool's credentials last about an hour, so links made there are limited to one hour
(a longer one needs a link signed by a server-side role, which is not built; see
docs/lifecycle.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .errors import ValidationError
from .models import Document, format_timestamp

SHARE_EXPIRIES: dict[str, timedelta] = {
    "1h": timedelta(hours=1),
    "1d": timedelta(days=1),
    "7d": timedelta(days=7),
}
"""The lifetimes a user can choose, by their short name (CLI ``--expires``, the window's dialog)."""
DEFAULT_SHARE_EXPIRY = "1d"
MAX_LINK_LIFETIME = timedelta(days=7)  # SigV4 presigned URLs: 604,800 seconds at most
IDENTITY_POOL_LINK_LIFETIME = timedelta(hours=1)  # the credentials a Cognito sign-in gets


@dataclass(frozen=True)
class ShareLink:
    """A link to download ``document`` until ``expires_at``."""

    document: Document
    url: str
    expires_at: datetime

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "documentId": self.document.document_id,
            "filename": self.document.filename,
            "url": self.url,
            "expiresAt": format_timestamp(self.expires_at),
        }


def checked_lifetime(lifetime: timedelta, limit: timedelta | None) -> int:
    """``lifetime`` in whole seconds, or ValidationError if it is not allowed here (``limit``:
    how long the credentials that sign the link last, if they are short-lived)."""
    seconds = int(lifetime.total_seconds())
    if seconds < 1:
        raise ValidationError("A share link must last at least a second.")
    if lifetime > MAX_LINK_LIFETIME:
        raise ValidationError("A share link lasts at most 7 days.")
    if limit is not None and lifetime > limit:
        raise ValidationError(
            f"A share link made with your sign-in's credentials lasts at most {_hours(limit)}: "
            "it stops working when they expire. Choose 1h (longer links need the web API's "
            "share route, which this deployment does not have)."
        )
    return seconds


def _hours(limit: timedelta) -> str:
    hours = int(limit.total_seconds() // 3600)
    return f"{hours} hour" if hours == 1 else f"{hours} hours"
