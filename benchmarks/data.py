"""Images per second of the data pipelines: torchvision + DataLoader against resident ``Batches``.

    python benchmarks/data.py --images 10000 --out _build/bench/data-cpu.json [--device cuda]

Routes (one pass over ``--images`` training images, batch 64, median of ``--repeats``):
torchvision ``CIFAR10Images`` + ``DataLoader`` with ToTensor + Normalize (0 and 2 workers), the same with
random crop + flip, and ``Batches`` without and with on-device crop + flip.
"""

from __future__ import annotations

import argparse

from common import repeat, write

from dlfoundations import config, data, dataloaders
from dlfoundations.book import markdown_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default=str(config.device()))
    parser.add_argument("--out")
    args = parser.parse_args()
    cifar = data.load_cifar10(device=args.device, num_train=args.images, num_val=1000, num_test=1000)
    host = data.load_cifar10(device="cpu", num_train=args.images, num_val=1000, num_test=1000)
    routes = {  # the DataLoader routes read PIL images on the host and move each batch to the device
        "DataLoader, 0 workers": lambda: dataloaders.dataloader(host, "train", 64, shuffle=True, num_workers=0),
        "DataLoader, 2 workers": lambda: dataloaders.dataloader(host, "train", 64, shuffle=True, num_workers=2),
        "DataLoader + crop/flip, 0 workers": lambda: dataloaders.dataloader(
            host, "train", 64, shuffle=True, augment=True, num_workers=0
        ),
        "DataLoader + crop/flip, 2 workers": lambda: dataloaders.dataloader(
            host, "train", 64, shuffle=True, augment=True, num_workers=2
        ),
        "Batches": lambda: cifar.batches("train", 64, shuffle=True),
        "Batches + crop/flip": lambda: cifar.batches("train", 64, shuffle=True, augment=True),
    }
    rows = []
    for name, make in routes.items():
        rate = repeat(
            lambda make=make: dataloaders.time_pipeline(make(), args.device, warmup=2)["images_per_second"],
            args.repeats,
            warmup=0,
        )
        rows.append({"route": name, **rate})
        print(f"{name}: {rate['median']:,.0f} images/s", flush=True)
    base = {False: rows[0]["median"], True: rows[2]["median"]}
    print()
    print(
        markdown_table(
            ["route", "images/s (median)", "min", "max", "× DataLoader (0 workers)"],
            [
                [
                    r["route"],
                    f"{r['median']:,.0f}",
                    f"{r['min']:,.0f}",
                    f"{r['max']:,.0f}",
                    f"{r['median'] / base['crop' in r['route']]:.1f}",
                ]
                for r in rows
            ],
        )
    )
    write(args.out, "data", rows, args.device)


if __name__ == "__main__":
    main()
