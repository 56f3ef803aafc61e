"""The domain errors: every failure the user can meet becomes one of these.

Each carries a message a user can act on and the exit code the CLI uses; the original exception
(a botocore ClientError, an OSError) stays attached as ``__cause__`` for the log.
"""

from __future__ import annotations


class DmsError(Exception):
    """Base of all errors shown to users. ``str(error)`` is the one-line message."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ValidationError(DmsError, ValueError):
    """Bad input: a filename, tag, path or argument the user can correct."""

    exit_code = 3


class NotFound(DmsError):
    """The document (or file) does not exist, or no longer exists."""

    exit_code = 4


class InTrash(NotFound):
    """The document is in the trash: it cannot be opened or changed until it is restored."""

    def __init__(self, filename: str, document_id: str) -> None:
        super().__init__(
            f"{filename!r} is in the trash; restore it first (`dms restore {document_id}`, or "
            "Restore in the window's Trash)."
        )
        self.document_id = document_id


class Conflict(DmsError):
    """Someone else changed the document first (optimistic lock), or the id is taken."""

    exit_code = 5


class AuthError(DmsError):
    """Not signed in, wrong credentials, expired session or access denied."""

    exit_code = 6


class Unavailable(DmsError):
    """The backend cannot be reached or failed; trying again later may work."""

    exit_code = 7


class Throttled(Unavailable):
    """The backend is throttling us beyond the retry budget."""


class Cancelled(DmsError):
    """The user cancelled the operation; nothing half-done was left behind."""

    exit_code = 8


class Paused(Cancelled):
    """The user paused a transfer: it stopped, and what it had done is kept to be resumed."""

    def __init__(self, message: str, transfer_id: str) -> None:
        super().__init__(message)
        self.transfer_id = transfer_id


class TransferInterrupted(Unavailable):
    """A transfer stopped by a failure that may pass (the network, the backend): what it had
    done is kept, and resuming it (``transfer_id``) continues where it stopped."""

    def __init__(self, message: str, transfer_id: str) -> None:
        super().__init__(message)
        self.transfer_id = transfer_id


class IntegrityError(DmsError):
    """Stored data does not match its checksum (or size); nothing was written over."""

    exit_code = 9


class ConfigError(DmsError):
    """The configuration file or environment is wrong; the message names the key."""

    exit_code = 10


class SandboxError(DmsError):
    """The local sandbox could not start (port taken, corrupt state, ...)."""

    exit_code = 11


class TargetExists(ValidationError):
    """A download target exists and the user did not ask to overwrite it."""


class AmbiguousName(ValidationError):
    """A name given instead of an id fits more than one document; ``document_ids`` are theirs."""

    def __init__(self, message: str, document_ids: tuple[str, ...]) -> None:
        super().__init__(message)
        self.document_ids = document_ids


class LocalFileError(ValidationError):
    """A local file or folder is missing, unreadable, or not what was expected."""

    exit_code = 12
