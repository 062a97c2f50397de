"""CIFAR-10 in seconds: a compact BatchNorm ConvNet trained with everything resident on the device.

The pieces are the course's (Batch Normalization, He-style initialization,
Nesterov SGD, a warm-up + linear-decay schedule, on-device augmentation) plus a
few that the speed-record literature made standard: label smoothing, a first
layer initialized to whiten 2×2 patches, ``channels_last`` and half precision,
and test-time flip averaging. :class:`Config` switches each of them, so the
chapter can add them one at a time; :func:`train` returns accuracy and time.
"""

from __future__ import annotations

import dataclasses
import math
import time

import torch
import torch.nn.functional as F
from torch import nn


@dataclasses.dataclass(frozen=True)
class Config:
    """One speedrun configuration. Defaults are the final recipe."""

    widths: tuple[int, int, int] = (64, 256, 256)
    epochs: float = 10.0
    batch_size: int = 1024
    lr: float = 0.8  # peak learning rate of the triangular schedule (0.1 per 128 images of a batch)
    warmup: float = 0.2  # fraction of the steps spent warming up
    momentum: float = 0.9
    weight_decay: float = 5e-4
    label_smoothing: float = 0.2
    whiten: bool = True  # initialize the first layer from 2×2 patch statistics (then freeze it)
    translate: int = 2  # pixels of random translation (0: none)
    flip: bool = True
    tta: bool = True  # average the predictions of each test image and its mirror image
    half: bool = True  # bfloat16 autocast on CUDA (ignored on the CPU)
    channels_last: bool = True
    compile: bool = False  # torch.compile the network (CUDA only)


# --------------------------------------------------------------------------- data


@dataclasses.dataclass
class Data:
    """Normalized images (float, on the device) and labels of the training and test sets."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    source: str

    @classmethod
    def from_cifar(cls, cifar, num_train: int | None = None) -> Data:
        """All training + validation images (50,000) of a ``CIFAR10``, or the first ``num_train``."""
        x = torch.cat([cifar.x_train, cifar.x_val])
        y = torch.cat([cifar.y_train, cifar.y_val])
        if num_train is not None:
            x, y = x[:num_train], y[:num_train]
        mean = torch.tensor(cifar.mean, device=x.device).view(1, 3, 1, 1)
        std = torch.tensor(cifar.std, device=x.device).view(1, 3, 1, 1)

        def norm(images):
            return ((images.float() / 255 - mean) / std).contiguous(memory_format=torch.channels_last)

        return cls(norm(x), y, norm(cifar.x_test), cifar.y_test, cifar.source)


def augment(images: torch.Tensor, translate: int, flip: bool, generator: torch.Generator) -> torch.Tensor:
    """Random mirror images and translations by up to ``translate`` pixels (reflected borders), batched."""
    n = len(images)
    if flip:
        mask = (torch.rand(n, generator=generator) < 0.5).to(images.device).view(n, 1, 1, 1)
        images = torch.where(mask, images.flip(-1), images)
    if translate:
        padded = F.pad(images, (translate,) * 4, mode="reflect")
        shifts = torch.randint(0, 2 * translate + 1, (2,), generator=generator).tolist()
        # one shift per batch keeps this a single slice; batches differ, and so do epochs
        size = images.shape[-1]
        images = padded[..., shifts[0] : shifts[0] + size, shifts[1] : shifts[1] + size]
    return images


# --------------------------------------------------------------------------- the network


def whitening_weights(images: torch.Tensor, eps: float = 5e-4) -> torch.Tensor:
    """Filters ``(2·12, 3, 2, 2)`` that map 2×2×3 patches to their whitened principal components (and negatives).

    With ``Σ = V diag(λ) Vᵀ`` the covariance of the 12-dimensional patches, filter ``i`` is
    ``V[:, i] / sqrt(λ_i + eps)``: the outputs are uncorrelated with unit variance on the data.
    """
    patches = images.float().unfold(2, 2, 1).unfold(3, 2, 1)  # (N, C, H-1, W-1, 2, 2)
    patches = patches.permute(0, 2, 3, 1, 4, 5).reshape(-1, 12)
    patches = patches - patches.mean(dim=0)
    covariance = patches.T @ patches / len(patches)
    eigenvalues, eigenvectors = torch.linalg.eigh(covariance.double())
    filters = (eigenvectors / torch.sqrt(eigenvalues + eps)).T.float()  # rows: components
    filters = filters.view(12, 3, 2, 2)
    return torch.cat([filters, -filters])


class ConvGroup(nn.Module):
    """conv 3×3 → max-pool 2 → BN → GELU → conv 3×3 → BN → GELU."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
        self.pool = nn.MaxPool2d(2)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)

    def forward(self, x):
        x = F.gelu(self.bn1(self.pool(self.conv1(x))))
        return F.gelu(self.bn2(self.conv2(x)))


