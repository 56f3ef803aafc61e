"""Text extraction for the search index: what a document's body says, bounded in size and time.

Plain text, Markdown, CSV, JSON, code and other text formats are decoded; PDFs give their text
layer through PDFium (pypdfium2); scanned PDFs and images are read with OCR when ``tesseract`` is
installed and skipped with a note when it is not. Every extraction is bounded: at most
``Limits.max_read_bytes`` of a text file are read, PDFs above ``Limits.max_pdf_bytes`` are not
opened, at most ``Limits.max_text_chars`` characters are kept, and a PDF stops at its page limit
or its deadline (OCR runs under a timeout).

:class:`TextCache` keeps what was extracted by the body's checksum, so a reindex, or a rename
that the stream reports as a change, does not download and read the body again.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dms_desktop.core.search.text import ExtractedText

log = logging.getLogger(__name__)

EXTRACTOR_VERSION = 1  # bump when extraction changes: cached texts of older versions are redone

# PDFium is not thread-safe: every use of it in this process shares the previews' lock.
_PDFIUM_LOCK: threading.Lock
try:
    from dms_desktop.core.previews import _PDFIUM_LOCK
except ImportError:  # pragma: no cover (the web API's bundle carries no previews)
    _PDFIUM_LOCK = threading.Lock()

TEXT_TYPES = frozenset(
    {
        "application/json",
        "application/xml",
        "application/x-yaml",
        "application/yaml",
        "application/toml",
        "application/javascript",
        "application/x-javascript",
        "application/x-sh",
        "application/x-python",
        "application/sql",
        "application/x-tex",
        "application/rtf",
        "image/svg+xml",
    }
)
TEXT_EXTENSIONS = frozenset(
    {
        "txt",
        "text",
        "md",
        "markdown",
        "rst",
        "csv",
        "tsv",
        "json",
        "jsonl",
        "ndjson",
        "xml",
        "yaml",
        "yml",
        "toml",
        "ini",
        "cfg",
        "conf",
        "log",
        "py",
        "pyi",
        "js",
        "mjs",
        "cjs",
        "ts",
        "tsx",
        "jsx",
        "java",
        "kt",
        "kts",
        "scala",
        "c",
        "h",
        "cc",
        "cpp",
        "cxx",
        "hpp",
        "hh",
        "cs",
        "go",
        "rs",
        "rb",
        "php",
        "pl",
        "pm",
        "swift",
        "m",
        "mm",
        "r",
        "jl",
        "lua",
        "sh",
        "bash",
        "zsh",
        "fish",
        "ps1",
        "bat",
        "cmd",
        "sql",
        "html",
        "htm",
        "css",
        "scss",
        "less",
        "vue",
        "svelte",
        "tex",
        "bib",
        "srt",
        "vtt",
        "properties",
        "gradle",
        "dockerfile",
        "makefile",
        "cmake",
        "mk",
        "gitignore",
        "env",
        "tf",
        "hcl",
        "proto",
        "graphql",
        "gql",
    }
)
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/tiff", "image/bmp", "image/gif"})
PDF_TYPE = "application/pdf"


@dataclass(frozen=True)
class Limits:
    """How much one document may cost the indexer."""

    max_read_bytes: int = 4 * 1024 * 1024  # of a text file (the rest is not read)
    max_pdf_bytes: int = 64 * 1024 * 1024  # a larger PDF is not opened
    max_image_bytes: int = 32 * 1024 * 1024  # a larger image is not read with OCR
    max_text_chars: int = 1_000_000  # kept per document
    max_pages: int = 2000
    seconds: float = 30.0  # per document; OCR and PDF pages stop there
    ocr_pages: int = 20  # pages of a scanned PDF read with OCR


@dataclass(frozen=True)
class ExtractionPlan:
    """What to do with a body: its kind ('text', 'pdf', 'image' or '' for nothing) and how many
    of its bytes to read; ``note`` says why nothing is read."""

    kind: str
    read_bytes: int = 0
    note: str = ""


def _extension(filename: str) -> str:
    name = filename.casefold()
    if "." not in name:
        return name  # Makefile, Dockerfile
    return name.rsplit(".", 1)[1]


def plan_extraction(filename: str, file_type: str, size: int, limits: Limits) -> ExtractionPlan:
    """Which extractor a document gets, from its name, type and size (nothing is read yet)."""
    mime = file_type.casefold()
    if size == 0:
        return ExtractionPlan("", note="empty")
    if mime == PDF_TYPE or _extension(filename) == "pdf":
        if size > limits.max_pdf_bytes:
            return ExtractionPlan(
                "", note=f"not read: a PDF larger than {limits.max_pdf_bytes // 2**20} MB"
            )
        return ExtractionPlan("pdf", size)
    if mime.startswith("text/") or mime in TEXT_TYPES or _extension(filename) in TEXT_EXTENSIONS:
        return ExtractionPlan("text", min(size, limits.max_read_bytes))
    if mime in IMAGE_TYPES:
        if size > limits.max_image_bytes:
            return ExtractionPlan("", note="not read: an image too large for OCR")
        return ExtractionPlan("image", size)
    return ExtractionPlan("", note="")


def extract_text(
    plan: ExtractionPlan, body: bytes, limits: Limits, truncated: bool = False
) -> ExtractedText:
    """The text of ``body`` (the first ``plan.read_bytes`` of the document; ``truncated`` if
    there was more). Never raises for a bad body: a damaged file gives a note instead."""
    started = time.monotonic()
    try:
        if plan.kind == "text":
            result = _decode(body, limits)
            if truncated:
                result = ExtractedText(
                    result.text,
                    _join_notes(
                        result.note, f"only the first {limits.max_read_bytes // 2**20} MB read"
                    ),
                )
        elif plan.kind == "pdf":
            result = _pdf_text(body, limits, started)
        elif plan.kind == "image":
            result = _ocr_image(body, limits)
        else:
            result = ExtractedText("", plan.note)
    except Exception as exc:  # noqa: BLE001 (a damaged body must not stop the indexer)
        log.info("Text extraction failed: %s: %s", type(exc).__name__, exc)
        result = ExtractedText(
            "", "could not be read: the file is damaged or not what its type says"
        )
    return _bounded(result, limits)


def _join_notes(*notes: str) -> str:
    return "; ".join(note for note in notes if note)


def _bounded(result: ExtractedText, limits: Limits) -> ExtractedText:
    text = result.text.replace("\x00", " ")
    if len(text) <= limits.max_text_chars:
        return ExtractedText(text, result.note)
    return ExtractedText(
        text[: limits.max_text_chars],
        _join_notes(result.note, f"text cut at {limits.max_text_chars:,} characters"),
    )


def _decode(body: bytes, limits: Limits) -> ExtractedText:
    for encoding in ("utf-8-sig", "utf-16"):
        if encoding == "utf-16" and not body.startswith((b"\xff\xfe", b"\xfe\xff")):
            continue
        try:
            return ExtractedText(body.decode(encoding))
        except UnicodeDecodeError:
            continue
    text = body.decode("utf-8", errors="replace")
    # More than the odd broken character (a read cut inside one): a legacy 8-bit text.
    if text.count("\ufffd") > len(text) // 200:
        return ExtractedText(body.decode("cp1252", errors="replace"))
    return ExtractedText(text)


def tesseract_path() -> str | None:
    """The OCR program if installed (optional: Debian's tesseract-ocr)."""
    return shutil.which("tesseract")


_OCR_MISSING = "scanned: no text layer (install tesseract to read it with OCR)"


def _pdf_text(body: bytes, limits: Limits, started: float) -> ExtractedText:
    import pypdfium2 as pdfium  # heavy; loaded only for PDFs

    pages: list[str] = []
    notes: list[str] = []
    with _PDFIUM_LOCK:
        try:
            pdf = pdfium.PdfDocument(body)
        except pdfium.PdfiumError as exc:
            if "password" in str(exc).lower():
                return ExtractedText("", "not read: the PDF is password-protected")
            return ExtractedText("", "could not be read: the PDF is damaged")
        try:
            count = len(pdf)
            total = 0
            for number in range(min(count, limits.max_pages)):
                if time.monotonic() - started > limits.seconds:
                    notes.append(f"only {number} of {count} pages read (time limit)")
                    break
                page = pdf[number]
                try:
                    textpage = page.get_textpage()
                    try:
                        text = textpage.get_text_bounded()
                    finally:
                        textpage.close()
                finally:
                    page.close()
                pages.append(text)
                total += len(text)
                if total > limits.max_text_chars:
                    break
            else:
                if count > limits.max_pages:
                    notes.append(f"only the first {limits.max_pages} pages read")
            has_text = any(page.strip() for page in pages)
            if not has_text and count:
                if tesseract_path() is None:
                    return ExtractedText("", _OCR_MISSING)
                return _ocr_pdf(pdf, count, limits, started)
        finally:
            pdf.close()
    return ExtractedText("\n".join(pages), _join_notes(*notes))


def _ocr_pdf(pdf: Any, count: int, limits: Limits, started: float) -> ExtractedText:
    """OCR the first pages of a PDF without a text layer (called with the PDFium lock held)."""
    texts: list[str] = []
    notes: list[str] = ["read with OCR"]
    for number in range(min(count, limits.ocr_pages)):
        left = limits.seconds - (time.monotonic() - started)
        if left <= 0:
            notes.append(f"only {number} of {count} pages read (time limit)")
            break
        page = pdf[number]
        try:
            bitmap = page.render(scale=300 / 72, grayscale=True)
            try:
                width, height, stride = int(bitmap.width), int(bitmap.height), int(bitmap.stride)
                buffer = bytes(bitmap.buffer)
            finally:
                bitmap.close()
        finally:
            page.close()
        rows = b"".join(buffer[row * stride : row * stride + width] for row in range(height))
        image = b"P5 %d %d 255\n" % (width, height) + rows
        texts.append(_run_tesseract(image, ".pgm", left))
    else:
        if count > limits.ocr_pages:
            notes.append(f"only the first {limits.ocr_pages} pages read with OCR")
    return ExtractedText("\n".join(texts), _join_notes(*notes))


def _ocr_image(body: bytes, limits: Limits) -> ExtractedText:
    if tesseract_path() is None:
        return ExtractedText("", "an image: not read (install tesseract to read it with OCR)")
    return ExtractedText(_run_tesseract(body, ".img", limits.seconds), "read with OCR")


def _run_tesseract(image: bytes, suffix: str, seconds: float) -> str:
    program = tesseract_path()
    if program is None:
        return ""
    with tempfile.TemporaryDirectory(prefix="dms-ocr-") as folder:
        source = Path(folder) / f"page{suffix}"
        source.write_bytes(image)
        try:
            done = subprocess.run(
                [program, str(source), "stdout", "--psm", "3"],
                capture_output=True,
                timeout=max(1.0, seconds),
                check=False,
            )
        except subprocess.TimeoutExpired:
            log.info("OCR stopped at its time limit")
            return ""
    if done.returncode != 0:
        log.info("OCR failed: %s", done.stderr.decode(errors="replace")[:200])
        return ""
    return done.stdout.decode("utf-8", errors="replace")


class TextCache:
    """Extracted texts by body checksum (and extractor version), one gzip file each."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, checksum: str) -> Path | None:
        if len(checksum) < 8 or not all(char in "0123456789abcdef" for char in checksum):
            return None  # never a path from anything but a hex digest
        return self.directory / checksum[:2] / f"{checksum}.v{EXTRACTOR_VERSION}.json.gz"

    def get(self, checksum: str) -> ExtractedText | None:
        path = self._path(checksum)
        if path is None:
            return None
        try:
            data = json.loads(gzip.decompress(path.read_bytes()))
            return ExtractedText(str(data["text"]), str(data.get("note", "")))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, EOFError) as exc:
            log.info("Unreadable cached text %s (%s): extracting again", path.name, exc)
            return None

    def put(self, checksum: str, extracted: ExtractedText) -> None:
        path = self._path(checksum)
        if path is None:
            return
        data = gzip.compress(
            json.dumps({"text": extracted.text, "note": extracted.note}).encode(), compresslevel=5
        )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            Path(temporary).replace(path)
        except OSError as exc:  # a cache: the index still gets the text
            log.warning("Cannot cache extracted text in %s: %s", self.directory, exc)
            with contextlib.suppress(OSError, UnboundLocalError):
                Path(temporary).unlink()


BodyReader = Callable[[str, str, int], tuple[bytes, bool]]
"""(user id, document id, at most this many bytes) -> (the first bytes, whether there is more)."""
