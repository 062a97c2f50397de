"""Figures shared by the chapters: training curves and example images."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch


def smooth(values, window: int = 20) -> np.ndarray:
    """Moving average over ``window`` points (shorter at the start)."""
    values = np.asarray(values, dtype=float)
    cumulative = np.cumsum(np.insert(values, 0, 0.0))
    counts = np.minimum(np.arange(1, len(values) + 1), window)
    return (cumulative[1:] - cumulative[np.maximum(0, np.arange(1, len(values) + 1) - window)]) / counts


def plot_histories(histories: dict, window: int = 20, title: str | None = None):
    """Training loss (raw and smoothed) and validation accuracy of several runs, side by side."""
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 3.8))
    longest = max(len(h.losses) for h in histories.values())
    window = max(1, min(window, longest // 10))
    for i, (name, h) in enumerate(histories.items()):
        color = f"C{i}"
        ax_loss.plot(h.losses, color=color, alpha=0.25, linewidth=0.8)
        ax_loss.plot(smooth(h.losses, window), color=color, label=name)
        ax_acc.plot(h.val_iterations, 100 * np.asarray(h.val_accuracies), "o-", color=color, label=name)
    ax_loss.set(xlabel="iteration", ylabel="training loss (cross-entropy)", title="loss")
    ax_acc.set(xlabel="iteration", ylabel="validation accuracy (%)", title="validation accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_examples(images: torch.Tensor, labels: torch.Tensor, classes, per_class: int = 8, seed: int = 0):
    """A grid with ``per_class`` random images of every class (uint8 ``(N, 3, H, W)``)."""
    rng = np.random.default_rng(seed)
    labels = labels.cpu().numpy()
    fig, axes = plt.subplots(per_class, len(classes), figsize=(len(classes) * 0.9, per_class * 0.9))
    for c, name in enumerate(classes):
        chosen = rng.choice(np.flatnonzero(labels == c), size=per_class, replace=False)
        for row, index in enumerate(chosen):
            ax = axes[row, c]
            ax.imshow(images[index].permute(1, 2, 0).cpu().numpy())
            ax.axis("off")
        axes[0, c].set_title(name, fontsize=8)
    fig.tight_layout(pad=0.2)
    return fig


def bar_compare(values: dict, xlabel: str, log: bool = False, fmt: str = "{:,.0f}"):
    """A labelled horizontal bar chart of a few named numbers (e.g. images per second)."""
    names = list(values)[::-1]  # first entry on top
    fig, ax = plt.subplots(figsize=(7, 0.5 + 0.5 * len(values)))
    bars = ax.barh(names, [values[n] for n in names], color=[f"C{i}" for i in range(len(names))][::-1])
    ax.bar_label(bars, labels=[" " + fmt.format(values[n]) for n in names])
    ax.set_xlabel(xlabel)
    if log:
        ax.set_xscale("log")
    ax.margins(x=0.25)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- optimization landscapes


def _grid(surface, points: int = 200):
    (x_lo, x_hi), (y_lo, y_hi) = surface.window
    xs = torch.linspace(x_lo, x_hi, points, dtype=torch.float64)
    ys = torch.linspace(y_lo, y_hi, points, dtype=torch.float64)
    X, Y = torch.meshgrid(xs, ys, indexing="xy")
    Z = surface.f(torch.stack([X, Y]))
    return X.numpy(), Y.numpy(), Z.numpy()


def contours(surface, ax=None, levels: int = 30, log: bool = False):
    """Filled contours of a two-variable surface (log-spaced levels for steep valleys)."""
    ax = ax or plt.subplots(figsize=(6, 4.5))[1]
    X, Y, Z = _grid(surface)
    if log:
        shift = Z.min() - 1e-3
        ax.contourf(X, Y, np.log10(Z - shift), levels=levels, cmap="viridis", alpha=0.8)
    else:
        ax.contourf(X, Y, Z, levels=levels, cmap="viridis", alpha=0.8)
    ax.set(xlabel="$x_1$", ylabel="$x_2$", title=f"${surface.formula}$")
    if surface.minimum is not None:
        ax.plot(*surface.minimum, "w*", markersize=12)
    return ax


def gradient_field(surface, ax, points: int = 15, color: str = "white"):
    """Arrows of −∇f (the descent direction), normalized so that they all show."""
    (x_lo, x_hi), (y_lo, y_hi) = surface.window
    xs, ys = np.linspace(x_lo, x_hi, points), np.linspace(y_lo, y_hi, points)
    X, Y = np.meshgrid(xs, ys)
    G = np.stack(
        [
            surface.grad(torch.tensor([x, y], dtype=torch.float64)).numpy()
            for x, y in zip(X.ravel(), Y.ravel(), strict=True)
        ]
    )
    norms = np.linalg.norm(G, axis=1, keepdims=True) + 1e-12
    U, V = (-G / norms).T
    ax.quiver(X, Y, U.reshape(X.shape), V.reshape(X.shape), color=color, alpha=0.7, width=0.003)
    return ax


def _path_lines(ax, paths: dict, surface, fontsize: int):
    """One empty line per path, the axes fixed to the surface's window, and a legend."""
    lines = [
        ax.plot([], [], "o-", color=f"C{i}", markersize=2.5, linewidth=1.2, label=name)[0]
        for i, name in enumerate(paths)
    ]
    (x_lo, x_hi), (y_lo, y_hi) = surface.window
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)
    ax.legend(fontsize=fontsize, loc="upper right")
    return lines


