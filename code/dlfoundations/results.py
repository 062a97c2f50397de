"""Machine-readable results: save :class:`~dlfoundations.experiments.Record` lists as JSON, read them back, tabulate.

A results file (``results/<profile>-<device>.json``) holds ``meta`` (torch
version, device name, date, command) and ``records``; the tuning chapter's
final table reads every such file it finds, so numbers measured on a GPU can be
shown in a book built on a laptop.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import platform
import sys
from pathlib import Path

import torch

from . import search
from .experiments import Record

SCHEMA = 1
RESULTS_DIR = Path(__file__).resolve().parents[2] / "results"


class ResultsFileError(ValueError):
    """A results file that cannot be read as this version of the course writes them."""


def metadata(device: torch.device | str) -> dict:
    """Where and with what a set of records was measured."""
    device = torch.device(device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or platform.machine()
    return {
        "schema": SCHEMA,
        "device": str(device),
        "device_name": name,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "threads": torch.get_num_threads(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
    }


def save(path: str | Path, records: list[Record], meta: dict) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"meta": meta, "records": [dataclasses.asdict(r) for r in records]}
    path.write_text(json.dumps(payload, indent=1) + "\n")
    return path


def load(path: str | Path) -> tuple[dict, list[Record]]:
    """``(meta, records)`` of a results file, with an error naming the file if it is malformed."""
    path = Path(path)
    try:
        payload = json.loads(path.read_text())
        meta, raw = payload["meta"], payload["records"]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as error:
        raise ResultsFileError(
            f"{path}: not a results file ({error}); re-create it with dlfoundations.reproduce"
        ) from error
    if meta.get("schema") != SCHEMA:
        raise ResultsFileError(f"{path}: schema {meta.get('schema')!r}, this course reads schema {SCHEMA}")
    fields = {f.name for f in dataclasses.fields(Record)}
    records = []
    for i, entry in enumerate(raw):
        missing = fields - set(entry) - {"settings"}
        if missing:
            raise ResultsFileError(f"{path}: record {i} lacks {sorted(missing)}")
        records.append(Record(**{k: v for k, v in entry.items() if k in fields}))
    return meta, records


def available(directory: str | Path = RESULTS_DIR) -> list[Path]:
    """The results files in ``directory`` (none if it does not exist), sorted by name."""
    directory = Path(directory)
    return sorted(directory.glob("*.json")) if directory.is_dir() else []


def _percent(values: list[float]) -> str:
    if not values:
        return "—"
    mean, std = search.mean_std(values)
    return f"{100 * mean:.1f}%" if len(values) == 1 else f"{100 * mean:.1f} ± {100 * std:.1f}%"


def table(records: list[Record], meta: dict | None = None) -> str:
    """A Markdown table: the report's figure, the assignment's target, and ours (mean ± std over seeds)."""
    from .plots import markdown_table

    header = [
        "ch.",
        "experiment",
        "report (best val.)",
        "target",
        "ours: val. (final)",
        "ours: test",
        "seeds",
        "epochs",
        "s/epoch",
        "run",
    ]
    where = f"{meta['device_name']}" if meta else ""
    rows = []
    for r in records:
        seconds, _ = search.mean_std(r.seconds_per_epoch)
        rows.append(
            [
                r.chapter,
                r.experiment,
                f"{r.report}%" if r.report is not None else "—",
                f"≥{r.target:g}%" if r.target is not None else "—",
                _percent(r.val),
                _percent(r.test),
                len(r.seeds),
                r.epochs,
                f"{seconds:.1f}",
                f"{r.profile}, {r.device}{' (' + where + ')' if where else ''}, {r.train_images:,} images",
            ]
        )
    return markdown_table(header, rows)


def describe_file(path: str | Path) -> str:
    """Markdown: the file's name, where and when it was measured, and its :func:`table`."""
    meta, records = load(path)
    heading = f"**{Path(path).name}**: {meta['device_name']}, torch {meta['torch']}, {meta['date'][:10]}"
    return heading + "\n\n" + table(records, meta)
