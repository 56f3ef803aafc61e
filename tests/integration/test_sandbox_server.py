"""The local sandbox against a real server: persistence, users, daemons, failures."""

from __future__ import annotations

import base64
import contextlib
import gc
import hashlib
import io
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from dms_desktop.core.errors import SandboxError
from dms_desktop.core.paths import AppPaths
from dms_desktop.sandbox import (
    ADMIN_USER,
    DEMO_USER,
    SandboxInfo,
    add_user,
    checkpoints,
    connect_or_start,
    garbage,
    reset,
    serve,
    stop,
)
from dms_desktop.sandbox import samples as samples_module
from dms_desktop.sandbox.control import health
from dms_desktop.sandbox.info import INFO_FILE, KEY_HEADER, LEGACY_STATE_FILE, STATE_FILE
from dms_desktop.sandbox.lifecycle import expire_old_versions
from dms_desktop.sandbox.provisioning import sandbox_client

pytestmark = pytest.mark.server

BIG = 9 * 1024 * 1024  # above s3transfer's 8 MB multipart threshold


@pytest.fixture
def paths(tmp_path: Path) -> Iterator[AppPaths]:
    app_paths = AppPaths.resolve(tmp_path)
    yield app_paths
    stop(app_paths)  # a daemon a test started, if any


@pytest.fixture
def seeded(monkeypatch: pytest.MonkeyPatch) -> list[SandboxInfo]:
    """Replaces the samples hook (in-thread servers only) and records its calls."""
    calls: list[SandboxInfo] = []
    monkeypatch.setattr(samples_module, "seed_sample_documents", calls.append)
    return calls


@contextlib.contextmanager
def running(paths: AppPaths, **kwargs: Any) -> Iterator[SandboxInfo]:
    """``serve`` on a thread until the block ends."""
    stop_event = threading.Event()
    outcome: queue.Queue[SandboxInfo | BaseException] = queue.Queue()

    def target() -> None:
        try:
            serve(paths, on_ready=outcome.put, stop_event=stop_event, **kwargs)
        except BaseException as exc:  # noqa: BLE001 (handed to the test thread)
            outcome.put(exc)

    thread = threading.Thread(target=target)
    thread.start()
    first = outcome.get(timeout=60)
    if isinstance(first, BaseException):
        thread.join(10)
        raise first
    try:
        yield first
    finally:
        stop_event.set()
        thread.join(60)
        assert not thread.is_alive()
        assert outcome.empty(), outcome.get()


@contextlib.contextmanager
def client(info: SandboxInfo, service: str) -> Iterator[Any]:
    made = sandbox_client(info.endpoint_url, service, None)
    try:
        yield made
    finally:
        made.close()


def sign_in(info: SandboxInfo, username: str, password: str) -> dict[str, Any]:
    with client(info, "cognito-idp") as cognito:
        result: dict[str, Any] = cognito.initiate_auth(
            ClientId=info.app_client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )["AuthenticationResult"]
        return result


def user_sub(info: SandboxInfo, username: str, password: str) -> str:
    token = sign_in(info, username, password)["AccessToken"]
    with client(info, "cognito-idp") as cognito:
        attributes = cognito.get_user(AccessToken=token)["UserAttributes"]
    return next(str(a["Value"]) for a in attributes if a["Name"] == "sub")


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_items_and_objects_survive_a_restart(paths: AppPaths, seeded: list[SandboxInfo]) -> None:
    big = os.urandom(BIG)
    item = {"userId": {"S": "u1"}, "documentId": {"S": "d1"}, "filename": {"S": "a.txt"}}
    with running(paths) as info:
        with client(info, "dynamodb") as dynamodb:
            dynamodb.put_item(TableName=info.table, Item=item)
        with client(info, "s3") as s3:
            s3.put_object(Bucket=info.bucket, Key="private/u1/small", Body=b"small body")
            s3.upload_fileobj(
                io.BytesIO(big),
                info.bucket,
                "private/u1/big",
                Config=TransferConfig(multipart_threshold=8 * 1024 * 1024),
            )
    assert len(seeded) == 1
    with running(paths) as info:
        with client(info, "dynamodb") as dynamodb:
            assert dynamodb.scan(TableName=info.table)["Items"] == [item]
        with client(info, "s3") as s3:
            assert s3.get_object(Bucket=info.bucket, Key="private/u1/small")["Body"].read() == (
                b"small body"
            )
            assert s3.get_object(Bucket=info.bucket, Key="private/u1/big")["Body"].read() == big
            ranged = s3.get_object(Bucket=info.bucket, Key="private/u1/big", Range="bytes=5-9")
            assert ranged["Body"].read() == big[5:10]
            s3.delete_object(Bucket=info.bucket, Key="private/u1/big")
    assert len(seeded) == 1  # only on the first start
    # One body file per version kept: the bucket keeps versions, so the deleted object stays as
    # an old version (under a delete marker) until its time is over (docs/lifecycle.md).
    assert len(list((paths.sandbox_dir / "bodies").iterdir())) == 2
    with running(paths) as info, client(info, "s3") as s3:
        expire_old_versions(s3, info.bucket, now=datetime.now(UTC) + timedelta(days=31))
        assert "Versions" not in s3.list_object_versions(Bucket=info.bucket, Prefix="private/u1/b")
    # The deleted one's file is gone once its old version expired.
    assert len(list((paths.sandbox_dir / "bodies").iterdir())) == 1


