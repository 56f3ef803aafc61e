"""Previews without Qt: what kind of preview a document gets, its bytes, and PDF rendering.

The bytes behind a preview are cached on disk under ``cache_dir/previews``, keyed by document id
and body checksum, so a changed body never shows a stale preview. The cache has a total size
bound and forgets the least recently used entries first. Nothing here raises for a document that
simply cannot be previewed: :class:`PreviewUnavailable` carries the reason to show instead.
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from .errors import DmsError
from .formatting import human_size
from .localfiles import write_cache_file
from .models import Document

if TYPE_CHECKING:
    from .service import DocumentService

log = logging.getLogger(__name__)

KiB = 1024
MiB = 1024 * KiB

TEXT_PREVIEW_BYTES = 64 * KiB
"""Text and Markdown previews show at most this much of the start of the body."""
WHOLE_BODY_LIMIT = 20 * MiB
"""Images and PDFs need their whole body; larger ones are not previewed."""
CACHE_LIMIT = 200 * MiB
"""Default bound on the total size of the preview cache."""


class PreviewKind(Enum):
    IMAGE = "image"
    TEXT = "text"
    MARKDOWN = "markdown"
    PDF = "pdf"
    NONE = "none"


class PreviewUnavailable(DmsError):
    """This document cannot be previewed (corrupt, encrypted, unsupported); the message says why."""


_IMAGE_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/svg+xml"}
)
_TEXT_TYPES = frozenset(
    {
        "application/json",
        "application/x-yaml",
        "application/yaml",
        "application/toml",
        "application/xml",
        "application/javascript",
        "application/x-sh",
        "application/sql",
        "application/x-ndjson",
    }
)
_TEXT_EXTENSIONS = frozenset(
    {
        ".txt", ".log", ".csv", ".tsv", ".json", ".jsonl", ".yaml", ".yml", ".toml", ".ini",
        ".cfg", ".conf", ".xml", ".html", ".htm", ".css", ".py", ".pyi", ".js", ".ts", ".tsx",
        ".jsx", ".java", ".kt", ".c", ".h", ".cc", ".cpp", ".hpp", ".cs", ".go", ".rs", ".rb",
        ".php", ".pl", ".sh", ".bash", ".zsh", ".ps1", ".bat", ".sql", ".r", ".swift", ".lua",
        ".env", ".properties", ".gitignore", ".dockerfile", ".tex", ".rst",
    }
)  # fmt: skip
_MARKDOWN_EXTENSIONS = frozenset({".md", ".markdown", ".mdown", ".mkd"})


def preview_kind(file_type: str, filename: str) -> PreviewKind:
    """The preview a document of this MIME type and name gets (NONE: no inline preview)."""
    mime = file_type.split(";", 1)[0].strip().lower()
    suffix = PurePath(filename).suffix.lower()
    if mime == "text/markdown" or mime == "text/x-markdown" or suffix in _MARKDOWN_EXTENSIONS:
        return PreviewKind.MARKDOWN
    if mime in _IMAGE_TYPES:
        return PreviewKind.IMAGE
    if mime == "application/pdf":
        return PreviewKind.PDF
    if mime.startswith("text/") or mime in _TEXT_TYPES or mime.endswith(("+json", "+xml")):
        return PreviewKind.TEXT
    if suffix in _TEXT_EXTENSIONS:
        return PreviewKind.TEXT
    return PreviewKind.NONE


@dataclass(frozen=True)
class PreviewPlan:
    """What to fetch for a preview: ``max_bytes`` of the body, or nothing (``reason`` says why)."""

    kind: PreviewKind
    max_bytes: int
    reason: str = ""

    @property
    def truncates(self) -> bool:
        return self.kind in {PreviewKind.TEXT, PreviewKind.MARKDOWN}


def plan_preview(document: Document) -> PreviewPlan:
    """The preview kind of ``document`` with its size cap applied."""
    kind = preview_kind(document.file_type, document.filename)
    if kind is PreviewKind.NONE:
        return PreviewPlan(kind, 0, "No preview for this type of file.")
    if kind in {PreviewKind.TEXT, PreviewKind.MARKDOWN}:
        return PreviewPlan(kind, min(document.size, TEXT_PREVIEW_BYTES))
    if document.size > WHOLE_BODY_LIMIT:
        return PreviewPlan(
            PreviewKind.NONE,
            0,
            f"This file is too large to preview ({human_size(document.size)}; "
            f"the limit is {human_size(WHOLE_BODY_LIMIT)}).",
        )
    return PreviewPlan(kind, document.size)


def truncation_note(document: Document, shown_bytes: int) -> str:
    """'Showing the first 64 KB of 3.2 MB.' when only the start of the body is shown, else ''."""
    if shown_bytes >= document.size:
        return ""
    return f"Showing the first {human_size(shown_bytes)} of {human_size(document.size)}."


def decode_text(data: bytes, *, complete: bool) -> str:
    """UTF-8 (a BOM is dropped; bad bytes become U+FFFD). A cut-off last character is dropped
    when the data is only the start of the body (``complete=False``)."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
    return decoder.decode(data, final=complete)


_SAFE_KEY = re.compile(r"[^A-Za-z0-9_-]")


