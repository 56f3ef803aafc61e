"""Filenames, tags, sizes and the JSON form of a document's metadata."""

from __future__ import annotations

import json
import unicodedata
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dms_desktop.core.errors import ValidationError
from dms_desktop.core.models import (
    MAX_FILENAME_BYTES,
    MAX_TAG_CHARS,
    MAX_TAGS,
    Document,
    normalize_filename,
    normalize_folder,
    normalize_tags,
)

from .conftest import make_document

# --- filenames --------------------------------------------------------------------------------


def test_nfd_filename_is_stored_as_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Café résumé.pdf")
    assert decomposed != "Café résumé.pdf"
    assert normalize_filename(decomposed) == "Café résumé.pdf"
    document = make_document(filename=decomposed)
    assert document.filename == unicodedata.normalize("NFC", decomposed)
    assert unicodedata.is_normalized("NFC", document.filename)


def test_filename_of_exactly_255_bytes_is_accepted() -> None:
    name = "a" * 251 + ".pdf"
    assert len(name.encode()) == MAX_FILENAME_BYTES == 255
    assert normalize_filename(name) == name


def test_filename_of_256_bytes_is_rejected_with_its_size() -> None:
    with pytest.raises(ValidationError, match="256 bytes"):
        normalize_filename("a" * 252 + ".pdf")


def test_filename_limit_counts_utf8_bytes_not_characters() -> None:
    fits = "é" * 127 + "a"  # 2 bytes each: 254 + 1
    assert len(fits.encode()) == 255
    assert normalize_filename(fits) == fits
    too_long = "é" * 128  # only 128 characters, but 256 bytes
    with pytest.raises(ValidationError, match="256 bytes"):
        normalize_filename(too_long)
    emoji = "😀" * 64  # 4 bytes each: 256
    with pytest.raises(ValidationError, match="limit is 255"):
        normalize_filename(emoji)


def test_nfd_name_that_only_fits_after_nfc_is_accepted() -> None:
    nfc = "é" * 127  # 254 bytes as NFC, 381 bytes as NFD
    nfd = unicodedata.normalize("NFD", nfc)
    assert len(nfd.encode()) > 255
    assert normalize_filename(nfd) == nfc


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("bad\x00name.txt", "U+0000"),
        ("tab\there.txt", "U+0009"),
        ("line\nbreak.txt", "U+000A"),
        ("bell\x07.txt", "U+0007"),
        ("del\x7f.txt", "U+007F"),
        ("spoof\u202egpj.exe", "U+202E"),  # right-to-left override hides the real extension
    ],
)
def test_control_characters_are_rejected_naming_them(name: str, problem: str) -> None:
    with pytest.raises(ValidationError, match="control") as caught:
        normalize_filename(name)
    assert problem in str(caught.value)


@pytest.mark.parametrize("name", ["a/b.txt", "/etc/passwd", "..\\evil.txt", "dir\\file"])
def test_path_separators_are_rejected(name: str) -> None:
    with pytest.raises(ValidationError, match="path separator"):
        normalize_filename(name)


@pytest.mark.parametrize("name", [".", ".."])
def test_dot_names_are_rejected(name: str) -> None:
    with pytest.raises(ValidationError, match="not a filename"):
        normalize_filename(name)


@pytest.mark.parametrize("name", ["", "   ", "\u3000"])
def test_empty_filename_is_rejected(name: str) -> None:
    with pytest.raises(ValidationError, match="empty"):
        normalize_filename(name)


@pytest.mark.parametrize(
    "name",
    [
        "😀 party 🎉.png",
        "👨\u200d👩\u200d👧 family.jpg",  # zero-width joiner sequence
        "🇫🇷 flag.txt",
        "שלום עולם.txt",  # Hebrew
        "تقرير مالي.pdf",  # Arabic
        "نامه\u200cها.pdf",  # Persian: the zero-width non-joiner is part of the spelling
        "日本語のファイル.docx",
        ".hidden-but-valid",
        "...three dots",
    ],
)
def test_emoji_and_right_to_left_names_are_accepted(name: str) -> None:
    assert normalize_filename(name) == unicodedata.normalize("NFC", name)
    assert make_document(filename=name).filename == unicodedata.normalize("NFC", name)


def test_document_rejects_a_bad_filename_with_the_same_message() -> None:
    with pytest.raises(ValueError, match="path separator"):
        make_document(filename="a/b.pdf")


# --- tags ---------------------------------------------------------------------------------------


def test_tags_are_trimmed_and_case_insensitive_duplicates_keep_the_first_spelling() -> None:
    assert normalize_tags(["  Invoice ", "invoice", "INVOICE", "Tax", " tax"]) == (
        "Invoice",
        "Tax",
    )
    document = make_document(tags=[" Work", "WORK", "home "])
    assert document.tags == ("Work", "home")


