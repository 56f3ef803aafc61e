"""The data model: a document's metadata and the rules for filenames and tags.

Validation raises :class:`~dms_desktop.core.errors.ValidationError` with a message that says what
to change. Field names in JSON and DynamoDB are the data model's camelCase names.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    computed_field,
    field_validator,
)
from pydantic.alias_generators import to_camel

from .errors import ValidationError
from .formatting import printable
from .ids import is_document_id
from .schema import is_user_id, object_key

MAX_FILENAME_BYTES = 255
MAX_TAGS = 50
MAX_TAG_CHARS = 64
MAX_FOLDER_BYTES = 1024
DEFAULT_FILE_TYPE = "application/octet-stream"

_ISO_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def utc_now() -> datetime:
    return datetime.now(UTC)


def format_timestamp(moment: datetime) -> str:
    """UTC ISO-8601 with microseconds and a Z: fixed width, so text order is time order."""
    return moment.astimezone(UTC).strftime(_ISO_FORMAT)


def parse_timestamp(value: Any) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("timestamps must carry a time zone")
    return moment.astimezone(UTC)


# Zero-width joiner (emoji sequences) and non-joiner (part of Persian and Indic spellings).
_ALLOWED_FORMAT_CHARS = "\u200c\u200d"


def _is_forbidden_char(char: str) -> bool:
    return (
        unicodedata.category(char) in {"Cc", "Cf", "Zl", "Zp"} and char not in _ALLOWED_FORMAT_CHARS
    )


def normalize_filename(name: str) -> str:
    """NFC-normalise and check a filename; ValidationError if it cannot be stored."""
    if any("\ud800" <= char <= "\udfff" for char in name):
        # A local file name that is not UTF-8 (Python carries its bytes as lone surrogates).
        raise ValidationError(
            f"The filename {printable(name)} is not valid UTF-8 (it was made on a system with "
            "another character encoding); rename the file and try again."
        )
    normalized = unicodedata.normalize("NFC", name)
    if not normalized.strip():
        raise ValidationError("The filename is empty; give the document a name.")
    if "/" in normalized or "\\" in normalized:
        raise ValidationError(
            f"The filename {normalized!r} contains a path separator ('/' or '\\'); "
            "use a plain name such as 'report.pdf'."
        )
    bad = [char for char in normalized if _is_forbidden_char(char)]
    if bad:
        codes = ", ".join(f"U+{ord(char):04X}" for char in dict.fromkeys(bad))
        raise ValidationError(
            f"The filename contains control or invisible formatting characters ({codes}); "
            "remove them and try again."
        )
    if normalized in {".", ".."}:
        raise ValidationError(f"{normalized!r} is not a filename; give the document a name.")
    size = len(normalized.encode("utf-8"))
    if size > MAX_FILENAME_BYTES:
        raise ValidationError(
            f"The filename is {size} bytes long in UTF-8; the limit is {MAX_FILENAME_BYTES}. "
            "Shorten it."
        )
    return normalized


def normalize_tag(tag: str) -> str:
    cleaned = unicodedata.normalize("NFC", tag).strip()
    if not cleaned:
        raise ValidationError("A tag is empty; remove it or type some text.")
    if len(cleaned) > MAX_TAG_CHARS:
        raise ValidationError(
            f"The tag {cleaned[:20]!r}... is {len(cleaned)} characters long; "
            f"the limit is {MAX_TAG_CHARS}."
        )
    if any(_is_forbidden_char(char) for char in cleaned):
        raise ValidationError(f"The tag {cleaned!r} contains control characters; remove them.")
    return cleaned


def tag_key(tag: str) -> str:
    """The case-insensitive matching form of a tag (or of a search text)."""
    return unicodedata.normalize("NFC", tag).strip().casefold()


def normalize_tags(tags: Any) -> tuple[str, ...]:
    """Trim tags, drop duplicates (case-insensitively; the first spelling wins), enforce limits."""
    if isinstance(tags, str):
        tags = [tags]
    unique: dict[str, str] = {}
    for raw in tags:
        tag = normalize_tag(str(raw))
        unique.setdefault(tag_key(tag), tag)
    if len(unique) > MAX_TAGS:
        raise ValidationError(
            f"A document can have at most {MAX_TAGS} tags; this one would have {len(unique)}."
        )
    return tuple(unique.values())


def normalize_folder(folder: str) -> str:
    """A relative folder path ('a/b') kept for files uploaded from a folder; '' for none."""
    parts = [part for part in folder.replace("\\", "/").split("/") if part]
    for part in parts:
        if part in {".", ".."}:
            raise ValidationError(f"The folder path {folder!r} may not contain '.' or '..'.")
        normalize_filename(part)
    joined = "/".join(unicodedata.normalize("NFC", part) for part in parts)
    if len(joined.encode("utf-8")) > MAX_FOLDER_BYTES:
        raise ValidationError(f"The folder path is longer than {MAX_FOLDER_BYTES} bytes.")
    return joined


Timestamp = Annotated[
    datetime,
    AfterValidator(parse_timestamp),
    PlainSerializer(format_timestamp, return_type=str),
]


_JSON_ORDER = (
    "userId",
    "documentId",
    "filename",
    "fileType",
    "size",
    "tags",
    "folder",
    "createdAt",
    "updatedAt",
    "s3Key",
    "checksum",
    "version",
    "expiresAt",
    "trashedAt",
    "purgeAt",
)


class Document(BaseModel):
    """A stored document's metadata, as in the `Documents` table."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, frozen=True, extra="ignore"
    )

    user_id: str = Field(min_length=1)
    document_id: str = Field(min_length=1)
    filename: str
    file_type: str = DEFAULT_FILE_TYPE
    size: int = Field(ge=0)
    tags: tuple[str, ...] = ()
    folder: str = ""
    created_at: Timestamp
    updated_at: Timestamp
    checksum: str = Field(description="SHA-256 of the body, lower-case hex")
    version: int = Field(default=1, ge=1)
    expires_at: int | None = Field(
        default=None, ge=0, description="a test record's expiry, epoch seconds (DynamoDB TTL)"
    )
    trashed_at: Timestamp | None = Field(
        default=None, description="when it was moved to the trash; None unless it is there"
    )
    purge_at: int | None = Field(
        default=None, ge=0, description="when the trash purges it, epoch seconds (in the trash)"
    )

    @field_validator("user_id")
    @classmethod
    def _check_user_id(cls, value: str) -> str:
        if not is_user_id(value):
            raise ValueError(f"{value!r} is not a user id")
        return value

    @field_validator("document_id")
    @classmethod
    def _check_document_id(cls, value: str) -> str:
        if not is_document_id(value):
            raise ValueError(f"{value!r} is not a document id")
        return value

    @computed_field  # type: ignore[prop-decorator]
    @property
    def s3_key(self) -> str:
        """Where the body is stored: always derived from the owner and the id. An ``s3Key`` in
        a stored item or in input is ignored (a user can write their own items)."""
        return object_key(self.user_id, self.document_id)

    @field_validator("filename")
    @classmethod
    def _check_filename(cls, value: str) -> str:
        return normalize_filename(value)

    @field_validator("tags", mode="before")
    @classmethod
    def _check_tags(cls, value: Any) -> tuple[str, ...]:
        return normalize_tags(value or ())

    @field_validator("folder")
    @classmethod
    def _check_folder(cls, value: str) -> str:
        return normalize_folder(value)

    def to_json_dict(self) -> dict[str, Any]:
        """The stable JSON form (the data model's field names), as the CLI prints it."""
        plain = self.model_dump(mode="json", by_alias=True)
        return {name: plain[name] for name in _JSON_ORDER}

    @property
    def expires(self) -> datetime | None:
        """When a test record expires; None for a normal document."""
        return None if self.expires_at is None else datetime.fromtimestamp(self.expires_at, UTC)

    @property
    def in_trash(self) -> bool:
        return self.trashed_at is not None

    @property
    def purges(self) -> datetime | None:
        """When the trash purges it (None unless it is in the trash)."""
        return None if self.purge_at is None else datetime.fromtimestamp(self.purge_at, UTC)

    def has_tag(self, tag: str) -> bool:
        wanted = tag_key(tag)
        return any(tag_key(own) == wanted for own in self.tags)
