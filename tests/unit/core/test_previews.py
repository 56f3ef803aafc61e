"""Previews without Qt: kinds, size caps, the disk cache and PDF rendering."""

from __future__ import annotations

import hashlib
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from dms_desktop.core.models import Document
from dms_desktop.core.previews import (
    TEXT_PREVIEW_BYTES,
    WHOLE_BODY_LIMIT,
    PreviewCache,
    PreviewKind,
    PreviewUnavailable,
    decode_text,
    load_preview_bytes,
    plan_preview,
    preview_kind,
    render_pdf_first_page,
    truncation_note,
)
from dms_desktop.core.service import DocumentService

from .conftest import make_document

SAMPLES = Path(str(files("dms_desktop.resources") / "samples"))


@pytest.mark.parametrize(
    ("file_type", "filename", "kind"),
    [
        ("text/plain", "notes.txt", PreviewKind.TEXT),
        ("text/csv", "budget.csv", PreviewKind.TEXT),
        ("text/x-python", "tool.py", PreviewKind.TEXT),
        ("application/json", "settings.json", PreviewKind.TEXT),
        ("application/x-yaml", "ci.yaml", PreviewKind.TEXT),
        ("application/toml", "pyproject.toml", PreviewKind.TEXT),
        ("application/octet-stream", "config.yaml", PreviewKind.TEXT),
        ("application/octet-stream", "Cargo.toml", PreviewKind.TEXT),
        ("application/octet-stream", "main.rs", PreviewKind.TEXT),
        ("application/ld+json", "data.jsonld", PreviewKind.TEXT),
        ("text/markdown", "README.md", PreviewKind.MARKDOWN),
        ("application/octet-stream", "notes.markdown", PreviewKind.MARKDOWN),
        ("text/markdown; charset=utf-8", "x", PreviewKind.MARKDOWN),
        ("image/png", "a.png", PreviewKind.IMAGE),
        ("image/jpeg", "a.jpg", PreviewKind.IMAGE),
        ("image/gif", "a.gif", PreviewKind.IMAGE),
        ("image/webp", "a.webp", PreviewKind.IMAGE),
        ("image/bmp", "a.bmp", PreviewKind.IMAGE),
        ("image/svg+xml", "a.svg", PreviewKind.IMAGE),
        ("IMAGE/PNG", "a.png", PreviewKind.IMAGE),
        ("application/pdf", "report.pdf", PreviewKind.PDF),
        ("image/tiff", "scan.tiff", PreviewKind.NONE),
        ("application/zip", "archive.zip", PreviewKind.NONE),
        ("application/octet-stream", "blob.bin", PreviewKind.NONE),
        ("video/mp4", "clip.mp4", PreviewKind.NONE),
    ],
)
def test_preview_kind(file_type: str, filename: str, kind: PreviewKind) -> None:
    assert preview_kind(file_type, filename) is kind


def test_text_is_capped_and_large_images_and_pdfs_get_no_preview() -> None:
    big_text = make_document(filename="log.txt", file_type="text/plain", size=10 * 1024 * 1024)
    assert plan_preview(big_text).max_bytes == TEXT_PREVIEW_BYTES
    small_text = make_document(filename="a.txt", file_type="text/plain", size=10)
    assert plan_preview(small_text).max_bytes == 10

    limit_pdf = make_document(size=WHOLE_BODY_LIMIT)
    assert plan_preview(limit_pdf).kind is PreviewKind.PDF
    assert plan_preview(limit_pdf).max_bytes == WHOLE_BODY_LIMIT
    for file_type, name in (("application/pdf", "big.pdf"), ("image/png", "big.png")):
        plan = plan_preview(
            make_document(filename=name, file_type=file_type, size=WHOLE_BODY_LIMIT + 1)
        )
        assert plan.kind is PreviewKind.NONE
        assert "too large to preview" in plan.reason

    unsupported = plan_preview(make_document(filename="a.zip", file_type="application/zip"))
    assert unsupported.kind is PreviewKind.NONE
    assert unsupported.reason


def test_truncation_note() -> None:
    document = make_document(filename="a.txt", file_type="text/plain", size=3 * 1024 * 1024)
    assert truncation_note(document, TEXT_PREVIEW_BYTES) == "Showing the first 64 KB of 3.0 MB."
    assert truncation_note(document, document.size) == ""


def test_decode_text_drops_a_cut_off_character_only_when_truncated() -> None:
    data = "naïve ☃".encode()
    assert decode_text(data, complete=True) == "naïve ☃"
    assert decode_text(data[:-1], complete=False) == "naïve "
    assert decode_text(data[:-1], complete=True) == "naïve \ufffd"
    assert decode_text(b"\xef\xbb\xbfbom", complete=True) == "bom"
    assert decode_text(b"bad \xff byte", complete=True) == "bad \ufffd byte"


# --- the cache ---------------------------------------------------------------------------------


def count_get_object(s3: Any) -> list[str]:
    calls: list[str] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        calls.append(params.get("Key", ""))

    s3.meta.events.register("before-call.s3.GetObject", record)
    return calls


def upload(service: DocumentService, tmp_path: Path, name: str, data: bytes) -> Document:
    path = tmp_path / "upload" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return service.upload(path)


