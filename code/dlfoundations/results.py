"""Machine-readable results: JSON files under ``results/``, each of one *kind*, read by the chapter that shows it.

Every file holds ``kind``, ``meta`` (schema, the code's git commit, torch version, device, date, command)
and ``records``. The kind says whose records they are: ``"course"`` (lists of
:class:`~dlfoundations.experiments.Record`, the CIFAR-10 runs of chapters 07–10, written by
:mod:`dlfoundations.reproduce`), ``"search"`` (an Optuna study's best trial, written by
:func:`dlfoundations.tune.export`: a best-of-N selection, kept out of the course's comparisons), ``"speedrun"``
(chapter 11), ``"generalization"`` (the regularization chapter), ``"lenet"`` (chapter 02b), and so on.
:func:`write` and :func:`read` handle any kind; :func:`available` lists the files of one kind, so each reader
sees only its own and a file of another kind beside them changes nothing. Files written before kinds existed
are ``"course"``.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

import torch

from . import search
from .experiments import Record

SCHEMA = 1
COURSE = "course"


class ResultsFileError(ValueError):
    """A results file that cannot be read as this version of the course writes them."""


REPOSITORY = Path(__file__).resolve().parents[2]
RESULTS_DIR = REPOSITORY / "results"
# what a results file's numbers depend on: the package, and the pinned versions it ran with
PROVENANCE_PATHS = ("code", "pyproject.toml", "constraints.txt")


class DirtyTreeError(RuntimeError):
    """A run asked to write a results file from code with uncommitted changes."""


def git_commit() -> str | None:
    """The commit of the code that is running (``+dirty`` when the package or the pins have uncommitted
    changes), or None outside a git checkout (a pip-installed package)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPOSITORY, capture_output=True, text=True, timeout=10
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", *PROVENANCE_PATHS],
            cwd=REPOSITORY,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if commit.returncode != 0:
        return None
    return commit.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def is_clean_commit(commit: object) -> bool:
    """Whether ``commit`` names a full git commit with no uncommitted changes (40 hex digits, no ``+dirty``)."""
    return isinstance(commit, str) and re.fullmatch(r"[0-9a-f]{40}", commit) is not None


def portable(text: str) -> str:
    """``text`` with this machine's paths taken out: the repository's own root becomes relative, and any other
    absolute path keeps its last two parts (``…/cifar10-jpeg-mirror/cifar-10-batches-py``), so that a results
    file says which copy of the data ran without naming anybody's home folder."""
    root = str(REPOSITORY)
    text = text.replace(root + "/", "").replace(root, ".")
    return re.sub(r"(?<![\w.~])/(?:[^/\s\"']+/)+([^/\s\"']+/[^/\s\"']+)", r"…/\1", text)


def command_line(argv: list[str] | None = None) -> str:
    """The command that is running (``sys.argv``), as a reader would type it from the repository's root:
    ``python -m dlfoundations.reproduce --out results/x.json`` rather than the module's absolute path."""
    argv = list(sys.argv if argv is None else argv)
    if not argv:
        return ""
    first = Path(argv[0])
    if first.suffix == ".py" and first.resolve().parent == Path(__file__).resolve().parent:
        head = f"python -m {__package__}.{first.stem}"  # what `python -m` puts in sys.argv[0] is the file
    else:
        head = portable(argv[0])
    return " ".join([head] + [portable(a) for a in argv[1:]])


ALLOW_DIRTY_VARIABLE = "DLF_ALLOW_DIRTY"


