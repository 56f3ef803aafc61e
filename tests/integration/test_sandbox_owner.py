"""The sandbox is its owner's only (issue 21, items 2 and 3): another local account can neither
read nor change nor stop it, nor read its data folder; every file the app writes is 0600 in
0700 folders; no password is kept in plain text; no web page can reach it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dms_desktop.core.paths import AppPaths
from dms_desktop.sandbox import SandboxInfo, connect_or_start, stop
from dms_desktop.sandbox.control import health
from dms_desktop.sandbox.info import INFO_FILE, KEY_HEADER, STATE_FILE
from tests.integration.conftest import SandboxHome
from tests.support.other_user import can_switch_user, run_as_other_user, world_enterable_folder

pytestmark = pytest.mark.server

DMS = Path(sys.executable).with_name("dms")
PROBE = Path(__file__).resolve().parents[1] / "support" / "window_startup_probe.py"
SECRET = b"the owner's secret"
ADMIN = ("admin", "admin-password")
CONTROL_REQUESTS = ["scan_table", "read_body", "list_users"]


@dataclass
class Owner:
    """The sandbox's owner, using the real `dms` program (its umask, its folders)."""

    home: Path

    def dms(self, *args: str, user: tuple[str, str] | None = None) -> str:
        env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
        if user is not None:
            env |= {"DMS_USERNAME": user[0], "DMS_PASSWORD": user[1]}
        result = subprocess.run(
            [str(DMS), "--home", str(self.home), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    @property
    def info(self) -> SandboxInfo:
        return SandboxInfo.from_json((self.sandbox_dir / INFO_FILE).read_text(encoding="utf-8"))

    @property
    def sandbox_dir(self) -> Path:
        return AppPaths.resolve(self.home).sandbox_dir


@pytest.fixture
def owner() -> Iterator[Owner]:
    """An owner whose home is in a folder anyone may enter; the sandbox is stopped afterwards."""
    with world_enterable_folder() as folder:
        person = Owner(folder / "home")
        try:
            yield person
        finally:
            stop(AppPaths.resolve(person.home))


@pytest.mark.skipif(not can_switch_user(), reason="acting as a second user needs root and setpriv")
def test_another_account_can_neither_read_nor_change_nor_stop_the_sandbox(
    owner: Owner, tmp_path: Path
) -> None:
    source = tmp_path / "secret.txt"
    source.write_bytes(SECRET)
    (uploaded,) = json.loads(owner.dms("upload", str(source), "--tag", "private", "--json"))
    info = owner.info
    target = {
        "port": int(info.endpoint_url.rsplit(":", 1)[1]),
        "table": info.table,
        "bucket": info.bucket,
        "user_pool_id": info.user_pool_id,
        "s3_key": uploaded["s3Key"],
        "files": [
            str(path)
            for path in (
                owner.home,
                owner.home / "data",
                owner.sandbox_dir,
                owner.sandbox_dir / INFO_FILE,
                owner.sandbox_dir / STATE_FILE,
                owner.sandbox_dir / "bodies",
                owner.home / "logs" / "dms.log",
                owner.home / "logs" / "sandbox.log",
                owner.home / "config",
            )
        ],
    }

    report = run_as_other_user(target)

    assert set(report["files"].values()) == {"denied"}, report["files"]
    for name, answer in report["requests"].items():
        assert answer["status"] == 403, (name, answer)
        assert answer["cors"] is None, name
        assert SECRET.decode() not in answer["body"]
    status = health(info)
    assert status is not None and status["pid"] == info.pid  # still running
    assert owner.dms("whoami", user=("admin", "admin-password")).startswith("admin (admin),")
    assert "(admin)" not in owner.dms("whoami", user=("demo", "demo-password"))
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    owner.dms("download", uploaded["documentId"], "-o", str(downloads))
    assert (downloads / "secret.txt").read_bytes() == SECRET

    # The control: the same requests from the owner (with the key) are answered, so the
    # refusals above are the sandbox's doing, not malformed requests.
    reads = {**target, "files": [], "key": info.key, "only": CONTROL_REQUESTS}
    answered = run_as_other_user(reads, as_owner=True)["requests"]
    assert answered["scan_table"]["status"] == 200, answered["scan_table"]
    assert answered["read_body"]["status"] == 200
    assert SECRET.decode() in answered["read_body"]["body"]
    assert answered["list_users"]["status"] == 200


def test_every_file_the_app_writes_is_its_owners_only(owner: Owner, tmp_path: Path) -> None:
    source = tmp_path / "report.txt"
    source.write_text("quarterly figures")
    owner.dms("whoami")
    (uploaded,) = json.loads(owner.dms("upload", str(source), "--json"))
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    owner.dms("download", uploaded["documentId"], "-o", str(downloads))
    owner.dms("upload", str(source), "--tag", "scratch", "--duplicates", "keep")
    owner.dms("admin", "cleanup", "--tag", "scratch", "--yes", user=ADMIN)  # and its audit log
    window = subprocess.run(
        [sys.executable, "-P", str(PROBE), "--home", str(owner.home)],
        env={
            **os.environ,
            "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
            "QT_QPA_PLATFORM": "offscreen",
        },
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert window.returncode == 0, window.stdout + window.stderr
    owner.dms("local", "stop")

    written = list(owner.home.rglob("*"))
    assert any(path.parent.name == "audit" for path in written)  # the admin's audit log
    assert any(path.name == STATE_FILE for path in written)
    assert any(path.parent.name == "bodies" for path in written)
    modes = {str(path.relative_to(owner.home)): path.stat().st_mode & 0o777 for path in written}
    assert {name: mode for name, mode in modes.items() if mode not in (0o600, 0o700)} == {}
    folders = [path for path in [owner.home, *written] if path.is_dir()]
    assert {path.stat().st_mode & 0o777 for path in folders} == {0o700}


def test_older_folders_are_made_private(tmp_path: Path) -> None:
    """A data folder an earlier version left world-readable (0755 folders, 0644 files) is its
    owner's only after the next start."""
    home = tmp_path / "home"
    sandbox = SandboxHome(home, connect_or_start(AppPaths.resolve(home)))
    stop(sandbox.paths)
    for path in [home, *home.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)

    result = sandbox.dms("whoami")
    stop(sandbox.paths)

    assert result.code == 0
    data = sandbox.paths.data_dir
    assert data.stat().st_mode & 0o777 == 0o700
    assert sandbox.paths.log_dir.stat().st_mode & 0o777 == 0o700
    state = sandbox.paths.sandbox_dir / STATE_FILE
    assert state.stat().st_mode & 0o777 == 0o600
    bodies = list((sandbox.paths.sandbox_dir / "bodies").iterdir())
    assert bodies and {body.stat().st_mode & 0o777 for body in bodies} == {0o600}


def test_no_password_is_kept_in_plain_text(
    fresh_sandbox: SandboxHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DMS_PASSWORD", "frank-password")
    assert fresh_sandbox.dms("local", "add-user", "frank").code == 0  # in the log at once
    sandbox_dir = fresh_sandbox.paths.sandbox_dir

    def kept_files() -> dict[str, bytes]:  # the state, the write-ahead log, the bodies
        return {str(path): path.read_bytes() for path in sandbox_dir.rglob("*") if path.is_file()}

    logged = kept_files()
    _wait_until_saved(fresh_sandbox.info)
    saved = kept_files()

    assert any(name.endswith(STATE_FILE) for name in saved)
    for password in (b"demo-password", b"admin-password", b"frank-password"):
        assert [name for name, data in {**logged, **saved}.items() if password in data] == []

    stop(fresh_sandbox.paths)  # the passwords as saved still let their users (only) in
    monkeypatch.setenv("DMS_USERNAME", "frank")
    assert fresh_sandbox.dms("whoami").out.startswith("frank, user id ")
    monkeypatch.setenv("DMS_PASSWORD", "frank-password-not")
    wrong = fresh_sandbox.dms("whoami")
    assert wrong.code == 6
    assert "Wrong username or password" in wrong.err


def _wait_until_saved(info: SandboxInfo) -> None:
    """Until the sandbox's last change is in its state file (it saves half a second after)."""
    deadline = time.monotonic() + 30
    while True:
        status = health(info)
        assert status is not None
        if status["saved_generation"] >= status["generation"]:
            return
        assert time.monotonic() < deadline, status
        time.sleep(0.05)


def _get(info: SandboxInfo, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(info.endpoint_url + path, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def test_a_web_page_cannot_reach_the_sandbox(shared_sandbox: SandboxHome) -> None:
    info = shared_sandbox.info
    port = info.endpoint_url.rsplit(":", 1)[1]
    bucket = f"/{info.bucket}"

    # A page of evil.example whose name it points at 127.0.0.1 (DNS rebinding), even with the key.
    rebound, _ = _get(info, bucket, {"Host": f"evil.example:{port}", KEY_HEADER: info.key})
    # A page reading across origins: no key, and no CORS headers to let the browser show it.
    status, headers = _get(info, bucket, {"Origin": "https://evil.example"})
    # Not even the owner's own requests carry CORS headers.
    owned, owned_headers = _get(
        info, bucket, {"Origin": "https://evil.example", KEY_HEADER: info.key}
    )

    assert (rebound, status, owned) == (403, 403, 200)
    assert not [name for name in {**headers, **owned_headers} if name.lower().startswith("access-")]
