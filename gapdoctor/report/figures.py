"""The report's curve figures: losses and metrics, gaps, the first page's glance, the
overview's small multiples and score matrix (plumbing in ``canvas.py``, other sections'
figures in ``figures_detail.py``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator
from reportlab.platypus import Image

from gapdoctor.record.schema import metric_mode
from gapdoctor.report.canvas import (
    adjust,
    fig_cfg,
    log_y,
    mpl_text,
    new_figure,
    styled,
    text_cm,
    to_image,
)
from gapdoctor.report.styles import Theme


def _series(curves: pd.DataFrame, column: str) -> pd.Series:
    values = pd.to_numeric(curves[column], errors="coerce").replace([np.inf, -np.inf], np.nan)
    return values.dropna()


def _plot(ax: Any, series: pd.Series, color: str, label: str, style: str = "-") -> None:
    marker = "o" if len(series) <= 40 else None
    ax.plot(series.index, series.values, style, color=color, label=label, marker=marker)
    ax.xaxis.set_major_locator(MaxNLocator(8, integer=True))
    if len(series) == 1:  # one point: give the epoch axis a readable width
        ax.set_xlim(series.index[0] - 1, series.index[0] + 1)


def metric_pairs(curves: pd.DataFrame) -> list[str]:
    """Training metric names that have a finite series (``loss`` first, then metrics)."""
    names = []
    for col in curves.columns:
        col = str(col)
        if col.startswith("val_") or col in ("lr", "learning_rate", "epoch_time", "epoch"):
            continue
        if not _series(curves, col).empty or (f"val_{col}" in curves
                                               and not _series(curves, f"val_{col}").empty):
            names.append(col)
    names = sorted(names, key=lambda n: n != "loss")
    orphans = [str(c)[4:] for c in curves.columns if str(c).startswith("val_")
               and str(c)[4:] not in curves.columns and not _series(curves, str(c)).empty]
    return names + orphans


def learning_rate(curves: pd.DataFrame) -> tuple[str | None, float | None]:
    """The learning-rate column, and its value when it never changed (else None)."""
    column = next((c for c in ("lr", "learning_rate") if c in curves
                   and not _series(curves, c).empty), None)
    if column is None:
        return None, None
    series = _series(curves, column)
    constant = series.max() - series.min() <= 1e-12 * max(abs(series.max()), 1e-30)
    return column, float(series.iloc[0]) if constant else None


def gaps(curves: pd.DataFrame, names: list[str]) -> list[tuple[str, pd.Series]]:
    """(label, series) of each metric's gap, positive when validation is worse."""
    out = []
    for name in names:
        if name in curves and f"val_{name}" in curves:
            gap = (pd.to_numeric(curves[f"val_{name}"], errors="coerce")
                   - pd.to_numeric(curves[name], errors="coerce"))
            mode = metric_mode(name)
            if mode == "unknown":
                continue  # no direction, no meaningful "worse" side to plot
            worse = mode == "min"
            gap = (gap if worse else -gap).replace([np.inf, -np.inf], np.nan).dropna()
            if not gap.empty:
                out.append((f"{name}: val - train" if worse else f"{name}: train - val", gap))
    return out


def gap_title(series: list[pd.Series]) -> str:
    """A title that says what the sign of the plotted gaps means for these values."""
    values = np.concatenate([s.to_numpy(dtype=float) for s in series]) if series else []
    above, below = bool(np.any(np.asarray(values) > 0)), bool(np.any(np.asarray(values) < 0))
    if below and not above:
        return "gap: validation ahead of training\n(every value below 0)"
    if above and below:
        return "gap: validation behind\ntraining (> 0) or ahead (< 0)"
    return "gap: how far validation is\nbehind training"


@styled
def curves_figure(curves: pd.DataFrame, best_epoch: int | None, theme: Theme,
                  max_metrics: int = 5) -> Image:
    """Loss and each metric (train vs val), the gaps, and a changing learning rate."""
    cfg = fig_cfg(theme)
    train_c, val_c = cfg.get("train", "#1f77b4"), cfg.get("val", "#d62728")
    names = metric_pairs(curves)[: max_metrics + 1]
    lr_col, constant = learning_rate(curves)
    show_lr = lr_col is not None and constant is None  # a constant rate is a sentence
    panels = [("metric", n) for n in names] + [("gap", None)] + ([("lr", lr_col)] if show_lr
                                                                 else [])
    ncols = 2 if len(panels) in (2, 4) else 3
    nrows = (len(panels) + ncols - 1) // ncols
    fig = new_figure(theme, 4.6 * nrows + 0.4, layout=None)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    adjust(fig, nrows, ncols, top=0.85, hgap=1.9, wgap=1.4 if ncols == 3 else 1.6)
    for ax, (kind, name) in zip(axes, panels, strict=False):
        if kind == "metric":
            for col, color, label in ((name, train_c, "train"), (f"val_{name}", val_c, "validation")):
                if col in curves and not _series(curves, col).empty:
                    _plot(ax, _series(curves, col), color, label)
            ax.set_title(mpl_text(name, 40))
        elif kind == "gap":
            drawn = gaps(curves, names[:3])
            for (label, gap), color in zip(drawn, ("#6a3d9a", "#ff7f00", "#a6761d"),
                                           strict=False):
                _plot(ax, gap, color, mpl_text(label, 30))
            ax.axhline(0, color="#444444", linewidth=0.6)
            ax.set_title(gap_title([g for _, g in drawn]))
        else:
            _plot(ax, _series(curves, name), cfg.get("lr", "#2ca02c"), "learning rate")
            series = _series(curves, name)
            if (series > 0).all() and series.max() / max(series.min(), 1e-30) > 20:
                log_y(ax)
            ax.set_title("learning rate")
        if best_epoch is not None:
            ax.axvline(best_epoch, color=cfg.get("best", "#888888"), linestyle=":", linewidth=1)
        ax.set_xlabel("epoch")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="best", frameon=False)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    return to_image(fig, theme)


