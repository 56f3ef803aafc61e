"""A real sandbox (moto server on 127.0.0.1, persisted in a temporary DMS_HOME) for e2e tests."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dms_desktop.cli import main
from dms_desktop.core.paths import AppPaths
from dms_desktop.sandbox import SandboxInfo, connect_or_start, stop


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@dataclass
class SandboxHome:
    home: Path
    info: SandboxInfo

    @property
    def paths(self) -> AppPaths:
        return AppPaths.resolve(self.home)

    def dms(self, *argv: str) -> CliResult:
        """Run `dms --home HOME ARGV...` in this process and capture what it prints."""
        out, err = io.StringIO(), io.StringIO()
        code = main(["--home", str(self.home), *argv], out=out, err=err)
        return CliResult(code, out.getvalue(), err.getvalue())

    def sign_in_as_new_user(self, monkeypatch: pytest.MonkeyPatch, name: str) -> str:
        """Add a user whose name no other test on this sandbox uses, and act as them."""
        username = f"{name}-{uuid.uuid4().hex[:8]}"
        monkeypatch.setenv("DMS_PASSWORD", f"{username}-password")
        added = self.dms("local", "add-user", username)
        assert added.code == 0, added.err
        monkeypatch.setenv("DMS_USERNAME", username)
        return username


def start_sandbox(home: Path) -> SandboxHome:
    return SandboxHome(home, connect_or_start(AppPaths.resolve(home)))


@pytest.fixture(scope="session")
def shared_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHome]:
    """One sandbox for the tests that only add their own documents (fast)."""
    sandbox = start_sandbox(tmp_path_factory.mktemp("shared-home"))
    yield sandbox
    stop(sandbox.paths)


@pytest.fixture
def fresh_sandbox(tmp_path: Path) -> Iterator[SandboxHome]:
    """A sandbox of its own, for tests that restart it or depend on its exact contents."""
    sandbox = start_sandbox(tmp_path / "home")
    yield sandbox
    stop(sandbox.paths)
