"""Preview jobs (decoding on the worker) and the app's icons."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import configparser
from importlib.resources import files
from pathlib import Path

import pytest
from PySide6.QtCore import QSize
from PySide6.QtGui import QImage, QImageReader
from pytestqt.qtbot import QtBot

from dms_desktop.core.errors import DmsError
from dms_desktop.core.models import Document
from dms_desktop.core.previews import TEXT_PREVIEW_BYTES, PreviewCache, PreviewKind
from dms_desktop.core.service import DocumentService
from dms_desktop.gui import icons
from dms_desktop.gui.operations import Operations
from dms_desktop.gui.previews import PreviewResult, build_preview, decode_image, preview_operation

from .conftest import Cloud

RESOURCES = Path(str(files("dms_desktop.resources")))
SAMPLES = RESOURCES / "samples"


def upload(service: DocumentService, tmp_path: Path, name: str, data: bytes) -> Document:
    path = tmp_path / "upload" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return service.upload(path)


@pytest.fixture
def cache(tmp_path: Path) -> PreviewCache:
    return PreviewCache(tmp_path / "cache" / "previews")


def test_image_preview_is_scaled_within_bounds_keeping_aspect(
    qtbot: QtBot, cloud: Cloud, cache: PreviewCache, tmp_path: Path
) -> None:
    document = upload(
        cloud.service, tmp_path, "sunrise.png", (SAMPLES / "sunrise.png").read_bytes()
    )
    result = build_preview(cloud.service, document, cache, QSize(100, 100))
    assert result.kind is PreviewKind.IMAGE
    assert result.image is not None
    assert result.image.width() == 100
    assert result.image.height() in {62, 63}  # 320x200 scaled down

    natural = build_preview(cloud.service, document, cache)
    assert natural.image is not None
    assert (natural.image.width(), natural.image.height()) == (320, 200), "never enlarged"


def test_decode_image_asks_the_decoder_for_the_small_size() -> None:
    data = (SAMPLES / "sunrise.png").read_bytes()
    image = decode_image(data, QSize(32, 32))
    assert not image.isNull()
    assert image.width() <= 32
    assert image.height() <= 32
    assert decode_image(b"not an image", QSize(32, 32)).isNull()


def test_pdf_preview_renders_the_first_page(
    qtbot: QtBot, cloud: Cloud, cache: PreviewCache, tmp_path: Path
) -> None:
    data = (SAMPLES / "quarterly-report.pdf").read_bytes()
    document = upload(cloud.service, tmp_path, "quarterly-report.pdf", data)
    result = build_preview(cloud.service, document, cache)
    assert result.kind is PreviewKind.PDF
    assert result.image is not None
    assert not result.image.isNull()
    assert result.image.width() == 800
    assert result.image.height() > 0
    colours = {result.image.pixel(x, y) for x in range(0, 800, 7) for y in range(0, 300, 7)}
    assert len(colours) > 1, "the page is not blank"


def test_corrupt_pdf_gives_a_note_not_an_exception(
    qtbot: QtBot, cloud: Cloud, cache: PreviewCache, tmp_path: Path
) -> None:
    document = upload(cloud.service, tmp_path, "broken.pdf", b"%PDF-1.7\nthis is not a pdf")
    result = build_preview(cloud.service, document, cache)
    assert result.kind is PreviewKind.NONE
    assert result.image is None
    assert "Cannot preview" in result.note


def test_corrupt_image_gives_a_note(
    qtbot: QtBot, cloud: Cloud, cache: PreviewCache, tmp_path: Path
) -> None:
    document = upload(cloud.service, tmp_path, "broken.png", b"\x89PNG\r\n\x1a\n garbage")
    result = build_preview(cloud.service, document, cache)
    assert result.kind is PreviewKind.NONE
    assert "Cannot preview" in result.note


def test_text_preview_is_truncated_at_the_cap(
    qtbot: QtBot, cloud: Cloud, cache: PreviewCache, tmp_path: Path
) -> None:
    line = "é line of text\n"  # two-byte characters, so the cap can cut one in half
    data = (line * (TEXT_PREVIEW_BYTES // len(line) + 500)).encode()
    document = upload(cloud.service, tmp_path, "long.txt", data)
    result = build_preview(cloud.service, document, cache)
    assert result.kind is PreviewKind.TEXT
    assert result.text is not None
    assert len(result.text.encode()) <= TEXT_PREVIEW_BYTES
    assert data.decode().startswith(result.text)
    assert "\ufffd" not in result.text
    assert result.note.startswith("Showing the first 64 KB of")


def test_markdown_and_small_text_previews(
    qtbot: QtBot, cloud: Cloud, cache: PreviewCache, tmp_path: Path
) -> None:
    markdown = (SAMPLES / "welcome.md").read_bytes()
    document = upload(cloud.service, tmp_path, "welcome.md", markdown)
    result = build_preview(cloud.service, document, cache)
    assert result.kind is PreviewKind.MARKDOWN
    assert result.text == markdown.decode()
    assert result.note == ""

    json_doc = upload(
        cloud.service, tmp_path, "settings.json", (SAMPLES / "settings-example.json").read_bytes()
    )
    assert build_preview(cloud.service, json_doc, cache).kind is PreviewKind.TEXT


def test_a_preview_runs_on_the_long_lane_and_uses_the_app_cache(
    qtbot: QtBot, cloud: Cloud, operations: Operations, tmp_path: Path
) -> None:
    document = upload(cloud.service, tmp_path, "notes.txt", b"worker text")
    results: list[PreviewResult] = []
    failures: list[DmsError] = []
    operations.long(preview_operation(document), results.append).failure(failures.append).run()
    qtbot.waitUntil(lambda: bool(results or failures), timeout=10_000)
    assert failures == []
    assert results[0].text == "worker text"
    assert list((tmp_path / "home" / "cache" / "previews").glob("*.preview"))


# --- icons -------------------------------------------------------------------------------------


def test_every_icon_is_a_valid_24px_svg(qtbot: QtBot) -> None:
    names = [icons.APP_ICON, *icons.ACTION_NAMES, *icons.FILE_TYPE_ICONS]
    for name in names:
        path = Path(str(icons.icon_resource(name)))
        text = path.read_text()
        assert 'viewBox="0 0 24 24"' in text, name
        reader = QImageReader(str(path))
        image = reader.read()
        assert isinstance(image, QImage)
        assert not image.isNull(), f"{name}: {reader.errorString()}"


def test_icon_functions(qtbot: QtBot) -> None:
    assert not icons.app_icon().isNull()
    for name in icons.ACTION_NAMES:
        assert not icons.action_icon(name).pixmap(QSize(24, 24)).isNull(), name
    with pytest.raises(KeyError):
        icons.action_icon("no-such-action")
    assert icons.file_type_icon("image/png") is icons.file_type_icon("image/png"), "cached"
    assert not icons.file_type_icon("application/x-unknown").pixmap(QSize(48, 48)).isNull()


@pytest.mark.parametrize(
    ("mime", "name"),
    [
        ("application/pdf", "file-pdf"),
        ("image/png", "file-image"),
        ("text/plain", "file-text"),
        ("text/markdown", "file-markdown"),
        ("text/csv", "file-spreadsheet"),
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "file-spreadsheet"),
        ("application/json", "file-code"),
        ("text/x-python", "file-code"),
        ("application/zip", "file-archive"),
        ("audio/mpeg", "file-audio"),
        ("video/mp4", "file-video"),
        ("application/octet-stream", "file-generic"),
    ],
)
def test_file_type_icon_names(mime: str, name: str) -> None:
    assert icons.file_type_icon_name(mime) == name


def test_desktop_entry() -> None:
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read(RESOURCES / "dms-desktop.desktop", encoding="utf-8")
    section = entry["Desktop Entry"]
    assert section["Type"] == "Application"
    assert section["Name"] == "DMS Desktop"
    assert section["Exec"] == "dms-desktop"
    assert section["Icon"] == "dms-desktop"
    assert section["Terminal"] == "false"
    assert section["Categories"] == "Office;"  # one main category: listed once in menus
    assert section["Comment"]