def trajectories(surface, paths: dict, ax=None, log: bool = False, title: str | None = None):
    """Paths ``(steps + 1, 2)`` of several methods over the contours of ``surface``."""
    ax = contours(surface, ax=ax, log=log)
    for line, path in zip(_path_lines(ax, paths, surface, fontsize=8), paths.values(), strict=True):
        p = np.asarray(path)
        line.set_data(p[:, 0], p[:, 1])
    if title:
        ax.set_title(title)
    return ax


def iterates_1d(surface, paths: dict, ax=None, title: str | None = None):
    """A one-variable function with the iterates of several runs drawn on it."""
    ax = ax or plt.subplots(figsize=(6, 4))[1]
    lo, hi = surface.window[0]
    xs = torch.linspace(lo, hi, 400, dtype=torch.float64)
    ax.plot(xs, [surface.f(x.reshape(1)).item() for x in xs], "k-", linewidth=1, label=f"${surface.formula}$")
    for i, (name, path) in enumerate(paths.items()):
        p = np.asarray(path).reshape(-1)
        ax.plot(
            p,
            [surface.f(torch.tensor([v])).item() for v in p],
            "o-",
            color=f"C{i}",
            markersize=3,
            linewidth=0.6,
            alpha=0.8,
            label=name,
        )
    ax.set(xlabel="$x$", ylabel="$f(x)$", title=title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return ax


def animate_trajectories(surface, paths: dict, frames: int = 40, log: bool = False, interval: int = 120):
    """A ``FuncAnimation`` drawing all paths step by step (``.to_jshtml()`` plays in static HTML)."""
    from matplotlib.animation import FuncAnimation

    fig, ax = plt.subplots(figsize=(5.5, 4.2), dpi=72)
    contours(surface, ax=ax, log=log)
    arrays = {name: np.asarray(p) for name, p in paths.items()}
    length = max(len(p) for p in arrays.values())
    lines = dict(zip(arrays, _path_lines(ax, arrays, surface, fontsize=7), strict=True))
    counter = ax.text(0.02, 0.95, "", transform=ax.transAxes, color="white")
    steps = np.unique(np.linspace(0, length - 1, frames).astype(int))

    def draw(k):
        for name, line in lines.items():
            p = arrays[name][: steps[k] + 1]
            line.set_data(p[:, 0], p[:, 1])
        counter.set_text(f"step {steps[k]}")
        return [*lines.values(), counter]

    animation = FuncAnimation(fig, draw, frames=len(steps), interval=interval, blit=True)
    plt.close(fig)
    return animation


_ICONS = {  # matplotlib's player buttons, as text: no icon font from a CDN needed
    "fa fa-minus": "−",
    "fa fa-fast-backward": "⏮",
    "fa fa-step-backward": "⏴⏴",
    "fa fa-play fa-flip-horizontal": "◀",
    "fa fa-pause": "⏸",
    "fa fa-play": "▶",
    "fa fa-step-forward": "⏵⏵",
    "fa fa-fast-forward": "⏭",
    "fa fa-plus": "+",
}


def animation_html(animation) -> str:
    """``animation.to_jshtml()`` without the Font Awesome stylesheet it loads from a CDN.

    The player's icons become plain characters, so the animation works offline and
    in the built book without any request outside it.
    """
    import re

    html = re.sub(r"<link[^>]*font-awesome[^>]*>", "", animation.to_jshtml())
    for css, text in _ICONS.items():
        html = html.replace(f'<i class="{css}"></i>', text)
    return html


def schedules(rates: dict, ax=None, xlabel: str = "epoch", ylabel: str = "learning rate"):
    """Learning rate (or its multiplier) against epoch (or step) for several schedules."""
    ax = ax or plt.subplots(figsize=(6, 3.5))[1]
    for name, values in rates.items():
        ax.plot(values, label=name)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


def function_and_derivatives(surface, marks: dict | None = None):
    """A one-variable function, its derivative and its second derivative in three panels.

    ``marks`` maps a label to x values drawn as vertical lines on every panel.
    """
    lo, hi = surface.window[0]
    xs = torch.linspace(lo, hi, 400, dtype=torch.float64)
    values = [
        [surface.f(x.reshape(1)).item() for x in xs],
        [surface.grad(x.reshape(1)).item() for x in xs],
        [surface.hessian(x.reshape(1)).item() for x in xs],
    ]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.2))
    for ax, v, label in zip(axes, values, ["$f(x)$", "$f'(x)$", "$f''(x)$"], strict=True):
        ax.plot(xs, v, "k-", linewidth=1.2)
        ax.axhline(0, color="grey", linewidth=0.6)
        for i, (name, points) in enumerate((marks or {}).items()):
            for j, point in enumerate(np.atleast_1d(points)):
                ax.axvline(point, color=f"C{i}", linestyle="--", linewidth=0.9, label=name if j == 0 else None)
        ax.set(xlabel="$x$", title=label)
        ax.grid(alpha=0.3)
    if marks:
        axes[0].legend(fontsize=8)
    fig.suptitle(f"$f(x) = {surface.formula}$")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- per-layer diagnostics


