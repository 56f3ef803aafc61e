"""Preview operations (long lane): fetch, decode and scale off the GUI thread.

An operation returns a :class:`PreviewResult` the GUI thread only has to put on screen. Images are
decoded into a QImage on the lane's thread (QImage is safe off the GUI thread; QPixmap is not); PDFs
are rendered by PDFium and copied into a QImage; text is decoded there too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QBuffer, QByteArray, QCoreApplication, QIODevice, QSize, Qt
from PySide6.QtGui import QImage, QImageReader

from ..core.models import Document
from ..core.previews import (
    PreviewCache,
    PreviewKind,
    PreviewUnavailable,
    decode_text,
    load_preview_bytes,
    plan_preview,
    render_pdf_first_page,
    truncation_note,
)
from .operations import OperationContext, OperationFunction

if TYPE_CHECKING:
    from ..core.service import DocumentService

log = logging.getLogger(__name__)

MAX_PREVIEW_SIZE = QSize(800, 800)
PREVIEW_CACHE_FOLDER = "previews"


@dataclass(frozen=True)
class PreviewResult:
    """A preview ready to show: an image, a text (plain or Markdown source), or a note why not."""

    kind: PreviewKind
    image: QImage | None = None
    text: str | None = None
    note: str = ""


def preview_cache(ctx: OperationContext) -> PreviewCache:
    """The preview cache of this app's cache folder (call on a lane's thread)."""
    return PreviewCache(ctx.paths.cache_dir / PREVIEW_CACHE_FOLDER)


def preview_operation(
    document: Document, max_size: QSize = MAX_PREVIEW_SIZE
) -> OperationFunction[PreviewResult]:
    """An operation (for the long lane) that builds the preview of ``document``."""
    bounds = QSize(max_size)

    def build_preview_of_document(ctx: OperationContext) -> PreviewResult:
        ctx.cancel.raise_if_cancelled("The preview")
        return build_preview(ctx.service, document, preview_cache(ctx), bounds)

    return build_preview_of_document


def build_preview(
    service: DocumentService,
    document: Document,
    cache: PreviewCache,
    max_size: QSize = MAX_PREVIEW_SIZE,
) -> PreviewResult:
    """Fetch (or take from the cache) and decode the preview of ``document``.

    Documents that cannot be previewed give a NONE result with a note; only failures to reach
    the backend raise (as DmsError).
    """
    plan = plan_preview(document)
    if plan.kind is PreviewKind.NONE:
        return PreviewResult(PreviewKind.NONE, note=plan.reason)
    data = load_preview_bytes(service, document, cache)
    if data is None:  # the plan said NONE meanwhile; cannot happen, but stay safe
        return PreviewResult(PreviewKind.NONE, note=plan.reason)
    if plan.kind is PreviewKind.IMAGE:
        return _image_preview(data, max_size)
    if plan.kind is PreviewKind.PDF:
        return _pdf_preview(data, max_size)
    complete = len(data) >= document.size
    text = decode_text(data, complete=complete)
    return PreviewResult(plan.kind, text=text, note=truncation_note(document, len(data)))


def decode_image(data: bytes, max_size: QSize) -> QImage:
    """Decode an image scaled to fit ``max_size`` (aspect kept; never enlarged).

    The decoder is asked for the smaller size up front, so a huge JPEG is not decoded in full.
    Returns a null QImage if the data is not a readable image.
    """
    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer)
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid() and (size.width() > max_size.width() or size.height() > max_size.height()):
        reader.setScaledSize(size.scaled(max_size, Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if image.isNull():
        log.info("image preview failed: %s", reader.errorString())
        return image
    if image.width() > max_size.width() or image.height() > max_size.height():
        # Formats that cannot report their size up front, or ignore the scaled size.
        image = image.scaled(
            max_size,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
    return image


def _image_preview(data: bytes, max_size: QSize) -> PreviewResult:
    image = decode_image(data, max_size)
    if image.isNull():
        note = QCoreApplication.translate(
            "Previews", "Cannot preview this image: the file is damaged or unsupported."
        )
        return PreviewResult(PreviewKind.NONE, note=note)
    return PreviewResult(PreviewKind.IMAGE, image=image)


def _pdf_preview(data: bytes, max_size: QSize) -> PreviewResult:
    try:
        width, height, stride, pixels = render_pdf_first_page(
            data, max_size.width(), max_size.height() * 2
        )
    except PreviewUnavailable as unavailable:
        return PreviewResult(PreviewKind.NONE, note=unavailable.message)
    # PDFium's BGRA bytes are QImage's ARGB32 on little-endian machines (all we ship for).
    # The copy owns its pixels; the wrapper only borrows ``pixels``.
    image = QImage(pixels, width, height, stride, QImage.Format.Format_ARGB32).copy()
    return PreviewResult(
        PreviewKind.PDF, image=image, note=QCoreApplication.translate("Previews", "First page")
    )