def metadata(device: torch.device | str, *, allow_dirty: bool | None = None) -> dict:
    """Where and with what a set of records was measured: device, versions, threads, date, command, commit.

    Raises :class:`DirtyTreeError` when the package has uncommitted changes, since then no commit says which
    code produced the numbers: commit first, or allow it (``allow_dirty=True``, ``--allow-dirty`` on the
    command lines; ``None`` reads ``DLF_ALLOW_DIRTY=1`` from the environment, as the test suite sets it for
    the files its tests write), and the file then says ``"dirty": true`` beside a commit ending in ``+dirty``.
    """
    commit = git_commit()
    if allow_dirty is None:
        allow_dirty = os.environ.get(ALLOW_DIRTY_VARIABLE) == "1"
    if commit is not None and commit.endswith("+dirty") and not allow_dirty:
        raise DirtyTreeError(
            "the package has uncommitted changes (git status -- code pyproject.toml constraints.txt), so no commit "
            "would say which code produced these results: commit them and run again, or pass --allow-dirty for a "
            "trial file that is not to be committed (DLF_ALLOW_DIRTY=1 does the same)"
        )
    device = torch.device(device)
    from . import config

    name = torch.cuda.get_device_name(device) if device.type == "cuda" else config.cpu_name()
    meta = {
        "schema": SCHEMA,
        "device": str(device),
        "device_name": name,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "threads": torch.get_num_threads(),
        "cpu_flags": config.cpu_flags(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": command_line(),
        "commit": commit,
    }
    if commit is not None and commit.endswith("+dirty"):
        meta["dirty"] = True
    return meta


def add_allow_dirty(parser) -> None:
    """Add ``--allow-dirty`` to a command line that writes a results file: ``True`` when given, else ``None``
    (then :func:`metadata` reads ``DLF_ALLOW_DIRTY``)."""
    parser.add_argument(
        "--allow-dirty",
        action="store_const",
        const=True,
        default=None,
        help="write even though the package has uncommitted changes (a trial file: it says so, and is not committed)",
    )


def _portable_values(value):
    if isinstance(value, str):
        return portable(value)
    if isinstance(value, dict):
        return {k: _portable_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_portable_values(v) for v in value]
    return value


def write(path: str | Path, kind: str, records: list[dict], meta: dict) -> Path:
    """Write a results file of any kind: ``{"kind", "meta", "records"}``, records as plain dicts."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"kind": kind, "meta": _portable_values({"schema": SCHEMA, **meta}), "records": records}
    path.write_text(json.dumps(payload, indent=1) + "\n")
    return path


def kind_of(path: str | Path) -> str:
    """The file's kind (``"course"`` for files from before kinds existed)."""
    return _payload(path).get("kind", COURSE)


def _payload(path: str | Path) -> dict:
    path = Path(path)
    try:
        payload = json.loads(path.read_text())
        if not isinstance(payload, dict) or not isinstance(payload["meta"], dict):
            raise TypeError("expected an object with 'meta' and 'records'")
        payload["records"]  # noqa: B018 - must exist
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as error:
        raise ResultsFileError(
            f"{path}: not a results file ({error}); re-create it with dlfoundations.reproduce"
        ) from error
    if payload["meta"].get("schema") != SCHEMA:
        raise ResultsFileError(f"{path}: schema {payload['meta'].get('schema')!r}, this course reads schema {SCHEMA}")
    return payload


def read(path: str | Path, kind: str) -> tuple[dict, list[dict]]:
    """``(meta, records)`` of a results file of ``kind``; an error naming the file if it is of another kind."""
    payload = _payload(path)
    found = payload.get("kind", COURSE)
    if found != kind:
        raise ResultsFileError(f"{path}: a results file of kind {found!r}, not {kind!r}")
    return payload["meta"], payload["records"]


def save(path: str | Path, records: list[Record], meta: dict) -> Path:
    """Write :class:`~dlfoundations.experiments.Record` lists as a ``"course"`` results file."""
    return write(path, COURSE, [dataclasses.asdict(r) for r in records], meta)


def carry_over(meta: dict, old_meta: dict, keys=("date", "commit", "seconds", "threads")) -> dict:
    """``meta`` of a command that appends runs to a results file: the file's earlier commands go into
    ``appended`` (oldest first, each with ``keys``), and its ``dropped`` notes (:func:`drop_seeds`) stay."""
    meta["appended"] = old_meta.get("appended", []) + [{k: old_meta.get(k) for k in keys}]
    if old_meta.get("dropped"):
        meta["dropped"] = old_meta["dropped"]
    return meta


# the lists of a course record that hold one entry per seed, in the order of ``seeds``
PER_SEED = ("seeds", "val", "best_val", "test", "best_checkpoint_test", "seconds_per_epoch", "train", "threads")


def merge(old: list[Record], new: list[Record]) -> list[Record]:
    """``old`` with the seeds of ``new`` appended to the record of the same run (name, settings and sizes);
    records of runs ``old`` lacks are added. A seed that a record already holds is an error."""
    same = ("experiment", "settings", "epochs", "train_images", "profile", "device")
    merged = [dataclasses.replace(r) for r in old]
    for record in new:
        key = json.dumps([getattr(record, f) for f in same], sort_keys=True)  # tuples and lists alike
        match = next((r for r in merged if json.dumps([getattr(r, f) for f in same], sort_keys=True) == key), None)
        if match is None:
            merged.append(dataclasses.replace(record))  # a copy: later records of ``new`` may merge into it
            continue
        repeated = set(match.seeds) & set(record.seeds)
        if repeated:
            raise ResultsFileError(f"{record.experiment!r} already holds seed(s) {sorted(repeated)}; use --first-seed")
        if len(match.threads) < len(match.seeds):  # records from before threads were kept per seed
            match.threads = match.threads + [None] * (len(match.seeds) - len(match.threads))
        for field in PER_SEED[:-1]:
            setattr(match, field, getattr(match, field) + getattr(record, field))
        match.threads = match.threads + (record.threads or [None] * len(record.seeds))
    return merged


def load(path: str | Path) -> tuple[dict, list[Record]]:
    """``(meta, records)`` of a ``"course"`` results file, with an error naming the file if it is malformed."""
    meta, raw = read(path, COURSE)
    fields = {f.name for f in dataclasses.fields(Record)}
    records = []
    for i, entry in enumerate(raw):
        missing = fields - set(entry) - {"settings", "train", "threads"}  # optional
        if missing:
            raise ResultsFileError(f"{path}: record {i} lacks {sorted(missing)}")
        records.append(Record(**{k: v for k, v in entry.items() if k in fields}))
    return meta, records


def available(directory: str | Path = RESULTS_DIR, kind: str = COURSE) -> list[Path]:
    """The results files of ``kind`` in ``directory`` (none if it does not exist), sorted by name."""
    directory = Path(directory)
    paths = sorted(directory.glob("*.json")) if directory.is_dir() else []
    return [path for path in paths if kind_of(path) == kind]


def percent(values: list[float]) -> str:
    """``"m.m ± s.s%"`` over seeds (``"m.m%"`` for one value, ``"—"`` for none), for prose and tables."""
    if not values:
        return "—"
    mean, std = search.mean_std(values)
    return f"{100 * mean:.1f}%" if len(values) == 1 else f"{100 * mean:.1f} ± {100 * std:.1f}%"


def table(records: list[Record], meta: dict | None = None) -> str:
    """A Markdown table: the report's figure, the assignment's target, and ours (mean ± std over seeds)."""
    from .book import markdown_table

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
                percent(r.val),
                percent(r.test),
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


# --------------------------------------------------------------------------- what the chapters show


def committed(names=None, directory: str | Path = RESULTS_DIR) -> dict[str, tuple[Record, Path]]:
    """For each experiment name, its record in the newest ``"course"`` file that holds it (by the file's date).

    Names that no file holds are left out, so a chapter can say that it has no committed numbers yet;
    ``names=None`` takes every experiment of every file. A one-epoch experiment's record counts only if it was
    run as :data:`~dlfoundations.experiments.ONE_EPOCH` defines it now (same settings): older runs of the same
    name stay in their files for comparison, but are not shown as the experiment's results.
    """
    from .experiments import ONE_EPOCH

    found: dict[str, tuple[Record, Path, str]] = {}
    for path in available(directory):
        meta, records = load(path)
        for record in records:
            spec = ONE_EPOCH.get(record.experiment)
            if spec is not None and record.settings != spec.settings():
                continue
            if names is None or record.experiment in names:
                date = meta.get("date", "")
                if record.experiment not in found or date > found[record.experiment][2]:
                    found[record.experiment] = (record, path, date)
    return {name: (record, path) for name, (record, path, _) in found.items()}


def _target(target) -> str:
    return "—" if target is None else f"≥{target:g}%"


def comparison(
    rows: list[tuple[str, float | None, float | None]],
    records: dict[str, Record] | None = None,
    runs: dict | None = None,
    source: str = "results/",
) -> str:
    """The one table that sets ours beside the report and the target, for chapters 07–10 (six columns at most).

    ``rows`` are ``(experiment, report, target)``; ``records`` are the committed multi-seed records by name
    (mean ± std of the best and the final validation check, and of test); ``runs`` are this notebook's runs
    by name (anything with ``best_val``, ``val`` and ``test``), shown in a column of their own when given.
    """
    from .book import markdown_table

    records, runs = records or {}, runs or {}
    header = ["experiment", "report: best val.", "target"]
    if runs:
        header.append("this run: best / final val., test")
    header += [f"{source}: best val., final val.", f"{source}: test"]
    lines = []
    for name, report, target in rows:
        line = [name, "—" if report is None else f"{report:g}%", _target(target)]
        if runs:
            run = runs.get(name)
            line.append(
                "—"
                if run is None
                else f"{100 * run.best_val:.1f} / {100 * run.val:.1f}%, "
                + ("—" if run.test is None else f"{100 * run.test:.1f}%")
            )
        record = records.get(name)
        if record is None:
            line += ["not run yet", "—"]
        else:
            n = len(record.seeds)
            line += [f"{percent(record.best_val)}, {percent(record.val)} ({n} seed{'s' if n != 1 else ''})"]
            line += [percent(record.test)]
        lines.append(line)
    return markdown_table(header, lines)


def provenance(records: dict[str, tuple[Record, Path]]) -> str:
    """One sentence per results file used: its name, device and date, and the profile, training images, epochs
    and seeds of its records (each distinct combination once, so a file mixing sizes says so); in every
    edition's words (:class:`~dlfoundations.book.Said`)."""
    from .wording import common, join, say

    by_file: dict[Path, list[Record]] = {}
    for record, path in records.values():
        by_file.setdefault(path, []).append(record)
    parts = []
    for path, recs in sorted(by_file.items()):
        meta, _ = load(path)
        sizes = dict.fromkeys((r.profile, r.train_images, r.epochs, len(r.seeds)) for r in recs)
        what = [say(common.RESULTS_SIZES, profile=p, images=n, epochs=e, seeds=s) for p, n, e, s in sizes]
        machine, device, date = meta["device_name"], recs[0].device, meta["date"][:10]
        what = join(what, common.SEMICOLON)
        parts.append(say(common.RESULTS_FILE, name=path.name, machine=machine, device=device, sizes=what, date=date))
    return join(parts, common.SEMICOLON) if parts else say(common.NO_RESULTS)


def floor(name: str, profile: str, directory: str | Path = RESULTS_DIR) -> tuple[float, str]:
    """The least best-validation accuracy a chapter's own run of one-epoch experiment ``name`` must reach.

    ``quick``: :data:`~dlfoundations.experiments.QUICK_FLOOR`, far above chance. Other profiles: the
    assignment's target when the committed seeds meet it on average, else the worst committed seed less two
    points (a run that falls below it is broken, not unlucky). Returns the floor and why it was chosen (a
    :class:`~dlfoundations.book.Said`).
    """
    from . import experiments
    from .wording import common, say

    spec = experiments.ONE_EPOCH[name]
    if profile == "quick":
        return experiments.QUICK_FLOOR[spec.model], say(common.FLOOR_QUICK)
    found = committed([name], directory)
    if name not in found:
        target = spec.target if spec.target is not None else spec.report - 10
        return target / 100 - 0.05, say(common.FLOOR_NONE)
    record, path = found[name]
    mean, _ = search.mean_std(record.best_val)
    if spec.target is not None and mean >= spec.target / 100:
        return spec.target / 100, say(common.FLOOR_TARGET, file=path.name)
    return min(record.best_val) - 0.02, say(common.FLOOR_WORST, file=path.name)


def goals_table(records: dict[str, Record], goals: dict[str, tuple[str, float]]) -> str:
    """Each record against its goal (``name -> (field, percent)``, e.g. ``("val", 57.4)``): best and final
    validation, test, the goal and whether the mean of ``field`` over the seeds meets it. Missing records: "not run"."""
    from .book import markdown_table

    rows = []
    for name, (field, goal) in goals.items():
        record = records.get(name)
        if record is None:
            rows.append([name, "not run", "—", "—", f"{field} ≥ {goal:g}%", "—"])
            continue
        met = 100 * record.summary(field)[0] >= goal
        rows.append(
            [
                name,
                f"{percent(record.best_val)}, {percent(record.val)}",
                percent(record.test),
                f"{len(record.seeds)} ({', '.join(map(str, record.seeds))})",
                f"{field} ≥ {goal:g}%",
                "yes" if met else "no",
            ]
        )
    return markdown_table(["experiment", "best val., final val.", "test", "seeds", "goal", "met"], rows)


def candidates(outcomes) -> str:
    """A search's top configurations re-run over the finalist seeds: the pick is the best mean final val."""
    from .book import markdown_table

    rows = []
    for record, _ in outcomes:
        shown = ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in record.settings.items())
        rows.append([shown, percent(record.val), percent(record.train), ", ".join(map(str, record.seeds))])
    return markdown_table(["configuration", "final val.", "training (last stretch)", "seeds"], rows)


