"""Benchmark 10: search on the sandbox with 100,000 documents with text bodies.

    python -m tests.benchmarks.bench_search [--quick]

Stores 100,000 documents of the demo user (10,000 with --quick), each with a text body of about
60 words (bodies with PutObject, metadata with BatchWriteItem, as the sandbox's stream then
reports them), waits until the sandbox's indexer has them all, then measures:

- a word query and a tag query through the CLI's path (``connect.open_search`` then
  ``search``, in this process: what `dms search` does after it has started) and through the
  window's (the same call on the window's fast lane, timed from the request to the reply on
  the GUI thread): median and worst of 200 queries each;
- the index's size on disk per document, beside the size of the text it holds;
- how long an upload takes to become searchable (median of 20 uploads through the app).
"""

from __future__ import annotations

import random
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from dms_desktop.connect import open_search, open_service
from dms_desktop.core.search.embedded import EmbeddedIndex
from dms_desktop.sandbox import DEMO_USER
from dms_desktop.sandbox.search_host import SEARCH_DIR, search_index_dir
from tests.benchmarks.common import (
    Result,
    bench_sandbox,
    make_documents,
    median,
    run_main,
    work_folder,
)
from tests.support.seeding import seed_metadata

QUERIES = 200
UPLOADS = 20
VOCABULARY = [f"word{number}" for number in range(5000)]


def body_of(number: int) -> bytes:
    """About 60 words; 'needle{n}' is in one document only, 'common{n % 100}' in 1%."""
    chooser = random.Random(number)
    words = [chooser.choice(VOCABULARY) for _ in range(58)]
    words += [f"needle{number}", f"common{number % 100}"]
    chooser.shuffle(words)
    return " ".join(words).encode()


def folder_size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def run(quick: bool) -> Result:
    result = Result("10 search")
    count = 10_000 if quick else 100_000
    with bench_sandbox("dms-bench-search-") as sandbox:
        user = sandbox.sign_in(DEMO_USER)
        dynamodb, s3 = sandbox.admin_clients()
        documents = make_documents(user.user_id, count, tag="bench")
        documents = [
            document.model_copy(
                update={"file_type": "text/plain", "filename": f"doc {number:06d}.txt"}
            )
            for number, document in enumerate(documents)
        ]
        started = time.perf_counter()

        def put_body(number: int) -> int:
            body = body_of(number)
            s3.put_object(Bucket=sandbox.info.bucket, Key=documents[number].s3_key, Body=body)
            return len(body)

        with ThreadPoolExecutor(4) as pool:
            text_bytes = sum(pool.map(put_body, range(count), chunksize=200))
        documents = [
            document.model_copy(update={"size": len(body_of(number))})
            for number, document in enumerate(documents)
        ]
        for start in range(0, count, 5000):
            seed_metadata(dynamodb, sandbox.info.table, documents[start : start + 5000])
        print(f"{count:,} documents stored in {time.perf_counter() - started:.0f} s", flush=True)

        index = EmbeddedIndex(search_index_dir(sandbox.paths.sandbox_dir))
        deadline = time.monotonic() + 3 * 3600
        while len(index.document_ids(user.user_id)) < count + 6:  # and the 6 samples
            if time.monotonic() > deadline:
                raise TimeoutError("the index did not catch up")
            time.sleep(2)
        indexed = time.perf_counter() - started
        result.add(f"{count:,} docs: stored and indexed", indexed, "s")
        sandbox.wait_until_saved()

        search = open_search(sandbox.backend, user, sandbox.paths)
        queries = {
            "word query (1 match)": [f"needle{number}" for number in range(QUERIES)],
            "word query (1% match)": [f"common{number % 100}" for number in range(QUERIES)],
            "tag query": [f"tag:group-{number % 10}" for number in range(QUERIES)],
        }
        for label, texts in queries.items():
            search.search(texts[0])
            times = []
            for text in texts:
                began = time.perf_counter()
                hits = search.search(text).hits
                times.append(time.perf_counter() - began)
                assert hits, text
            add_latency(result, f"CLI: {label}", times)

        window_times = window_latencies(sandbox, queries["word query (1 match)"][:50])
        add_latency(result, "window: word query (1 match)", window_times)

        index_bytes = folder_size(sandbox.paths.sandbox_dir / SEARCH_DIR / "index")
        per_document = (index_bytes - text_bytes) / count
        result.add(
            "index size per document, beyond its text",
            per_document,
            "bytes",
            "<= 1,024",
            per_document <= 1024,
        )
        result.add("index size in all", index_bytes / 2**20, "MB")
        result.add("text indexed in all", text_bytes / 2**20, "MB")

        service = open_service(sandbox.backend, user)
        folder = work_folder("dms-bench-search-files-")
        delays = []
        for number in range(UPLOADS):
            source = folder / f"fresh-{number}.txt"
            source.write_text(f"freshly uploaded marker{number} text")
            service.upload(source)
            uploaded = time.perf_counter()
            while not search.search(f"marker{number}").hits:
                time.sleep(0.02)
            delays.append(time.perf_counter() - uploaded)
        searchable = median(delays)
        result.add("upload searchable after (median)", searchable, "s", "<= 2", searchable <= 2.0)
        result.add("upload searchable after (worst)", max(delays), "s")
    result.summary = f"{count:,} documents"
    return result


def add_latency(result: Result, label: str, times: list[float]) -> None:
    middle, worst = statistics.median(times) * 1000, max(times) * 1000
    result.add(f"{label}: median", middle, "ms", "<= 50", middle <= 50)
    result.add(f"{label}: worst", worst, "ms", "<= 200", worst <= 200)


def window_latencies(sandbox: object, texts: list[str]) -> list[float]:
    """Each query as the window runs it: a fast-lane operation, timed to its reply."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer

    from dms_desktop.gui.operations import Account, Operations
    from dms_desktop.gui.search_view import run_search

    app = QCoreApplication.instance() or QCoreApplication([])
    backend = sandbox.backend  # type: ignore[attr-defined]
    user = sandbox.sign_in(DEMO_USER)  # type: ignore[attr-defined]
    account = Account(sandbox.paths, None, backend, user)  # type: ignore[attr-defined]
    operations = Operations(account, lambda error: print(f"error: {error}"))
    times: list[float] = []
    try:
        for text in texts:
            loop = QEventLoop()
            began = time.perf_counter()

            def done(_results: object, loop: QEventLoop = loop) -> None:
                times.append(time.perf_counter() - began)  # noqa: B023
                loop.quit()

            operations.fast(lambda ctx, t=text: run_search(ctx, t), done).run()
            QTimer.singleShot(10_000, loop.quit)
            loop.exec()
        assert threading.current_thread() is threading.main_thread()
    finally:
        operations.shutdown()
        del app
    return times[1:]  # the first builds the lane's clients


if __name__ == "__main__":
    run_main(run, __doc__ or "")