def test_an_upload_in_progress_keeps_its_parts_across_a_restart(
    paths: AppPaths, seeded: list[SandboxInfo]
) -> None:
    """A client continues a multipart upload after the sandbox restarted (issue 22): the parts it
    sent are still there, and completing the upload gives the whole object."""
    key = "private/u1/half-uploaded"
    first, second = os.urandom(BIG), b"the short last part"
    with running(paths) as info, client(info, "s3") as s3:
        upload_id = s3.create_multipart_upload(Bucket=info.bucket, Key=key)["UploadId"]
        sent = s3.upload_part(
            Bucket=info.bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=first
        )
    bodies_of_parts = set((paths.sandbox_dir / "bodies").iterdir())
    assert len(bodies_of_parts) == 1  # the part's body file, written once
    with running(paths) as info, client(info, "s3") as s3:
        uploads = s3.list_multipart_uploads(Bucket=info.bucket).get("Uploads", [])
        assert [(u["Key"], u["UploadId"]) for u in uploads] == [(key, upload_id)]
        parts = s3.list_parts(Bucket=info.bucket, Key=key, UploadId=upload_id)["Parts"]
        assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in parts] == [(1, BIG, sent["ETag"])]
        last = s3.upload_part(
            Bucket=info.bucket, Key=key, UploadId=upload_id, PartNumber=2, Body=second
        )
        s3.complete_multipart_upload(
            Bucket=info.bucket,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={
                "Parts": [
                    {"PartNumber": 1, "ETag": sent["ETag"]},
                    {"PartNumber": 2, "ETag": last["ETag"]},
                ]
            },
        )
        assert s3.get_object(Bucket=info.bucket, Key=key)["Body"].read() == first + second
        assert s3.list_multipart_uploads(Bucket=info.bucket).get("Uploads", []) == []
    # The parts' own files went at the checkpoint of the stop: only the object's is left.
    assert len(list((paths.sandbox_dir / "bodies").iterdir())) == 1
    assert not bodies_of_parts & set((paths.sandbox_dir / "bodies").iterdir())
    with running(paths) as info, client(info, "s3") as s3:
        assert s3.get_object(Bucket=info.bucket, Key=key)["Body"].read() == first + second


def test_an_upload_in_progress_can_be_aborted_after_a_restart(
    paths: AppPaths, seeded: list[SandboxInfo]
) -> None:
    key = "private/u1/given-up"
    with running(paths) as info, client(info, "s3") as s3:
        upload_id = s3.create_multipart_upload(Bucket=info.bucket, Key=key)["UploadId"]
        s3.upload_part(
            Bucket=info.bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=os.urandom(BIG)
        )
    with running(paths) as info, client(info, "s3") as s3:
        s3.abort_multipart_upload(Bucket=info.bucket, Key=key, UploadId=upload_id)
        assert s3.list_multipart_uploads(Bucket=info.bucket).get("Uploads", []) == []
    assert list((paths.sandbox_dir / "bodies").iterdir()) == []  # the part's file went too


def _saved(info: SandboxInfo) -> bool:
    status = health(info)
    return status is not None and status["saved_generation"] >= status["generation"]