class SpeedNet(nn.Module):
    """A 2×2 stem of 24 channels, three :class:`ConvGroup` (32→16→8→4 pixels), global max-pool, linear."""

    def __init__(self, widths=(64, 256, 256), num_classes: int = 10):
        super().__init__()
        self.stem = nn.Conv2d(3, 24, 2, padding=0)
        self.groups = nn.Sequential(
            ConvGroup(24, widths[0]), ConvGroup(widths[0], widths[1]), ConvGroup(widths[1], widths[2])
        )
        self.head = nn.Linear(widths[2], num_classes, bias=False)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
        nn.init.zeros_(self.head.weight)  # first predictions uniform: the loss starts at ln 10

    def forward(self, x):
        x = F.pad(x, (0, 1, 0, 1), mode="replicate")  # the 2×2 stem keeps 32×32
        x = F.gelu(self.stem(x))
        x = self.groups(x)
        return self.head(torch.amax(x, dim=(2, 3)))


def build(cfg: Config, data: Data, device) -> nn.Module:
    model = SpeedNet(cfg.widths).to(device)
    if cfg.whiten:
        with torch.no_grad():
            model.stem.weight.copy_(whitening_weights(data.x_train[:5000]))
            model.stem.bias.zero_()
        model.stem.requires_grad_(False)
    if cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)
    return model


# --------------------------------------------------------------------------- training and evaluation


@dataclasses.dataclass
class Result:
    seed: int
    accuracy: float  # test accuracy without test-time augmentation
    tta_accuracy: float  # with flip averaging (equal to ``accuracy`` when ``cfg.tta`` is off)
    seconds: float  # from the first batch to the end of the final evaluation
    epochs: float
    steps: int
    losses: list[float] = dataclasses.field(default_factory=list, repr=False)

    def __str__(self) -> str:
        return (
            f"seed {self.seed}: {100 * self.tta_accuracy:.2f}% (without flip averaging {100 * self.accuracy:.2f}%)"
            f" in {self.seconds:.2f} s"
        )


def triangular(step: int, total: int, warmup: float) -> float:
    """Learning-rate multiplier: 0 → 1 linearly over ``warmup·total`` steps, then linearly back to 0."""
    peak = max(1, round(warmup * total))
    if step < peak:
        return (step + 1) / peak
    return max(0.0, (total - step) / max(1, total - peak))


def _autocast(cfg: Config, device: torch.device):
    enabled = cfg.half and device.type == "cuda"
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=enabled)


