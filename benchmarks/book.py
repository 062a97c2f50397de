"""Wall time of every chapter notebook in a run profile (default ``quick``), executed as nbval would.

python benchmarks/book.py --out _build/bench/book-quick.json [--profile quick] [--only 02 10] [--cells 3]

``--cells N`` also prints each notebook's N slowest code cells (index and first line), to find what to trim.
``--jobs N`` measures what ``make book`` does instead: every chapter executed N at a time by
:func:`dlfoundations.book.execute_chapters`, into the build's own execution cache (so a
``jupyter-book build`` afterwards renders them without executing again), with the wall time of the whole.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import datetime
from pathlib import Path

import nbformat
from common import write
from nbclient import NotebookClient

from dlfoundations.book import markdown_table

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="quick", choices=["quick", "standard", "full"])
    parser.add_argument("--only", nargs="*", help="chapter numbers, e.g. 07 09b 10")
    parser.add_argument("--cells", type=int, default=0, help="print the N slowest code cells of each notebook")
    parser.add_argument("--jobs", type=int, default=1, help="execute N notebooks at a time, as make book does")
    parser.add_argument("--out")
    args = parser.parse_args()
    os.environ["DLF_PROFILE"] = args.profile
    if args.jobs > 1:
        return parallel(args)
    rows = []
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        if args.only and path.name.split("_")[0] not in args.only:
            continue
        notebook = nbformat.read(path, as_version=4)
        client = NotebookClient(
            notebook, timeout=3600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
        )
        start = time.perf_counter()
        try:
            client.execute()
            status = "passed"
        except Exception as error:  # noqa: BLE001 - the table reports any failure
            status = f"failed: {type(error).__name__}"
        slowest = sorted(cell_seconds(notebook), reverse=True)[: args.cells]
        rows.append(
            {
                "notebook": path.name,
                "profile": args.profile,
                "seconds": time.perf_counter() - start,
                "status": status,
                "slowest_cells": [{"seconds": t, "cell": i, "first_line": line} for t, i, line in slowest],
            }
        )
        print(f"{path.name}: {rows[-1]['seconds']:.1f} s, {status}", flush=True)
        for seconds, index, line in slowest:
            print(f"    cell {index:3d}: {seconds:7.1f} s  {line}", flush=True)
    total = sum(r["seconds"] for r in rows)
    print()
    print(
        markdown_table(
            ["notebook", "seconds", "status"],
            [[r["notebook"], f"{r['seconds']:.1f}", r["status"]] for r in rows] + [["total", f"{total:.1f}", ""]],
        )
    )
    from dlfoundations import config

    write(args.out, "book", rows, config.device())


def parallel(args) -> None:
    """All chapters ``args.jobs`` at a time into the build's cache; one row per notebook and one for the wall time."""
    from dlfoundations import book, config

    cache = book.cache_path(args.profile, book.build_key(args.profile))
    start = time.perf_counter()
    seconds = book.execute_chapters(ROOT, cache, args.profile, args.jobs, force=True)
    wall = time.perf_counter() - start
    rows = [
        {"notebook": name, "profile": args.profile, "seconds": s, "status": "passed"} for name, s in seconds.items()
    ]
    rows.sort(key=lambda r: r["notebook"])
    rows.append({"notebook": f"whole book, {args.jobs} at a time (wall)", "profile": args.profile, "seconds": wall})
    print(
        f"\nall {len(seconds)} notebooks in {wall:.1f} s of wall time ({sum(seconds.values()):.1f} s of notebook time)"
    )
    write(args.out, "book", rows, config.device())


def cell_seconds(notebook) -> list[tuple[float, int, str]]:
    """(seconds, index, first line) of every executed code cell, from the timing nbclient records."""
    out = []
    for index, cell in enumerate(notebook.cells):
        timing = cell.get("metadata", {}).get("execution", {})
        if cell.cell_type != "code" or "shell.execute_reply" not in timing:
            continue
        began = datetime.fromisoformat(timing["iopub.execute_input"].replace("Z", "+00:00"))
        ended = datetime.fromisoformat(timing["shell.execute_reply"].replace("Z", "+00:00"))
        out.append(((ended - began).total_seconds(), index, cell.source.splitlines()[0][:60] if cell.source else ""))
    return out


if __name__ == "__main__":
    main()
