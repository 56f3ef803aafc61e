"""Benchmark: batched admin cleanup vs deleting documents one by one, on a local sandbox.

    python tests/benchmarks/bench_admin_cleanup.py [--count 10000] [--sample 200]

Seeds ``count`` test documents (metadata + a small body) for the demo user on a fresh sandbox in
a temporary folder, deletes a sample of ``sample`` other documents one by one the way
``dms delete`` does (DeleteItem + DeleteObject each) and extrapolates to ``count``, then deletes
the ``count`` documents with the admin cleanup. Requests are counted with a botocore
``before-send`` hook (so retries count too). Target (issue 5): at most ceil(N/25) BatchWriteItem
+ ceil(N/1000) DeleteObjects requests, and at least 10x faster than one by one.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from dms_desktop.connect import open_backend, open_service, sign_in
from dms_desktop.core import schema
from dms_desktop.core.admin import AdminService, CleanupCriteria
from dms_desktop.core.aws import make_client
from dms_desktop.core.ids import new_document_id
from dms_desktop.core.models import Document, utc_now
from dms_desktop.core.paths import AppPaths
from dms_desktop.core.repository import to_item
from dms_desktop.sandbox import ADMIN_USER, DEMO_USER, connect_or_start, stop

BODY = b"benchmark body\n"


class RequestCounter:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-send", self._count)

    def _count(self, event_name: str = "", **_kwargs: Any) -> None:
        # "before-send.dynamodb.BatchWriteItem": one per HTTP request, retries included
        self.counts[event_name.rsplit(".", 1)[-1]] += 1

    def reset(self) -> None:
        self.counts.clear()


def seed(dynamodb: Any, s3: Any, table: str, bucket: str, user_id: str, tag: str, n: int) -> None:
    now = utc_now()
    documents = []
    for number in range(n):
        document_id = new_document_id()
        documents.append(
            Document(
                user_id=user_id,
                document_id=document_id,
                filename=f"bench {number}.txt",
                file_type="text/plain",
                size=len(BODY),
                tags=(tag,),
                created_at=now,
                updated_at=now,
                s3_key=schema.object_key(user_id, document_id),
                checksum="0" * 64,
            )
        )

    def put_body(document: Document) -> None:
        s3.put_object(Bucket=bucket, Key=document.s3_key, Body=BODY)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put_body, documents))
    for start in range(0, n, 25):
        chunk = documents[start : start + 25]
        request = {table: [{"PutRequest": {"Item": to_item(doc)}} for doc in chunk]}
        while request:
            request = dynamodb.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=200)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="dms-bench-") as home:
        paths = AppPaths.resolve(Path(home))
        info = connect_or_start(paths)
        try:
            backend = open_backend(paths)
            admin = sign_in(backend, *ADMIN_USER)
            demo = sign_in(backend, *DEMO_USER)
            dynamodb = make_client(admin.session, "dynamodb", backend.endpoint_url)
            s3 = make_client(admin.session, "s3", backend.endpoint_url, max_pool_connections=20)
            started = time.perf_counter()
            seed(dynamodb, s3, info.table, info.bucket, demo.user_id, "bench", args.count)
            seed(dynamodb, s3, info.table, info.bucket, demo.user_id, "bench-one", args.sample)
            print(
                f"seeded {args.count}+{args.sample} documents in "
                f"{time.perf_counter() - started:.1f} s"
            )

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
            started = time.perf_counter()
            for document_id in sample_ids:
                service.delete(document_id)
            single = time.perf_counter() - started
            per_doc = single / max(len(sample_ids), 1)
            single_total = per_doc * args.count

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
        finally:
            stop(paths)

    n = args.count
    limit_writes, limit_objects = math.ceil(n / 25), math.ceil(n / 1000)
    writes = counter.counts.get("BatchWriteItem", 0)
    objects = counter.counts.get("DeleteObjects", 0)
    print(
        f"one by one: {len(sample_ids)} deleted in {single:.2f} s ({per_doc * 1000:.1f} ms "
        f"each, requests {dict(single_counter.counts)}); extrapolated to {n}: "
        f"{single_total:.1f} s, {2 * n} requests"
    )
    print(
        f"batched:    plan {planned:.2f} s (requests {plan_requests}), "
        f"delete {len(report.deleted)} in {batched:.2f} s "
        f"(requests {dict(counter.counts)}); failed {len(report.failed)}"
    )
    print(
        f"requests:   BatchWriteItem {writes} (limit {limit_writes}), "
        f"DeleteObjects {objects} (limit {limit_objects})"
    )
    print(
        f"ratio:      {single_total / batched:.1f}x faster (delete only), "
        f"{single_total / (batched + planned):.1f}x including the plan"
    )
    ok = writes <= limit_writes and objects <= limit_objects and single_total / batched >= 10
    print("target met" if ok else "TARGET MISSED")


if __name__ == "__main__":
    main()
