"""The report's figures, drawn with matplotlib's Agg backend and written as SVG.

Each function takes plain data (no file paths) and returns a figure, so the figures
can be tested without a workflow run. SVG output is deterministic (no date, a fixed
hash salt), so an unchanged input gives a byte-identical file.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on cluster nodes or in CI

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from artistrec import io
from artistrec.metrics import K_VALUES

plt.rcParams["svg.hashsalt"] = "artistrec"


def save_svg(figure: Figure, path: str | Path) -> None:
    """Write ``figure`` as SVG atomically and close it."""
    with io.atomic_path(path) as tmp:
        figure.savefig(tmp, format="svg", metadata={"Date": None}, bbox_inches="tight")
    plt.close(figure)


def map_at_k_figure(methods: dict[str, dict]) -> Figure:
    """MAP@K for K in 1, 5, 10, 20, one line per method, with the MAP@10 95% interval as an error bar."""
    figure, axes = plt.subplots(figsize=(6.4, 4.0))
    for offset, (method, values) in enumerate(methods.items()):
        line = axes.plot(K_VALUES, [values[f"map@{k}"] for k in K_VALUES], marker="o", label=method)[0]
        low, high = values["map@10_ci95"]
        # Shift each method's bar a little so overlapping intervals stay visible.
        axes.errorbar(
            10 + 0.3 * (offset - (len(methods) - 1) / 2),
            values["map@10"],
            yerr=[[values["map@10"] - low], [high - values["map@10"]]],
            color=line.get_color(),
            capsize=4,
        )
    axes.set_xticks(K_VALUES)
    axes.set_xlabel("K (recommendations per test artist)")
    axes.set_ylabel("MAP@K")
    axes.set_ylim(bottom=0)
    axes.set_title("MAP@K on the test artists (bar: 95% bootstrap interval of MAP@10)", fontsize=10)
    axes.grid(alpha=0.3)
    axes.legend()
    return figure


def loss_figure(history: pd.DataFrame) -> Figure:
    """Training and validation loss by epoch; the restored (best validation) epoch is marked."""
    figure, axes = plt.subplots(figsize=(6.4, 4.0))
    axes.plot(history["epoch"], history["loss"], marker=".", label="training loss")
    if history["val_loss"].notna().any():
        axes.plot(history["epoch"], history["val_loss"], marker=".", label="validation loss")
        best = history.loc[history["val_loss"].idxmin()]
        axes.axvline(best["epoch"], color="grey", linestyle="--", label=f"restored: epoch {int(best['epoch'])}")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("epoch")
    axes.set_ylabel("softmax cross-entropy")
    axes.grid(alpha=0.3)
    axes.legend()
    return figure


def explained_variance_figure(ratios: dict[str, np.ndarray]) -> Figure:
    """Cumulative explained variance against the number of SVD dimensions, one line per source."""
    figure, axes = plt.subplots(figsize=(6.4, 4.0))
    for source, ratio in ratios.items():
        cumulative = np.cumsum(ratio)
        label = f"{source} ({cumulative[-1]:.0%} at {ratio.shape[0]})"
        axes.plot(np.arange(1, ratio.shape[0] + 1), cumulative, label=label)
    axes.set_xlabel("SVD dimensions")
    axes.set_ylabel("cumulative explained variance (train artists)")
    axes.set_ylim(0, 1)
    axes.grid(alpha=0.3)
    axes.legend()
    return figure


def long_tail_figure(listener_counts: np.ndarray, is_candidate: np.ndarray) -> Figure:
    """Distinct listeners per artist, most listened first (log-log), candidates highlighted.

    ``listener_counts`` is sorted in decreasing order; ``is_candidate`` flags the same
    artists. The dashed line is the cut-off: the least-listened candidate's count.
    """
    figure, axes = plt.subplots(figsize=(6.4, 4.0))
    ranks = np.arange(1, listener_counts.shape[0] + 1)
    axes.plot(ranks, listener_counts, color="lightgrey", linewidth=2, label="all artists")
    axes.scatter(
        ranks[is_candidate],
        listener_counts[is_candidate],
        s=6,
        color="tab:orange",
        zorder=3,
        label=f"{int(is_candidate.sum())} candidates",
    )
    if is_candidate.any():
        cut_off = listener_counts[is_candidate].min()
        axes.axhline(cut_off, color="tab:red", linestyle="--", label=f"cut-off: {int(cut_off)} listeners")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("artist rank by listeners")
    axes.set_ylabel("distinct listeners")
    axes.grid(alpha=0.3, which="both")
    axes.legend()
    return figure
