"""Benchmark 8: a user deleting, trashing and retagging 1,000 documents, batched vs one by one.

    python -m tests.benchmarks.bench_delete_many [--quick]

Seeds 1,000 (quick: 200) documents (metadata + a small body) for the demo user on a fresh sandbox
in a temporary folder and deletes them one by one (``DocumentService.delete``: a conditional
DeleteItem, then the versions of the body listed and deleted, what `dms delete --permanently` of
one document does); seeds as many again and deletes them with ``DocumentService.delete_many``
(BatchGetItem per 100 ids, BatchWriteItem per 25, one ListObjectVersions page of the user's folder
and one DeleteObjects per 1,000 versions). Both runs start from the same table and bucket (empty
but for the documents to delete) and wait for the sandbox's checkpoint first. Requests are counted
with a botocore ``before-send`` hook on the user's own clients (so retries count too). Targets
(issue 16, and issue 18 for the versions): at most ceil(N/100) + ceil(N/25) + 2 ceil(N/1000)
requests, and at least 10x faster than one by one.

Then the life-cycle changes on as many documents (issue 18): adding a tag one document at a time
(``DocumentService.retag``: a GetItem and a conditional UpdateItem each, what the window did for
one document) against ``retag_many`` (BatchGetItem per 100, TransactWriteItems per 100), and moving
them to the trash with ``trash_many`` (the same batching), each a request count and a time. Every
document must come out changed, none reported changed meanwhile. The target there is the request
count (2 per 100 documents); the time is bounded by the sandbox's own cost of an update, which is
the same either way (moto parses each item's update expression: ~3 ms an item).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from dms_desktop.connect import open_service
from dms_desktop.core.change_report import ChangeReport, ChangeStatus
from dms_desktop.core.listing import ListQuery
from dms_desktop.core.service import DocumentService
from tests.benchmarks.common import BenchSandbox, RequestCounter, Result, bench_sandbox, run_main
from tests.support.seeding import make_test_records, seed_bodies, seed_metadata

BODY = b"benchmark body\n"
DONE = ChangeStatus.DONE


def seed(sandbox: BenchSandbox, user_id: str, count: int) -> list[str]:
    """``count`` documents of ``user_id`` written behind the app's back; their ids."""
    dynamodb, s3 = sandbox.admin_clients()
    documents = make_test_records(user_id, count, "bench", BODY)
    seed_bodies(s3, sandbox.info.bucket, documents, BODY)
    seed_metadata(dynamodb, sandbox.info.table, documents)
    sandbox.wait_until_saved()
    return [document.document_id for document in documents]


def counted(service: DocumentService) -> RequestCounter:
    counter = RequestCounter()
    counter.attach(service._repository._client)
    counter.attach(service._blobs._client)
    return counter


def run(quick: bool) -> Result:
    result = Result("8 delete many")
    count = 200 if quick else 1000
    with bench_sandbox() as sandbox:
        demo = sandbox.sign_in()
        service = open_service(sandbox.backend, demo)

        ids = seed(sandbox, demo.user_id, count)
        counter = counted(service)
        started = time.perf_counter()
        for document_id in ids:
            service.delete(document_id)
        single = time.perf_counter() - started
        single_requests = dict(counter.counts)

        ids = seed(sandbox, demo.user_id, count)
        counter.reset()
        started = time.perf_counter()
        report = service.delete_many(ids)
        batched = time.perf_counter() - started
        batched_requests = dict(counter.counts)
        listed = {d.document_id for d in service.iter_documents(ListQuery(page_size=1000))}

        life_cycle = _life_cycle(sandbox, service, demo.user_id, count)

    assert report.deleted == ids and not listed & set(ids), report.problems[:3]
    # One version per body here: a page of the folder's versions and a DeleteObjects per 1,000.
    limit = math.ceil(count / 100) + math.ceil(count / 25) + 2 * math.ceil(count / 1000)
    sent = sum(batched_requests.values())
    result.add(f"one by one: {count:,} documents (requests {single_requests})", single, "s")
    result.add(f"batched: {count:,} documents (requests {batched_requests})", batched, "s")
    result.add("batched requests", sent, "", f"<= {limit}", sent <= limit)
    ratio = single / batched
    result.add("batched vs one by one", ratio, "x", ">= 10x", ratio >= 10)
    for label, seconds, requests in life_cycle:
        result.add(f"{label}: {count:,} documents (requests {requests})", seconds, "s")
    retag_sent = sum(life_cycle[1][2].values())
    retag_limit = 2 * math.ceil(count / 100)
    result.add(
        "retag, batched requests", retag_sent, "", f"<= {retag_limit}", retag_sent <= retag_limit
    )
    retag_ratio = life_cycle[0][1] / life_cycle[1][1]
    result.add("retag, batched vs one by one", retag_ratio, "x")
    result.summary = (
        f"{count:,} documents: batched {batched:.2f} s in {sent} requests vs one by one "
        f"{single:.1f} s in {sum(single_requests.values())} requests ({ratio:.0f}x); "
        f"retag batched {life_cycle[1][1]:.2f} s in {retag_sent} requests ({retag_ratio:.0f}x)"
    )
    return result


def _life_cycle(
    sandbox: BenchSandbox, service: DocumentService, user_id: str, count: int
) -> list[tuple[str, float, dict[str, int]]]:
    """(label, seconds, requests) of: a tag added one by one, then batched; a move to the trash."""
    ids = seed(sandbox, user_id, count)
    counter = counted(service)
    figures: list[tuple[str, float, dict[str, int]]] = []
    started = time.perf_counter()
    for document_id in ids:
        service.retag(document_id, add=["one-by-one"])
    figures.append(("retag one by one", time.perf_counter() - started, dict(counter.counts)))

    def timed(label: str, change: Callable[[], ChangeReport]) -> None:
        sandbox.wait_until_saved()
        counter.reset()
        started = time.perf_counter()
        report = change()
        figures.append((label, time.perf_counter() - started, dict(counter.counts)))
        problems = [r for r in report.results if r.status is not DONE]
        assert not problems, problems[:3]

    timed("retag batched", lambda: service.retag_many(ids, add=["batched"]))
    timed("move to the trash, batched", lambda: service.trash_many(ids))
    return figures


if __name__ == "__main__":
    run_main(run, __doc__.splitlines()[0])