def change_effects(changes: dict[str, tuple[str, dict]], field: str = "best_val", directory=RESULTS_DIR) -> list[dict]:
    """What each one-change experiment (``name -> (base, changes)``, as :data:`~dlfoundations.experiments.ONE_CHANGE`)
    did to ``field``, from the committed records: per change whose record and whose base's record are both
    committed, over the seeds both hold (``seeds`` counts them): the base's mean and the change's, and their paired
    difference with its standard error, the paired t-test's p-value and whether it survives Holm's correction over
    the rows shown (:func:`dlfoundations.speedrun.paired_differences`). Accuracies as fractions.

    Raises :class:`ResultsFileError` when a change's record was not run as its base with that change (other
    settings, profile or training images): such a pair would compare more than the one change.
    """
    from .speedrun import holm, paired_differences

    found = committed(list(changes) + [base for base, _ in changes.values()], directory)
    rows = []
    for name, (base, change) in changes.items():
        if name not in found or base not in found:
            continue
        (record, path), (base_record, base_path) = found[name], found[base]
        expected = json.loads(json.dumps({**base_record.settings, **change}))
        sizes = (record.profile, record.train_images, record.epochs)
        base_sizes = (base_record.profile, base_record.train_images, base_record.epochs)
        if json.loads(json.dumps(record.settings)) != expected or sizes != base_sizes:
            raise ResultsFileError(
                f"{path.name}: {name!r} was not run as {base!r} of {base_path.name} with only {change} changed "
                f"(settings {record.settings}, sizes {sizes} vs {base_sizes}); re-run both from one commit"
            )
        shared = sorted(set(record.seeds) & set(base_record.seeds))
        if not shared:
            continue
        per_seed = [  # one entry per (experiment, shared seed)
            {"name": label, "seed": seed, field: value}
            for label, r in ((base, base_record), (name, record))
            for seed, value in zip(r.seeds, getattr(r, field), strict=True)
            if seed in shared
        ]
        compared = {row["name"]: row for row in paired_differences(per_seed, reference=base, value=field)}
        rows.append(
            {**compared[name], "base": base, "base_mean": compared[base]["mean"], "change": change, "file": path}
        )
    tested = [r for r in rows if not math.isnan(r["p"])]  # Holm over every change shown, not per base
    for row, clear in zip(tested, holm([r["p"] for r in tested]), strict=True):
        row["clear"] = clear
    return rows


