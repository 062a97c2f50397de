"""Training throughput of every network the chapters train: images/s and seconds per epoch.

    python benchmarks/train.py --out _build/bench/train-cpu.json [--device cuda] [--compile]

For each network: eager fp32; on CUDA also bf16 and fp16 autocast, and with ``--compile`` the same
under ``torch.compile`` (compile time reported separately) for the networks ``--compile-networks``
names (default: all). Median of ``--repeats`` timed stretches of ``--steps`` steps after warm-up, the
device synchronized before reading the clock. The file is rewritten after every row, so a run that is
stopped keeps what it measured.
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F
from common import repeat, write

from dlfoundations import config, models, speedrun
from dlfoundations.book import markdown_table


def networks():
    return {  # name: (builder, batch size, SGD options)
        "two-layer FC (4000)": (lambda: models.TwoLayerFC(3072, 4000, 10), 64, {"lr": 1e-2}),
        "three-layer ConvNet (32, 16)": (lambda: models.ThreeLayerConvNet(3, 32, 16, 10), 64, {"lr": 3e-3}),
        "tuned BN ConvNet 64-128-256 ×2": (lambda: models.conv_bn_net((64, 128, 256), 2), 128, {"lr": 0.1}),
        "speedrun net 64-256-256": (lambda: speedrun.SpeedNet(speedrun.Config()), 1024, {"lr": 0.8}),
    }


def throughput(model, optimizer, batch, steps, dtype, device):
    x = torch.randn(batch, 3, 32, 32, device=device).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (batch,), device=device)

    def run():
        config.synchronize(device)
        start = time.perf_counter()
        for _ in range(steps):
            with torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
                loss = F.cross_entropy(model(x).float(), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        config.synchronize(device)
        return steps * batch / (time.perf_counter() - start)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default=str(config.device()))
    parser.add_argument(
        "--steps", type=int, default=20, help="steps per timed stretch at batch 64 (fewer for larger batches)"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--compile", action="store_true", help="also time torch.compile")
    parser.add_argument(
        "--compile-networks",
        nargs="*",
        default=None,
        help="compile only the networks whose name contains one of these words (default: all)",
    )
    parser.add_argument("--compile-backend", default="inductor", help="aot_eager: trace only, for dry runs")
    parser.add_argument("--networks", nargs="*", default=None, help="only networks whose name contains a word")
    parser.add_argument("--max-batch", type=int, default=None, help="cap every batch size (tiny dry runs)")
    parser.add_argument("--out")
    args = parser.parse_args()
    device = torch.device(args.device)
    precisions = {"fp32": None}
    if device.type == "cuda":
        precisions |= {"bf16": torch.bfloat16, "fp16": torch.float16}

    def named(name, words):
        return words is None or any(word in name for word in words)

    chosen = {name: network for name, network in networks().items() if named(name, args.networks)}
    if not chosen:
        raise SystemExit(f"no network's name contains any of {args.networks}: {list(networks())}")
    rows = []
    for name, (build, batch, options) in chosen.items():
        steps = max(2, args.steps * 64 // batch)  # a stretch of about args.steps × 64 images
        batch = min(batch, args.max_batch or batch)
        modes = ["eager", "compile"] if args.compile and named(name, args.compile_networks) else ["eager"]
        for mode in modes:
            for precision, dtype in precisions.items():
                torch.manual_seed(0)
                model = build().to(device).to(memory_format=torch.channels_last)
                optimizer = torch.optim.SGD(model.parameters(), momentum=0.9, nesterov=True, **options)
                compile_seconds = 0.0
                if mode == "compile":
                    model = torch.compile(model, backend=args.compile_backend)
                    start = time.perf_counter()
                    throughput(model, optimizer, batch, 2, dtype, device)()
                    compile_seconds = time.perf_counter() - start
                rate = repeat(throughput(model, optimizer, batch, steps, dtype, device), args.repeats)
                rows.append(
                    {
                        "network": name,
                        "mode": mode if mode == "eager" or args.compile_backend == "inductor" else args.compile_backend,
                        "precision": precision,
                        "batch": batch,
                        "compile_seconds": compile_seconds,
                        **rate,
                        "seconds_per_epoch_49k": 49_000 / rate["median"],
                    }
                )
                print(f"{name} {mode} {precision}: {rate['median']:,.0f} images/s", flush=True)
                write(args.out, "train", rows, device)  # as it goes: a stopped run keeps its rows
    print()
    print(
        markdown_table(
            ["network", "mode", "precision", "batch", "images/s", "min", "max", "s/epoch (49k)", "compile s"],
            [
                [
                    r["network"],
                    r["mode"],
                    r["precision"],
                    r["batch"],
                    f"{r['median']:,.0f}",
                    f"{r['min']:,.0f}",
                    f"{r['max']:,.0f}",
                    f"{r['seconds_per_epoch_49k']:.1f}",
                    f"{r['compile_seconds']:.1f}",
                ]
                for r in rows
            ],
        )
    )


if __name__ == "__main__":
    main()
