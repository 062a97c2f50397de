"""CIFAR-10 in seconds: airbench94's recipe (Jordan 2024), one switchable piece at a time.

The network is a compact VGG-style BatchNorm ConvNet; everything lives on the device and the
data set is augmented there. :class:`Config` holds airbench94's hyperparameters and switches
each of its techniques, so the chapter can measure what each one buys: a first layer that
whitens 2×2 patches (its bias trained for the first epochs), identity (dirac) initialization,
BatchNorm with a frozen scale, a 64× learning rate for the BatchNorm biases, hyperparameters in
decoupled form on a summed loss, label smoothing, alternating flips, per-image translations,
Lookahead-style weight averaging and 6-view test-time augmentation. :func:`train` returns
accuracy and wall time; ``half``/``channels_last``/``compile`` are the GPU fast paths (each
tested on the CPU). :func:`export_for_airbench` writes the data where airbench's own script reads
it, so that the script itself can run on the same copy (``benchmarks/gpu.sh``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
import re
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from . import augmentation, config, optim, training


@dataclasses.dataclass(frozen=True)
class Config:
    """One speedrun configuration. Defaults are airbench94's (Jordan 2024), at its full size."""

    widths: tuple[int, int, int] = (64, 256, 256)
    epochs: float = 9.9
    batch_size: int = 1024
    # decoupled hyperparameters (airbench's convention, see :func:`sgd_hyperparameters`)
    lr: float = 11.5  # step size per 1024 examples
    momentum: float = 0.85
    weight_decay: float = 0.0153  # decay per 1024 examples, independent of lr (see sgd_hyperparameters)
    bias_scaler: float = 64.0  # the BatchNorm biases learn this much faster (same decay)
    label_smoothing: float = 0.2
    schedule: tuple[float, float, float] = (0.2, 0.23, 0.07)  # optim.triangle(start, peak, end)
    # the network
    whiten: bool = True  # first layer from the 2×2 patch covariance, frozen (else trained, default init)
    whiten_bias_epochs: int = 3  # train the whitening layer's bias for this many epochs, then freeze it
    dirac: bool = True  # each convolution starts as the identity on its first c_in channels
    bn_scale: bool = False  # train BatchNorm's scale γ (airbench freezes it at 1)
    bn_momentum: float = 0.6  # weight of the old running statistics (PyTorch's momentum = 1 − this)
    bn_eps: float = 1e-12
    logit_scale: float = 1 / 9
    # augmentation and evaluation
    translate: int = 2  # pixels of random translation per image (reflected borders; 0: none)
    flip: str = "alternating"  # "alternating" (airbench), "random" (per image, per epoch) or "none"
    lookahead: bool = True  # weight averaging every 5 steps from the 4th epoch, copied back (see LOOKAHEAD)
    tta: int = 2  # test-time views: 0 one, 1 with its mirror (2 views), 2 also shifted by a pixel (6 views)
    # fast paths (they change rounding, not the recipe)
    half: bool | None = None  # autocast to half_dtype; None: on CUDA only
    half_dtype: str = "bfloat16"  # or "float16", airbench's own precision on the GPU (see autocast)
    channels_last: bool = True
    compile: bool = False  # torch.compile the network (CPU or GPU)
    compile_backend: str = "inductor"  # torch.compile's backend: "inductor" generates kernels; "aot_eager" only traces


# fields that set how fast a device runs the recipe, not what it computes (beyond rounding)
SPEED_ONLY = ("half", "half_dtype", "channels_last", "compile", "compile_backend")
HALF_DTYPES = ("bfloat16", "float16")


# airbench94's weight averaging as released with its paper (March 2024): every 5 steps from the start of the
# fourth epoch (index 3), each update copied back into the network, and the network set to the average once more
# at the end of every epoch. The script its README now lists at 3.83 s (legacy/airbench94.py) updates (and copies
# back) every 5 steps from the first step, and adds that extra copy only after the last step. hlb-CIFAR10 used the
# same ρ = 0.95⁵·(t/T)³ every 5 steps, copied back, over its last epochs.
LOOKAHEAD = dict(start_epochs=3, decay_base=0.95, decay_pow=3.0, every=5)


def sgd_hyperparameters(cfg: Config) -> dict:
    """PyTorch ``SGD`` settings of the decoupled ``lr``, ``weight_decay`` for a **summed** loss.

    airbench divides the learning rate by ``1024·(1 + 1/(1 − m))`` so that ``cfg.lr`` sets the step
    size per 1024 examples whatever the momentum ``m`` (a constant gradient's Nesterov step is
    ``1/(1 − m)`` times the gradient, so this is a close, not an exact, normalization). The decay fed
    into SGD per step is ``d = cfg.weight_decay · batch / (1024·(1 + 1/(1 − m)))`` of each weight (times
    the schedule's multiplier) whatever the learning rate: PyTorch multiplies ``weight_decay`` by the
    group's lr, so each group gets ``d`` divided by its lr. The decay then passes through the momentum
    buffer like a gradient, so a weight left to decay loses about ``d/(1 − m)`` per step: per 1024
    examples ``cfg.weight_decay/(2 − m)``, the decay that results, off by the learning rate's factor.
    """
    scale = 1024 * (1 + 1 / (1 - cfg.momentum))
    lr = cfg.lr / scale
    decay = cfg.weight_decay * cfg.batch_size / scale  # fed into SGD per step (at peak lr); ≈ decay/(1−m) removed
    lr_bias = lr * cfg.bias_scaler
    return {"lr": lr, "lr_bias": lr_bias, "weight_decay": decay / lr, "weight_decay_bias": decay / lr_bias}


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
    def from_cifar(cls, cifar, num_train: int | None = None, num_test: int | None = None) -> Data:
        """All training + validation images (50,000) of a ``CIFAR10``, or the first ``num_train``, and its test
        images, or the first ``num_test``."""
        x = torch.cat([cifar.x_train, cifar.x_val])
        y = torch.cat([cifar.y_train, cifar.y_val])
        if num_train is not None:
            x, y = x[:num_train], y[:num_train]
        x_test, y_test = cifar.x_test, cifar.y_test
        if num_test is not None:
            x_test, y_test = x_test[:num_test], y_test[:num_test]
        mean = torch.tensor(cifar.mean, device=x.device).view(1, 3, 1, 1)
        std = torch.tensor(cifar.std, device=x.device).view(1, 3, 1, 1)

        def norm(images):
            return ((images.float() / 255 - mean) / std).contiguous(memory_format=torch.channels_last)

        return cls(norm(x), y, norm(x_test), y_test, cifar.source)


def augment(images, cfg: Config, epoch: int, first_flips, generator=None) -> torch.Tensor:
    """The training batch of ``epoch``: flipped as ``cfg.flip`` says, then translated per image.

    ``first_flips`` holds the batch's epoch-0 coin flips (used by alternating flips).
    """
    if cfg.flip == "alternating":
        images = augmentation.alternating_flip(images, epoch, first_flips)
    elif cfg.flip == "random":
        images = augmentation.random_flip(images, generator)
    elif cfg.flip != "none":
        raise ValueError(f"flip must be 'alternating', 'random' or 'none', not {cfg.flip!r}")
    if cfg.translate:
        images = augmentation.random_translate(images, cfg.translate, generator)
    return images