def change_table(rows: list[dict]) -> str:
    """Markdown (of :func:`change_effects`): each change, its base's mean and its own, the paired difference ±
    its standard error in points, the p-value, and whether the difference is beyond its noise (Holm, 5%)."""
    from .book import markdown_table

    lines = []
    for r in rows:
        change = ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in r["change"].items())
        stderr = "—" if math.isnan(r["stderr"]) else f"{100 * r['stderr']:.1f}"
        p = "—" if math.isnan(r["p"]) else f"{r['p']:.2f}"
        lines.append(
            [
                r["name"],
                change,
                f"{100 * r['base_mean']:.1f}%",
                f"{100 * r['mean']:.1f}%",
                f"{100 * r['difference']:+.1f} ± {stderr}",
                p,
                "yes" if r["clear"] else "no",
                r["seeds"],
            ]
        )
    header = [
        "experiment",
        "change",
        "its base",
        "with the change",
        "difference (points)",
        "p",
        "beyond noise",
        "seeds",
    ]
    return markdown_table(header, lines)


def drop_seeds(
    path: str | Path, seeds: list[int], commit: str, reason: str, experiments: list[str] | None = None
) -> Path:
    """Take the runs of ``seeds`` that commit ``commit`` trained out of a results file, so that they can be run
    again (from a clean commit) and appended: how a file that holds a few runs of uncommitted code gets clean
    without throwing its clean runs away.

    ``commit`` must be the commit of one or more of the file's *appended* entries (``meta["appended"]``, one per
    earlier session); those entries go, and ``meta["dropped"]`` says which seeds of which runs went and why
    (``reason``; the file keeps no dirty commit). A ``"course"`` file loses these seeds from the records named
    in ``experiments`` (all records if ``None``; a record left without seeds goes); a file of any other kind
    holds one record per run with its ``"seed"`` and loses those records.
    """
    payload = _payload(path)
    meta, records = payload["meta"], payload["records"]
    seeds = set(seeds)
    if meta.get("commit") == commit:
        raise ResultsFileError(f"{path}: {commit} wrote the file's latest runs; re-run the whole file instead")
    appended = meta.get("appended", [])
    kept = [entry for entry in appended if entry.get("commit") != commit]
    if len(kept) == len(appended):
        raise ResultsFileError(f"{path}: no appended entry names commit {commit}")
    if payload.get("kind", COURSE) == COURSE:
        names = {r["experiment"] for r in records}
        unknown = set(experiments or ()) - names
        if unknown:
            raise ResultsFileError(f"{path}: no record of {sorted(unknown)}; it holds {sorted(names)}")
        chosen = names if experiments is None else set(experiments)
        dropped, left = [], []
        for record in records:
            if record["experiment"] in chosen:
                n = len(record["seeds"])
                keep = [i for i, seed in enumerate(record["seeds"]) if seed not in seeds]
                if len(keep) < n:
                    dropped.append(record["experiment"])
                for field in PER_SEED:  # ``threads`` may be missing or short in files that predate it
                    if len(record.get(field) or []) == n:
                        record[field] = [record[field][i] for i in keep]
                if not record["seeds"]:
                    continue
            left.append(record)
    else:
        left = [r for r in records if r["seed"] not in seeds]
        dropped = [] if len(left) == len(records) else [payload.get("kind")]
    if not dropped:
        raise ResultsFileError(f"{path}: no run of seed(s) {sorted(seeds)} to drop")
    when = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    note = {"date": when, "seeds": sorted(seeds), "runs": dropped, "reason": reason}
    meta = {**meta, "appended": kept, "dropped": meta.get("dropped", []) + [note]}
    meta.pop("schema", None)
    return write(path, payload.get("kind", COURSE), left, meta)


