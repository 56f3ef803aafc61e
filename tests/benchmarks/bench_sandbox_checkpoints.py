"""Benchmark 10: the sandbox's checkpoints and start-up at 100,000 documents.

    python -m tests.benchmarks.bench_sandbox_checkpoints [--quick]

One sandbox is seeded with 100,000 documents of the demo user (BatchWriteItem, metadata only;
10,000 with --quick), and waits for its checkpoint. Then:

- **Requests during checkpoints.** A reader lists the first page of 100 (the app's
  ``DocumentService.list_page``, what ``dms list --limit 100`` and the window call) again and
  again: first for a while without any write (no checkpoint runs), then while a writer changes
  100 documents, waits for the checkpoint that follows, and again, several times. Figures: the
  p99 (and median) page time in both phases, and the longest time a checkpoint held requests off
  as the sandbox measured it (its health answer, ``last_checkpoint_hold_ms``).
- **Start-up.** The sandbox stopped cleanly, then started again (``connect_or_start``: a new
  server process loads the state database) until it answers; then 1,000 documents changed,
  the server killed with SIGKILL at once, and started again (it replays the log too).

Targets (issue 20): requests held <= 50 ms by a checkpoint at 100,000 documents (p99 of the
page time during checkpoints); start-up of a 100,000-document sandbox <= 5 s.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import threading
import time

from dms_desktop.connect import open_service
from dms_desktop.core.listing import ListQuery
from dms_desktop.core.paths import AppPaths
from dms_desktop.core.service import DocumentService
from dms_desktop.sandbox import DEMO_USER, connect_or_start, stop
from dms_desktop.sandbox.control import health
from tests.benchmarks.common import (
    Result,
    bench_sandbox,
    make_documents,
    median,
    percentile,
    run_main,
    seed,
)
from tests.support.seeding import seed_metadata

PAGE = 100
HOLD_TARGET_MS = 50.0
START_TARGET_S = 5.0
CHECKPOINT_ROUNDS = 6


def _pages_while(service: DocumentService, stop_reading: threading.Event) -> list[float]:
    """Page times of a reader that lists the first page until ``stop_reading`` is set."""
    times: list[float] = []
    query = ListQuery(page_size=PAGE)
    while not stop_reading.is_set():
        started = time.perf_counter()
        service.list_page(query)
        times.append(time.perf_counter() - started)
    return times


def _wait_for_start(paths: AppPaths, timeout: float = 300.0) -> float:
    started = time.perf_counter()
    connect_or_start(paths, timeout=timeout)
    return time.perf_counter() - started


def run(quick: bool) -> Result:
    result = Result("10 sandbox checkpoints")
    size = 10_000 if quick else 100_000
    with bench_sandbox() as sandbox:
        user = sandbox.sign_in(DEMO_USER)
        seconds = seed(sandbox, user.user_id, size - 6)
        print(f"{size:,} documents: seeded in {seconds:.1f} s", flush=True)
        service = open_service(sandbox.backend, user)
        service.list_page(ListQuery(page_size=PAGE))  # the sorted list is built
        # This process holds moto, the test support and the seeding's clients, a heap no client
        # of the app has (`dms list` makes one request and exits; the window freezes its start-up
        # heap, gui/garbage.py). Its own full collections, 35-60 ms every second or two, were
        # counted as page time: frozen here, they skip what the set-up made.
        gc.collect()
        gc.freeze()

        stop_reading = threading.Event()
        quiet: list[float] = []
        reader = threading.Thread(target=lambda: quiet.extend(_pages_while(service, stop_reading)))
        reader.start()
        time.sleep(20)
        stop_reading.set()
        reader.join()

        dynamodb, _s3 = sandbox.admin_clients()
        status = health(sandbox.info) or {}
        checkpoints_before = int(status.get("checkpoints", 0))
        stop_reading = threading.Event()
        busy: list[float] = []
        reader = threading.Thread(target=lambda: busy.extend(_pages_while(service, stop_reading)))
        reader.start()
        durations: list[float] = []
        holds: list[float] = []
        for round_number in range(CHECKPOINT_ROUNDS):
            documents = make_documents(user.user_id, PAGE, "changed", start=round_number * PAGE)
            status = health(sandbox.info) or {}
            count = int(status.get("checkpoints", 0))
            seed_metadata(dynamodb, sandbox.info.table, documents, threads=1)
            while int((health(sandbox.info) or {}).get("checkpoints", 0)) <= count:
                time.sleep(0.2)  # the checkpoint comes a few seconds after the last change
            status = health(sandbox.info) or {}
            durations.append(float(status.get("last_checkpoint_ms", 0)))
            holds.append(float(status.get("last_checkpoint_hold_ms", 0)))
        stop_reading.set()
        reader.join()
        status = health(sandbox.info) or {}
        hold = max(holds)
        checkpoints = int(status.get("checkpoints", 0)) - checkpoints_before

        result.add(f"{size:,} docs: first page, median, no checkpoint", median(quiet) * 1000, "ms")
        result.add(
            f"{size:,} docs: first page, p99, no checkpoint", percentile(quiet, 0.99) * 1000, "ms"
        )
        result.add(f"{size:,} docs: first page, longest, no checkpoint", max(quiet) * 1000, "ms")
        result.add(
            f"{size:,} docs: first page, median, {checkpoints} checkpoints after 100 changes each",
            median(busy) * 1000,
            "ms",
        )
        p99 = percentile(busy, 0.99) * 1000
        result.add(
            f"{size:,} docs: first page, p99, during those checkpoints ({len(busy)} pages)",
            p99,
            "ms",
            f"<= {HOLD_TARGET_MS:.0f} ms",
            p99 <= HOLD_TARGET_MS,
        )
        result.add(
            f"{size:,} docs: first page, longest, during those checkpoints", max(busy) * 1000, "ms"
        )
        result.add(
            f"{size:,} docs: longest time one of those checkpoints held requests "
            "(the sandbox's own figure)",
            hold,
            "ms",
            f"<= {HOLD_TARGET_MS:.0f} ms",
            hold <= HOLD_TARGET_MS,
        )
        result.add(
            f"{size:,} docs: a checkpoint of 100 changes in all (median, requests go on)",
            median(durations),
            "ms",
        )

        stop(sandbox.paths, timeout=300)
        started = _wait_for_start(sandbox.paths)
        result.add(
            f"{size:,} docs: start-up after a clean stop",
            started,
            "s",
            f"<= {START_TARGET_S:.0f} s",
            started <= START_TARGET_S,
        )
        info = connect_or_start(sandbox.paths)
        sandbox.info = info
        dynamodb, _s3 = sandbox.admin_clients()
        seed_metadata(dynamodb, info.table, make_documents(user.user_id, 1000, "crash"))
        os.kill(info.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):  # our child: reaped, or it looks alive
            os.waitpid(info.pid, 0)
        started = _wait_for_start(sandbox.paths)
        result.add(
            f"{size:,} docs: start-up after kill -9 with 1,000 changes in the log",
            started,
            "s",
            f"<= {START_TARGET_S:.0f} s",
            started <= START_TARGET_S,
        )
        sandbox.info = connect_or_start(sandbox.paths)
    result.summary = f"checkpoint hold {hold:.0f} ms, p99 page {p99:.0f} ms, start {started:.1f} s"
    return result


if __name__ == "__main__":
    run_main(run, __doc__.splitlines()[0])
