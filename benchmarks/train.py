"""Training throughput of every network the chapters train: images/s and seconds per epoch.

    python benchmarks/train.py --out _build/bench/train-cpu.json [--device cuda] [--compile]

For each network: eager fp32; on CUDA also bf16 and fp16 autocast, and with ``--compile`` the same
under ``torch.compile`` (compile time reported separately). Median of ``--repeats`` timed stretches of
``--steps`` steps after warm-up, the device synchronized before reading the clock.
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
    parser.add_argument("--out")
    args = parser.parse_args()
    device = torch.device(args.device)
    precisions = {"fp32": None}
    if device.type == "cuda":
        precisions |= {"bf16": torch.bfloat16, "fp16": torch.float16}
    rows = []
    for name, (build, batch, options) in networks().items():
        for mode in ["eager", "compile"] if args.compile else ["eager"]:
            for precision, dtype in precisions.items():
                torch.manual_seed(0)
                model = build().to(device).to(memory_format=torch.channels_last)
                optimizer = torch.optim.SGD(model.parameters(), momentum=0.9, nesterov=True, **options)
                compile_seconds = 0.0
                if mode == "compile":
                    model = torch.compile(model)
                    start = time.perf_counter()
                    throughput(model, optimizer, batch, 2, dtype, device)()
                    compile_seconds = time.perf_counter() - start
                steps = max(2, args.steps * 64 // batch)
                rate = repeat(throughput(model, optimizer, batch, steps, dtype, device), args.repeats)
                rows.append(
                    {
                        "network": name,
                        "mode": mode,
                        "precision": precision,
                        "batch": batch,
                        "compile_seconds": compile_seconds,
                        **rate,
                        "seconds_per_epoch_49k": 49_000 / rate["median"],
                    }
                )
                print(f"{name} {mode} {precision}: {rate['median']:,.0f} images/s", flush=True)
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
    write(args.out, "train", rows, device)


if __name__ == "__main__":
    main()
