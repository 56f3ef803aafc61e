"""Assemble the web API's Lambda code: the Qt-free sources and a requirements.txt, no PySide6.

    python -m dms_desktop.api.bundle [build/lambda-api]
    python -m dms_desktop.api.bundle --indexer [build/lambda-indexer]

The second is the search indexer function's code (``dms_desktop/indexer`` instead of ``api``,
with PDFium for the text of PDFs).

writes ``dms_desktop/__init__.py``, ``dms_desktop/core/`` and ``dms_desktop/api/`` into the
folder, with a ``requirements.txt`` naming only the dependencies these modules import (versions
as the project pins them). The SAM template's ``CodeUri`` points at that folder; ``sam build``
installs the requirements for the Lambda platform.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from importlib.metadata import PackageNotFoundError, requires
from pathlib import Path

import dms_desktop

DEFAULT_TARGET = Path("build/lambda-api")
DEFAULT_INDEXER_TARGET = Path("build/lambda-indexer")
MARKER = ".dms-lambda-bundle"
PACKAGES = ("core", "api")  # subpackages of dms_desktop the functions import
INDEXER_PACKAGES = ("core", "indexer")

# What dms_desktop.core and dms_desktop.api import outside the standard library. A test imports
# the bundle with only these (and their dependencies) available.
LAMBDA_DISTRIBUTIONS = ("boto3", "s3transfer", "pydantic", "platformdirs", "filelock")
# GET /search reads OpenSearch (the aws-search extra); the indexer also reads PDFs.
SEARCH_DISTRIBUTIONS = ("opensearch-py",)
INDEXER_DISTRIBUTIONS = (*SEARCH_DISTRIBUTIONS, "pypdfium2")
_EXTRA_MARKER = re.compile(r"""^\s*extra\s*==\s*["']aws-search["']\s*$""")

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def lambda_requirements(extra: tuple[str, ...] = SEARCH_DISTRIBUTIONS) -> list[str]:
    """The project's own requirement lines for the Lambda's dependencies (and ``extra``)."""
    try:
        declared = requires("dms-desktop") or []
    except PackageNotFoundError as exc:
        raise SystemExit("dms-desktop is not installed: pip install -e . first") from exc
    wanted = (*LAMBDA_DISTRIBUTIONS, *extra)
    found: dict[str, str] = {}
    for line in declared:
        requirement, _, marker = line.partition(";")
        match = _NAME.match(requirement)
        if marker and not _EXTRA_MARKER.match(marker):
            continue
        if match and match.group(0).lower() in wanted:
            found[match.group(0).lower()] = requirement.strip()
    missing = sorted(set(wanted) - set(found))
    if missing:
        raise SystemExit(f"pyproject.toml does not declare {', '.join(missing)}")
    return [found[name] for name in wanted]


def build_bundle(target: Path, indexer: bool = False) -> Path:
    """Write the bundle into ``target`` (new, empty, or an earlier bundle); returns it."""
    if target.exists() and any(target.iterdir()):
        if not (target / MARKER).exists():
            raise SystemExit(f"{target} is not empty and not an earlier bundle; choose another")
        shutil.rmtree(target)
    source = Path(dms_desktop.__file__).resolve().parent
    package = target / "dms_desktop"
    package.mkdir(parents=True)
    shutil.copy2(source / "__init__.py", package / "__init__.py")
    for name in INDEXER_PACKAGES if indexer else PACKAGES:
        for module in sorted((source / name).rglob("*.py")):
            copied = package / module.relative_to(source)
            copied.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(module, copied)
    requirements = lambda_requirements(INDEXER_DISTRIBUTIONS if indexer else SEARCH_DISTRIBUTIONS)
    (target / "requirements.txt").write_text("\n".join(requirements) + "\n", encoding="utf-8")
    (target / MARKER).write_text("built by python -m dms_desktop.api.bundle\n", encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dms_desktop.api.bundle", description=__doc__)
    parser.add_argument("target", nargs="?", type=Path)
    parser.add_argument("--indexer", action="store_true", help="the search indexer's code")
    arguments = parser.parse_args(argv)
    default = DEFAULT_INDEXER_TARGET if arguments.indexer else DEFAULT_TARGET
    built = build_bundle(arguments.target or default, indexer=arguments.indexer)
    print(f"Lambda code in {built}; now: sam build -t resources/cloudformation/dms-api.yaml")
    return 0


if __name__ == "__main__":
    sys.exit(main())
