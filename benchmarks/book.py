"""Wall time of every chapter notebook in a run profile (default ``quick``), executed as nbval would.

python benchmarks/book.py --out _build/bench/book-quick.json [--profile quick]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import nbformat
from common import write
from nbclient import NotebookClient

from dlfoundations.book import markdown_table

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="quick", choices=["quick", "standard", "full"])
    parser.add_argument("--only", nargs="*", help="chapter numbers, e.g. 07 10")
    parser.add_argument("--out")
    args = parser.parse_args()
    os.environ["DLF_PROFILE"] = args.profile
    rows = []
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        if args.only and path.name[:2] not in args.only:
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
        rows.append(
            {"notebook": path.name, "profile": args.profile, "seconds": time.perf_counter() - start, "status": status}
        )
        print(f"{path.name}: {rows[-1]['seconds']:.1f} s, {status}", flush=True)
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


if __name__ == "__main__":
    main()