def test_a_completed_upload_is_whole_and_was_not_loaded_into_memory(
    paths: AppPaths, seeded: list[SandboxInfo]
) -> None:
    # A sandbox can take a file larger than its memory: completing an upload reads one part at
    # a time (for its checksum), it does not join them in memory (moto did, twice).
    part_size, key = 6 * 1024 * 1024, "private/u1/assembled"
    parts = [os.urandom(part_size) for _ in range(4)] + [b"last, short part"]
    with running(paths) as info, client(info, "s3") as s3:
        upload_id = s3.create_multipart_upload(
            Bucket=info.bucket, Key=key, ChecksumAlgorithm="CRC32"
        )["UploadId"]
        uploaded = [
            s3.upload_part(
                Bucket=info.bucket,
                Key=key,
                UploadId=upload_id,
                PartNumber=number,
                Body=body,
                ChecksumAlgorithm="CRC32",
            )
            for number, body in enumerate(parts, start=1)
        ]
        listing = [
            {"PartNumber": number, "ETag": part["ETag"]}
            for number, part in enumerate(uploaded, start=1)
        ]
        tracemalloc.start()
        try:
            completed = s3.complete_multipart_upload(
                Bucket=info.bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": listing},
            )
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 2 * part_size  # the object is 4 parts and more

        md5s = b"".join(hashlib.md5(body).digest() for body in parts)  # noqa: S324 (S3's ETag)
        assert completed["ETag"] == f'"{hashlib.md5(md5s).hexdigest()}-5"'  # noqa: S324
        crcs = b"".join(zlib.crc32(body).to_bytes(4, "big") for body in parts)
        composite = base64.b64encode(zlib.crc32(crcs).to_bytes(4, "big")).decode()
        head = s3.head_object(Bucket=info.bucket, Key=key, ChecksumMode="ENABLED")
        assert head["ChecksumCRC32"].split("-")[0] == composite  # moto leaves out S3's "-5"
        whole = b"".join(parts)
        got = s3.get_object(Bucket=info.bucket, Key=key)
        assert got["ContentLength"] == len(whole)
        assert got["Body"].read() == whole
        ranged = s3.get_object(
            Bucket=info.bucket, Key=key, Range=f"bytes={part_size - 3}-{part_size + 2}"
        )
        assert ranged["Body"].read() == whole[part_size - 3 : part_size + 3]

        wait_for(lambda: _saved(info))  # then it reads its body file, its parts' files closed
        assert s3.get_object(Bucket=info.bucket, Key=key)["Body"].read() == whole

        with pytest.raises(ClientError, match="InvalidPart"):  # a part that was never sent
            again = s3.create_multipart_upload(Bucket=info.bucket, Key=key)["UploadId"]
            s3.complete_multipart_upload(
                Bucket=info.bucket,
                Key=key,
                UploadId=again,
                MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"0123"'}]},
            )
    with running(paths) as info, client(info, "s3") as s3:  # saved whole, read after a restart
        assert s3.get_object(Bucket=info.bucket, Key=key)["Body"].read() == whole


def test_a_body_shorter_than_announced_is_refused(
    paths: AppPaths, seeded: list[SandboxInfo]
) -> None:
    with running(paths) as info:
        host, port = info.endpoint_url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=30) as connection:
            connection.sendall(
                f"PUT /{info.bucket}/private/u1/cut HTTP/1.1\r\nHost: {host}\r\n"
                f"{KEY_HEADER}: {info.key}\r\n"
                "Content-Length: 100\r\n\r\nonly twenty bytes...".encode()
            )
            connection.shutdown(socket.SHUT_WR)  # the client went away mid-body
            answer = connection.makefile("rb").read()
        assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
        assert b"ended early" in answer
        with client(info, "s3") as s3, pytest.raises(ClientError, match="NoSuchKey"):
            s3.get_object(Bucket=info.bucket, Key="private/u1/cut")


