"""Shared helpers of the benchmark scripts: repeated timing and JSON output (tables: book.markdown_table)."""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from dlfoundations import config, results


def repeat(fn, repeats: int = 3, warmup: int = 1) -> dict:
    """Call ``fn()`` (which returns a rate) ``warmup`` + ``repeats`` times; median and spread of the repeats."""
    for _ in range(warmup):
        fn()
    values = [fn() for _ in range(repeats)]
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "values": values}


def timed(fn, device) -> float:
    """Seconds taken by ``fn()``, with the device synchronized before and after."""
    config.synchronize(device)
    start = time.perf_counter()
    fn()
    config.synchronize(device)
    return time.perf_counter() - start


def write(path: str | Path | None, name: str, rows: list[dict], device) -> None:
    meta = results.metadata(device, allow_dirty=True)  # a benchmark times the working tree; meta says if dirty
    meta["benchmark"] = name
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n")
        print(f"wrote {path}")
