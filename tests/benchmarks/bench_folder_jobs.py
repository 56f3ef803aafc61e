"""Benchmark 11: a folder of many small files uploaded and downloaded as one job (issue 22).

    python -m tests.benchmarks.bench_folder_jobs [--quick] [--files N]

A folder of 5,000 files of 4 KB (quick: 500) on one sandbox of its own, moved three ways:

- **job**: the app's folder job (``DocumentService.upload_job`` / ``download_job``, as
  `dms upload FOLDER` and `dms download DOC...` run it): several files at once, a small file in
  one PutObject / GET, the job journaled, each document's record written;
- **one by one**: the app's path before jobs, one ``DocumentService.upload`` / ``download``
  after the other (each file journaled on its own), as `dms upload FOLDER` used to go;
- **aws s3 cp --recursive** (aws-cli: $DMS_BENCH_AWS_CLI or `aws` on PATH), bodies only (no
  records, no checksum of its own), its figures include starting the command. It runs as a user
  of its own, on a flat copy of the folder whose file names are document ids: any other key in
  a user's folder is a web upload, which the sandbox makes a document (reads and hashes it) as
  the Lambda does on AWS, and that would be measured too.

Uploads run twice for the app's two ways: with the ``keep`` duplicate policy (no duplicate
check: the same work per file as aws-cli, plus the records), and as `dms upload FOLDER` runs by
default (``ask``, with no terminal: each file hashed and looked up among the stored ones, kept
if found), on a second folder of other content. Target: the job at least 10x faster than one by
one as `dms upload` and `dms download` run by default. The machine's load average is printed
with the figures: the machine may be shared.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from dms_desktop.connect import open_service
from dms_desktop.core.ids import new_document_id
from dms_desktop.core.listing import ListQuery
from dms_desktop.core.localfiles import collect_upload_sources
from dms_desktop.core.models import Document
from dms_desktop.core.service import DocumentService
from dms_desktop.core.upload_plan import DuplicatePolicy, claim_content, decide
from dms_desktop.sandbox import DEMO_USER, add_user
from tests.benchmarks.common import (
    AWS_CLI_ENV,
    BenchSandbox,
    Result,
    aws_cli_env_for_sandbox,
    bench_sandbox,
    find_aws_cli,
    run_main,
    timed,
    work_folder,
)

FILE_SIZE = 4096
TARGET = 10.0


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} {five:.1f} {fifteen:.1f}"


def _make_folder(root: Path, count: int) -> Path:
    """``count`` files of 4 KB of their own bytes, 500 to a subfolder."""
    for number in range(count):
        folder = root / f"part-{number // 500:02}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"file-{number:05}.bin").write_bytes(os.urandom(FILE_SIZE))
    return root


def _aws_env(sandbox: BenchSandbox, credentials: Any, work: Path) -> dict[str, str]:
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
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent",
    )
    return aws_cli_env_for_sandbox(env, sandbox.info, work)


def _one_by_one_upload(service: DocumentService, folder: Path) -> list[Document]:
    return [
        service.upload(source.path, folder=source.folder)
        for source in collect_upload_sources([folder])
    ]


def _one_by_one_checked(service: DocumentService, folder: Path, locks: Path) -> None:
    """As `dms upload FOLDER` went before jobs, by default: hash, look up, upload, per file."""
    for source in collect_upload_sources([folder]):
        with claim_content(locks, service, service.user_id, source) as check:
            decide(check.duplicates, DuplicatePolicy.ASK, can_ask=False)
            service.upload(source.path, folder=source.folder, content=check.content)


def _one_by_one_download(service: DocumentService, documents: list[Document], out: Path) -> None:
    for document in documents:
        service.download(document.document_id, out)


def _add_ratio(
    result: Result, direction: str, job: float, one_by_one: float, target: bool = True
) -> None:
    ratio = one_by_one / job
    name = f"{direction}: job / one by one (speed-up)"
    if target:
        result.add(name, ratio, "x", f">= {TARGET:.0f}x", ratio >= TARGET)
    else:
        result.add(name, ratio, "x")


def run(quick: bool, count: int | None = None) -> Result:
    files = count or (500 if quick else 5000)
    result = Result("11 folder jobs")
    work = work_folder("dms-bench-folder-jobs-")
    try:
        source = _make_folder(work / "source", files)
        with bench_sandbox() as sandbox:
            user = sandbox.sign_in(DEMO_USER)
            service = open_service(sandbox.backend, user, paths=sandbox.paths)
            aws = find_aws_cli()
            add_user(sandbox.info, "bench-aws-cli", "bench-aws-cli-Password1")
            aws_user = sandbox.sign_in(("bench-aws-cli", "bench-aws-cli-Password1"))
            prefix = f"s3://{sandbox.info.bucket}/private/{aws_user.user_id}/"
            credentials = aws_user.session.get_credentials().get_frozen_credentials()
            env = _aws_env(sandbox, credentials, work)
            flat = work / "flat"
            flat.mkdir()
            for path in source.rglob("*.bin"):
                shutil.copyfile(path, flat / new_document_id())
            if aws is None:
                result.note(
                    f"aws-cli not found ({AWS_CLI_ENV} or `aws` on PATH): its figures are left out"
                )

            def aws_cp(*args: str) -> None:
                assert aws is not None
                command = [aws, "--endpoint-url", sandbox.info.endpoint_url, "--only-show-errors"]
                subprocess.run([*command, "s3", "cp", "--recursive", *args], env=env, check=True)

            result.note(f"{files} files of {FILE_SIZE} bytes; load average {_load()} at the start")
            # Uploads: the job first, then one by one, then aws-cli; the sandbox has written
            # everything to disk before each.
            before = {d.document_id for d in service.iter_documents(ListQuery())}  # demo data
            sandbox.wait_until_saved(timeout=600)
            job_seconds = timed(
                lambda: service.upload_job(
                    collect_upload_sources([source]), name="source", roots=[source]
                )
            )
            result.add("upload: job", job_seconds, "s")
            result.add("upload: job", files / job_seconds, "files/s")
            result.note(f"load average {_load()} after the job's upload")
            uploaded = [
                d for d in service.iter_documents(ListQuery()) if d.document_id not in before
            ]
            assert len(uploaded) == files, f"{len(uploaded)} of {files} stored"
            sandbox.wait_until_saved(timeout=600)
            single: list[Document] = []
            one_seconds = timed(lambda: single.extend(_one_by_one_upload(service, source)))
            result.add("upload: one by one", one_seconds, "s")
            result.add("upload: one by one", files / one_seconds, "files/s")
            result.note(f"load average {_load()} after the one-by-one upload")
            _add_ratio(result, "upload (keep)", job_seconds, one_seconds, target=False)

            # As `dms upload FOLDER` runs by default: the duplicate check of every file.
            checked = _make_folder(work / "checked", files)
            locks = work / "locks"
            sandbox.wait_until_saved(timeout=600)
            job_checked = timed(
                lambda: service.upload_job(
                    collect_upload_sources([checked]),
                    name="checked",
                    roots=[checked],
                    policy=DuplicatePolicy.ASK,
                    locks_dir=locks,
                )
            )
            result.add("upload (default check): job", job_checked, "s")
            result.note(f"load average {_load()} after the job's checked upload")
            for path in checked.rglob("*.bin"):  # other content again for the second way
                path.write_bytes(os.urandom(FILE_SIZE))
            sandbox.wait_until_saved(timeout=600)
            one_checked = timed(lambda: _one_by_one_checked(service, checked, locks))
            result.add("upload (default check): one by one", one_checked, "s")
            result.note(f"load average {_load()} after the one-by-one checked upload")
            _add_ratio(result, "upload (default check)", job_checked, one_checked)
            if aws is not None:
                sandbox.wait_until_saved(timeout=600)
                cli_seconds = timed(lambda: aws_cp(str(flat), prefix))
                result.add("upload: aws s3 cp --recursive", cli_seconds, "s")
                result.add("upload: job / aws-cli (speed)", cli_seconds / job_seconds, "x")

            # Downloads of the job's documents (the same 5,000 bodies each way).
            sandbox.wait_until_saved(timeout=600)
            out = work / "job-out"
            out.mkdir()
            job_down = timed(lambda: service.download_job(uploaded, out, name="bench"))
            result.add("download: job", job_down, "s")
            result.add("download: job", files / job_down, "files/s")
            assert sum(1 for _ in out.iterdir()) == files
            result.note(f"load average {_load()} after the job's download")
            out = work / "one-out"
            out.mkdir()
            one_down = timed(lambda: _one_by_one_download(service, uploaded, out))
            result.add("download: one by one", one_down, "s")
            result.add("download: one by one", files / one_down, "files/s")
            result.note(f"load average {_load()} after the one-by-one download")
            _add_ratio(result, "download", job_down, one_down)
            if aws is not None:
                out = work / "aws-out"
                cli_down = timed(lambda: aws_cp(prefix, str(out)))
                result.add("download: aws s3 cp --recursive", cli_down, "s")
                result.add("download: job / aws-cli (speed)", cli_down / job_down, "x")
            result.summary = (
                f"{files} files: upload {one_checked / job_checked:.1f}x (keep: "
                f"{one_seconds / job_seconds:.1f}x), download {one_down / job_down:.1f}x faster "
                "as a job than one by one"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return result


if __name__ == "__main__":
    if "--files" in sys.argv:
        at = sys.argv.index("--files")
        chosen = int(sys.argv[at + 1])
        del sys.argv[at : at + 2]
        run_main(lambda quick: run(quick, chosen), __doc__ or "")
    else:
        run_main(run, __doc__ or "")