@styled
def glance_figure(curves: pd.DataFrame, best_epoch: int | None, monitor: str | None,
                  theme: Theme) -> Image:
    """Two small panels for the summary page: loss, and the monitored metric (train vs val)."""
    cfg = fig_cfg(theme)
    names = ["loss"] + ([monitor[4:]] if monitor and monitor.startswith("val_")
                        and monitor != "val_loss" else [])
    fig = new_figure(theme, 4.6, layout=None)
    axes = fig.subplots(1, len(names), squeeze=False).ravel()
    adjust(fig, 1, len(names), top=0.5, bottom=0.85)
    for ax, name in zip(axes, names, strict=False):
        for col, color, label in ((name, cfg.get("train", "#1f77b4"), "train"),
                                  (f"val_{name}", cfg.get("val", "#d62728"), "validation")):
            if col in curves and not _series(curves, col).empty:
                _plot(ax, _series(curves, col), color, label)
        if best_epoch is not None:
            ax.axvline(best_epoch, color=cfg.get("best", "#888888"), linestyle=":", linewidth=1)
        ax.set_title(mpl_text(name, 40))
        ax.set_xlabel("epoch")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="best", frameon=False)
    return to_image(fig, theme)


@styled
def small_multiples(items: list[dict[str, Any]], theme: Theme, ncols: int = 4) -> Image:
    """One small validation-curve panel per run: ``{title, subtitle, series: [(label, s)]}``."""
    cfg = fig_cfg(theme)
    nrows = max(1, (len(items) + ncols - 1) // ncols)
    fig = new_figure(theme, 3.7 * nrows + 0.3, 25.5, layout=None)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    adjust(fig, nrows, ncols, left=0.9, right=0.2, top=0.85, bottom=0.55, wgap=1.0, hgap=1.35)
    colors = (cfg.get("val", "#d62728"), cfg.get("train", "#1f77b4"))
    for ax, item in zip(axes, items, strict=False):
        for (label, series), color in zip(item["series"], colors, strict=False):
            style = "-" if label.startswith("val") else "--"
            _plot(ax, series, color, mpl_text(label, 24), style)
        if item.get("best") is not None:
            ax.axvline(item["best"], color=cfg.get("best", "#888888"), linestyle=":",
                       linewidth=0.8)
        ax.set_title(mpl_text(item["title"], 34) + "\n" + mpl_text(item["subtitle"], 40),
                     fontsize=6.5)
        ax.tick_params(labelsize=5.5)
        if len(items) <= 4 and ax.get_legend_handles_labels()[0]:
            ax.legend(loc="best", frameon=False, fontsize=5)
    for ax in axes[len(items):]:
        ax.set_visible(False)
    return to_image(fig, theme)


@styled
def score_matrix(names: list[str], causes: list[str], scores: np.ndarray, threshold: float,
                 theme: Theme) -> Image:
    """Runs x causes heat map of scores, cells at or above the threshold outlined."""
    fig = new_figure(theme, 1.6 + 0.36 * len(names), 25.5, layout=None)
    ax = fig.add_subplot()
    row_w = text_cm([mpl_text(n, 36) for n in names], 6)
    adjust(fig, 1, 1, left=row_w + 0.4, right=0.3, top=1.1, bottom=0.2)
    ax.imshow(np.nan_to_num(scores), cmap="Oranges", vmin=0, vmax=1, aspect="auto")
    for (i, j), value in np.ndenumerate(scores):
        if np.isfinite(value):
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=5.5,
                    color="white" if value > 0.65 else "#222222",
                    fontweight="bold" if value >= threshold else "normal")
    ax.set_xticks(range(len(causes)), [mpl_text(c, 22) for c in causes])
    ax.set_yticks(range(len(names)), [mpl_text(n, 36) for n in names])
    ax.xaxis.tick_top()
    ax.tick_params(labelsize=6, length=0)
    ax.grid(False)
    return to_image(fig, theme)