class PreviewCache:
    """Preview bytes on disk, bounded in total size; least recently used entries go first.

    Keys are (document id, checksum, byte cap); writes are atomic (temporary file + rename), so a
    crash never leaves a half-written entry that would be read back later.
    """

    def __init__(self, directory: Path, max_total_bytes: int = CACHE_LIMIT) -> None:
        self._directory = directory
        self._max_total_bytes = max_total_bytes
        self._lock = threading.Lock()
        self._last_touch = 0

    @property
    def directory(self) -> Path:
        return self._directory

    def _path(self, document_id: str, checksum: str, max_bytes: int) -> Path:
        document_part = _SAFE_KEY.sub("_", document_id)
        checksum_part = _SAFE_KEY.sub("_", checksum)
        return self._directory / f"{document_part}.{checksum_part}.{max_bytes}.preview"

    def get(self, document_id: str, checksum: str, max_bytes: int) -> bytes | None:
        """The cached bytes, or None; a hit counts as a use for the eviction order."""
        path = self._path(document_id, checksum, max_bytes)
        with self._lock:
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                return None
            except OSError as exc:
                log.warning("could not read the preview cache entry %s: %s", path.name, exc)
                return None
            self._touch(path)
        return data

    def put(self, document_id: str, checksum: str, max_bytes: int, data: bytes) -> None:
        """Store ``data``; entries of older bodies of the same document are dropped. Failures
        to write only cost a cache miss later, so they are logged, not raised."""
        if len(data) > self._max_total_bytes:
            return
        path = self._path(document_id, checksum, max_bytes)
        with self._lock:
            try:
                self._directory.mkdir(parents=True, exist_ok=True)
                write_cache_file(path, data)
                self._touch(path)
                self._drop_other_versions(path, document_id)
                self._evict()
            except OSError as exc:
                log.warning("could not write the preview cache entry %s: %s", path.name, exc)

    def total_bytes(self) -> int:
        return sum(size for _, _, size in self._entries())

    def _touch(self, path: Path) -> None:
        # Strictly increasing times, so the eviction order is the use order even within one tick.
        now = max(time.time_ns(), self._last_touch + 1)
        self._last_touch = now
        try:
            os.utime(path, ns=(now, now))
        except OSError as exc:
            log.debug("could not mark %s as used: %s", path.name, exc)

    def _entries(self) -> list[tuple[int, Path, int]]:
        entries = []
        try:
            paths = list(self._directory.glob("*.preview"))
        except OSError:
            return []
        for path in paths:
            try:
                stat = path.stat()
            except OSError:
                continue  # removed meanwhile
            entries.append((stat.st_mtime_ns, path, stat.st_size))
        return entries

    def _drop_other_versions(self, keep: Path, document_id: str) -> None:
        prefix = _SAFE_KEY.sub("_", document_id) + "."
        for _, path, _ in self._entries():
            if path != keep and path.name.startswith(prefix):
                path.unlink(missing_ok=True)

    def _evict(self) -> None:
        entries = sorted(self._entries(), key=lambda entry: entry[0])
        total = sum(size for _, _, size in entries)
        for _, path, size in entries:
            if total <= self._max_total_bytes:
                break
            path.unlink(missing_ok=True)
            total -= size


def load_preview_bytes(
    service: DocumentService, document: Document, cache: PreviewCache
) -> bytes | None:
    """The bytes to preview ``document`` from (capped by its plan), or None if it gets none.

    Reads the cache first, else the start (or, for images and PDFs, all) of the stored body.
    A whole body is cached only if it matches the document's checksum.
    """
    plan = plan_preview(document)
    if plan.kind is PreviewKind.NONE:
        return None
    cached = cache.get(document.document_id, document.checksum, plan.max_bytes)
    if cached is not None:
        return cached
    data = service.read_head(document, plan.max_bytes)
    whole = len(data) >= document.size
    if whole and hashlib.sha256(data).hexdigest() != document.checksum.lower():
        log.warning("preview body of %s does not match its checksum", document.document_id)
    else:
        cache.put(document.document_id, document.checksum, plan.max_bytes, data)
    return data


# PDFium is not thread-safe; all use of it in this process goes through this lock.
_PDFIUM_LOCK = threading.Lock()
MAX_PDF_SCALE = 4.0


def render_pdf_first_page(
    data: bytes, max_width: int, max_height: int | None = None
) -> tuple[int, int, int, bytes]:
    """Render the first page of a PDF to ``(width, height, stride, BGRA pixels)`` on white.

    The page is scaled to ``max_width`` (and at most ``max_height``) keeping its aspect ratio.
    Raises :class:`PreviewUnavailable` for a corrupt, empty or password-protected PDF.
    """
    import pypdfium2 as pdfium  # heavy; only loaded when a PDF is shown
    import pypdfium2.raw as pdfium_c

    if max_width <= 0:
        raise ValueError("max_width must be positive")
    with _PDFIUM_LOCK:
        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            text = str(exc).lower()
            if "password" in text:
                raise PreviewUnavailable(
                    "Cannot preview this PDF: it is password-protected."
                ) from exc
            raise PreviewUnavailable(
                "Cannot preview this PDF: the file is damaged or not a PDF."
            ) from exc
        try:
            if len(pdf) == 0:
                raise PreviewUnavailable("Cannot preview this PDF: it has no pages.")
            page = pdf[0]
            try:
                page_width, page_height = page.get_size()
                if page_width <= 0 or page_height <= 0:
                    raise PreviewUnavailable("Cannot preview this PDF: its first page is empty.")
                scale = max_width / page_width
                if max_height is not None and max_height > 0:
                    scale = min(scale, max_height / page_height)
                scale = min(scale, MAX_PDF_SCALE)
                bitmap = page.render(
                    scale=scale,
                    force_bitmap_format=pdfium_c.FPDFBitmap_BGRA,
                    fill_color=(255, 255, 255, 255),
                )
                try:
                    pixels = bytes(bitmap.buffer)
                    return int(bitmap.width), int(bitmap.height), int(bitmap.stride), pixels
                finally:
                    bitmap.close()
            finally:
                page.close()
        except pdfium.PdfiumError as exc:
            raise PreviewUnavailable(
                "Cannot preview this PDF: its first page could not be drawn."
            ) from exc
        finally:
            pdf.close()
