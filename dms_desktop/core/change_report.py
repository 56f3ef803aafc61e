"""What a change of many documents (move to the trash, restore, retag) did to each of them.

Pure data, without any AWS library: the window imports it before boto3 is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from .errors import DmsError
from .models import Document


class ChangeStatus(StrEnum):
    DONE = "done"
    NOT_FOUND = "not found"  # gone, or not where the change expects it (e.g. not in the trash)
    CONFLICT = "conflict"  # changed by someone else since it was read: nothing was overwritten
    FAILED = "failed"
    CANCELLED = "cancelled"  # not attempted: the user cancelled first


@dataclass(frozen=True)
class ChangeResult:
    """What became of one document."""

    document_id: str
    status: ChangeStatus
    filename: str = ""  # as stored ("" if unknown)
    error: DmsError | None = None  # why it was not changed
    document: Document | None = None  # the document as the change left it, when known

    @property
    def message(self) -> str:
        return "" if self.error is None else str(self.error)


@dataclass
class ChangeReport:
    """Every document asked for, once, in the order asked."""

    results: list[ChangeResult] = field(default_factory=list)
    requests: int = 0  # requests sent to the table (for benchmarks)

    def ids(self, status: ChangeStatus) -> list[str]:
        return [result.document_id for result in self.results if result.status is status]

    @property
    def done(self) -> list[ChangeResult]:
        return [result for result in self.results if result.status is ChangeStatus.DONE]

    @property
    def changed_documents(self) -> list[Document]:
        """The documents as changed (those whose new state is known)."""
        return [result.document for result in self.done if result.document is not None]

    @property
    def problems(self) -> list[ChangeResult]:
        """The results other than done, in order."""
        return [result for result in self.results if result.status is not ChangeStatus.DONE]

    @property
    def first_error(self) -> DmsError | None:
        """The error of the first document not changed (None: all were)."""
        problems = self.problems
        return problems[0].error if problems else None