def main(argv: list[str] | None = None) -> None:
    """``python -m dlfoundations.results drop FILE --seeds 102 --commit C --reason TEXT [--experiment NAME ...]``."""
    import argparse

    parser = argparse.ArgumentParser(description="Maintain committed results files.")
    commands = parser.add_subparsers(dest="command", required=True)
    drop = commands.add_parser("drop", help=drop_seeds.__doc__.split("\n\n")[0])
    drop.add_argument("file", type=Path)
    drop.add_argument("--seeds", type=int, nargs="+", required=True)
    drop.add_argument("--commit", required=True, help="the appended entry's commit, as the file spells it")
    drop.add_argument("--reason", required=True, help="why they go, kept in meta['dropped']")
    drop.add_argument("--experiment", action="append", help="a course record's name (repeat; default: all)")
    args = parser.parse_args(argv)
    try:
        path = drop_seeds(args.file, args.seeds, args.commit, args.reason, args.experiment)
    except ResultsFileError as error:
        raise SystemExit(f"results: {error}") from None
    print(f"{path}: dropped seed(s) {sorted(args.seeds)}; re-run them and append")


if __name__ == "__main__":
    main()


# --------------------------------------------------------------------------- runs a chapter reads back

REPLAY_KIND = "replay"
RECORD_VARIABLE = "DLF_RECORD"  # "1": a chapter's Replay trains every run and writes them into its file


