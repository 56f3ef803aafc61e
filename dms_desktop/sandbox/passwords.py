"""Sandbox passwords at rest: salted scrypt hashes instead of moto's plain text.

moto's Cognito keeps each user's password as a string and checks a sign-in with
``user.password != password``. The sandbox replaces that string with a :class:`HashedPassword`
when it saves its state (``persistence``), in the live user too, so neither the state file nor
the running server keeps the password after the first checkpoint (half a second after it was
set). A ``HashedPassword`` compares with a string by hashing it: moto's own checks work
unchanged, which is the seam (a sign-in with USER_PASSWORD_AUTH, a password change).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Any

from moto.cognitoidp.models import CognitoIdpUser, cognitoidp_backends

# scrypt's recommended interactive cost (16 MiB, tens of ms per sign-in).
_N, _R, _P = 2**14, 8, 1
_SALT_BYTES = 16


def _scrypt(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=32)


class HashedPassword:
    """A password as a salt and its scrypt hash; equal to the strings that hash to it."""

    __slots__ = ("digest", "salt")

    def __init__(self, salt: bytes, digest: bytes) -> None:
        self.salt = salt
        self.digest = digest

    @classmethod
    def of(cls, password: str) -> HashedPassword:
        salt = os.urandom(_SALT_BYTES)
        return cls(salt, _scrypt(password, salt))

    def matches(self, candidate: object) -> bool:
        if isinstance(candidate, HashedPassword):
            return candidate is self
        if not isinstance(candidate, str):
            return False
        return hmac.compare_digest(_scrypt(candidate, self.salt), self.digest)

    def __eq__(self, other: object) -> bool:
        return self.matches(other)

    def __ne__(self, other: object) -> bool:
        return not self.matches(other)

    __hash__ = None  # type: ignore[assignment]  # compared by hashing what it meets, not hashable

    def __repr__(self) -> str:
        return "HashedPassword(...)"

    def __reduce__(self) -> tuple[Any, ...]:
        return (HashedPassword, (self.salt, self.digest))


def hash_password_of(user: CognitoIdpUser) -> None:
    """Replace the user's plain-text password by its hash (a no-op once hashed)."""
    password = user.__dict__.get("password")
    if isinstance(password, str):
        user.password = HashedPassword.of(password)  # type: ignore[assignment]


def plain_passwords_left() -> bool:
    """Whether a user of the loaded state still has a plain-text password (a state file
    written before passwords were hashed): the next checkpoint hashes them."""
    for _account, _region, backend in cognitoidp_backends.iter_backends():
        pools: dict[str, Any] = getattr(backend, "user_pools", {})
        for pool in pools.values():
            if any(isinstance(user.password, str) for user in pool.users.values()):
                return True
    return False