# --------------------------------------------------------------------------- the network


def whitening_weights(images: torch.Tensor, eps: float = 5e-4, centred: bool = False) -> torch.Tensor:
    """Filters ``(2·12, 3, 2, 2)`` mapping 2×2×3 patches onto their whitened principal components (and negatives).

    With ``Σ = V diag(λ) Vᵀ`` the second-moment matrix of the 12-dimensional patches (airbench does
    not subtract the mean; ``centred=True`` gives the covariance), filter ``i`` is
    ``V[:, i] / sqrt(λ_i + eps)``, the largest component first: on the data the outputs are
    uncorrelated with unit second moment. The sums and the eigendecomposition run in float64 on the CPU (Apple's
    MPS has no float64; a 12 × 12 matrix costs nothing there); the filters come back on ``images``' device.
    """
    moment = torch.zeros(12, 12, dtype=torch.float64)
    total = torch.zeros(12, dtype=torch.float64)
    count = 0
    for chunk in images.split(1000):  # float64 sums, a chunk at a time: the smallest eigenvalues are tiny
        chunk = chunk.to("cpu").to(torch.float64)  # float32 on the device, float64 only on the CPU
        patches = chunk.unfold(2, 2, 1).unfold(3, 2, 1)  # (N, C, H-1, W-1, 2, 2)
        patches = patches.permute(0, 2, 3, 1, 4, 5).reshape(-1, 12)
        moment += patches.T @ patches
        total += patches.sum(dim=0)
        count += len(patches)
    moment /= count
    if centred:
        mean = total / count
        moment -= torch.outer(mean, mean)
    eigenvalues, eigenvectors = torch.linalg.eigh(moment)
    eigenvalues, eigenvectors = eigenvalues.flip(0), eigenvectors.flip(1)  # largest first
    filters = (eigenvectors / torch.sqrt(eigenvalues + eps)).T.float().reshape(12, 3, 2, 2)
    return torch.cat([filters, -filters]).to(images.device)


class BatchNorm(nn.BatchNorm2d):
    """BatchNorm whose scale γ stays 1 unless ``train_scale`` (airbench: momentum 0.6 in its convention, ε = 1e-12)."""

    def __init__(self, channels: int, momentum: float = 0.6, eps: float = 1e-12, train_scale: bool = False):
        super().__init__(channels, eps=eps, momentum=1 - momentum)
        self.weight.requires_grad_(train_scale)


class Conv(nn.Conv2d):
    """3×3 'same' convolution without bias; with ``dirac`` its first ``c_in`` filters start as the identity."""

    def __init__(self, c_in: int, c_out: int, dirac: bool = True):
        self.dirac = dirac
        super().__init__(c_in, c_out, 3, padding="same", bias=False)

    def reset_parameters(self) -> None:
        super().reset_parameters()  # PyTorch's default (Kaiming-uniform, a = √5)
        if self.dirac:
            nn.init.dirac_(self.weight.data[: self.in_channels])


class ConvGroup(nn.Module):
    """conv 3×3 → max-pool 2 → BN → GELU → conv 3×3 → BN → GELU."""

    def __init__(self, c_in: int, c_out: int, cfg: Config = Config()):
        super().__init__()
        bn = dict(momentum=cfg.bn_momentum, eps=cfg.bn_eps, train_scale=cfg.bn_scale)
        self.conv1 = Conv(c_in, c_out, cfg.dirac)
        self.pool = nn.MaxPool2d(2)
        self.norm1 = BatchNorm(c_out, **bn)
        self.conv2 = Conv(c_out, c_out, cfg.dirac)
        self.norm2 = BatchNorm(c_out, **bn)

    def forward(self, x):
        x = F.gelu(self.norm1(self.pool(self.conv1(x))))
        return F.gelu(self.norm2(self.conv2(x)))


class SpeedNet(nn.Module):
    """2×2 whitening stem (24 channels, 31×31), three :class:`ConvGroup` (→15→7→3 pixels), max-pool, linear, ×1/9."""

    def __init__(self, cfg: Config = Config(), num_classes: int = 10):
        super().__init__()
        self.whiten = nn.Conv2d(3, 24, 2, padding=0, bias=True)
        nn.init.zeros_(self.whiten.bias)
        c1, c2, c3 = cfg.widths
        self.groups = nn.Sequential(ConvGroup(24, c1, cfg), ConvGroup(c1, c2, cfg), ConvGroup(c2, c3, cfg))
        self.head = nn.Linear(c3, num_classes, bias=False)
        self.logit_scale = cfg.logit_scale

    def forward(self, x):
        x = self.groups(F.gelu(self.whiten(x)))
        return self.head(torch.amax(x, dim=(2, 3))) * self.logit_scale


def build(cfg: Config, data: Data, device) -> nn.Module:
    """A :class:`SpeedNet` on ``device``; with ``cfg.whiten`` its stem is set from 5,000 training images and frozen."""
    model = SpeedNet(cfg).to(device)
    if cfg.whiten:
        with torch.no_grad():
            model.whiten.weight.copy_(whitening_weights(data.x_train[:5000]))
        model.whiten.weight.requires_grad_(False)
    if cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)
    return model


def param_groups(model: SpeedNet, cfg: Config) -> list[dict]:
    """Two SGD groups: the BatchNorm biases (``bias_scaler``× the rate, the same decay) and the rest."""
    h = sgd_hyperparameters(cfg)
    norm = [p for name, p in model.named_parameters() if ".norm" in name and p.requires_grad]
    other = [p for name, p in model.named_parameters() if ".norm" not in name and p.requires_grad]
    return [
        {"params": norm, "lr": h["lr_bias"], "weight_decay": h["weight_decay_bias"]},
        {"params": other, "lr": h["lr"], "weight_decay": h["weight_decay"]},
    ]


class Lookahead:
    """airbench's weight averaging: every few steps ``ema ← ema + (1 − ρ)(w − ema)``, then ``w ← ema``.

    It covers every floating-point entry of the state dict (weights and BatchNorm statistics).
    """

    def __init__(self, model: nn.Module):
        self.ema = {k: v.detach().clone() for k, v in model.state_dict().items() if v.is_floating_point()}

    @torch.no_grad()
    def update(self, model: nn.Module, decay: float) -> None:
        state = model.state_dict()
        for key, average in self.ema.items():
            average.lerp_(state[key], 1 - decay)
            state[key].copy_(average)


# --------------------------------------------------------------------------- training and evaluation


