"""Benchmark 4: uploads and downloads through the app against aws-cli and bare boto3.

    python -m tests.benchmarks.bench_transfers [--quick]

1 MB, 64 MB and 1 GB files (quick: 1 MB and 16 MB) on one sandbox: the app's DocumentService
(upload: body hashed on the way + metadata; download: one streamed GET, checksum verified), `aws
s3 cp` (a separate aws-cli install: $DMS_BENCH_AWS_CLI or `aws` on PATH; its figures include
starting the command, as a user runs it) and bare boto3: `upload_file`/`download_file` with the
default TransferConfig, and `put_object`/`get_object` streamed to a file. The ways take turns
run by run, each after the sandbox has written the previous one's body to disk; throughput is
the size over the median time of a way's runs (1 MB: 5 runs, larger: 3). Target (issue 7): at
least aws-cli's throughput, and within 10% of the better bare-SDK figure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dms_desktop.connect import open_service
from dms_desktop.core.aws import make_client
from dms_desktop.core.service import DocumentService
from dms_desktop.sandbox import DEMO_USER
from tests.benchmarks.common import (
    AWS_CLI_ENV,
    BenchSandbox,
    MiB,
    Result,
    aws_cli_env_for_sandbox,
    bench_sandbox,
    find_aws_cli,
    median,
    run_main,
    timed,
    work_folder,
    write_test_file,
)


def _aws_env(sandbox: BenchSandbox, credentials: Any) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AWS_") and key != "PYTHONPATH"
    }
    env.update(
        AWS_ACCESS_KEY_ID=credentials.access_key,
        AWS_SECRET_ACCESS_KEY=credentials.secret_key,
        AWS_SESSION_TOKEN=credentials.token or "",
        AWS_DEFAULT_REGION=sandbox.info.region,
        AWS_CONFIG_FILE="/nonexistent",
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent",
    )
    return env


class Tools:
    """The ways to move one file, each as (upload, download) callables."""

    def __init__(self, sandbox: BenchSandbox, work: Path) -> None:
        user = sandbox.sign_in(DEMO_USER)
        self.bucket = sandbox.info.bucket
        self.prefix = f"private/{user.user_id}/bench-"
        # As the window and `dms` open it: with the journal of work in flight.
        self.service: DocumentService = open_service(sandbox.backend, user, paths=sandbox.paths)
        self.s3 = make_client(user.session, "s3", sandbox.info.endpoint_url)
        self.aws = find_aws_cli()
        self.endpoint = sandbox.info.endpoint_url
        self.env = aws_cli_env_for_sandbox(
            _aws_env(sandbox, user.session.get_credentials().get_frozen_credentials()),
            sandbox.info,
            work,
        )
        self.work = work
        self.document_id: str | None = None

    def app_upload(self, source: Path) -> None:
        self.document_id = self.service.upload(source).document_id

    def app_download(self, _key: str) -> None:
        assert self.document_id is not None
        self.service.download(self.document_id, self.work / "app-download", overwrite=True)

    def boto3_upload(self, source: Path) -> None:
        self.s3.upload_file(str(source), self.bucket, self.prefix + "boto3")

    def boto3_download(self, key: str) -> None:
        self.s3.download_file(self.bucket, key, str(self.work / "boto3-download"))

    def stream_upload(self, source: Path) -> None:
        with source.open("rb") as body:
            self.s3.put_object(Bucket=self.bucket, Key=self.prefix + "stream", Body=body)

    def stream_download(self, key: str) -> None:
        response = self.s3.get_object(Bucket=self.bucket, Key=key)
        with (self.work / "stream-download").open("wb") as out:
            for chunk in response["Body"].iter_chunks(MiB):
                out.write(chunk)

    def _aws(self, *args: str) -> None:
        assert self.aws is not None
        command = [self.aws, "--endpoint-url", self.endpoint, "--only-show-errors", "s3", "cp"]
        subprocess.run([*command, *args], env=self.env, check=True, timeout=3600)

    def cli_upload(self, source: Path) -> None:
        self._aws(str(source), f"s3://{self.bucket}/{self.prefix}cli")

    def cli_download(self, key: str) -> None:
        self._aws(f"s3://{self.bucket}/{key}", str(self.work / "cli-download"))

    def stored_key(self) -> str:
        assert self.document_id is not None
        return f"{self.prefix.rsplit('/', 1)[0]}/{self.document_id}"

    def forget_document(self) -> None:
        if self.document_id is not None:
            self.service.delete(self.document_id)
            self.document_id = None


def run(quick: bool) -> Result:
    result = Result("4 transfers")
    sizes = [(1, 5), (16, 3)] if quick else [(1, 5), (64, 3), (1024, 3)]  # (MiB, runs)
    work = work_folder("dms-bench-transfers-")
    verdicts: list[str] = []
    try:
        with bench_sandbox() as sandbox:
            tools = Tools(sandbox, work)
            if tools.aws is None:
                result.note(
                    f"aws-cli not found: set {AWS_CLI_ENV} or put `aws` on PATH (install it in a "
                    "venv of its own: python3 -m venv venv-awscli && venv-awscli/bin/pip install "
                    "awscli); its figures are left out"
                )
            ways: list[tuple[str, Callable[[Path], None], Callable[[str], None]]] = [
                ("app", tools.app_upload, tools.app_download),
                ("boto3 upload_file/download_file", tools.boto3_upload, tools.boto3_download),
                ("boto3 put_object/get_object", tools.stream_upload, tools.stream_download),
            ]
            if tools.aws is not None:
                ways.append(("aws s3 cp", tools.cli_upload, tools.cli_download))
            for mib, runs in sizes:
                source = write_test_file(work / f"source-{mib}", mib * MiB)
                label = f"{mib} MB" if mib < 1024 else "1 GB"
                for direction in ("upload", "download"):
                    # One untimed transfer of this size first: the first large transfer into a
                    # fresh sandbox is slower (its server grows), and no way should pay for it.
                    if direction == "upload":
                        tools.stream_upload(source)
                    else:
                        tools.stream_download(tools.stored_key())
                    times: dict[str, list[float]] = {name: [] for name, _, _ in ways}
                    for run in range(runs):
                        # The ways take turns, each run starting with the next one, so that a
                        # slow spell of this shared machine does not land on one way only.
                        turn = run % len(ways)
                        for name, upload, download in ways[turn:] + ways[:turn]:
                            # Each run starts with the sandbox's checkpoint done (it writes
                            # every new body to disk) and nothing waiting to be written, so no
                            # way pays for the disk work the previous one left (up to 1 GB).
                            if direction == "upload" and name == "app":
                                tools.forget_document()  # each upload makes a new document
                            sandbox.wait_until_saved(timeout=600)
                            os.sync()
                            if direction == "upload":
                                times[name].append(timed(lambda: upload(source)))  # noqa: B023
                            else:
                                key = tools.stored_key()
                                times[name].append(timed(lambda: download(key)))  # noqa: B023
                    speeds = {name: mib / median(runs_of) for name, runs_of in times.items()}
                    app = speeds.pop("app")
                    best_sdk = max(v for k, v in speeds.items() if k.startswith("boto3"))
                    cli = speeds.get("aws s3 cp")
                    result.add(f"{label} {direction}: app", app, "MB/s")
                    for name, speed in speeds.items():
                        result.add(f"{label} {direction}: {name}", speed, "MB/s")
                    ok_sdk = app >= 0.9 * best_sdk
                    result.add(
                        f"{label} {direction}: app / best bare SDK",
                        app / best_sdk,
                        "x",
                        ">= 0.9x",
                        ok_sdk,
                    )
                    if cli is not None:
                        result.add(
                            f"{label} {direction}: app / aws-cli",
                            app / cli,
                            "x",
                            ">= 1.0x",
                            app >= cli,
                        )
                    verdicts.append(f"{label} {direction} {app / best_sdk:.2f}x SDK")
                tools.forget_document()
                source.unlink()
                for leftover in work.iterdir():
                    leftover.unlink()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result.summary = "app vs best bare SDK: " + ", ".join(verdicts)
    return result


if __name__ == "__main__":
    run_main(run, __doc__.splitlines()[0])