def per_layer(series: dict, ylabel: str, ax=None, log: bool = True, title: str | None = None):
    """One line per named series of per-layer values (layer 1 = nearest the input)."""
    ax = ax or plt.subplots(figsize=(6.5, 4))[1]
    for i, (name, values) in enumerate(series.items()):
        ax.plot(range(1, len(values) + 1), values, "o-", color=f"C{i}", markersize=4, label=name)
    ax.set(xlabel="layer (1 = input side)", ylabel=ylabel, title=title)
    if log:
        ax.set_yscale("log")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return ax


def layer_histograms(outputs: list, title: str = "", bins: int = 50, value_range=None):
    """A histogram of the activations of every layer, side by side."""
    fig, axes = plt.subplots(1, len(outputs), figsize=(1.9 * len(outputs), 2.3), sharey=True)
    axes = np.atleast_1d(axes)
    for i, (ax, a) in enumerate(zip(axes, outputs, strict=True)):
        values = a.detach().flatten().float().cpu().numpy()
        ax.hist(values, bins=bins, range=value_range, color="C0")
        ax.set_title(f"layer {i + 1}\nstd {values.std():.2g}", fontsize=8)
        ax.tick_params(labelsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- hyperparameter searches


def search_results(rows: list[dict], names: list[str], metric: str = "val", title: str | None = None):
    """One panel per hyperparameter: ``metric`` (a fraction, shown in %) of every trial against its value."""
    fig, axes = plt.subplots(1, len(names), figsize=(3.6 * len(names), 3.2), sharey=True, squeeze=False)
    values = 100 * np.asarray([row[metric] for row in rows])
    for ax, name in zip(axes[0], names, strict=True):
        xs = np.asarray([row[name] for row in rows], dtype=float)
        ax.scatter(xs, values, color="C0", alpha=0.8)
        top = int(np.argmax(values))
        ax.scatter([xs[top]], [values[top]], color="C3", marker="*", s=160, label="best", zorder=3)
        if xs.min() > 0 and xs.max() / xs.min() >= 10:
            ax.set_xscale("log")
        ax.set(xlabel=name)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(f"{metric} accuracy (%)")
    axes[0][0].legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def image_row(images: torch.Tensor, title: str | None = None):
    """One row of uint8 images ``(N, 3, H, W)``."""
    fig, axes = plt.subplots(1, len(images), figsize=(1.2 * len(images), 1.5), squeeze=False)
    for ax, image in zip(axes[0], images, strict=True):
        ax.imshow(image.permute(1, 2, 0).cpu().numpy())
        ax.axis("off")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def filters(weight: torch.Tensor, title: str | None = None, columns: int = 8):
    """The filters of a convolution ``(F, C, kH, kW)`` as small images, each scaled to [0, 1] on its own.

    Three input channels are shown as RGB, one as grey; other counts show the first channel.
    """
    weight = weight.detach().cpu().float()
    low = weight.amin(dim=(1, 2, 3), keepdim=True)
    high = weight.amax(dim=(1, 2, 3), keepdim=True)
    scaled = (weight - low) / (high - low).clamp_min(1e-12)
    rows = -(-len(weight) // columns)
    fig, axes = plt.subplots(rows, min(columns, len(weight)), figsize=(1.1 * min(columns, len(weight)), 1.2 * rows))
    axes = np.atleast_1d(axes).ravel()
    for ax in axes:
        ax.axis("off")
    for i, (ax, image) in enumerate(zip(axes, scaled, strict=False)):
        if image.shape[0] == 3:
            ax.imshow(image.permute(1, 2, 0).numpy(), interpolation="nearest")
        else:
            ax.imshow(image[0].numpy(), cmap="gray", interpolation="nearest")
        ax.set_title(str(i), fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def computational_graph(layers: int = 3, ax=None):
    """The computational graph of an ``layers``-layer network, forward above and backward below.

    Nodes ``x = a⁰ → z¹ → a¹ → … → zᴰ → L``; forward arrows are labelled with the
    operation (``Wˡ·+bˡ``, ``h``), backward arrows with the Jacobian-vector product each
    node applies to the incoming gradient (``Wˡᵀ``, ``diag h′(zˡ)``); the arrow out of ``L``
    carries ``δᴰ`` itself. Each weight matrix ``Wˡ`` is a leaf above its ``zˡ``, and the
    gradient that reaches it is ``δˡ aˡ⁻¹ᵀ``. Drawn with matplotlib only. Returns the axes.
    """
    if layers < 1:
        raise ValueError(f"layers must be at least 1, not {layers}")
    nodes = ["$\\mathbf{x}$"]
    forward, backward = [], []
    for k in range(1, layers + 1):
        nodes.append(f"$\\mathbf{{z}}^{{{k}}}$")
        forward.append(f"$W^{{{k}}}\\cdot+\\mathbf{{b}}^{{{k}}}$")
        backward.append("$W^{" + str(k) + "\\top}$" if k > 1 else "")
        if k < layers:
            nodes.append(f"$\\mathbf{{a}}^{{{k}}}$")
            forward.append("$h$")
            backward.append(f"diag $h'(\\mathbf{{z}}^{{{k}}})$")
    nodes.append("$L$")
    forward.append("loss")
    backward.append("$\\boldsymbol{\\delta}^{" + str(layers) + "}$")
    if ax is None:
        _, ax = plt.subplots(figsize=(1.5 * len(nodes), 3.6))
    xs = np.arange(len(nodes)) * 1.5
    box = dict(boxstyle="round,pad=0.4", facecolor="#e8f0fe", edgecolor="#3b6fd8")
    for x, name in zip(xs, nodes, strict=True):
        ax.text(x, 0, name, ha="center", va="center", fontsize=13, bbox=box)
    for i, (f, b) in enumerate(zip(forward, backward, strict=True)):
        a, c = xs[i] + 0.35, xs[i + 1] - 0.35
        ax.annotate("", xy=(c, 0.12), xytext=(a, 0.12), arrowprops=dict(arrowstyle="->", color="#3b6fd8"))
        ax.text((a + c) / 2, 0.32, f, ha="center", fontsize=9, color="#3b6fd8")
        ax.annotate("", xy=(a, -0.12), xytext=(c, -0.12), arrowprops=dict(arrowstyle="->", color="#c0392b"))
        if b:
            ax.text((a + c) / 2, -0.45, b, ha="center", fontsize=9, color="#c0392b")
    for k in range(1, layers + 1):  # the weight leaves, above z^k
        x = xs[2 * k - 1]
        ax.text(x, 1.2, f"$W^{{{k}}}$", ha="center", va="center", fontsize=13, bbox=box)
        ax.annotate("", xy=(x - 0.1, 0.25), xytext=(x - 0.1, 0.95), arrowprops=dict(arrowstyle="->", color="#3b6fd8"))
        ax.annotate("", xy=(x + 0.1, 0.95), xytext=(x + 0.1, 0.25), arrowprops=dict(arrowstyle="->", color="#c0392b"))
        below = f"\\mathbf{{a}}^{{{k - 1}\\top}}" if k > 1 else "\\mathbf{x}^{\\top}"
        label = f"$\\boldsymbol{{\\delta}}^{{{k}}}{below}$"
        ax.text(x + 0.18, 0.62, label, ha="left", va="center", fontsize=9, color="#c0392b")
    ax.text(xs[0] - 0.6, 0.32, "forward", ha="right", fontsize=9, color="#3b6fd8")
    ax.text(xs[0] - 0.6, -0.45, "backward", ha="right", fontsize=9, color="#c0392b")
    ax.set(xlim=(xs[0] - 1.6, xs[-1] + 0.6), ylim=(-0.8, 1.5))
    ax.axis("off")
    return ax


def results_comparison(entries: list[tuple[str, list[float], float | None, float | None]], ax=None, title=None):
    """Ours (mean ± std over seeds, one dot per seed) beside the report's figure and the target, per experiment.

    ``entries`` are ``(label, accuracies as fractions, report %, target %)``; one row per experiment.
    """
    n = len(entries)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.55 * n + 1.2))
    for i, (_, values, report, target) in enumerate(entries):
        y = n - 1 - i
        if values:
            v = 100 * np.asarray(values, dtype=float)
            ax.errorbar(
                v.mean(),
                y,
                xerr=v.std(ddof=1) if len(v) > 1 else 0,
                fmt="o",
                color="#3b6fd8",
                capsize=4,
                label="ours: mean ± std" if i == 0 else None,
            )
            ax.scatter(
                v,
                np.full(len(v), y - 0.15),
                s=10,
                color="#3b6fd8",
                alpha=0.5,
                label="ours: each seed" if i == 0 else None,
            )
        if report is not None:
            ax.scatter([report], [y], marker="D", color="#c0392b", zorder=3, label="report" if i == 0 else None)
        if target is not None:
            ax.scatter([target], [y], marker="|", s=300, color="black", zorder=3, label="target" if i == 0 else None)
    ax.set_yticks(range(n), [e[0] for e in reversed(entries)])
    ax.set_xlabel("accuracy (%)")
    if title:
        ax.set_title(title)
    handles, labels = [], []
    for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
        if lab not in labels:
            handles.append(h)
            labels.append(lab)
    ax.legend(handles, labels, loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return ax


def generalization_curves(runs: dict, title: str | None = None):
    """Training-probe (dashed) and validation (solid) accuracy per epoch of several runs.

    ``runs`` maps a label to an object with ``probe_train`` and ``val_curve`` lists (fractions) and,
    optionally, ``stop_epoch`` and ``best_epoch`` (0-based), marked on the validation curve.
    """
    fig, ax = plt.subplots(figsize=(7.5, 4))
    for i, (name, run) in enumerate(runs.items()):
        epochs = np.arange(1, len(run.val_curve) + 1)
        color = f"C{i}"
        ax.plot(epochs, 100 * np.asarray(run.probe_train), "--", color=color, label=f"{name}: training")
        ax.plot(epochs, 100 * np.asarray(run.val_curve), "o-", color=color, label=f"{name}: validation")
        best = getattr(run, "best_epoch", None)
        if best is not None and best >= 0:
            ax.plot(best + 1, 100 * run.val_curve[best], "*", color="k", markersize=13, zorder=5)
        stop = getattr(run, "stop_epoch", None)
        if stop is not None:
            ax.axvline(stop + 1, color=color, linestyle=":", alpha=0.7)
    ax.set(xlabel="epoch", ylabel="accuracy (%)", title=title or "training vs validation accuracy")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def ensemble_growth(sizes, ensemble, members, ax=None, title: str | None = None):
    """Test accuracy of an ensemble of the first K members against K, beside each member alone."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.6))
    ax.plot(sizes, 100 * np.asarray(ensemble), "o-", label="ensemble of the first K")
    ax.plot(range(1, len(members) + 1), 100 * np.asarray(members), "x", color="C1", label="member K alone")
    ax.set(xlabel="K (members)", ylabel="test accuracy (%)", title=title or "ensembles")
    ax.grid(alpha=0.3)
    ax.legend()
    ax.figure.tight_layout()
    return ax.figure


def lr_range(result: dict, marks=(), ax=None, title: str | None = None):
    """The loss of a learning-rate range test against the rate (log scale), with vertical marks at ``marks``."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    ax.plot(result["lrs"], result["losses"], color="#bbbbbb", lw=0.8, label="loss of each batch")
    ax.plot(result["lrs"], result["smoothed"], color="#3b6fd8", label="smoothed")
    ax.axvline(result["steepest"], color="#c0392b", ls="--", label="steepest descent")
    for m in marks:
        ax.axvline(m, color="black", alpha=0.3, lw=0.8)
    ax.set(xscale="log", xlabel="learning rate", ylabel="loss", title=title)
    ax.set_ylim(top=min(max(result["losses"]), 3 * result["smoothed"][0]))
    ax.legend(fontsize=8)
    return ax