@dataclasses.dataclass
class Result:
    seed: int
    accuracy: float  # test accuracy of one view per image
    tta_accuracy: float  # with the test-time augmentation of ``cfg.tta`` (equal to ``accuracy`` when 0)
    seconds: float  # from building the network to the end of both evaluations (whitening included)
    epochs: float
    steps: int
    train_images: int = 0
    losses: list[float] = dataclasses.field(default_factory=list, repr=False)
    threads: int | None = None  # CPU threads the run trained with (None on a GPU): its seconds depend on them

    def __str__(self) -> str:
        return (
            f"seed {self.seed}: {100 * self.tta_accuracy:.2f}% (one view {100 * self.accuracy:.2f}%)"
            f" in {self.seconds:.2f} s"
        )


def autocast(cfg: Config, device: torch.device):
    """Autocast to ``cfg.half_dtype`` where ``cfg.half`` asks for it (default: on CUDA only); a no-op otherwise.

    ``"bfloat16"`` keeps float32's exponent range (nothing overflows); ``"float16"`` is airbench's precision
    on the GPU (it stores the network itself in float16, BatchNorm in float32, and scales no loss: the summed
    loss keeps gradients large). Under autocast the weights and the optimizer stay in float32.
    """
    if cfg.half_dtype not in HALF_DTYPES:
        raise ValueError(f"half_dtype must be one of {HALF_DTYPES}, not {cfg.half_dtype!r}")
    enabled = cfg.half if cfg.half is not None else device.type == "cuda"
    return torch.autocast(device.type, dtype=getattr(torch, cfg.half_dtype), enabled=bool(enabled))


def precision(cfg: Config, device: torch.device | str) -> str:
    """What ``cfg`` runs as on ``device``: ``"float32"``, ``"bfloat16 autocast"`` or ``"float16 autocast"``,
    and ``", compiled"`` (with the backend unless inductor) where ``cfg.compile``."""
    enabled = cfg.half if cfg.half is not None else torch.device(device).type == "cuda"
    text = f"{cfg.half_dtype} autocast" if enabled else "float32"
    if cfg.compile:
        text += ", compiled" + ("" if cfg.compile_backend == "inductor" else f" ({cfg.compile_backend})")
    return text


def tta_logits(model: nn.Module, images: torch.Tensor, level: int) -> torch.Tensor:
    """Averaged logits of 1 view (level 0), the image and its mirror (1), or those plus both shifted by one pixel
    up-left and down-right (2: 6 views; the unshifted pair weighs ½, each shifted pair ¼)."""

    def mirror(x):
        return 0.5 * (model(x) + model(x.flip(-1))) if level >= 1 else model(x)

    logits = mirror(images)
    if level < 2:
        return logits
    padded = F.pad(images, (1, 1, 1, 1), mode="reflect")
    size = images.shape[-1]
    shifted = 0.5 * (mirror(padded[..., :size, :size]) + mirror(padded[..., 2:, 2:]))
    return 0.5 * logits + 0.5 * shifted


def evaluate(model: nn.Module, data: Data, cfg: Config, batch_size: int = 2000) -> tuple[float, float]:
    """Test accuracy of one view and with ``cfg.tta``'s test-time augmentation."""
    model.eval()
    batches = list(zip(data.x_test.split(batch_size), data.y_test.split(batch_size), strict=True))
    results = []
    for level in sorted({0, cfg.tta}):
        with autocast(cfg, data.x_test.device):
            views = functools.partial(tta_logits, model, level=level)
            results.append(training.check_accuracy(batches, lambda x, v=views: v(x).float(), verbose=False))
    model.train()
    return results[0], results[-1]


def reading_waits(device: torch.device) -> bool:
    """Whether reading a value from ``device`` (``.item()``) waits for the work queued there: on a GPU it does,
    and it costs the time the host would have spent queuing the next steps; on the CPU the work is done."""
    return device.type != "cpu"


def train(data: Data, cfg: Config = Config(), seed: int = 0, record_loss: bool = False, log=None) -> Result:
    """Train :class:`SpeedNet` from ``seed`` and evaluate it on the test set.

    Nothing in the loop waits for the device (no ``.item()``) unless ``record_loss`` asks for every
    step's loss. ``log`` (for example ``print``) receives one line per epoch (its last batch's loss):
    as the epoch ends where reading a value is free (:func:`reading_waits`), and after the clock has
    stopped otherwise, so that logging never slows a timed GPU run. The clock runs from building the
    network (whitening included) to the end of the one-view and the test-time-augmented evaluations.
    """
    device = data.x_train.device
    config.seed_everything(seed)
    generator = torch.Generator(device=device).manual_seed(seed)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    n = len(data.y_train)
    per_epoch = max(1, n // cfg.batch_size)  # drop the last partial batch, as airbench does
    total = max(1, math.ceil(cfg.epochs * per_epoch))
    config.synchronize(device)
    start = time.perf_counter()
    model = build(cfg, data, device)
    net = torch.compile(model, backend=cfg.compile_backend) if cfg.compile else model
    optimizer = torch.optim.SGD(param_groups(model, cfg), momentum=cfg.momentum, nesterov=True)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: optim.triangle(s, total, *cfg.schedule))
    first_flips = torch.rand(n, device=device, generator=generator) < 0.5
    lookahead = None
    losses = []
    epoch_ends = []  # per epoch: (epoch, step, its last batch's loss on the device) for log, read at the end
    live_log = log is not None and not reading_waits(device)
    step = 0
    model.train()
    for epoch in range(math.ceil(total / per_epoch)):
        model.whiten.bias.requires_grad_(epoch < cfg.whiten_bias_epochs)
        order = torch.randperm(n, device=device, generator=generator)
        for i in range(per_epoch):
            index = order[i * cfg.batch_size : (i + 1) * cfg.batch_size]
            x = augment(data.x_train[index], cfg, epoch, first_flips[index], generator)
            with autocast(cfg, device):
                logits = net(x).float()
            loss = F.cross_entropy(logits, data.y_train[index], label_smoothing=cfg.label_smoothing, reduction="sum")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            if record_loss:
                losses.append(loss.item() / len(index))
            step += 1
            if cfg.lookahead and epoch >= LOOKAHEAD["start_epochs"] and step % LOOKAHEAD["every"] == 0:
                if lookahead is None:
                    lookahead = Lookahead(model)
                else:  # the averaging strengthens towards the end: ρ = 0.95⁵ · (step/total)³
                    rho = LOOKAHEAD["decay_base"] ** LOOKAHEAD["every"] * (step / total) ** LOOKAHEAD["decay_pow"]
                    lookahead.update(model, rho)
            if step == total:
                break
        if lookahead is not None:
            lookahead.update(model, 1.0)  # end of epoch: the network takes the averaged weights
        if live_log:
            log(_epoch_line(epoch, step, total, loss / len(index)) + f", {time.perf_counter() - start:.0f} s")
        elif log is not None:
            epoch_ends.append((epoch, step, loss.detach() / len(index)))
    accuracy, tta_accuracy = evaluate(net, data, cfg)
    config.synchronize(device)
    seconds = time.perf_counter() - start
    for epoch, at_step, last_loss in epoch_ends:  # the clock has stopped: reading the losses may wait now
        log(_epoch_line(epoch, at_step, total, last_loss))
    threads = torch.get_num_threads() if device.type == "cpu" else None
    return Result(seed, accuracy, tta_accuracy, seconds, total / per_epoch, total, n, losses, threads=threads)


