"""Run the CIFAR-10 experiments of chapters 07–10 and write a results file.

    python -m dlfoundations.reproduce --profile full --out results/full-h100.json
    python -m dlfoundations.reproduce --profile full --only 10 --no-search --seeds 1 --first-seed 0 --append \
        --out results/full-cpu-10.json   # chapter 10's finalists at the report's size, one seed per session
    torchrun --nproc-per-node 2 -m dlfoundations.reproduce --profile standard --only 08 --out results/x.json

Under ``torchrun`` the processes train data-parallel (:mod:`dlfoundations.distributed`): each takes its
shard of every batch, and only rank 0 prints and writes files.

``--profile`` sets every size (the data in :mod:`dlfoundations.config`, chapter 10's in
:data:`dlfoundations.experiments.TUNING`) and is passed down, not set in the environment; ``--seeds``
overrides the number of seeds. The file is what the tuning chapter's final
table reads; commit it, not notebook outputs.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from pathlib import Path


def plan(chapters) -> list[str]:
    """The one-epoch experiments (:data:`dlfoundations.experiments.ONE_EPOCH`) that a run of ``chapters`` trains,
    chapter by chapter in the order given (so that ``--only 09,08`` saves chapter 09's first)."""
    from . import experiments

    return [name for chapter in dict.fromkeys(chapters) for name in experiments.experiments_of(chapter)]


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", choices=["quick", "standard", "full"], required=True)
    parser.add_argument("--out", type=Path, required=True, help="where to write the JSON results")
    parser.add_argument("--seeds", type=int, help="seeds per experiment (default: the profile's final_seeds)")
    parser.add_argument(
        "--only",
        default="07,08,09,10",
        help="comma-separated chapters to run (default: 07,08,09,10); 'jpeg' adds the JPEG re-encoding runs, "
        "'changes' each change between chapters 08/09 and the report's runs alone (experiments.ONE_CHANGE)",
    )
    parser.add_argument("--weights", type=Path, help="also save every run's final weights (state_dict) here")
    parser.add_argument(
        "--first-seed", type=int, default=0, help="start the seeds here (finalists: 100 more), to add seeds later"
    )
    parser.add_argument(
        "--append", action="store_true", help="add these seeds to the same runs in --out (one seed per session)"
    )
    parser.add_argument(
        "--no-search", action="store_true", help="chapter 10: train the report's picked configurations, no search"
    )
    from . import results

    results.add_allow_dirty(parser)
    args = parser.parse_args(argv)

    import torch

    from . import config, data, distributed, experiments, results

    profile = args.profile
    t = experiments.tuning(profile)
    device = config.device()
    if distributed.launched_by_torchrun() and device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    try:  # before any data is loaded: a run from uncommitted code stops at once
        meta = {**results.metadata(device, allow_dirty=args.allow_dirty or None), "processes": 1}
    except results.DirtyTreeError as error:
        raise SystemExit(f"reproduce: {error}") from None
    distributed.setup(device)
    main_process = distributed.is_main()
    dataset = data.load_cifar10(device=device, profile=profile)
    if main_process:
        config.describe(dataset.source, profile, device)
        if distributed.world_size() > 1:
            print(f"data-parallel over {distributed.world_size()} processes ({torch.distributed.get_backend()})")
    chapters = args.only.split(",")
    t = dataclasses.replace(t, seed=t.seed + args.first_seed, final_seeds=args.seeds or t.final_seeds)
    seeds = list(range(t.seed, t.seed + t.final_seeds))
    records = []
    meta["processes"] = distributed.world_size()
    earlier: list = []
    done: set[str] = set()
    if args.append and args.out.exists():
        old_meta, earlier = results.load(args.out)
        results.carry_over(meta, old_meta)
        finalist = set(experiments.finalist_seeds(t))
        planned = set(seeds) | (finalist if "10" in chapters else set())
        # a run cut off after some finalists resumes with the others
        done = {r.experiment for r in earlier if "10" in chapters and r.chapter == "10" and finalist <= set(r.seeds)}
        if "changes" in chapters:  # a cut-off one-change run resumes with the changes it lacks
            done |= {
                r.experiment for r in earlier if r.experiment in experiments.ONE_CHANGE and set(seeds) <= set(r.seeds)
            }
        taken = planned & {
            seed for r in earlier if r.chapter in chapters and r.experiment not in done for seed in r.seeds
        }
        if taken:
            raise SystemExit(f"{args.out} already holds seed(s) {sorted(taken)}: choose another --first-seed")
        if done and main_process:
            print(f"already in {args.out} for these seeds, skipped: {sorted(done)}")

    def keep(outcome):
        record, runs = outcome
        if not main_process:
            return
        record.threads = [torch.get_num_threads()] * len(record.seeds)
        records.append(record)
        results.save(args.out, results.merge(earlier, records), meta)  # after every experiment: a cut-off run
        # keeps what it did
        if args.weights:
            args.weights.mkdir(parents=True, exist_ok=True)
            for run in runs:
                torch.save(run.state, args.weights / f"{len(records):02d}-seed{run.seed}.pt")
        val, _ = record.summary("val")
        print(f"{record.experiment}: val {100 * val:.1f}% over {len(record.seeds)} seeds", flush=True)

    start = time.perf_counter()
    for name in plan(chapters):
        keep(experiments.one_epoch_record(name, dataset, seeds, profile=profile))
    if "changes" in chapters:  # each change between our chapter 08/09 runs and the report's, alone
        for name in (n for n in experiments.ONE_CHANGE if n not in done):
            keep(experiments.one_change_record(name, dataset, seeds, profile=profile))
    if "jpeg" in chapters:  # how the accuracy of chapter 09's ConvNet moves when the images are re-encoded
        for outcome in experiments.jpeg_records(dataset, seeds, experiments.JPEG_IMAGES[profile], profile=profile):
            keep(outcome)
    if "10" in chapters:
        searched = not args.no_search
        for outcome in experiments.chapter10_records(dataset, t, searched, verbose=main_process, done=done):
            keep(outcome)
    meta["seconds"] = round(time.perf_counter() - start, 1)
    distributed.teardown()
    if not main_process:
        return args.out
    path = results.save(args.out, results.merge(earlier, records), meta)
    print(f"wrote {path} ({len(records)} experiments, {meta['seconds']:.0f} s)")
    return path


if __name__ == "__main__":
    main()
