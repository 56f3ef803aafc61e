"""Another local account, attacking a user's sandbox with only Python's standard library (as in
issue 21): run :data:`ATTACK` with :func:`run_as_other_user`.

The attack gets the sandbox's port and resource names (another account can find a listening
port, and the names are the same in every sandbox) and the key to send, if any; it prints a JSON
report of what it could read and what each request got back.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

NOBODY = 65534

ATTACK = r"""
import http.client, json, os, sys

target = json.loads(sys.argv[1])
report = {"files": {}, "requests": {}}

for path in target["files"]:
    try:
        if os.path.isdir(path):
            os.listdir(path)
        else:
            with open(path, "rb") as handle:
                handle.read(1)
        report["files"][path] = "read"
    except PermissionError:
        report["files"][path] = "denied"
    except FileNotFoundError:
        report["files"][path] = "missing"

def send(name, method, path, body=b"", headers=None, service="s3"):
    if target.get("only") and name not in target["only"]:
        return
    connection = http.client.HTTPConnection("127.0.0.1", target["port"], timeout=10)
    headers = dict(headers or {})
    headers.setdefault("Host", f"127.0.0.1:{target['port']}")
    # Signed by no one: what moto reads from it is the service the request is for.
    headers.setdefault("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/"
        f"20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0")
    if target.get("key"):
        headers["X-Dms-Sandbox-Key"] = target["key"]
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        report["requests"][name] = {
            "status": response.status,
            "cors": response.getheader("Access-Control-Allow-Origin"),
            "body": data[:300].decode("utf-8", "replace"),
        }
    except OSError as exc:
        report["requests"][name] = {"status": None, "error": str(exc)}
    finally:
        connection.close()

def amz(name, target_name, payload, service):
    version = "1.0" if service == "dynamodb" else "1.1"
    send(name, "POST", "/", json.dumps(payload).encode(), {
        "X-Amz-Target": target_name,
        "Content-Type": f"application/x-amz-json-{version}",
    }, service)

amz("scan_table", "DynamoDB_20120810.Scan", {"TableName": target["table"]}, "dynamodb")
send("read_body", "GET", f"/{target['bucket']}/{target['s3_key']}")
cognito = "AWSCognitoIdentityProviderService."
amz("list_users", cognito + "ListUsers", {"UserPoolId": target["user_pool_id"]}, "cognito-idp")
amz("reset_password", cognito + "AdminSetUserPassword", {
    "UserPoolId": target["user_pool_id"], "Username": "admin",
    "Password": "taken-over-1", "Permanent": True}, "cognito-idp")
amz("join_admins", cognito + "AdminAddUserToGroup", {
    "UserPoolId": target["user_pool_id"], "Username": "demo", "GroupName": "admins"},
    "cognito-idp")
send("health", "GET", "/dms-sandbox/health")
send("hold_lease", "POST", "/dms-sandbox/lease", b'{"holder": "x", "seconds": 3600}')
send("web_page_preflight", "OPTIONS", f"/{target['bucket']}", headers={
    "Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
send("web_page_get", "GET", f"/{target['bucket']}", headers={"Origin": "https://evil.example"})
send("shutdown", "POST", "/dms-sandbox/shutdown")
print(json.dumps(report))
"""


def python_for_other_user() -> str:
    """A Python another account can run: the system's (the project's virtualenv may sit in a
    folder only its owner can enter); only the standard library is needed."""
    found = shutil.which("python3", path="/usr/bin:/bin:/usr/local/bin")
    assert found is not None, "no system python3"
    return found


def can_switch_user() -> bool:
    return os.name == "posix" and os.geteuid() == 0 and shutil.which("setpriv") is not None


def run_as_other_user(target: dict[str, Any], *, as_owner: bool = False) -> dict[str, Any]:
    """The attack's report, run as ``nobody`` (or, with ``as_owner``, as this user: a control
    showing what the same requests get when they come from the owner)."""
    command = [python_for_other_user(), "-I", "-c", ATTACK, json.dumps(target)]
    if not as_owner:
        command = [
            "setpriv",
            f"--reuid={NOBODY}",
            f"--regid={NOBODY}",
            "--clear-groups",
            *command,
        ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=120, cwd="/", check=False
    )
    assert result.returncode == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


@contextmanager
def world_enterable_folder() -> Iterator[Path]:
    """A new folder anyone may enter (as home folders often are; in /tmp, not in pytest's own
    private tmp folders), so that what keeps another account out of the data below it is the
    app's own permissions. Removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="dms-owner-"))
    try:
        folder.chmod(0o755)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
