"""Shared helpers of the benchmark scripts: repeated timing, tables, JSON output."""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import torch

from dlfoundations import results


def sync(device) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def repeat(fn, repeats: int = 3, warmup: int = 1) -> dict:
    """Call ``fn()`` (which returns a rate) ``warmup`` + ``repeats`` times; median and spread of the repeats."""
    for _ in range(warmup):
        fn()
    values = [fn() for _ in range(repeats)]
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "values": values}


def timed(fn, device) -> float:
    """Seconds taken by ``fn()``, with the device synchronized before and after."""
    sync(device)
    start = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - start


def table(header: list[str], rows: list[list]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    line = lambda cells: "  ".join(str(c).rjust(w) for c, w in zip(cells, widths, strict=True))  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def write(path: str | Path | None, name: str, rows: list[dict], device) -> None:
    meta = results.metadata(device)
    meta["benchmark"] = name
    meta["command"] = " ".join(sys.argv)
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n")
        print(f"wrote {path}")
