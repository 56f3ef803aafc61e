"""Text extraction: what each kind of body gives, within its bounds, and the cache."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dms_desktop.core.search.extract import (
    Limits,
    TextCache,
    extract_text,
    plan_extraction,
    tesseract_path,
)
from dms_desktop.core.search.text import ExtractedText
from tests.support.search import pdf

SAMPLES = Path(__file__).resolve().parents[4] / "resources" / "samples"
LIMITS = Limits()


def text_of(filename: str, file_type: str, body: bytes, limits: Limits = LIMITS) -> ExtractedText:
    plan = plan_extraction(filename, file_type, len(body), limits)
    return extract_text(
        plan, body[: plan.read_bytes], limits, truncated=len(body) > plan.read_bytes
    )


@pytest.mark.parametrize(
    ("filename", "file_type"),
    [
        ("meeting-notes.txt", "text/plain"),
        ("welcome.md", "text/markdown"),
        ("budget-2026.csv", "text/csv"),
        ("settings-example.json", "application/json"),
    ],
)
def test_the_text_samples_give_their_words(filename: str, file_type: str) -> None:
    body = (SAMPLES / filename).read_bytes()
    extracted = text_of(filename, file_type, body)
    assert extracted.note == ""
    assert extracted.text == body.decode("utf-8-sig")


def test_code_is_text_by_its_extension_whatever_its_type() -> None:
    body = b"def zebra_crossing():\n    return 42\n"
    assert "zebra_crossing" in text_of("tool.py", "application/octet-stream", body).text
    assert text_of("blob.bin", "application/octet-stream", body).text == ""


def test_legacy_and_utf16_texts_are_decoded() -> None:
    assert text_of("a.txt", "text/plain", "café".encode("cp1252")).text == "café"
    assert text_of("a.txt", "text/plain", "naïve".encode("utf-16")).text == "naïve"


def test_the_sample_pdf_gives_its_text_layer() -> None:
    body = (SAMPLES / "quarterly-report.pdf").read_bytes()
    extracted = text_of("quarterly-report.pdf", "application/pdf", body)
    assert "Quarterly report" in extracted.text
    assert "Storage used" in extracted.text


def test_a_damaged_pdf_gives_a_note_not_an_error() -> None:
    extracted = text_of("broken.pdf", "application/pdf", b"%PDF-1.4 not really")
    assert extracted == ExtractedText("", "could not be read: the PDF is damaged")


@pytest.mark.skipif(tesseract_path() is not None, reason="tesseract is installed here")
def test_a_scanned_pdf_without_ocr_is_skipped_with_a_note() -> None:
    extracted = text_of("scan.pdf", "application/pdf", pdf([]))
    assert extracted.text == ""
    assert "install tesseract" in extracted.note


def test_an_image_without_ocr_is_skipped_with_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    body = (SAMPLES / "sunrise.png").read_bytes()
    assert "install tesseract" in text_of("sunrise.png", "image/png", body).note


def test_size_bounds_cut_with_a_note() -> None:
    limits = Limits(max_read_bytes=1024, max_text_chars=100, max_pdf_bytes=1000)
    big = b"word " * 1000
    extracted = text_of("big.txt", "text/plain", big, limits)
    assert len(extracted.text) == 100
    assert "only the first" in extracted.note and "text cut at 100" in extracted.note
    assert "larger than" in text_of("big.pdf", "application/pdf", pdf(["x"] * 200), limits).note


def test_nothing_is_read_of_an_empty_or_unknown_body() -> None:
    assert plan_extraction("a.txt", "text/plain", 0, LIMITS).kind == ""
    assert plan_extraction("a.zip", "application/zip", 100, LIMITS).kind == ""
    assert plan_extraction("a.txt", "text/plain", 10**9, LIMITS).read_bytes == LIMITS.max_read_bytes


def test_the_cache_keeps_texts_by_checksum(tmp_path: Path) -> None:
    cache = TextCache(tmp_path / "texts")
    checksum = "ab" * 32
    assert cache.get(checksum) is None
    cache.put(checksum, ExtractedText("hello", "a note"))
    assert cache.get(checksum) == ExtractedText("hello", "a note")
    # a damaged cache file is extracted again, not trusted
    (path,) = (tmp_path / "texts").rglob("*.gz")
    path.write_bytes(b"garbage")
    assert cache.get(checksum) is None
    # a checksum that is not a hex digest never becomes a path
    cache.put("../../escape", ExtractedText("x"))
    assert not any(tmp_path.glob("escape*"))
    assert json.dumps(sorted(p.name for p in tmp_path.iterdir())) == '["texts"]'
