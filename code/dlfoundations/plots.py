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