class Replay:
    """Runs that a chapter reads back from a committed results file (kind ``replay``) instead of training them.

    ``replay(train, **key)`` returns the run stored under ``key`` (a dict of plain values that fixes the run:
    what is trained, its sizes, its seed) when ``results/replay-<notebook>-<profile>.json`` holds it, and
    ``train()`` otherwise. A chapter that makes one ``Replay`` for the profile it runs in reads back the runs of
    that profile's file and trains every run the file lacks (in another profile, every run). Executed with
    ``DLF_RECORD=1`` from a clean commit (``DLF_PROFILE=standard DLF_RECORD=1 jupyter execute
    chapters/<notebook>.ipynb``), the chapter trains every run and writes them, after each one, into that file.

    A run is a number, a string, a list, a dict, a :class:`~dlfoundations.training.History` or an
    :class:`~dlfoundations.experiments.Run`, stored without weights (:data:`WEIGHTS`: a run read back has
    ``None`` there, and so has a run trained while recording). :attr:`read` and :attr:`trained` count the runs
    of each origin.
    """

    def __init__(
        self, notebook: str, profile: str, data: str | None = None, directory=RESULTS_DIR, record: bool | None = None
    ):
        """``data``: the ``source`` of the data set the runs train on (recorded, and compared in :meth:`describe`:
        runs read back were trained on the copy the file names, whichever copy this page loaded)."""
        self.path = Path(directory) / f"replay-{notebook}-{profile}.json"
        self.data = None if data is None else data_folder(data)
        self.record = os.environ.get(RECORD_VARIABLE) == "1" if record is None else record
        self.entries: dict[str, object] = {}
        self.meta: dict | None = None
        self.read = self.trained = 0
        if self.record:  # raises DirtyTreeError for uncommitted code, before anything trains
            from . import config

            self.meta = metadata(config.device())
            self.meta.update(
                profile=profile,
                notebook=notebook,
                data=self.data,
                command=f"DLF_PROFILE={profile} {RECORD_VARIABLE}=1 jupyter execute chapters/{notebook}.ipynb",
            )
        elif self.path.exists():
            self.meta, records = read(self.path, REPLAY_KIND)
            self.entries = {self._key(r["key"]): r["run"] for r in records}

    @staticmethod
    def _key(key: dict) -> str:
        return json.dumps(to_plain(key), sort_keys=True)

    def __call__(self, train, **key):
        k = self._key(key)
        if not self.record and k in self.entries:
            self.read += 1
            return from_plain(self.entries[k])
        run = train()
        self.trained += 1
        if self.record:  # the page goes on with what it will read back
            self.entries[k] = to_plain(run)
            records = [{"key": json.loads(k), "run": r} for k, r in self.entries.items()]
            write(self.path, REPLAY_KIND, records, self.meta)
            return from_plain(self.entries[k])
        return run

    def describe(self) -> str:
        """Where this page's runs came from, in Markdown: empty when it trained them all itself (with the Chinese
        editions' versions: :class:`~dlfoundations.book.Said`)."""
        from .wording import common, say

        if self.read == 0:
            return ""
        m, n = self.meta, self.read
        if m["device"] == "cpu":
            device = say(common.REPLAY_CPU, name=m["device_name"])
        else:
            device = say(common.DEVICE_NAME, name=m["device_name"], device=m["device"])
        commit = f"`{str(m['commit'])[:7]}`"
        where = say(common.REPLAY_WHERE, commit=commit, device=device, threads=m["threads"], date=m["date"][:10])
        how_many = "some" if self.trained else {1: "one", 2: "two"}.get(n, "all")
        what = say(common.REPLAY_WHAT[how_many], n=n)
        read = common.REPLAY_READ_ONE if how_many == "one" else common.REPLAY_READ_MANY
        text = say(read, what=what, source=f"`results/{self.path.name}`", where=where)
        if m.get("data"):
            text = say(common.REPLAY_DATA, text=text, data=m["data"])
        text = (
            say(common.REPLAY_TRAINED, text=text, n=self.trained) if self.trained else say(common.REPLAY_END, text=text)
        )
        if m.get("data") and self.data and self.data != m["data"]:
            text = say(common.REPLAY_OTHER_DATA, text=text, data=self.data)
        return text


