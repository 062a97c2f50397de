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


def markdown_table(header: list[str], rows: list[list]) -> str:
    """A Markdown table (for ``IPython.display.Markdown`` and myst-nb ``glue``)."""
    if any(len(row) != len(header) for row in rows):
        raise ValueError(f"every row needs {len(header)} cells")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


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


def schedules(rates: dict, ax=None):
    """Learning rate against epoch for several schedules."""
    ax = ax or plt.subplots(figsize=(6, 3.5))[1]
    for name, values in rates.items():
        ax.plot(values, label=name)
    ax.set(xlabel="epoch", ylabel="learning rate")
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