def _epoch_line(epoch: int, step: int, total: int, loss: torch.Tensor) -> str:
    return f"epoch {epoch + 1}: step {step}/{total}, last batch loss {loss.item():.4f}"


RECIPE = "airbench94 (all on)"  # the ablation table's reference row
# each entry switches one of airbench94's techniques off; "γ trained" puts the BatchNorm scales in the
# BatchNorm group (64× rate, decayed like everything else), as airbench would with its scale unfrozen
ABLATIONS: dict[str, dict] = {
    RECIPE: {},
    "− 6-view TTA (1 view)": dict(tta=0),
    "− Lookahead weight averaging": dict(lookahead=False),
    "− alternating flip (random flips)": dict(flip="random"),
    "− label smoothing": dict(label_smoothing=0.0),
    "− 64× BatchNorm-bias rate": dict(bias_scaler=1.0),
    "− frozen BN scale (γ trained)": dict(bn_scale=True),
    "− dirac init (default init)": dict(dirac=False),
    "− whitening (stem trained)": dict(whiten=False),
}


@dataclasses.dataclass(frozen=True)
class Sizes:
    """The chapter's sizes in one run profile."""

    images: int  # training images (all 50,000 = train + validation at full size, as airbench)
    epochs: float
    batch_size: int
    widths: tuple[int, int, int]
    seeds: int
    # seeds of the ablation the chapter trains itself (0: it only shows the committed one, whose paired
    # seeds are the point; one seed per row there would take minutes on a CPU and show only noise)
    ablation_seeds: int
    test_images: int | None = None  # the first this many test images (None: all the profile loads)


SIZES: dict[str, Sizes] = {
    # CI: a narrow network on about a thousand images (chapter 11 in about a minute on 2 cores; each run
    # trains 40 steps and evaluates 7 views of 500 test images)
    "quick": Sizes(1_280, 4.0, 128, (16, 32, 32), 2, 1, test_images=500),
    # a laptop CPU: minutes; one seed, whose spread over seeds the committed ablation's recipe row gives
    "standard": Sizes(10_000, 4.0, 256, (32, 64, 64), 1, 0),
    "full": Sizes(50_000, 9.9, 1024, (64, 256, 256), 5, 5),  # airbench94 itself
}


def sizes(profile: str | None = None) -> Sizes:
    """The sizes of ``profile`` (default: the current run profile)."""
    return SIZES[config.settings(profile).profile]


def profile_config(profile: str | None = None) -> Config:
    """The recipe at the sizes of a run profile (default: the current one)."""
    z = sizes(profile)
    return Config(widths=z.widths, epochs=z.epochs, batch_size=z.batch_size)


def ablation_configs(base: Config = Config()) -> dict[str, Config]:
    """The chapter's ablations: ``base`` and each technique switched off in turn."""
    return {name: dataclasses.replace(base, **changes) for name, changes in ABLATIONS.items()}


# --------------------------------------------------------------------------- command line and results files


KIND = "speedrun"  # the kind of this chapter's results files (dlfoundations.results)


def save_results(
    path,
    cfg: Config,
    runs: list[Result],
    device,
    compile_seconds: float | None = None,
    source="",
    extra=None,
    allow_dirty: bool | None = None,
):
    """Write the runs of one configuration, with where they were measured, as a ``"speedrun"`` results file.

    If ``path`` already holds runs of the same configuration, the new runs are appended (one seed per
    session on a slow machine); a different configuration is an error. A configuration field the file
    predates counts as its default (:func:`same_config`). ``allow_dirty``: as for
    :func:`dlfoundations.results.metadata`, which refuses uncommitted code unless allowed.
    """
    from . import results

    meta = results.metadata(device, allow_dirty=allow_dirty)
    meta["compile_seconds"] = compile_seconds  # the untimed warm-up run, compilation included
    meta["data"] = source
    meta["config"] = dataclasses.asdict(cfg)
    meta.update(extra or {})
    records = [{k: v for k, v in dataclasses.asdict(r).items() if k != "losses"} for r in runs]
    if Path(path).exists():
        old_meta, old_runs = results.read(path, KIND)
        if not same_config(old_meta.get("config"), cfg):
            raise results.ResultsFileError(f"{path} holds runs of another configuration; write to a new file")
        if results.portable(old_meta.get("data") or "") != results.portable(source):  # files store it portable
            raise results.ResultsFileError(
                f"{path} holds runs on other data ({old_meta.get('data')}); write to a new file"
            )
        repeated = {r["seed"] for r in old_runs} & {r["seed"] for r in records}
        if repeated:
            raise results.ResultsFileError(f"{path} already holds seed(s) {sorted(repeated)}; use --first-seed")
        records = old_runs + records
        results.carry_over(meta, old_meta, ("date", "commit", "threads"))
    return results.write(path, KIND, records, meta)


def json_ready(value):
    """``value`` as it reads back from JSON (tuples become lists)."""
    import json

    return json.loads(json.dumps(value))


def stored_config(stored: dict) -> Config:
    """The :class:`Config` a results file's ``config`` describes (fields it predates at their defaults)."""
    names = {f.name for f in dataclasses.fields(Config)}
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in stored.items() if k in names}
    return dataclasses.replace(Config(), **values)


def same_config(stored: dict | None, cfg: Config) -> bool:
    """Whether a results file's ``config`` is ``cfg``; a field the file predates counts as its default (files
    written before ``half_dtype`` existed ran at its default)."""
    if stored is None:
        return False
    defaults = json_ready(dataclasses.asdict(Config()))
    return {**defaults, **stored} == json_ready(dataclasses.asdict(cfg))


def runs_profile(stored: dict, profile: str, ignore=()) -> bool:
    """Whether a results file's ``config`` is the recipe of run profile ``profile``: the fields that only set how
    fast a device runs it (:data:`SPEED_ONLY`) and those named in ``ignore`` aside; a field the file predates
    counts as its default, as in :func:`same_config`."""
    skip = {*SPEED_ONLY, *ignore}
    defaults = json_ready(dataclasses.asdict(Config()))
    ran = {k: v for k, v in {**defaults, **stored}.items() if k not in skip}
    recipe = json_ready(dataclasses.asdict(profile_config(profile)))
    return ran == {k: v for k, v in recipe.items() if k not in skip}


def load_results(path) -> dict:
    """A results file written by :func:`save_results`: meta, config and runs, with mean/std summaries added."""
    from . import results
    from .search import mean_std

    meta, runs = results.read(path, KIND)
    if "config" not in meta or not runs:
        raise results.ResultsFileError(f"{path}: a speedrun results file needs a config and at least one run")
    saves = [*meta.get("appended", []), meta]  # one entry per command that added runs, oldest first
    if len(saves) == len(runs):  # each added one run: a run without its threads (older files) has its save's
        runs = [
            {**run, "threads": run.get("threads", save.get("threads"))} for run, save in zip(runs, saves, strict=True)
        ]
    payload = {"meta": meta, "config": meta["config"], "runs": runs}
    for field in ("accuracy", "tta_accuracy", "seconds"):
        payload[f"{field}_mean"], payload[f"{field}_std"] = mean_std(r[field] for r in runs)
    # the clock: only the runs with the most CPU threads (the others ran beside other work); all runs on a GPU
    most = max(run.get("threads") or 0 for run in runs)
    timed = [run["seconds"] for run in runs if (run.get("threads") or 0) == most]
    payload["timed_threads"], payload["timed_runs"] = most or None, len(timed)
    payload["timed_seconds_mean"] = statistics.fmean(timed)
    return payload


