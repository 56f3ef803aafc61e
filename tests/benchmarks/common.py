"""Shared pieces of the benchmarks: results, a sandbox of their own, seeding, request counts.

Every benchmark module has ``run(quick: bool) -> Result`` and runs alone with
``python -m tests.benchmarks.<module> [--quick] [--json FILE]``; ``python -m tests.benchmarks``
runs them all, each in a process of its own (so memory and start-up figures are not mixed up).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# The window runs offscreen in the benchmarks, as in the tests (set before any Qt import).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
for _name in ("DMS_HOME", "DMS_PROFILE", "DMS_USERNAME", "DMS_PASSWORD", "AWS_PROFILE"):
    os.environ.pop(_name, None)

from dms_desktop.connect import Backend, open_backend, sign_in  # noqa: E402
from dms_desktop.core.aws import make_client  # noqa: E402
from dms_desktop.core.identity import SignedIn  # noqa: E402
from dms_desktop.core.ids import new_document_id  # noqa: E402
from dms_desktop.core.models import Document  # noqa: E402
from dms_desktop.core.paths import AppPaths  # noqa: E402
from dms_desktop.sandbox import ADMIN_USER, DEMO_USER, SandboxInfo, connect_or_start, stop  # noqa: E402
from dms_desktop.sandbox.control import health as sandbox_health  # noqa: E402
from dms_desktop.sandbox.info import KEY_HEADER  # noqa: E402
from tests.support.seeding import seed_metadata  # noqa: E402

MiB = 1024 * 1024


# --- results ---------------------------------------------------------------------------------


@dataclass
class Figure:
    """One measured figure, with its target if it has one (met: None = no target)."""

    name: str
    value: float
    unit: str
    target: str = ""
    met: bool | None = None

    def text(self) -> str:
        value = f"{self.value:,.0f}" if abs(self.value) >= 100 else f"{self.value:.3g}"
        line = f"  {self.name}: {value} {self.unit}".rstrip()
        if self.target:
            line += f"   (target {self.target}: {'met' if self.met else 'MISSED'})"
        return line


@dataclass
class Result:
    benchmark: str
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    summary: str = ""
    seconds: float = 0.0

    def add(
        self, name: str, value: float, unit: str, target: str = "", met: bool | None = None
    ) -> Figure:
        figure = Figure(name, value, unit, target, met)
        self.figures.append(figure)
        print(figure.text(), flush=True)
        return figure

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"  note: {text}", flush=True)

    @property
    def met(self) -> bool | None:
        verdicts = [figure.met for figure in self.figures if figure.met is not None]
        return all(verdicts) if verdicts else None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Result:
        figures = [Figure(**figure) for figure in data.pop("figures")]
        return cls(figures=figures, **data)


def run_main(run: Callable[[bool], Result], description: str) -> None:
    """The command line of one benchmark module."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a quick look")
    parser.add_argument("--json", type=Path, help="also write the result to this file")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _stop_sandboxes_and_exit)
    started = time.perf_counter()
    result = run(args.quick)
    result.seconds = time.perf_counter() - started
    verdict = {True: "targets met", False: "TARGET MISSED", None: "no target"}[result.met]
    print(f"== {result.benchmark}: {result.summary} [{verdict}]", flush=True)
    if args.json:
        args.json.write_text(json.dumps(result.to_json(), indent=2), encoding="utf-8")


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], fraction: float) -> float:
    """The value below which ``fraction`` of ``values`` lie (nearest rank)."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def machine_description() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import psutil

    memory = psutil.virtual_memory().total / 1024**3
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GB RAM, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}; load average "
        f"{load[0]:.1f} at the start"
    )


# --- a sandbox of the benchmark's own --------------------------------------------------------


@dataclass
class BenchSandbox:
    home: Path
    paths: AppPaths
    info: SandboxInfo
    backend: Backend

    def sign_in(self, user: tuple[str, str] = DEMO_USER) -> SignedIn:
        return sign_in(self.backend, *user)

    def admin_clients(self) -> tuple[Any, Any]:
        """DynamoDB and S3 clients of the admin (no per-user scope guard), for seeding."""
        admin = self.sign_in(ADMIN_USER)
        dynamodb = make_client(admin.session, "dynamodb", self.info.endpoint_url)
        s3 = make_client(admin.session, "s3", self.info.endpoint_url, max_pool_connections=20)
        return dynamodb, s3

    def wait_until_saved(self, timeout: float = 300.0) -> None:
        """Wait until the sandbox has checkpointed every change (so no checkpoint runs during
        a measurement)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            health = sandbox_health(self.info) or {}
            if health.get("generation") == health.get("saved_generation"):
                return
            time.sleep(0.2)
        raise TimeoutError("the sandbox did not checkpoint in time")


_started_sandboxes: dict[Path, AppPaths] = {}  # home -> paths, while they run
_work_folders: list[Path] = []  # removed on SIGTERM too


