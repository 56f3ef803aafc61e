"""The Lambda bundle: Qt-free sources plus the listed requirements, and nothing else needed."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, packages_distributions, requires
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from dms_desktop.api.bundle import (
    INDEXER_DISTRIBUTIONS,
    LAMBDA_DISTRIBUTIONS,
    SEARCH_DISTRIBUTIONS,
    build_bundle,
    lambda_requirements,
)

REPO = Path(__file__).resolve().parents[3]

# Runs in a fresh interpreter whose imports are gated: the standard library, the bundle's own
# dms_desktop, and the top-level modules of the bundle's requirements; anything else installed
# here (PySide6 above all) fails as if it were not installed, as on Lambda.
_GATED_IMPORT = """
import importlib.abc, json, sys, sysconfig
from importlib.machinery import PathFinder
allowed, bundle, module = set(json.loads(sys.argv[1])), sys.argv[2], sys.argv[3]
function, event = sys.argv[4], json.loads(sys.argv[5])
installed = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}

class Gate(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if "." in name or name in allowed or name == "dms_desktop":
            return None  # a submodule comes from where its package came from
        spec = PathFinder.find_spec(name, path)
        origin = (spec and spec.origin) or ""
        if any(origin.startswith(folder) for folder in installed):
            raise ModuleNotFoundError(f"not in the Lambda bundle: {name}", name=name)
        return None  # the standard library

sys.meta_path.insert(0, Gate())
import importlib
handlers = importlib.import_module(module)
import dms_desktop
assert dms_desktop.__file__.startswith(bundle), dms_desktop.__file__
result = getattr(handlers, function)(event, None)
status = result["statusCode"] if "statusCode" in result else 200
print(json.dumps({"status": status, "modules": sorted(sys.modules)}))
"""


def _closure(names: tuple[str, ...]) -> set[str]:
    """The installed distributions ``names`` need, themselves included (extras ignored)."""
    seen: set[str] = set()
    pending = [canonicalize_name(name) for name in names]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            needed = requires(name) or []
        except PackageNotFoundError:
            continue
        for line in needed:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(canonicalize_name(requirement.name))
    return seen


def _allowed_top_level_modules(extra: tuple[str, ...] = SEARCH_DISTRIBUTIONS) -> list[str]:
    distributions = _closure((*LAMBDA_DISTRIBUTIONS, *extra))
    return sorted(
        module
        for module, owners in packages_distributions().items()
        if any(canonicalize_name(owner) in distributions for owner in owners)
    )


def _gated_import(
    bundle: Path,
    module: str,
    function: str = "create_document",
    event: object = None,
    extra: tuple[str, ...] = SEARCH_DISTRIBUTIONS,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-s",
            "-B",
            "-c",
            _GATED_IMPORT,
            json.dumps(_allowed_top_level_modules(extra)),
            str(bundle),
            module,
            function,
            json.dumps(event if event is not None else {"requestContext": {}, "body": "{}"}),
        ],
        env={"PYTHONPATH": str(bundle), "PATH": "/usr/bin:/bin"},
        cwd=bundle,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_bundle(tmp_path_factory.mktemp("bundle") / "lambda-api")


def test_the_handlers_import_and_answer_with_only_the_bundle(bundle: Path) -> None:
    result = _gated_import(bundle, "dms_desktop.api.handlers")

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["status"] == 401  # the handler ran: an event without an identity
    loaded = {name.partition(".")[0] for name in report["modules"]}
    assert not loaded & {"PySide6", "shiboken6", "keyring", "pycognito", "moto", "pypdfium2"}


def test_the_gate_refuses_what_the_bundle_lacks(bundle: Path) -> None:
    """The check above can fail: the desktop's packages are not in the bundle."""
    (bundle / "dms_desktop" / "api" / "uses_qt.py").write_text("import PySide6\n")
    try:
        result = _gated_import(bundle, "dms_desktop.api.uses_qt")
    finally:
        (bundle / "dms_desktop" / "api" / "uses_qt.py").unlink()
    assert result.returncode != 0
    assert "not in the Lambda bundle: PySide6" in result.stderr


def test_the_bundle_has_only_the_qt_free_packages(bundle: Path) -> None:
    packages = sorted(path.name for path in (bundle / "dms_desktop").iterdir())
    assert packages == ["__init__.py", "api", "core"]
    assert (bundle / "dms_desktop" / "api" / "handlers.py").is_file()


def test_the_requirements_are_the_projects_own_pins(bundle: Path) -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    lines = (bundle / "requirements.txt").read_text(encoding="utf-8").split()
    assert lines == lambda_requirements()
    declared = (
        project["project"]["dependencies"]
        + project["project"]["optional-dependencies"]["aws-search"]
    )
    assert set(lines) <= set(declared)
    assert not any(line.lower().startswith("pyside6") for line in lines)


def test_a_folder_that_is_not_a_bundle_is_never_emptied(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(SystemExit, match="not empty"):
        build_bundle(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_an_earlier_bundle_is_replaced(tmp_path: Path) -> None:
    target = build_bundle(tmp_path / "lambda")
    (target / "dms_desktop" / "stale.py").write_text("")
    build_bundle(target)
    assert not (target / "dms_desktop" / "stale.py").exists()


def test_the_search_handler_imports_and_answers_with_only_the_bundle(bundle: Path) -> None:
    result = _gated_import(bundle, "dms_desktop.api.search", "search_documents")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1])["status"] == 401


def test_the_indexer_bundle_has_its_handler_and_pdfium(tmp_path: Path) -> None:
    indexer = build_bundle(tmp_path / "lambda-indexer", indexer=True)
    packages = sorted(path.name for path in (indexer / "dms_desktop").iterdir())
    assert packages == ["__init__.py", "core", "indexer"]
    assert (indexer / "dms_desktop" / "core" / "search" / "indexer.py").is_file()
    lines = (indexer / "requirements.txt").read_text(encoding="utf-8").split()
    assert lines == lambda_requirements(INDEXER_DISTRIBUTIONS)
    assert any(line.startswith("pypdfium2") for line in lines)
    # An event without records: the handler needs its environment, and says so.
    result = _gated_import(
        indexer, "dms_desktop.indexer.handler", "handle_stream", {}, INDEXER_DISTRIBUTIONS
    )
    assert "DMS_SEARCH_ENDPOINT" in result.stderr
    assert "not in the Lambda bundle" not in result.stderr
