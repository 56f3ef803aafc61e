"""Assemble the web API's Lambda code: the Qt-free sources and a requirements.txt, no PySide6.

    python -m dms_desktop.api.bundle [build/lambda-api]

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
MARKER = ".dms-lambda-bundle"
PACKAGES = ("core", "api")  # subpackages of dms_desktop the functions import

# What dms_desktop.core and dms_desktop.api import outside the standard library. A test imports
# the bundle with only these (and their dependencies) available.
LAMBDA_DISTRIBUTIONS = ("boto3", "s3transfer", "pydantic", "platformdirs", "filelock")

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def lambda_requirements() -> list[str]:
    """The project's own requirement lines for the Lambda's dependencies."""
    try:
        declared = requires("dms-desktop") or []
    except PackageNotFoundError as exc:
        raise SystemExit("dms-desktop is not installed: pip install -e . first") from exc
    found: dict[str, str] = {}
    for line in declared:
        match = _NAME.match(line)
        if match and ";" not in line and match.group(0).lower() in LAMBDA_DISTRIBUTIONS:
            found[match.group(0).lower()] = line
    missing = sorted(set(LAMBDA_DISTRIBUTIONS) - set(found))
    if missing:
        raise SystemExit(f"pyproject.toml does not declare {', '.join(missing)}")
    return [found[name] for name in LAMBDA_DISTRIBUTIONS]


def build_bundle(target: Path) -> Path:
    """Write the bundle into ``target`` (new, empty, or an earlier bundle); returns it."""
    if target.exists() and any(target.iterdir()):
        if not (target / MARKER).exists():
            raise SystemExit(f"{target} is not empty and not an earlier bundle; choose another")
        shutil.rmtree(target)
    source = Path(dms_desktop.__file__).resolve().parent
    package = target / "dms_desktop"
    package.mkdir(parents=True)
    shutil.copy2(source / "__init__.py", package / "__init__.py")
    for name in PACKAGES:
        (package / name).mkdir()
        for module in sorted((source / name).glob("*.py")):
            shutil.copy2(module, package / name / module.name)
    (target / "requirements.txt").write_text(
        "\n".join(lambda_requirements()) + "\n", encoding="utf-8"
    )
    (target / MARKER).write_text("built by python -m dms_desktop.api.bundle\n", encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dms_desktop.api.bundle", description=__doc__)
    parser.add_argument("target", nargs="?", type=Path, default=DEFAULT_TARGET)
    arguments = parser.parse_args(argv)
    built = build_bundle(arguments.target)
    print(f"Lambda code in {built}; now: sam build -t resources/cloudformation/dms-api.yaml")
    return 0


if __name__ == "__main__":
    sys.exit(main())