def work_folder(prefix: str) -> Path:
    """A new temporary folder for a benchmark's files (the caller removes it when done)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    _work_folders.append(folder)
    return folder


@contextmanager
def bench_sandbox(prefix: str = "dms-bench-") -> Iterator[BenchSandbox]:
    """A fresh sandbox in a temporary data folder, stopped and removed afterwards (kept, to look
    at its files and log, with DMS_BENCH_KEEP=1 in the environment)."""
    home = Path(tempfile.mkdtemp(prefix=prefix))
    paths = AppPaths.resolve(home)
    _started_sandboxes[home] = paths
    try:
        info = connect_or_start(paths, timeout=120)
        try:
            yield BenchSandbox(home, paths, info, open_backend(paths))
        finally:
            stop(paths, timeout=300)
    finally:
        _started_sandboxes.pop(home, None)
        if not os.environ.get("DMS_BENCH_KEEP"):
            shutil.rmtree(home, ignore_errors=True)


def _stop_sandboxes_and_exit(signum: int, _frame: object) -> None:
    """On SIGTERM (kill, a timeout): stop the sandboxes this benchmark started, then exit at once.

    Python's default handling of SIGTERM skips every ``finally``, which left a sandbox server
    running, still busy with the requests it had been sent; unwinding through a running Qt
    window instead aborts in Qt's teardown."""
    for home, paths in list(_started_sandboxes.items()):
        with contextlib.suppress(Exception):
            stop(paths, timeout=60)
        if not os.environ.get("DMS_BENCH_KEEP"):
            shutil.rmtree(home, ignore_errors=True)
    for folder in _work_folders:
        shutil.rmtree(folder, ignore_errors=True)
    os._exit(128 + signum)


# --- seeding ---------------------------------------------------------------------------------

_TYPES = [
    ("pdf", "application/pdf"),
    ("txt", "text/plain"),
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("md", "text/markdown"),
    ("csv", "text/csv"),
    ("json", "application/json"),
]
_WORDS = ["invoice", "report", "photo", "notes", "contract", "scan", "draft", "memo", "plan"]
SEARCH_WORD = "zebra"  # in one filename of 500: what the search scenarios look for


def make_documents(user_id: str, count: int, tag: str = "bench", start: int = 0) -> list[Document]:
    """``count`` varied documents (names, types, sizes, tags, dates) of ``user_id``."""
    base = datetime(2026, 1, 1, tzinfo=UTC)
    documents = []
    for number in range(start, start + count):
        extension, file_type = _TYPES[number % len(_TYPES)]
        word = SEARCH_WORD if number % 500 == 7 else _WORDS[(number * 7) % len(_WORDS)]
        moment = base + timedelta(minutes=number)
        document_id = new_document_id()
        documents.append(
            Document(
                user_id=user_id,
                document_id=document_id,
                filename=f"{word} {number:06d}.{extension}",
                file_type=file_type,
                size=(number * 7919) % 5_000_000,
                tags=(tag, f"group-{number % 10}"),
                folder="",
                created_at=moment,
                updated_at=moment + timedelta(seconds=(number * 31) % 100_000),
                checksum=f"{number:064x}",
            )
        )
    return documents


def seed(sandbox: BenchSandbox, user_id: str, count: int, tag: str = "bench") -> float:
    """Seed ``count`` documents (metadata only) and wait for the checkpoint; returns seconds."""
    started = time.perf_counter()
    dynamodb, _s3 = sandbox.admin_clients()
    for start in range(0, count, 5000):  # bounded memory for 50k
        documents = make_documents(user_id, min(5000, count - start), tag, start)
        seed_metadata(dynamodb, sandbox.info.table, documents)
    sandbox.wait_until_saved()
    return time.perf_counter() - started


# --- request counts --------------------------------------------------------------------------


class RequestCounter:
    """Counts HTTP requests per operation (retries included) with a botocore hook."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-send", self._count)

    def _count(self, event_name: str = "", **_kwargs: Any) -> None:
        # "before-send.dynamodb.BatchWriteItem": one per HTTP request, retries included
        self.counts[event_name.rsplit(".", 1)[-1]] += 1

    def reset(self) -> None:
        self.counts.clear()


# --- tools -----------------------------------------------------------------------------------

AWS_CLI_ENV = "DMS_BENCH_AWS_CLI"


def with_sandbox_key(client: Any, info: SandboxInfo) -> Any:
    """``client`` (a bare boto3 client) with the sandbox's key on each request, as the app's
    clients have it (the sandbox answers its owner only)."""

    def add_key(request: Any, **_kwargs: Any) -> None:
        request.headers[KEY_HEADER] = info.key

    client.meta.events.register("before-sign", add_key)
    return client


AWS_CLI_PLUGIN = f"""\
import os

KEY = os.environ["DMS_SANDBOX_KEY"]


def _add_key(request, **kwargs):
    request.headers["{KEY_HEADER}"] = KEY


def awscli_initialize(cli):
    cli.register("before-sign", _add_key)
"""


def aws_cli_env_for_sandbox(env: dict[str, str], info: SandboxInfo, folder: Path) -> dict[str, str]:
    """``env`` for aws-cli with a plugin (written into ``folder``) that adds the sandbox's key
    to each request."""
    (folder / "dms_sandbox_key.py").write_text(AWS_CLI_PLUGIN)
    config = folder / "aws-config"
    config.write_text("[plugins]\ndms_sandbox_key = dms_sandbox_key\n")  # found on PYTHONPATH
    return {
        **env,
        "AWS_CONFIG_FILE": str(config),
        "PYTHONPATH": str(folder),
        "DMS_SANDBOX_KEY": info.key,
    }


def find_aws_cli() -> str | None:
    """The `aws` command: $DMS_BENCH_AWS_CLI, else `aws` on PATH."""
    configured = os.environ.get(AWS_CLI_ENV)
    if configured:
        return configured if Path(configured).exists() else None
    return shutil.which("aws")


def rss_mb() -> float:
    import psutil

    return float(psutil.Process().memory_info().rss) / MiB


def write_test_file(path: Path, size: int) -> Path:
    """A file of ``size`` incompressible-looking bytes (a random block repeated)."""
    block = os.urandom(min(size, 4 * MiB)) if size else b""
    with path.open("wb") as out:
        left = size
        while left > 0:
            out.write(block[:left])
            left -= len(block[:left])
    return path


def python() -> str:
    return sys.executable
