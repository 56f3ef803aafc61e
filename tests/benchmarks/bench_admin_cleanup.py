"""Benchmark 6: batched admin cleanup vs deleting documents one by one, on a local sandbox.

    python -m tests.benchmarks.bench_admin_cleanup [--quick]

Seeds 10,000 (quick: 1,000) test documents (metadata + a small body) for the demo user on a fresh
sandbox in a temporary folder, deletes a sample of 200 (quick: 50) other documents one by one the
way ``dms delete`` does (DeleteItem + DeleteObject each) and extrapolates to all of them, then
deletes them with the admin cleanup. Requests are counted with a botocore ``before-send`` hook (so
retries count too). Target (issues 5 and 7): at most ceil(N/25) BatchWriteItem + ceil(N/1000)
DeleteObjects requests, and at least 10x faster than one by one.
"""

from __future__ import annotations

import math
import time
from typing import Any

from dms_desktop.connect import open_backend, open_service, sign_in
from dms_desktop.core.admin import AdminService, CleanupCriteria
from dms_desktop.core.aws import make_client
from dms_desktop.sandbox import ADMIN_USER, DEMO_USER
from tests.benchmarks.common import RequestCounter, Result, bench_sandbox, run_main
from tests.support.seeding import make_test_records, seed_bodies, seed_metadata

BODY = b"benchmark body\n"


def seed(dynamodb: Any, s3: Any, table: str, bucket: str, user_id: str, tag: str, n: int) -> None:
    documents = make_test_records(user_id, n, tag, BODY)
    seed_bodies(s3, bucket, documents, BODY)
    seed_metadata(dynamodb, table, documents)


def run(quick: bool) -> Result:
    result = Result("6 admin cleanup")
    count, sample = (1000, 50) if quick else (10_000, 200)
    with bench_sandbox() as sandbox:
        paths, info = sandbox.paths, sandbox.info
        backend = open_backend(paths)
        admin = sign_in(backend, *ADMIN_USER)
        demo = sign_in(backend, *DEMO_USER)
        dynamodb = make_client(admin.session, "dynamodb", backend.endpoint_url)
        s3 = make_client(admin.session, "s3", backend.endpoint_url, max_pool_connections=20)
        started = time.perf_counter()
        seed(dynamodb, s3, info.table, info.bucket, demo.user_id, "bench", count)
        seed(dynamodb, s3, info.table, info.bucket, demo.user_id, "bench-one", sample)
        print(f"seeded {count}+{sample} documents in {time.perf_counter() - started:.1f} s")
        sandbox.wait_until_saved()

        # One by one, as `dms delete` does: DeleteItem (conditional) + DeleteObject.
        service = open_service(backend, demo)
        single_counter = RequestCounter()
        single_counter.attach(service._repository._client)
        single_counter.attach(service._blobs._client)
        sample_ids: list[str] = []
        request: dict[str, Any] = {
            "TableName": info.table,
            "FilterExpression": "contains(tagKeys, :t)",
            "ExpressionAttributeValues": {":t": {"S": "bench-one"}},
        }
        while True:
            page = dynamodb.scan(**request)
            sample_ids += [item["documentId"]["S"] for item in page["Items"]]
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        sandbox.wait_until_saved()
        started = time.perf_counter()
        for document_id in sample_ids:
            service.delete(document_id)
        single = time.perf_counter() - started
        per_doc = single / max(len(sample_ids), 1)
        single_total = per_doc * count
        sandbox.wait_until_saved()

        counter = RequestCounter()
        counter.attach(dynamodb)
        counter.attach(s3)
        tools = AdminService(dynamodb, s3, info.table, info.bucket, admin)
        started = time.perf_counter()
        plan = tools.plan_cleanup(CleanupCriteria(tag="bench"))
        planned = time.perf_counter() - started
        plan_requests = dict(counter.counts)
        counter.reset()
        started = time.perf_counter()
        report = tools.delete(plan)
        batched = time.perf_counter() - started

    limit_writes, limit_objects = math.ceil(count / 25), math.ceil(count / 1000)
    writes = counter.counts.get("BatchWriteItem", 0)
    objects = counter.counts.get("DeleteObjects", 0)
    assert len(report.deleted) == count and not report.failed, report
    result.add(
        f"one by one: {per_doc * 1000:.1f} ms per document ({len(sample_ids)} measured, "
        f"requests {dict(single_counter.counts)}), extrapolated to {count:,}",
        single_total,
        "s",
    )
    result.add(f"batched delete of {count:,}", batched, "s")
    result.add(f"finding them first (one Scan; requests {plan_requests})", planned, "s")
    result.add("BatchWriteItem requests", writes, "", f"<= {limit_writes}", writes <= limit_writes)
    result.add(
        "DeleteObjects requests", objects, "", f"<= {limit_objects}", objects <= limit_objects
    )
    ratio = single_total / batched
    result.add("batched vs one by one (delete only)", ratio, "x", ">= 10x", ratio >= 10)
    result.add("batched vs one by one, counting the Scan", single_total / (batched + planned), "x")
    result.summary = (
        f"{count:,} documents: batched {batched:.2f} s vs one by one {single_total:.0f} s "
        f"({ratio:.0f}x), {writes} BatchWriteItem + {objects} DeleteObjects"
    )
    return result


if __name__ == "__main__":
    run_main(run, __doc__.splitlines()[0])