def paired_cost(reference_path, other_path, confidence: float = 0.95) -> dict:
    """How much lower the six-view accuracy of ``other_path``'s runs is than ``reference_path``'s, in points,
    paired by seed over the seeds both files hold.

    Returns ``differences`` (reference − other, per seed, points), their mean ``cost``, its standard error
    ``stderr`` (``std / √n``) and a ``confidence`` interval ``low``–``high`` from Student's t with
    ``n − 1`` degrees of freedom (these three NaN for one seed: one difference has no spread), the ``seeds``
    and the other file's ``meta``.
    """
    reference = {r["seed"]: r["tta_accuracy"] for r in load_results(reference_path)["runs"]}
    other = load_results(other_path)
    seeds = sorted(set(reference) & {r["seed"] for r in other["runs"]})
    if not seeds:
        raise ValueError(f"{reference_path} and {other_path} share no seed")
    accuracy = {r["seed"]: r["tta_accuracy"] for r in other["runs"]}
    differences = [100 * (reference[s] - accuracy[s]) for s in seeds]
    cost = statistics.fmean(differences)
    stderr = low = high = float("nan")
    if len(seeds) > 1:
        stderr = statistics.stdev(differences) / math.sqrt(len(seeds))
        half_width = t_for_p(1 - confidence, len(seeds) - 1) * stderr
        low, high = cost - half_width, cost + half_width
    return {
        "cost": cost,
        "stderr": stderr,
        "low": low,
        "high": high,
        "confidence": confidence,
        "differences": differences,
        "seeds": seeds,
        "meta": other["meta"],
    }


def training_lengths(paths) -> list[dict]:
    """Runs of the same recipe at several lengths (one results file per number of epochs), shortest first.

    The files must hold the same configuration but for ``epochs``, the same training-set size and data, and the
    same seeds, so that each length is compared with the previous one seed by seed. Each row has the length's
    ``epochs``, ``seeds``, ``by_seed`` (each seed's run), the mean and standard deviation over seeds of the
    six-view and one-view test accuracy (``tta_mean``, ``tta_std``, ``one_mean``, ``one_std``, fractions) and of
    the ``seconds`` (``seconds_mean``, ``seconds_std``), its file's ``meta`` and ``path``. From the second row on
    it also has ``from_epochs`` (the previous length), ``extra_seconds`` (the mean paired difference in
    seconds), ``gain_tta`` and ``gain_one`` (the mean paired gain in test accuracy over the previous length, in
    points) and ``per_second`` (``gain_tta / extra_seconds``, points per second).
    """
    from . import results

    loaded = sorted(({**load_results(path), "path": Path(path)} for path in paths), key=lambda f: f["config"]["epochs"])
    if len(loaded) < 2:
        raise ValueError("training_lengths needs the files of at least two lengths")
    first = loaded[0]
    rows: list[dict] = []
    for payload in loaded:
        name = payload["path"].name
        if not same_config({**payload["config"], "epochs": first["config"]["epochs"]}, stored_config(first["config"])):
            raise results.ResultsFileError(
                f"{name} ran another recipe than {first['path'].name}, not only another number "
                "of epochs; rerun it with the same options but --epochs"
            )
        images = {r.get("train_images") for r in [*first["runs"], *payload["runs"]]}
        data = {results.portable(f["meta"].get("data") or "") for f in (first, payload)}
        if len(images) > 1 or len(data) > 1:
            raise results.ResultsFileError(
                f"{name} and {first['path'].name} trained on other data (training images {sorted(images, key=str)},"
                f" data {sorted(data)}); rerun it with the same --profile and data"
            )
        if rows and payload["config"]["epochs"] == rows[-1]["epochs"]:
            raise ValueError(
                f"{rows[-1]['path'].name} and {name} both hold {rows[-1]['epochs']:g} epochs; pass one file per length"
            )
        by_seed = {r["seed"]: r for r in payload["runs"]}
        row = {
            "epochs": payload["config"]["epochs"],
            "seeds": sorted(by_seed),
            "by_seed": by_seed,
            "tta_mean": payload["tta_accuracy_mean"],
            "tta_std": payload["tta_accuracy_std"],
            "one_mean": payload["accuracy_mean"],
            "one_std": payload["accuracy_std"],
            "seconds_mean": payload["seconds_mean"],
            "seconds_std": payload["seconds_std"],
            "meta": payload["meta"],
            "path": payload["path"],
        }
        if rows:
            before = rows[-1]
            if row["seeds"] != before["seeds"]:
                raise results.ResultsFileError(
                    f"the {before['epochs']:g}- and {row['epochs']:g}-epoch files hold different seeds "
                    f"({before['seeds']} and {row['seeds']}); run the missing seeds with --first-seed"
                )
            pairs = [(before["by_seed"][s], by_seed[s]) for s in row["seeds"]]
            row["from_epochs"] = before["epochs"]
            row["extra_seconds"] = statistics.fmean(b["seconds"] - a["seconds"] for a, b in pairs)
            row["gain_tta"] = statistics.fmean(100 * (b["tta_accuracy"] - a["tta_accuracy"]) for a, b in pairs)
            row["gain_one"] = statistics.fmean(100 * (b["accuracy"] - a["accuracy"]) for a, b in pairs)
            row["per_second"] = row["gain_tta"] / row["extra_seconds"]
        rows.append(row)
    return rows


def results_table(directory=None) -> str | None:
    """Markdown table of every ``"speedrun"`` results file in ``directory`` (default ``results/``), one row per
    file with its epochs (the recipe's full length, or a length of chapter 11's epochs exercise); None if none."""
    from . import results
    from .book import markdown_table

    files = results.available(directory or results.RESULTS_DIR, KIND)
    # by name, numbers compared as numbers: the files of one recipe at several lengths in order of length
    files.sort(key=lambda path: [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)])
    rows = []
    for path in files:
        r = load_results(path)
        meta, runs = r["meta"], r["runs"]
        images = sorted({run.get("train_images", 0) for run in runs})
        rows.append(
            [
                path.name,
                f"{meta['device_name']} ({meta['device']})",
                precision(stored_config(r["config"]), meta["device"]),
                r["timed_threads"] or meta.get("threads", ""),
                len(runs),
                ", ".join(f"{n:,}" for n in images),
                f"{r['config']['epochs']:g}",
                f"{100 * r['tta_accuracy_mean']:.2f}"
                + (f" ± {100 * r['tta_accuracy_std']:.2f}" if len(runs) > 1 else ""),
                f"{100 * r['accuracy_mean']:.2f}",
                f"{r['timed_seconds_mean']:,.1f}"
                + (f" ({r['timed_runs']} of {len(runs)} runs)" if r["timed_runs"] < len(runs) else ""),
                meta["torch"],
            ]
        )
    header = [
        "file",
        "device",
        "precision",
        "threads (timed runs)",
        "seeds",
        "training images",
        "epochs",
        "test accuracy (%)",
        "one view (%)",
        "seconds (runs with those threads)",
        "torch",
    ]
    return markdown_table(header, rows) if rows else None