def test_cache_hit_avoids_a_second_read_and_a_new_checksum_misses(
    service: DocumentService, s3: Any, tmp_path: Path
) -> None:
    cache = PreviewCache(tmp_path / "cache" / "previews")
    document = upload(service, tmp_path, "notes.txt", b"hello previews\n")
    calls = count_get_object(s3)

    assert load_preview_bytes(service, document, cache) == b"hello previews\n"
    assert load_preview_bytes(service, document, cache) == b"hello previews\n"
    assert len(calls) == 1

    changed = document.model_copy(update={"checksum": hashlib.sha256(b"other").hexdigest()})
    assert load_preview_bytes(service, changed, cache) == b"hello previews\n"
    assert len(calls) == 2


def test_unpreviewable_documents_are_not_read(
    service: DocumentService, s3: Any, tmp_path: Path
) -> None:
    cache = PreviewCache(tmp_path / "previews")
    document = upload(service, tmp_path, "data.bin", b"\x00\x01")
    calls = count_get_object(s3)
    assert load_preview_bytes(service, document, cache) is None
    assert calls == []


def test_text_preview_reads_only_the_cap(service: DocumentService, s3: Any, tmp_path: Path) -> None:
    cache = PreviewCache(tmp_path / "previews")
    document = upload(service, tmp_path, "big.txt", b"x" * (TEXT_PREVIEW_BYTES * 3))
    data = load_preview_bytes(service, document, cache)
    assert data is not None
    assert len(data) == TEXT_PREVIEW_BYTES
    assert cache.get(document.document_id, document.checksum, TEXT_PREVIEW_BYTES) == data


def test_a_whole_body_that_does_not_match_its_checksum_is_not_cached(
    service: DocumentService, tmp_path: Path
) -> None:
    cache = PreviewCache(tmp_path / "previews")
    document = upload(service, tmp_path, "a.txt", b"abc")
    wrong = document.model_copy(update={"checksum": "f" * 64})
    assert load_preview_bytes(service, wrong, cache) == b"abc"
    assert cache.get(wrong.document_id, wrong.checksum, 3) is None


def test_cache_evicts_least_recently_used_beyond_its_bound(tmp_path: Path) -> None:
    cache = PreviewCache(tmp_path / "previews", max_total_bytes=250)
    for name in ("a", "b", "c"):
        cache.put(f"doc-{name}", "0" * 64, 100, name.encode() * 100)
    # Only two fit: "a" went when "c" came.
    assert cache.get("doc-a", "0" * 64, 100) is None
    assert cache.get("doc-b", "0" * 64, 100) == b"b" * 100  # "b" is now the most recent
    cache.put("doc-d", "0" * 64, 100, b"d" * 100)
    assert cache.get("doc-c", "0" * 64, 100) is None
    assert cache.get("doc-b", "0" * 64, 100) is not None
    assert cache.get("doc-d", "0" * 64, 100) is not None
    assert cache.total_bytes() <= 250
    assert not list((tmp_path / "previews").glob("*.part")), "no temporary files left behind"


def test_cache_drops_older_bodies_of_a_document_and_skips_oversized_entries(
    tmp_path: Path,
) -> None:
    cache = PreviewCache(tmp_path / "previews", max_total_bytes=1000)
    cache.put("doc", "1" * 64, 10, b"old body..")
    cache.put("doc", "2" * 64, 10, b"new body..")
    assert cache.get("doc", "1" * 64, 10) is None
    assert cache.get("doc", "2" * 64, 10) == b"new body.."
    cache.put("huge", "3" * 64, 2000, b"x" * 2000)
    assert cache.get("huge", "3" * 64, 2000) is None


def test_cache_keys_cannot_escape_the_folder(tmp_path: Path) -> None:
    cache = PreviewCache(tmp_path / "previews")
    cache.put("../../evil", "../x", 3, b"abc")
    assert cache.get("../../evil", "../x", 3) == b"abc"
    assert [path.parent for path in tmp_path.rglob("*.preview")] == [tmp_path / "previews"]


# --- PDF ---------------------------------------------------------------------------------------


def test_render_first_page_of_the_sample_pdf() -> None:
    data = (SAMPLES / "quarterly-report.pdf").read_bytes()
    width, height, stride, pixels = render_pdf_first_page(data, 400)
    assert width == 400
    assert height == round(792 * 400 / 612)
    assert stride >= width * 4
    assert len(pixels) == stride * height
    assert set(pixels) != {255}, "the page has some ink on it"


def test_render_respects_a_height_bound() -> None:
    data = (SAMPLES / "quarterly-report.pdf").read_bytes()
    width, height, _, _ = render_pdf_first_page(data, 800, max_height=200)
    assert height <= 200
    assert width < 800


@pytest.mark.parametrize(
    "data",
    [b"", b"%PDF-1.4 this is not really a pdf", b"\x89PNG\r\n\x1a\n" + b"\x00" * 50],
)
def test_a_corrupt_pdf_cannot_be_previewed_with_a_reason(data: bytes) -> None:
    with pytest.raises(PreviewUnavailable, match="Cannot preview this PDF"):
        render_pdf_first_page(data, 400)


def test_a_truncated_pdf_is_either_rendered_or_explained() -> None:
    data = (SAMPLES / "quarterly-report.pdf").read_bytes()
    for cut in (10, len(data) // 2, len(data) - 20):
        try:
            width, height, _, _ = render_pdf_first_page(data[:cut], 200)
        except PreviewUnavailable as unavailable:
            assert "Cannot preview" in str(unavailable)
        else:
            assert width > 0
            assert height > 0
