"""The local side: safe names for downloads, what an upload takes, file types."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dms_desktop.core.errors import LocalFileError
from dms_desktop.core.localfiles import (
    check_readable_file,
    collect_upload_sources,
    download_target,
    guess_file_type,
    partial_file_prefix,
    safe_local_name,
    unique_download_targets,
)
from tests.support.unreadable import unreadable_file

SEPARATORS = ("/", "\\")


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("../etc/passwd", "_etc_passwd"),
        ("..\\..\\windows\\system.ini", "_.._windows_system.ini"),
        (".bashrc", "bashrc"),
        ("CON", "_CON"),
        ("con.txt", "_con.txt"),
        ("aux.txt", "_aux.txt"),
        ("LPT1", "_LPT1"),
        ("name. ", "name"),
        ("trailing...", "trailing"),
        ('a:b*c?d"e<f>g|h.txt', "a_b_c_d_e_f_g_h.txt"),
        ("bell\x07tab\t.txt", "bell_tab_.txt"),
        ("", "document"),
        ("...", "document"),
        ("Straße 😀.pdf", "Straße 😀.pdf"),
        ("report.pdf", "report.pdf"),
    ],
)
def test_safe_local_name(stored: str, expected: str) -> None:
    assert safe_local_name(stored) == expected


def test_safe_local_name_is_nfc() -> None:
    assert safe_local_name("Cafe\u0301.txt") == "Café.txt"


@pytest.mark.parametrize("unit", ["a", "é", "日", "😀"])
def test_long_names_are_cut_to_255_bytes_keeping_the_extension(unit: str) -> None:
    stored = unit * 300 + ".pdf"
    local = safe_local_name(stored)
    assert len(local.encode("utf-8")) <= 255
    assert len(local.encode("utf-8")) > 255 - 4  # cut only as much as needed
    assert local.endswith(".pdf")
    assert local[:-4] == unit * len(local[:-4])  # no broken characters


def test_long_names_without_extension_are_cut() -> None:
    local = safe_local_name("x" * 400)
    assert local == "x" * 255


@pytest.mark.parametrize(
    "stored",
    ["../../escape.txt", "..", ".", "/abs/path", "a/../../b", "\\\\server\\share", "CON"],
)
def test_download_target_is_always_inside_the_folder(tmp_path: Path, stored: str) -> None:
    target = download_target(tmp_path, stored)
    assert target.parent == tmp_path
    assert target.resolve().parent == tmp_path.resolve()
    assert not any(sep in target.name for sep in SEPARATORS)
    assert target.name not in {".", ".."}


def test_download_target_refuses_a_symlink_leading_out(tmp_path: Path) -> None:
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / "report.pdf").symlink_to(tmp_path / "elsewhere.pdf")
    with pytest.raises(LocalFileError, match="outside"):
        download_target(folder, "report.pdf")


def test_collect_upload_sources_keeps_folders(tmp_path: Path) -> None:
    top = tmp_path / "top"
    (top / "sub" / "deeper").mkdir(parents=True)
    (top / "a.txt").write_text("a")
    (top / "sub" / "b.txt").write_text("b")
    (top / "sub" / "deeper" / "c.txt").write_text("c")
    single = tmp_path / "single.md"
    single.write_text("s")
    sources = collect_upload_sources([top, single])
    assert [(source.path, source.folder) for source in sources] == [
        (top / "a.txt", "top"),
        (top / "sub" / "b.txt", "top/sub"),
        (top / "sub" / "deeper" / "c.txt", "top/sub/deeper"),
        (single, ""),
    ]


def test_collect_upload_sources_does_not_loop_on_a_symlink_loop(tmp_path: Path) -> None:
    top = tmp_path / "top"
    (top / "sub").mkdir(parents=True)
    (top / "sub" / "b.txt").write_text("b")
    os.symlink(top, top / "sub" / "loop")  # a folder linking to its own ancestor
    sources = collect_upload_sources([top])
    assert [(source.path, source.folder) for source in sources] == [
        (top / "sub" / "b.txt", "top/sub")
    ]


def test_collect_upload_sources_follows_symlinked_files(tmp_path: Path) -> None:
    top = tmp_path / "top"
    top.mkdir()
    real = tmp_path / "real.txt"
    real.write_text("r")
    (top / "link.txt").symlink_to(real)
    (top / "dangling.txt").symlink_to(tmp_path / "missing.txt")
    sources = collect_upload_sources([top])
    assert [(source.path.name, source.folder) for source in sources] == [("link.txt", "top")]


def test_collect_upload_sources_of_the_current_folder_uses_its_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    top = tmp_path / "Invoices"
    (top / "2024").mkdir(parents=True)
    (top / "a.pdf").write_text("a")
    (top / "2024" / "b.pdf").write_text("b")
    monkeypatch.chdir(top)
    sources = collect_upload_sources([Path()])
    assert [source.folder for source in sources] == ["Invoices", "Invoices/2024"]
    assert all(source.path.is_file() for source in sources)


def test_collect_upload_sources_rejects_a_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.pdf"
    with pytest.raises(LocalFileError, match="does not exist") as caught:
        collect_upload_sources([missing])
    assert str(missing) in str(caught.value)


@pytest.mark.nothing_lost(
    "bad input",
    "upload of a missing path, a folder, a FIFO, a symlink to itself, an unreadable file",
    "one line naming the path: does not exist / is a folder / not a regular file / "
    "symbolic link to nothing / cannot be read (exit code 12)",
)
def test_check_readable_file(tmp_path: Path) -> None:
    with pytest.raises(LocalFileError, match="does not exist"):
        check_readable_file(tmp_path / "nope")
    with pytest.raises(LocalFileError, match="is a folder"):
        check_readable_file(tmp_path)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(LocalFileError, match="not a regular file"):
        check_readable_file(fifo)
    loop = tmp_path / "loop.txt"
    loop.symlink_to(loop)
    with pytest.raises(LocalFileError, match="symbolic link to nothing"):
        check_readable_file(loop)
    readable = tmp_path / "readable.txt"
    readable.write_text("fine")
    check_readable_file(readable)
    with (
        unreadable_file("locked.txt") as locked,
        pytest.raises(LocalFileError, match="cannot be read") as caught,
    ):
        check_readable_file(locked)
    assert str(locked) in str(caught.value)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.pdf", "application/pdf"),
        ("REPORT.PDF", "application/pdf"),
        ("photo.png", "image/png"),
        ("notes.md", "text/markdown"),
        ("notes.txt", "text/plain"),
        ("archive.unknownext", "application/octet-stream"),
        ("no-extension", "application/octet-stream"),
    ],
)
def test_guess_file_type(name: str, expected: str) -> None:
    assert guess_file_type(name) == expected


@pytest.mark.parametrize("name", ["a" * 255, "報" * 85, "😀" * 63, "ü" * 127 + ".pdf"])
def test_a_partial_files_prefix_fits_any_script_in_100_bytes(name: str) -> None:
    prefix = partial_file_prefix(name)
    assert prefix.startswith(".") and prefix.endswith(".")
    assert len(prefix.encode("utf-8")) <= 102
    assert name.startswith(prefix[1:-1])  # whole characters, never half of one


def test_clashing_download_names_are_made_unique_within_the_byte_limit(tmp_path: Path) -> None:
    long_name = "報告書" * 27 + ".txt"  # 247 bytes: " (2)" would take it past 255
    targets = unique_download_targets(
        tmp_path, [("a", long_name), ("b", long_name), ("c", "Notes.md"), ("d", "notes.MD")]
    )
    names = [target.name for target in targets.values()]
    assert names[0] == long_name
    assert names[1].endswith(" (2).txt") and len(names[1].encode()) <= 255
    assert names[2:] == ["Notes.md", "notes (2).MD"]  # case-insensitive file systems clash too
    assert all(target.parent == tmp_path for target in targets.values())