# --------------------------------------------------------------------------- airbench's own script on this copy

AIRBENCH_KIND = "airbench94-script"  # results files of airbench94's unmodified script (benchmarks/gpu.sh)


def export_for_airbench(directory, root=None) -> Path:
    """Write the CIFAR-10 files that ``root`` names (default: where :func:`dlfoundations.data.load_cifar10`
    looks) as ``directory/train.pt`` and ``directory/test.pt``, the cache airbench's ``CifarLoader`` writes
    after downloading and reads instead of downloading when it exists: ``{"images": uint8 (N, 32, 32, 3),
    "labels": int64 (N,), "classes": the ten names}``, all 50,000 training images in the official order.

    Run airbench94's script in the folder *above* ``directory`` (it reads ``cifar10/``) and it trains on
    exactly the images this course reads. Returns ``directory``.
    """
    import numpy as np

    from . import cifar10_files, data

    folder = cifar10_files.ensure_cifar10(root, download=False)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name, files in (("train.pt", cifar10_files.TRAIN_FILES), ("test.pt", (cifar10_files.TEST_FILE,))):
        parts = [cifar10_files.read_batch(folder / f) for f in files]
        images = torch.from_numpy(np.concatenate([p[0] for p in parts])).permute(0, 2, 3, 1).contiguous()
        labels = torch.from_numpy(np.concatenate([p[1] for p in parts]))
        torch.save({"images": images, "labels": labels, "classes": list(data.CLASSES)}, directory / name)
    return directory


def save_airbench_run(log_path, out, device, root=None, allow_dirty: bool | None = None) -> Path:
    """Turn the ``log.pt`` that airbench94's script saves (``{"code": its source, "accs": a tensor of
    six-view test accuracies, one per run}``) into an ``"airbench94-script"`` results file at ``out``.

    The meta records the script's first line and the SHA-256 of its source, so a reader can tell which
    version ran, and as ``data`` the copy that ``root`` names, in the words of
    :func:`dlfoundations.data.load_cifar10` (the script read it through :func:`export_for_airbench`).
    """
    import hashlib

    from . import cifar10_files, results

    folder = cifar10_files.ensure_cifar10(root, download=False)
    source = f"{folder} (from {cifar10_files.resolve_root(root)[1]})"

    log = torch.load(log_path, map_location="cpu", weights_only=True)
    if not isinstance(log, dict) or "accs" not in log or "code" not in log:
        raise results.ResultsFileError(f"{log_path}: not the log.pt of an airbench script (no 'accs' and 'code')")
    accuracies = [float(a) for a in torch.as_tensor(log["accs"]).flatten()]
    meta = results.metadata(device, allow_dirty=allow_dirty)
    meta["data"] = source
    meta["script_first_line"] = log["code"].splitlines()[0] if log["code"] else ""
    meta["script_sha256"] = hashlib.sha256(log["code"].encode()).hexdigest()
    records = [{"run": i, "tta_accuracy": a} for i, a in enumerate(accuracies)]
    return results.write(out, AIRBENCH_KIND, records, meta)


def airbench_runs(directory=None) -> list[dict]:
    """Every ``"airbench94-script"`` results file in ``directory`` (default ``results/``): its ``path``, ``meta``,
    ``accuracies`` and their ``mean`` and ``std`` (0 for one run)."""
    from . import results
    from .search import mean_std

    out = []
    for path in results.available(directory or results.RESULTS_DIR, AIRBENCH_KIND):
        meta, records = results.read(path, AIRBENCH_KIND)
        accuracies = [r["tta_accuracy"] for r in records]
        mean, std = mean_std(accuracies)
        out.append({"path": path, "meta": meta, "accuracies": accuracies, "mean": mean, "std": std})
    return out


# --------------------------------------------------------------------------- where the work and the time go

# dense bfloat16 tensor-core peaks from NVIDIA's data sheets (FLOP/s; the sparsity figures are twice these)
PEAK_BF16 = {"A100": 312e12, "H100 SXM": 989e12}


