"""Training steps on the CPU with glibc's malloc as it comes and as the course tunes it (``tune_allocator``).

Each workload runs in two fresh processes, one with ``DLF_MALLOC=off`` (glibc's defaults) and one with the
course's default, one after the other, on the same random batches, with the same number of threads; each
prints milliseconds per step (median of the timed steps), the CPU seconds spent in the kernel (``sys``, mostly
page faults) and in user code, and the minor page faults per step (median of the timed steps: the tuned heap
still grows once in one of the first few steps, at a step that varies from run to run). The last column is the
ratio of the two step times. The CPU's model and flags head the table: compare ratios measured on one machine,
not times measured on two.

    .venv/bin/python benchmarks/allocator.py                   # about 3 minutes on one thread
    .venv/bin/python benchmarks/allocator.py --steps 5 --threads 2 --out _build/bench/allocator.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

WORKLOADS = {
    "fc": "two-layer FC 3072→4000→10, batch 64, fused Adam",
    "convnet": "ConvNet 3→128→64 + linear (chapter 10's wide one), batch 64, Adam",
}

CHILD = """
import json, resource, statistics, sys, time
import torch
import dlfoundations
from dlfoundations import models

name, steps, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
torch.manual_seed(0)
if name == "fc":
    model = models.sequential_two_layer_fc(4000)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4, fused=True)
else:
    model = models.sequential_convnet(128, 64)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
x, y = torch.randn(64, 3, 32, 32), torch.randint(0, 10, (64,))
times, faults = [], []
for step in range(steps + 3):  # three untimed steps: the heap settles, Adam's state exists
    if step == 3:
        start = resource.getrusage(resource.RUSAGE_SELF)
    before, t = resource.getrusage(resource.RUSAGE_SELF).ru_minflt, time.perf_counter()
    optimizer.zero_grad(set_to_none=True)
    torch.nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()
    if step >= 3:
        times.append(time.perf_counter() - t)
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
end = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({
    "ms_per_step": 1000 * statistics.median(times),
    "sys_s": end.ru_stime - start.ru_stime,
    "user_s": end.ru_utime - start.ru_utime,
    "faults_per_step": statistics.median(faults),
    "allocator": dlfoundations.ALLOCATOR,
}))
"""


def run(workload: str, steps: int, threads: int, tuned: bool) -> dict:
    """One fresh process: the workload's timed steps with or without the course's malloc tuning."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "DLF_MALLOC"}
    env["OMP_NUM_THREADS"] = str(threads)
    if not tuned:
        env["DLF_MALLOC"] = "off"
    out = subprocess.run(
        [sys.executable, "-c", CHILD, workload, str(steps), str(threads)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=30, help="timed steps per process (after 3 untimed ones)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--only", choices=sorted(WORKLOADS), action="append", help="one workload (repeatable)")
    parser.add_argument("--out", help="also write the rows as JSON here")
    args = parser.parse_args(argv)

    from common import write

    from dlfoundations import config
    from dlfoundations.book import markdown_table

    print(f"CPU: {config.cpu_name()} ({', '.join(config.cpu_flags()) or 'no flags listed'}), {args.threads} thread(s)")
    rows, lines = [], []
    for workload in args.only or WORKLOADS:
        default = run(workload, args.steps, args.threads, tuned=False)
        tuned = run(workload, args.steps, args.threads, tuned=True)
        ratio = default["ms_per_step"] / tuned["ms_per_step"]
        rows.append({"workload": WORKLOADS[workload], "glibc": default, "tuned": tuned, "speedup": ratio})
        lines.append(
            [
                WORKLOADS[workload],
                *(
                    f"{r['ms_per_step']:.1f} ms (sys {r['sys_s']:.1f} s, user {r['user_s']:.1f} s, "
                    f"{r['faults_per_step']:,.0f} faults/step)"
                    for r in (default, tuned)
                ),
                f"{ratio:.2f}×",
            ]
        )
    print(markdown_table(["workload", "glibc's defaults", "tuned (the course's default)", "speed-up"], lines))
    write(args.out, "allocator", rows, "cpu")
    return rows


if __name__ == "__main__":
    main()