@torch.no_grad()
def evaluate(model: nn.Module, data: Data, cfg: Config, batch_size: int = 2000) -> tuple[float, float]:
    """Test accuracy without and with flip averaging."""
    model.eval()
    device = data.x_test.device
    plain = tta = 0
    for i in range(0, len(data.y_test), batch_size):
        x, y = data.x_test[i : i + batch_size], data.y_test[i : i + batch_size]
        with _autocast(cfg, device):
            logits = model(x).float()
            both = logits + model(x.flip(-1)).float() if cfg.tta else logits
        plain += int((logits.argmax(1) == y).sum())
        tta += int((both.argmax(1) == y).sum())
    model.train()
    n = len(data.y_test)
    return plain / n, tta / n


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def train(data: Data, cfg: Config = Config(), seed: int = 0, record_loss: bool = False) -> Result:
    """Train :class:`SpeedNet` from ``seed`` and evaluate it on the test set; time excludes building the model."""
    device = data.x_train.device
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = build(cfg, data, device)
    step_fn = torch.compile(model) if cfg.compile and device.type == "cuda" else model
    n = len(data.y_train)
    per_epoch = n // cfg.batch_size if n >= cfg.batch_size else 1
    total = max(1, math.ceil(cfg.epochs * per_epoch))
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (decay if p.ndim > 1 else no_decay).append(p)
    optimizer = torch.optim.SGD(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=cfg.lr,
        momentum=cfg.momentum,
        nesterov=True,
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: triangular(s, total, cfg.warmup))
    losses = []
    _sync(device)
    start = time.perf_counter()
    step = 0
    model.train()
    while step < total:
        order = torch.randperm(n, generator=generator).to(device)
        for i in range(per_epoch):
            if step == total:
                break
            index = order[i * cfg.batch_size : (i + 1) * cfg.batch_size]
            x = augment(data.x_train[index], cfg.translate, cfg.flip, generator)
            with _autocast(cfg, device):
                loss = F.cross_entropy(step_fn(x).float(), data.y_train[index], label_smoothing=cfg.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            if record_loss:
                losses.append(loss.item())
            step += 1
    accuracy, tta_accuracy = evaluate(model, data, cfg)
    _sync(device)
    seconds = time.perf_counter() - start
    return Result(seed, accuracy, tta_accuracy, seconds, total / per_epoch, total, losses)


STEPS: dict[str, dict] = {
    # each step adds one technique to the previous one (see the speedrun chapter)
    "compact net, Nesterov, triangular schedule (fp32)": dict(
        label_smoothing=0.0, whiten=False, tta=False, half=False, channels_last=False
    ),
    "+ label smoothing 0.2": dict(whiten=False, tta=False, half=False, channels_last=False),
    "+ whitened 2×2 first layer": dict(tta=False, half=False, channels_last=False),
    "+ test-time flip averaging": dict(half=False, channels_last=False),
    "+ channels_last, bfloat16 autocast": dict(),
}


def profile_config(s) -> Config:
    """The final recipe at the sizes of a run profile (:class:`dlfoundations.config.Settings`)."""
    return Config(
        widths=tuple(s.speedrun_widths),
        epochs=s.speedrun_epochs,
        batch_size=s.speedrun_batch,
        lr=0.1 * s.speedrun_batch / 128,
    )


def step_configs(base: Config = Config()) -> dict[str, Config]:
    """The chapter's sequence of configurations, each adding one technique."""
    return {name: dataclasses.replace(base, **changes) for name, changes in STEPS.items()}


# --------------------------------------------------------------------------- command line and results files


KIND = "speedrun"  # the kind of this chapter's results files (dlfoundations.results)


def save_results(path, cfg: Config, runs: list[Result], device, compile_seconds: float | None = None, source=""):
    """Write the runs of one configuration, with where they were measured, as a ``"speedrun"`` results file."""
    from . import results

    meta = results.metadata(device)
    meta["compile_seconds"] = compile_seconds  # the untimed warm-up run, compilation included
    meta["data"] = source
    meta["config"] = dataclasses.asdict(cfg)
    records = [{k: v for k, v in dataclasses.asdict(r).items() if k != "losses"} for r in runs]
    return results.write(path, KIND, records, meta)


def load_results(path) -> dict:
    """A results file written by :func:`save_results`: meta, config and runs, with mean/std summaries added."""
    from . import results
    from .search import mean_std

    meta, runs = results.read(path, KIND)
    if "config" not in meta or not runs:
        raise results.ResultsFileError(f"{path}: a speedrun results file needs a config and at least one run")
    payload = {"meta": meta, "config": meta["config"], "runs": runs}
    for field in ("tta_accuracy", "seconds"):
        payload[f"{field}_mean"], payload[f"{field}_std"] = mean_std(r[field] for r in runs)
    return payload


def results_table(directory=None) -> str | None:
    """Markdown table of every ``"speedrun"`` results file in ``directory`` (default ``results/``); None if none."""
    from . import plots, results

    files = results.available(directory or results.RESULTS_DIR, KIND)
    rows = []
    for path in files:
        r = load_results(path)
        rows.append(
            [
                path.name,
                r["meta"]["device_name"],
                len(r["runs"]),
                f"{100 * r['tta_accuracy_mean']:.2f} ± {100 * r['tta_accuracy_std']:.2f}%",
                f"{r['seconds_mean']:.2f} ± {r['seconds_std']:.2f}",
                r["meta"]["torch"],
            ]
        )
    header = ["file", "device", "seeds", "test accuracy", "seconds", "torch"]
    return plots.markdown_table(header, rows) if rows else None


def main(argv=None) -> None:
    """``python -m dlfoundations.speedrun --seeds 5 --out results/speedrun-<gpu>.json``"""
    import argparse
    import os

    parser = argparse.ArgumentParser(description="Train the speedrun network over several seeds and time it.")
    parser.add_argument("--profile", default=None, help="run profile (default: DLF_PROFILE, or full on CUDA)")
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--compile", action="store_true", help="torch.compile the network (CUDA)")
    parser.add_argument("--epochs", type=float, default=None)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    if args.profile:
        os.environ["DLF_PROFILE"] = args.profile
    from . import config, data

    s = config.settings()
    device = config.device()
    cifar = data.load_cifar10(device=device, num_train=49_000, num_val=1_000, num_test=10_000)
    config.describe(cifar.source)
    speed_data = Data.from_cifar(cifar, s.speedrun_images)
    cfg = dataclasses.replace(profile_config(s), compile=args.compile)
    if args.epochs:
        cfg = dataclasses.replace(cfg, epochs=args.epochs)
    start = time.perf_counter()
    train(speed_data, dataclasses.replace(cfg, epochs=min(cfg.epochs, 1.0)), seed=10_000)  # warm-up / compile
    warmup_seconds = time.perf_counter() - start
    runs = [train(speed_data, cfg, seed) for seed in range(args.seeds or s.speedrun_seeds)]
    for r in runs:
        print(r)
    path = save_results(args.out, cfg, runs, device, compile_seconds=warmup_seconds, source=cifar.source)
    summary = load_results(path)
    print(
        f"mean {100 * summary['tta_accuracy_mean']:.2f} ± {100 * summary['tta_accuracy_std']:.2f}% "
        f"in {summary['seconds_mean']:.2f} ± {summary['seconds_std']:.2f} s; wrote {path}"
    )


if __name__ == "__main__":
    main()
