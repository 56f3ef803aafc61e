"""Benchmark 7: how the local sandbox scales: 1,000, 10,000 and 50,000 documents.

    python -m tests.benchmarks.bench_sandbox_scale [--quick]

One sandbox grows from 1k to 10k to 50k documents of the demo user (seeded with BatchWriteItem).
At each size: the first page of 100 (the window's page) through the app's service against a bare
boto3 Query, a full scroll through every page (at 50k the first 20 pages, extrapolated to all:
a full scroll takes too long to run each time), and the first page of a filename search that
matches one document in 500. moto's own Query reads the whole table for every page, so these
grew with the size; the sandbox now answers Queries from sorted lists as DynamoDB does
(sandbox/fast_query.py; benchmark 9, bench_sandbox_queries, compares the two up to 100,000
documents). No target: the figures say where the sandbox stops being pleasant.
"""

from __future__ import annotations

import math
import time

from dms_desktop.connect import open_service
from dms_desktop.core.listing import ListQuery
from dms_desktop.sandbox import DEMO_USER
from tests.benchmarks.bench_first_page import bare_client, bare_query_request
from tests.benchmarks.common import (
    SEARCH_WORD,
    Result,
    bench_sandbox,
    median,
    run_main,
    seed,
    timed,
)

PAGE = 100


def run(quick: bool) -> Result:
    result = Result("7 sandbox scale")
    sizes = (1000, 5000) if quick else (1000, 10_000, 50_000)
    full_scroll_up_to = 10_000
    sampled_pages = 20
    first_pages: dict[int, float] = {}
    with bench_sandbox() as sandbox:
        user = sandbox.sign_in(DEMO_USER)
        service = open_service(sandbox.backend, user)
        client = bare_client(sandbox)
        request = bare_query_request(sandbox, user.user_id)
        seeded = 6  # the sandbox's sample documents
        for size in sizes:
            seconds = seed(sandbox, user.user_id, size - seeded)
            seeded = size
            print(f"{size:,} documents: seeded in {seconds:.1f} s", flush=True)
            query = ListQuery(page_size=PAGE)
            service.list_page(query)
            client.query(**request)
            app = median([timed(lambda: service.list_page(query)) for _ in range(3)])  # noqa: B023
            bare = median([timed(lambda: client.query(**request)) for _ in range(3)])
            first_pages[size] = app
            result.add(f"{size:,} docs: first page, app", app * 1000, "ms")
            result.add(f"{size:,} docs: first page, bare boto3 Query", bare * 1000, "ms")

            pages = math.ceil(size / PAGE)
            limit = pages if size <= full_scroll_up_to else sampled_pages
            cursor: str | None = None
            page_times = []
            for _ in range(limit):
                started = time.perf_counter()
                page = service.list_page(query, cursor)
                page_times.append(time.perf_counter() - started)
                cursor = page.cursor
                if cursor is None:
                    break
            scroll = sum(page_times) * pages / len(page_times)
            how = (
                "measured" if len(page_times) == pages else f"{len(page_times)} pages, extrapolated"
            )
            result.add(f"{size:,} docs: full scroll, {pages} pages ({how})", scroll, "s")
            result.add(
                f"{size:,} docs: median page while scrolling", median(page_times) * 1000, "ms"
            )

            search = ListQuery(page_size=PAGE, text=SEARCH_WORD)
            started = time.perf_counter()
            found = service.list_page(search)
            searched = time.perf_counter() - started
            result.add(
                f"{size:,} docs: search first page ({len(found.documents)} found, "
                f"{found.requests} Query requests)",
                searched,
                "s",
            )
    result.summary = "first page " + ", ".join(
        f"{size // 1000}k: {seconds * 1000:.0f} ms" for size, seconds in first_pages.items()
    )
    return result


if __name__ == "__main__":
    run_main(run, __doc__.splitlines()[0])
