"""Who is signed in, and the "remember me" store: the parts of signing in that need no AWS
library, so the window can import them before boto3 loads (core.auth does the signing in).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from .errors import AuthError

if TYPE_CHECKING:
    import boto3

log = logging.getLogger(__name__)

ADMIN_GROUP = "admins"
KEYRING_SERVICE = "dms-desktop"


DEFAULT_SESSION_DAYS = 30  # Cognito's default refresh token validity, and the template's


@dataclass(frozen=True)
class CognitoPool:
    """Where users sign in: a user pool, its app client and the identity pool behind them."""

    region: str
    user_pool_id: str
    app_client_id: str
    identity_pool_id: str
    endpoint_url: str | None = None
    stable_ids_from_sub: bool = False  # the sandbox: identity ids made from the user's sub
    use_srp: bool = True  # False on the sandbox, whose SRP accepts any password
    session_days: int = DEFAULT_SESSION_DAYS  # the app client's refresh token validity


class NewPasswordRequired(AuthError):
    """First sign-in with a temporary password: the user must choose a new one."""

    def __init__(self, username: str, session: str) -> None:
        super().__init__(
            "You must choose a new password before you can sign in "
            "(sign in with `dms login` or in the desktop app to choose it)."
        )
        self.username = username
        self.session = session


@dataclass(frozen=True)
class SignedIn:
    """A signed-in user: who, and the session that carries their credentials.

    The credentials renew themselves; the session ends when the refresh token does, i.e.
    ``session_ends`` (None when unknown, e.g. with an AWS profile): then the user signs in again.
    """

    username: str
    user_id: str
    is_admin: bool
    session: boto3.Session = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    signed_in_at: datetime | None = None  # when the password was given
    session_ends: datetime | None = None


@dataclass(frozen=True)
class RememberedSession:
    username: str
    refresh_token: str = field(repr=False)
    signed_in_at: datetime | None  # None for sessions remembered by earlier versions


class RememberedSessions:
    """ "Remember me": the refresh token of a profile's user in the OS keyring, never a file."""

    def __init__(self, service: str = KEYRING_SERVICE) -> None:
        self._service = service

    def available(self) -> bool:
        """False where the system has no usable keyring (e.g. a Linux without a secret service):
        "remember me" cannot work there. Looks up an entry that does not exist, which stores
        nothing and needs no unlocked keyring."""
        import keyring

        try:
            keyring.get_password(self._service, "dms-desktop-keyring-probe")
        except Exception as exc:  # noqa: BLE001 - any backend failure means "cannot remember"
            log.info("no usable keyring (%s): sessions cannot be remembered", type(exc).__name__)
            return False
        return True

    def remember(self, profile: str, user: SignedIn) -> bool:
        """True if stored; False if this system has no usable keyring (the session still works)."""
        import keyring

        if user.refresh_token is None:
            return False
        stored = {"username": user.username, "refresh_token": user.refresh_token}
        if user.signed_in_at is not None:
            stored["signed_in_at"] = user.signed_in_at.isoformat()
        secret = json.dumps(stored)
        try:
            keyring.set_password(self._service, profile, secret)
        except Exception as exc:  # noqa: BLE001 - any backend failure means "cannot remember"
            log.warning("cannot remember the session: no usable keyring (%s)", type(exc).__name__)
            return False
        return True

    def recall(self, profile: str) -> RememberedSession | None:
        """The session remembered for ``profile``, if any."""
        import keyring

        try:
            secret = keyring.get_password(self._service, profile)
        except Exception as exc:  # noqa: BLE001
            log.warning("cannot read the keyring (%s)", type(exc).__name__)
            return None
        if not secret:
            return None
        try:
            stored = json.loads(secret)
            signed_in_at = stored.get("signed_in_at")
            return RememberedSession(
                username=str(stored["username"]),
                refresh_token=str(stored["refresh_token"]),
                signed_in_at=datetime.fromisoformat(signed_in_at) if signed_in_at else None,
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("ignoring an unreadable remembered session for %s", profile)
            return None

    def forget(self, profile: str) -> bool:
        """Forget the remembered session; True if there was one."""
        import keyring
        from keyring.errors import PasswordDeleteError

        try:
            keyring.delete_password(self._service, profile)
        except PasswordDeleteError:
            return False
        except Exception as exc:  # noqa: BLE001
            log.warning("cannot reach the keyring (%s)", type(exc).__name__)
            return False
        return True
