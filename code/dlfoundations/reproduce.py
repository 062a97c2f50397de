"""Run the CIFAR-10 experiments of chapters 07–10 and write a results file.

    python -m dlfoundations.reproduce --profile full --out results/full-h100.json
    torchrun --nproc-per-node 2 -m dlfoundations.reproduce --profile standard --only 08 --out results/x.json

Under ``torchrun`` the processes train data-parallel (:mod:`dlfoundations.distributed`): each takes its
shard of every batch, and only rank 0 prints and writes files.

The profile sets every size (see :mod:`dlfoundations.config`); ``--seeds``
overrides the number of seeds. The file is what the tuning chapter's final
table reads; commit it, not notebook outputs.
"""

from __future__ import annotations

import argparse
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
        help="comma-separated chapters to run (default: 07,08,09,10); 'jpeg' adds the JPEG re-encoding runs",
    )
    parser.add_argument("--weights", type=Path, help="also save every run's final weights (state_dict) here")
    args = parser.parse_args(argv)
    os.environ["DLF_PROFILE"] = args.profile

    import torch

    from . import config, data, distributed, experiments, results

    s = config.settings()
    device = config.device()
    if distributed.launched_by_torchrun() and device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    distributed.setup(device)
    main_process = distributed.is_main()
    dataset = data.load_cifar10(device=device)
    if main_process:
        config.describe(dataset.source)
        if distributed.world_size() > 1:
            print(f"data-parallel over {distributed.world_size()} processes ({torch.distributed.get_backend()})")
    chapters = args.only.split(",")
    seeds = list(range(s.seed, s.seed + (args.seeds or s.final_seeds)))
    records = []
    meta = {**results.metadata(device), "processes": distributed.world_size()}

    def keep(outcome):
        record, runs = outcome
        if not main_process:
            return
        records.append(record)
        results.save(args.out, records, meta)  # after every experiment, so a cut-off run keeps what it did
        if args.weights:
            args.weights.mkdir(parents=True, exist_ok=True)
            for run in runs:
                torch.save(run.state, args.weights / f"{len(records):02d}-seed{run.seed}.pt")
        val, _ = record.summary("val")
        print(f"{record.experiment}: val {100 * val:.1f}% over {len(record.seeds)} seeds", flush=True)

    start = time.perf_counter()
    for name in plan(chapters):
        keep(experiments.one_epoch_record(name, dataset, seeds))
    if "jpeg" in chapters:  # how the accuracy of chapter 09's ConvNet moves when the images are re-encoded
        for outcome in experiments.jpeg_records(dataset, seeds, experiments.JPEG_IMAGES[args.profile]):
            keep(outcome)
    if "10" in chapters:
        s = config.dataclasses.replace(s, final_seeds=len(seeds))
        fc_rows = experiments.fc_search(dataset, s, verbose=main_process)
        keep(experiments.finalists(dataset, s, fc_rows, "fc")[0])  # the best of the top three, over the seeds
        conv_rows = experiments.conv_search(dataset, s, verbose=main_process)
        keep(experiments.finalists(dataset, s, conv_rows, "conv")[0])
        keep(experiments.tuned_finalist(dataset, s))
    meta["seconds"] = round(time.perf_counter() - start, 1)
    distributed.teardown()
    if not main_process:
        return args.out
    path = results.save(args.out, records, meta)
    print(f"wrote {path} ({len(records)} experiments, {meta['seconds']:.0f} s)")
    return path


if __name__ == "__main__":
    main()