def flops(cfg: Config = Config(), train_images: int = 50_000, test_images: int = 10_000) -> dict:
    """Floating-point operations of one run, counted by ``torch.utils.flop_counter.FlopCounterMode``.

    Convolutions and matrix products only (what the counter knows; BatchNorm, GELU and pooling are
    a small remainder). ``forward``/``train_step`` are per image; ``train`` covers every training step,
    ``test`` the test-time-augmented evaluation (``6``, ``2`` or ``1`` views), ``total`` both.
    """
    from torch.utils.flop_counter import FlopCounterMode

    model = SpeedNet(cfg)
    model.whiten.weight.requires_grad_(False)  # frozen, as in training: no weight gradient to compute
    x = torch.randn(4, 3, 32, 32)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(x)
    forward = counter.get_total_flops() / len(x)
    with FlopCounterMode(display=False) as counter:
        model(x).sum().backward()
    train_step = counter.get_total_flops() / len(x)
    per_epoch = max(1, train_images // cfg.batch_size)
    steps = math.ceil(cfg.epochs * per_epoch)
    views = {0: 1, 1: 2, 2: 6}[cfg.tta]
    train = steps * cfg.batch_size * train_step
    test = test_images * views * forward
    return {
        "forward": forward,
        "train_step": train_step,
        "steps": steps,
        "train": train,
        "test": test,
        "total": train + test,
    }


def seconds_at(total_flops: float, gpu: str = "H100 SXM", utilization: float = 0.3) -> float:
    """An estimate, not a measurement: the time ``total_flops`` take at ``utilization`` of ``gpu``'s bf16 peak."""
    return total_flops / (utilization * PEAK_BF16[gpu])


@contextlib.contextmanager
def _quiet_stderr():
    """Send the process's file descriptor 2 (where C++ libraries log) to /dev/null meanwhile."""
    import os
    import sys

    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def top_operators(data: Data, cfg: Config, steps: int = 2, rows: int = 8) -> list[tuple[str, float]]:
    """The operators that take the most time in ``steps`` training steps after one untimed step
    (``torch.profiler``): (name, share of the profiled time)."""
    from torch.profiler import ProfilerActivity, profile

    device = data.x_train.device
    model = build(cfg, data, device)
    optimizer = torch.optim.SGD(param_groups(model, cfg), momentum=cfg.momentum, nesterov=True)
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    x, y = data.x_train[: cfg.batch_size], data.y_train[: cfg.batch_size]

    def step():
        with autocast(cfg, device):
            loss = F.cross_entropy(model(x).float(), y, reduction="sum")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    step()  # untimed: the first step selects kernels and allocates memory
    config.synchronize(device)
    with _quiet_stderr(), profile(activities=activities) as prof:  # kineto logs its start and stop there
        for _ in range(steps):
            step()
        config.synchronize(device)
    attribute = "self_device_time_total" if device.type == "cuda" else "self_cpu_time_total"
    events = [e for e in prof.key_averages() if getattr(e, attribute) > 0]
    total = sum(getattr(e, attribute) for e in events)
    events.sort(key=lambda e: getattr(e, attribute), reverse=True)
    return [(e.key, getattr(e, attribute) / total) for e in events[:rows]]


# --------------------------------------------------------------------------- the ablation


ABLATION_KIND = "speedrun-ablation"  # results files of :func:`ablation`


def as_records(name: str, runs: list[Result]) -> list[dict]:
    """Ablation records (name, seed, one-view and six-view accuracy) of ``runs`` of one configuration.

    No seconds: an ablation compares accuracies, and on shared CPU cores a run's wall time says more about
    the other jobs than about the configuration (the committed 3-seed file, which kept them, has 24 s to
    1,222 s for runs of the same size).
    """
    return [{"name": name, "seed": r.seed, "accuracy": r.accuracy, "tta_accuracy": r.tta_accuracy} for r in runs]


def ablation(data: Data, base: Config, seeds, names=None, log=None, reference=()) -> list[dict]:
    """Train every configuration of :func:`ablation_configs` (or those in ``names``) from the same ``seeds``.

    Returns :func:`as_records` of every run. The same seeds in every row make the differences
    paired (:func:`paired_differences`). ``reference`` may hold runs of ``base`` already made
    (reused by seed). Test-time augmentation does not change training, so a row that only switches
    it off is not trained again: its accuracy is the recipe's one-view accuracy for the same seed.
    """
    recipe_runs = {r.seed: r for r in reference}
    records = []
    for name, cfg in ablation_configs(base).items():
        if names is not None and name not in names:
            continue
        for seed in seeds:
            only_tta = dataclasses.replace(cfg, tta=base.tta) == base
            if only_tta or cfg == base:
                if seed not in recipe_runs:
                    recipe_runs[seed] = train(data, base, seed)
                run = recipe_runs[seed]
                if cfg.tta == 0:
                    run = dataclasses.replace(run, tta_accuracy=run.accuracy)
                elif cfg.tta != base.tta:
                    run = train(data, cfg, seed)
            else:
                run = train(data, cfg, seed)
            records += as_records(name, [run])
            if log is not None:
                log(f"{name}, seed {seed}: {100 * records[-1]['tta_accuracy']:.2f}%")
    return records


def t_two_sided_p(t: float, df: int) -> float:
    """Two-sided p-value of Student's t statistic ``t`` with ``df`` (a positive integer) degrees of freedom.

    The exact finite sums of Abramowitz and Stegun 26.7.3-4, with ``θ = atan(|t|/√df)``: for odd ``df``
    ``P(|T| < t) = (2/π)(θ + sin θ (cos θ + (2/3)cos³θ + … + (2·4⋯(df−3))/(1·3⋯(df−2)) cos^(df−2) θ))``,
    for even ``df`` ``P(|T| < t) = sin θ (1 + (1/2)cos²θ + … + (1·3⋯(df−3))/(2·4⋯(df−2)) cos^(df−2) θ)``.
    """
    if df < 1 or int(df) != df:
        raise ValueError(f"df must be a positive integer, not {df}")
    theta = math.atan(abs(t) / math.sqrt(df))
    c2 = math.cos(theta) ** 2
    if df % 2:
        term = total = math.cos(theta) if df > 1 else 0.0
        for k in range(3, df - 1, 2):  # the ratio of consecutive terms: c²·(k−1)/k
            term *= c2 * (k - 1) / k
            total += term
        inside = 2 / math.pi * (theta + math.sin(theta) * total)
    else:
        term = total = 1.0
        for k in range(2, df - 1, 2):  # the ratio of consecutive terms: c²·(k−1)/k
            term *= c2 * (k - 1) / k
            total += term
        inside = math.sin(theta) * total
    return min(1.0, max(0.0, 1 - inside))


def t_for_p(p: float, df: int) -> float:
    """The ``|t|`` at which :func:`t_two_sided_p` falls to ``p`` (its inverse, by bisection)."""
    low, high = 0.0, 1e4
    for _ in range(100):
        mid = (low + high) / 2
        if t_two_sided_p(mid, df) > p:
            low = mid
        else:
            high = mid
    return high


def holm(p_values, alpha: float = 0.05) -> list[bool]:
    """Holm's step-down correction: which of ``m`` hypotheses to reject at family-wise level ``alpha``.

    The smallest p-value is compared with ``alpha/m``, the next with ``alpha/(m − 1)``, and so on,
    stopping at the first that fails; the chance of rejecting any true hypothesis stays below ``alpha``.
    """
    p_values = list(p_values)
    m = len(p_values)
    reject = [False] * m
    for rank, i in enumerate(sorted(range(m), key=lambda i: p_values[i])):
        if not p_values[i] <= alpha / (m - rank):
            break
        reject[i] = True
    return reject


def paired_differences(
    records: list[dict], reference: str = RECIPE, alpha: float = 0.05, value: str = "tta_accuracy"
) -> list[dict]:
    """Per configuration (records with ``name``, ``seed`` and the field ``value``): mean accuracy, and its mean
    difference from ``reference`` over the shared seeds with the standard error of that mean (``std / √n``, from
    the per-seed differences; NaN for one seed).

    ``p`` is the two-sided p-value of the paired t-test (:func:`t_two_sided_p`, ``n − 1`` degrees of
    freedom; NaN when it cannot be computed), and ``clear`` says whether the row survives :func:`holm`'s
    correction at level ``alpha`` over all the rows that could be tested.
    """
    from .search import mean_std

    by_name: dict[str, dict[int, float]] = {}
    for r in records:
        by_name.setdefault(r["name"], {})[r["seed"]] = r[value]
    if reference not in by_name:
        raise ValueError(f"the ablation has no {reference!r} row to compare with")
    rows = []
    for name, accuracies in by_name.items():
        seeds = sorted(set(accuracies) & set(by_name[reference]))
        mean, std = mean_std(accuracies.values())
        diffs = [accuracies[s] - by_name[reference][s] for s in seeds]
        diff = statistics.fmean(diffs) if diffs else float("nan")
        stderr = statistics.stdev(diffs) / math.sqrt(len(diffs)) if len(diffs) > 1 else float("nan")
        p = float("nan")
        if len(diffs) > 1 and name != reference:
            p = t_two_sided_p(diff / stderr, len(diffs) - 1) if stderr > 0 else float(diff == 0)
        rows.append(
            {
                "name": name,
                "seeds": len(accuracies),
                "mean": mean,
                "std": std if len(accuracies) > 1 else float("nan"),
                "difference": diff,
                "stderr": stderr,
                "p": p,
                "clear": False,
            }
        )
    tested = [r for r in rows if not math.isnan(r["p"])]
    for r, reject in zip(tested, holm([r["p"] for r in tested], alpha), strict=True):
        r["clear"] = reject
    return rows


def ablation_table(records: list[dict]) -> str:
    """Markdown table of :func:`paired_differences`, in points of test accuracy."""
    from .book import markdown_table

    def spread(value):
        return "—" if math.isnan(value) else f"{100 * value:.2f}"

    rows = [
        [
            r["name"],
            r["seeds"],
            f"{100 * r['mean']:.2f} ± {spread(r['std'])}",
            ""
            if r["name"] == RECIPE
            else f"{100 * r['difference']:+.2f} ± {spread(r['stderr'])}" + (" *" if r["clear"] else ""),
        ]
        for r in paired_differences(records)
    ]
    header = [
        "configuration",
        "seeds",
        "test accuracy (%)",
        "difference (points, ± s.e.; * paired t-test, 5%, Holm over the rows)",
    ]
    return markdown_table(header, rows)


def save_ablation(path, base: Config, records: list[dict], device, source="", train_images=None, allow_dirty=None):
    """Write an ablation as a ``"speedrun-ablation"`` results file (``allow_dirty``: as for
    :func:`dlfoundations.results.metadata`)."""
    from . import results

    meta = results.metadata(device, allow_dirty=allow_dirty)
    meta["data"] = source
    meta["config"] = dataclasses.asdict(base)
    meta["train_images"] = train_images
    return results.write(path, ABLATION_KIND, records, meta)


def load_ablation(path) -> tuple[dict, list[dict]]:
    """The metadata and records of a ``"speedrun-ablation"`` results file."""
    from . import results

    return results.read(path, ABLATION_KIND)


def main(argv=None) -> None:
    """``python -m dlfoundations.speedrun --seeds 5 --out results/speedrun-<gpu>.json``"""
    import argparse

    parser = argparse.ArgumentParser(description="Train the speedrun network over several seeds and time it.")
    parser.add_argument("--profile", default=None, help="run profile (default: DLF_PROFILE, or full on CUDA)")
    parser.add_argument("--device", default=None, help="cpu, cuda, … (default: the best available)")
    parser.add_argument("--seeds", type=int, default=None, help="how many seeds (default: the profile's)")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--compile", action="store_true", help="torch.compile the network")
    parser.add_argument(
        "--compile-backend", default="inductor", help="torch.compile backend (aot_eager: trace only, for dry runs)"
    )
    parser.add_argument(
        "--half",
        choices=["auto", "on", "off", "bf16", "fp16"],
        default="auto",
        help="autocast: bf16 (= on), fp16 (airbench's precision), off (float32); auto: bf16 on CUDA only",
    )
    parser.add_argument("--epochs", type=float, default=None)
    parser.add_argument("--batch-size", type=int, default=None, help="default: the profile's (1,024 when full)")
    parser.add_argument("--train-images", type=int, default=None, help="default: the profile's (50,000 when full)")
    parser.add_argument("--test-images", type=int, default=10_000)
    parser.add_argument(
        "--warmup",
        action="store_true",
        help="an untimed run first, past the epoch where the whitening bias freezes (default on CUDA)",
    )
    parser.add_argument("--ablation", action="store_true", help="train every row of the ablation table instead")
    parser.add_argument("--jpeg-quality", type=int, default=None, help="re-encode every image at this JPEG quality")
    parser.add_argument("--out", required=True, help="results file; runs of the same configuration are appended")
    from . import results

    results.add_allow_dirty(parser)
    args = parser.parse_args(argv)
    allow_dirty = True if args.allow_dirty else None  # None: results.metadata reads DLF_ALLOW_DIRTY
    from . import data, results

    results.metadata("cpu", allow_dirty=allow_dirty)  # refuses uncommitted code now, not after the first run

    profile = config.profile_name(args.profile)
    z = sizes(profile)
    device = torch.device(args.device) if args.device else config.device()
    images = args.train_images or z.images  # training + validation images, all used for training
    val = 1_000 if images > 1_000 else images // 2  # the validation pool is the last 1,000 training images
    cifar = data.load_cifar10(device=device, num_train=images - val, num_val=val, num_test=args.test_images)
    extra = {}
    if args.jpeg_quality:  # what one more round of JPEG compression costs (chapter 09 does the same)
        from . import experiments

        original = cifar.x_test
        cifar = experiments.jpeg_dataset(cifar, args.jpeg_quality)
        error = experiments.mean_absolute_error(original, cifar.x_test)
        extra = {"jpeg_quality": args.jpeg_quality, "jpeg_levels": error}
        cifar = dataclasses.replace(
            cifar, source=f"{cifar.source}, re-encoded at JPEG quality {args.jpeg_quality} ({error:.1f} levels)"
        )
    config.describe(cifar.source, profile, device)
    speed_data = Data.from_cifar(cifar)
    half, half_dtype = {
        "auto": (None, "bfloat16"),
        "on": (True, "bfloat16"),
        "bf16": (True, "bfloat16"),
        "fp16": (True, "float16"),
        "off": (False, "bfloat16"),
    }[args.half]
    cfg = dataclasses.replace(
        profile_config(profile),
        compile=args.compile,
        compile_backend=args.compile_backend,
        half=half,
        half_dtype=half_dtype,
    )
    if args.epochs:
        cfg = dataclasses.replace(cfg, epochs=args.epochs)
    if args.batch_size:
        cfg = dataclasses.replace(cfg, batch_size=args.batch_size)
    warmup_seconds = None
    if args.warmup or device.type == "cuda":
        start = time.perf_counter()
        # warm-up / compile, past the epoch that freezes the whitening bias (a recompile under torch.compile)
        train(speed_data, dataclasses.replace(cfg, epochs=min(cfg.epochs, cfg.whiten_bias_epochs + 1.0)), seed=10_000)
        warmup_seconds = time.perf_counter() - start
    seeds = range(args.first_seed, args.first_seed + (args.seeds or z.seeds))
    if args.ablation:
        records = ablation(speed_data, cfg, seeds, log=lambda line: print(line, flush=True))
        path = save_ablation(args.out, cfg, records, device, cifar.source, len(speed_data.y_train), allow_dirty)
        print(ablation_table(records), f"\nwrote {path}", sep="\n")
        return
    for seed in seeds:
        run = train(speed_data, cfg, seed, log=lambda line: print(line, flush=True))
        print(run, flush=True)
        path = save_results(args.out, cfg, [run], device, warmup_seconds, cifar.source, extra, allow_dirty)
    summary = load_results(path)
    print(
        f"mean {100 * summary['tta_accuracy_mean']:.2f} ± {100 * summary['tta_accuracy_std']:.2f}% "
        f"in {summary['seconds_mean']:.2f} ± {summary['seconds_std']:.2f} s over {len(summary['runs'])} seeds; "
        f"wrote {path}"
    )


if __name__ == "__main__":
    main()