def test_a_single_string_is_one_tag() -> None:
    assert normalize_tags("urgent") == ("urgent",)


def test_fifty_tags_are_allowed_fifty_one_are_not() -> None:
    assert len(normalize_tags([f"tag{i}" for i in range(MAX_TAGS)])) == 50
    with pytest.raises(ValidationError, match="at most 50 tags"):
        normalize_tags([f"tag{i}" for i in range(MAX_TAGS + 1)])


def test_duplicates_do_not_count_towards_the_tag_limit() -> None:
    tags = [f"tag{i}" for i in range(MAX_TAGS)] + [f"TAG{i}" for i in range(MAX_TAGS)]
    assert len(normalize_tags(tags)) == 50


def test_tag_length_is_1_to_64_characters() -> None:
    assert normalize_tags(["x"]) == ("x",)
    assert normalize_tags(["é" * MAX_TAG_CHARS]) == ("é" * 64,)
    with pytest.raises(ValidationError, match="65 characters"):
        normalize_tags(["y" * 65])


@pytest.mark.parametrize("tag", ["", "   ", "\t"])
def test_empty_tags_are_rejected(tag: str) -> None:
    with pytest.raises(ValidationError, match="empty"):
        normalize_tags(["ok", tag])


def test_tags_with_control_characters_are_rejected() -> None:
    with pytest.raises(ValidationError, match="control"):
        normalize_tags(["bad\x00tag"])


# --- other fields -------------------------------------------------------------------------------


def test_size_zero_is_valid_and_negative_is_not() -> None:
    assert make_document(size=0).size == 0
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        make_document(size=-1)


def test_folder_is_normalised_and_may_not_escape() -> None:
    assert normalize_folder("top\\sub/") == "top/sub"
    assert normalize_folder("") == ""
    with pytest.raises(ValidationError, match=r"'\.' or '\.\.'"):
        normalize_folder("top/../etc")


# --- JSON ---------------------------------------------------------------------------------------


def test_json_field_names_are_the_data_models() -> None:
    document = make_document(tags=["a"])
    assert list(document.to_json_dict()) == [
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
    ]


def test_timestamps_are_utc_iso8601_with_z() -> None:
    paris = timezone(timedelta(hours=2))
    document = make_document(created_at=datetime(2024, 5, 1, 14, 30, 5, 123456, tzinfo=paris))
    data = document.to_json_dict()
    assert data["createdAt"] == "2024-05-01T12:30:05.123456Z"
    assert data["updatedAt"].endswith("Z")
    assert document.created_at.tzinfo is not None
    assert document.created_at.utcoffset() == timedelta(0)


def test_naive_timestamps_are_rejected() -> None:
    with pytest.raises(ValueError, match="time zone"):
        make_document(created_at=datetime(2024, 5, 1, 12, 0))


def test_json_round_trip_gives_an_equal_document() -> None:
    document = make_document(filename="Ünïcödé 😀.pdf", tags=["x", "Y"], folder="a/b", size=0)
    text = json.dumps(document.to_json_dict())
    again = Document.model_validate(json.loads(text))
    assert again == document
    assert again.created_at == document.created_at
    assert again.created_at.tzinfo == UTC


def test_documents_are_immutable() -> None:
    document = make_document()
    with pytest.raises(ValueError, match="frozen"):
        document.filename = "other.pdf"  # type: ignore[misc]


def test_has_tag_ignores_case() -> None:
    document = make_document(tags=["Steuer"])
    assert document.has_tag("STEUER")
    assert not document.has_tag("tax")


# --- properties ---------------------------------------------------------------------------------

names = st.text(min_size=1, max_size=300)


@given(names)
def test_normalize_filename_is_idempotent(name: str) -> None:
    try:
        once = normalize_filename(name)
    except ValidationError:
        return
    assert normalize_filename(once) == once


@given(names)
def test_any_accepted_name_is_short_nfc_and_without_separators(name: str) -> None:
    try:
        accepted = normalize_filename(name)
    except ValidationError:
        return
    assert len(accepted.encode("utf-8")) <= MAX_FILENAME_BYTES
    assert unicodedata.is_normalized("NFC", accepted)
    assert "/" not in accepted and "\\" not in accepted and "\x00" not in accepted
    assert accepted not in {".", ".."}


@given(st.lists(st.text(min_size=1, max_size=10), max_size=60))
def test_normalized_tags_have_no_case_insensitive_duplicates(tags: list[str]) -> None:
    try:
        clean = normalize_tags(tags)
    except ValidationError:
        return
    keys = [tag.casefold() for tag in clean]
    assert len(keys) == len(set(keys))
    assert all(tag == tag.strip() and tag for tag in clean)
    assert normalize_tags(list(clean)) == clean
