"""Run every benchmark, each in a process of its own, and print a table of the figures.

    python -m tests.benchmarks [--quick] [--only NAME ...] [--markdown FILE]

``--quick`` uses smaller sizes (for a look, not for RESULTS.md); ``--only`` runs the named
modules (e.g. ``--only transfers startup``); ``--markdown`` writes the table of figures.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.benchmarks.common import Result, machine_description

BENCHMARKS = [
    "bench_gui_responsiveness",
    "bench_first_page",
    "bench_long_lists",
    "bench_transfers",
    "bench_startup",
    "bench_admin_cleanup",
    "bench_delete_many",
    "bench_sandbox_scale",
    "bench_sandbox_queries",
    "bench_sandbox_checkpoints",
    "bench_search",
    "bench_folder_jobs",
]
REPO = Path(__file__).resolve().parents[2]


def markdown(results: list[Result], machine: str, quick: bool) -> str:
    lines = [
        f"Measured {datetime.date.today().isoformat()} on {machine}"
        + (" (QUICK sizes: not for RESULTS.md)" if quick else ""),
        "",
        "| benchmark | figure | value | target | met? |",
        "|---|---|---|---|---|",
    ]
    for result in results:
        for figure in result.figures:
            value = f"{figure.value:,.0f}" if abs(figure.value) >= 100 else f"{figure.value:.3g}"
            met = "" if figure.met is None else ("yes" if figure.met else "**no**")
            lines.append(
                f"| {result.benchmark} | {figure.name} | {value} {figure.unit} "
                f"| {figure.target} | {met} |"
            )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the dms-desktop benchmarks")
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--only", nargs="+", default=[], help="run only these benchmarks")
    parser.add_argument("--markdown", type=Path, help="write the table of figures here")
    args = parser.parse_args()
    chosen = [
        name for name in BENCHMARKS if not args.only or any(wanted in name for wanted in args.only)
    ]
    machine = machine_description()
    print(f"machine: {machine}", flush=True)
    results: list[Result] = []
    failed: list[str] = []
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with tempfile.TemporaryDirectory(prefix="dms-bench-results-") as folder:
        for name in chosen:
            print(f"\n== running {name}", flush=True)
            out = Path(folder) / f"{name}.json"
            command = [sys.executable, "-m", f"tests.benchmarks.{name}", "--json", str(out)]
            code = subprocess.run(
                [*command, *(["--quick"] if args.quick else [])], cwd=REPO, env=env, check=False
            ).returncode
            if not out.exists():
                failed.append(name)
                print(f"== {name} FAILED (exit code {code})", flush=True)
                continue
            result = Result.from_json(json.loads(out.read_text(encoding="utf-8")))
            if code != 0:  # e.g. a crash while the interpreter shuts down, after the figures
                result.notes.append(f"exited with code {code} after writing its figures")
                failed.append(f"{name} (exit code {code} after its figures)")
            results.append(result)
    table = markdown(results, machine, args.quick)
    print("\n" + table)
    print("Summary:")
    for result in results:
        verdict = {True: "met", False: "MISSED", None: "no target"}[result.met]
        print(f"  {result.benchmark}: {result.summary} [{verdict}] ({result.seconds:.0f} s)")
    for name in failed:
        print(f"  FAILED: {name}")
    if args.markdown:
        args.markdown.write_text(table, encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