def test_users_sign_in_after_restart_with_the_same_sub(
    paths: AppPaths, seeded: list[SandboxInfo]
) -> None:
    with running(paths) as info:
        subs = {name: user_sub(info, name, password) for name, password in (DEMO_USER, ADMIN_USER)}
        add_user(info, "carol", "carol-password")
        with pytest.raises(SandboxError, match="carol"):
            add_user(info, "carol", "another-password")
        subs["carol"] = user_sub(info, "carol", "carol-password")
    with running(paths) as info:
        for name, password in (DEMO_USER, ADMIN_USER, ("carol", "carol-password")):
            assert user_sub(info, name, password) == subs[name]
        with pytest.raises(ClientError) as raised:
            sign_in(info, "demo", "wrong-password")
        assert raised.value.response["Error"]["Code"] == "NotAuthorizedException"
        with client(info, "cognito-idp") as cognito:
            groups = cognito.admin_list_groups_for_user(
                UserPoolId=info.user_pool_id, Username="admin"
            )["Groups"]
            assert [g["GroupName"] for g in groups] == ["admins"]
            refreshed = cognito.initiate_auth(
                ClientId=info.app_client_id,
                AuthFlow="REFRESH_TOKEN_AUTH",
                AuthParameters={"REFRESH_TOKEN": sign_in(info, *DEMO_USER)["RefreshToken"]},
            )
            assert "AccessToken" in refreshed["AuthenticationResult"]


def test_a_failing_samples_hook_does_not_stop_the_sandbox(
    paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_info: SandboxInfo) -> None:
        raise RuntimeError("no samples today")

    monkeypatch.setattr(samples_module, "seed_sample_documents", broken)
    with running(paths) as info:
        assert sign_in(info, *DEMO_USER)["AccessToken"]


def test_a_taken_port_names_the_port(paths: AppPaths) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SandboxError, match=f"Port {port} .*already in use"):
            serve(paths, port=port)


@pytest.mark.parametrize("state_file", [STATE_FILE, LEGACY_STATE_FILE])
def test_a_corrupt_state_asks_for_a_reset_which_moves_it_aside(
    paths: AppPaths, seeded: list[SandboxInfo], state_file: str
) -> None:
    paths.sandbox_dir.mkdir(parents=True)
    (paths.sandbox_dir / state_file).write_bytes(b"not a state" * 100)
    with pytest.raises(SandboxError, match="dms local reset") as raised:
        serve(paths)
    assert state_file in str(raised.value)
    backup = reset(paths)
    assert backup is not None
    assert (backup / state_file).read_bytes() == b"not a state" * 100
    with running(paths) as info:
        assert sign_in(info, *DEMO_USER)["AccessToken"]


def test_a_second_server_for_the_same_folder_is_refused(
    paths: AppPaths, seeded: list[SandboxInfo]
) -> None:
    with running(paths), pytest.raises(SandboxError, match="already running"):
        serve(paths)


def test_idle_timeout_stops_the_server(paths: AppPaths, seeded: list[SandboxInfo]) -> None:
    started = time.monotonic()
    serve(paths, idle_timeout=0.3)
    assert time.monotonic() - started < 30
    assert (paths.sandbox_dir / STATE_FILE).exists()


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (our exited child, not yet reaped) counts as dead.
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG) != (0, 0):
            return False
    return True


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_kill_9_after_the_checkpoint_keeps_the_data(paths: AppPaths) -> None:
    info = connect_or_start(paths)
    assert connect_or_start(paths).pid == info.pid  # connects, does not start another
    with client(info, "s3") as s3:
        s3.put_object(Bucket=info.bucket, Key="private/u/kept", Body=b"kept")
    status = health(info)
    assert status is not None
    mutations = status["generation"]

    def checkpointed() -> bool:
        now = health(info)
        return now is not None and now["saved_generation"] >= mutations

    wait_for(checkpointed)
    os.kill(info.pid, signal.SIGKILL)
    wait_for(lambda: not _is_alive(info.pid))

    again = connect_or_start(paths)
    assert again.pid != info.pid
    with client(again, "s3") as s3:
        assert s3.get_object(Bucket=again.bucket, Key="private/u/kept")["Body"].read() == b"kept"
    assert stop(paths) is True
    assert not _is_alive(again.pid)
    assert stop(paths) is False