WEIGHTS = ("best_state", "state")  # the fields of a History or a Run that hold weights: never stored


def data_folder(source: str) -> str:
    """The folder a data set's ``source`` names, without this machine's path (:func:`portable`) or how it was
    found (``" (from CIFAR10_ROOT)"``): what two results compare to tell whether they saw the same copy."""
    return portable(source).split(" (")[0]


def to_plain(value):
    """``value`` as JSON can hold it: Histories and Runs as ``{"History": …}`` and ``{"Run": …}`` without their
    weights (:data:`WEIGHTS`), tuples as lists, inf and nan as ``{"float": …}``; :func:`from_plain` reverses it."""
    from . import experiments, training

    for name, cls in (("History", training.History), ("Run", experiments.Run)):
        if isinstance(value, cls):
            fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value) if f.name not in WEIGHTS}
            return {name: to_plain(fields)}
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return {"float": repr(value)}  # JSON has no inf or nan
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:  # NumPy and torch scalars
        return to_plain(value.item())
    raise TypeError(f"a replayed run cannot hold a {type(value).__name__}")


def from_plain(value):
    """The value :func:`to_plain` made plain (weights left ``None``)."""
    from . import training

    if isinstance(value, dict):
        if value.keys() == {"History"}:
            return training.History(**from_plain(value["History"]))
        if value.keys() == {"Run"}:
            from . import experiments

            return experiments.Run(**from_plain(value["Run"]))
        if value.keys() == {"float"}:
            return float(value["float"])
        return {k: from_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_plain(v) for v in value]
    return value