def test_concurrent_starts_end_with_one_sandbox(paths: AppPaths) -> None:
    code = (
        "import json, sys\n"
        "from dms_desktop.core.paths import AppPaths\n"
        "from dms_desktop.sandbox import connect_or_start\n"
        "info = connect_or_start(AppPaths.resolve(sys.argv[1]))\n"
        "print(json.dumps([info.pid, info.endpoint_url]))\n"
    )
    home = str(paths.data_dir.parent)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", code, home], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(2)
    ]
    results: list[SandboxInfo | BaseException] = []

    def in_thread() -> None:
        try:
            results.append(connect_or_start(paths))
        except BaseException as exc:  # noqa: BLE001 (handed to the test thread)
            results.append(exc)

    threads = [threading.Thread(target=in_thread) for _ in range(2)]
    for thread in threads:
        thread.start()
    outputs = []
    for process in processes:
        out, err = process.communicate(timeout=90)
        assert process.returncode == 0, err.decode()
        outputs.append(tuple(json.loads(out)))
    for thread in threads:
        thread.join(90)
    seen = {(r.pid, r.endpoint_url) for r in results if isinstance(r, SandboxInfo)}
    assert len(results) == 2
    assert len(seen | set(outputs)) == 1, (results, outputs)


def test_a_sandbox_an_earlier_version_started_is_replaced(paths: AppPaths) -> None:
    """A sandbox left running by a version without keys (its info file has none) cannot prove
    itself: the next program stops it (its state is saved) and starts its own."""
    old = connect_or_start(paths)
    info_file = paths.sandbox_dir / INFO_FILE
    written = json.loads(info_file.read_text(encoding="utf-8"))
    del written["key"]
    info_file.write_text(json.dumps(written), encoding="utf-8")

    home = paths.config_dir.parent
    started = subprocess.run(  # a program of this version, with no sandbox joined yet
        [sys.executable, "-m", "dms_desktop.cli", "--home", str(home), "whoami"],
        env={**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert started.returncode == 0, started.stderr
    new = SandboxInfo.from_json(info_file.read_text(encoding="utf-8"))
    assert new.pid != old.pid and new.key
    assert connect_or_start(paths) == new  # this process joins it too
    with client(new, "cognito-idp") as cognito:  # the same users: the state was kept
        users = cognito.list_users(UserPoolId=new.user_pool_id)["Users"]
    assert {"demo", "admin"} <= {user["Username"] for user in users}


def test_while_it_serves_long_full_collections_freeze_what_they_leave(
    paths: AppPaths, seeded: list[SandboxInfo]
) -> None:
    """A full garbage collection walked every item of 100,000 documents, for seconds, holding
    every request (sandbox/garbage.py): the server freezes what such a collection leaves."""
    policy = garbage.freeze_after_long_collections
    assert policy not in gc.callbacks
    with running(paths):
        assert gc.callbacks.count(policy) == 1
    assert policy not in gc.callbacks  # the process is left as it was


def test_a_download_left_open_holds_no_other_request_behind_a_checkpoint(
    paths: AppPaths, seeded: list[SandboxInfo], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A checkpoint waits for the requests in flight, and new requests wait behind it. A
    response still being sent (a large download, a client that stopped reading) held every
    request of the sandbox until it ended: for ever when the downloading client then made a
    request itself. Now the checkpoint is put off and the requests go on."""
    monkeypatch.setattr(checkpoints, "CHECKPOINT_QUIET_SECONDS", 0.1)
    monkeypatch.setattr(checkpoints, "CHECKPOINT_RETRY_SECONDS", 0.2)
    body = os.urandom(48 * 1024 * 1024)  # more than the sockets' buffers hold
    with running(paths) as info, client(info, "s3") as s3:
        s3.put_object(Bucket=info.bucket, Key="private/u1/large", Body=body)
        wait_for(lambda: _saved(info))
        postponed = int((health(info) or {}).get("checkpoints_postponed", 0))

        download = s3.get_object(Bucket=info.bucket, Key="private/u1/large")["Body"]
        first = download.read(1024 * 1024)
        s3.put_object(Bucket=info.bucket, Key="private/u1/small", Body=b"a change")
        # The checkpoint after the change finds the download still open, and is put off ...
        wait_for(lambda: int((health(info) or {}).get("checkpoints_postponed", 0)) > postponed)
        # ... and requests go on, also from the client that is downloading.
        head = s3.head_object(Bucket=info.bucket, Key="private/u1/small")
        assert head["ContentLength"] == len(b"a change")

        try:
            # The download, still open (and maybe the last request, answered but not yet closed).
            assert (health(info) or {})["requests_in_flight"] >= 1
            rest = download.read()
        finally:
            download.close()  # else the sandbox's stop would wait for it
        assert first + rest == body
        wait_for(lambda: (health(info) or {})["requests_in_flight"] == 0)
        wait_for(lambda: _saved(info))  # once the download ended, a checkpoint saves the change
