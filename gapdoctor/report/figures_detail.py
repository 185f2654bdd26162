"""Figures of the per-class, inside-the-model and data sections (see ``figures.py``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator
from reportlab.platypus import Image

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

MANY_CLASSES = 30  # above this, x axes show class indices instead of rotated names


def _class_ticks(ax: Any, names: list[str], axis: str = "y", limit: int = 36) -> None:
    if (axis == "x" or limit < MANY_CLASSES) and len(names) > MANY_CLASSES:
        (ax.xaxis if axis == "x" else ax.yaxis).set_major_locator(MaxNLocator(8, integer=True))
        return
    step = max(1, int(np.ceil(len(names) / limit)))
    ticks = list(range(0, len(names), step))
    labels = [mpl_text(names[i], 18) for i in ticks]
    if axis == "y":
        ax.set_yticks(ticks, labels)
    else:
        ax.set_xticks(ticks, labels, rotation=60, ha="right", rotation_mode="anchor")


@styled
def per_class_heat(tables: list[tuple[str, pd.DataFrame]], names: list[str],
                   best_epoch: int | None, theme: Theme) -> Image:
    """Heat maps (class x epoch) of validation recall / F1, one panel per given table."""
    cfg = fig_cfg(theme)
    rows = [names[int(i)] if int(i) < len(names) else str(i) for i in tables[0][1].index]
    label_w = text_cm([mpl_text(n, 18) for n in rows])
    fig = new_figure(theme, min(2.2 + 0.26 * min(len(rows), 40), 12.5), layout=None)
    axes = fig.subplots(1, len(tables), squeeze=False, sharey=True).ravel()
    adjust(fig, 1, len(tables), left=label_w + 0.45, right=1.6, wgap=0.5)
    image = None
    for ax, (title, table) in zip(axes, tables, strict=False):
        data = table.to_numpy(dtype=float)
        image = ax.imshow(data, aspect="auto", cmap=cfg.get("heat_cmap", "viridis"),
                          vmin=0, vmax=1, interpolation="nearest",
                          extent=(table.columns[0] - 0.5, table.columns[-1] + 0.5,
                                  len(table.index) - 0.5, -0.5))
        if best_epoch is not None:
            ax.axvline(best_epoch, color="white", linestyle=":", linewidth=1)
        if len(table.columns) < 8:
            ax.set_xticks(list(table.columns))
        else:
            ax.xaxis.set_major_locator(MaxNLocator(8, integer=True))
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.grid(False)
    _class_ticks(axes[0], rows)
    if image is not None:
        box = axes[-1].get_position()
        cax = fig.add_axes((box.x1 + 0.012, box.y0, 0.012, box.height))
        fig.colorbar(image, cax=cax)
    return to_image(fig, theme)


@styled
def confusion_and_split(confusion: np.ndarray | None, names: list[str],
                        split: pd.DataFrame | None, epoch_label: str, theme: Theme) -> Image:
    """Row-normalised confusion matrix, and train-probe vs validation recall per class."""
    cfg = fig_cfg(theme)
    panels = int(confusion is not None) + int(split is not None)
    n = len(names)
    label_w = text_cm([mpl_text(x, 18) for x in names])
    rotated = label_w * 0.87 if n <= MANY_CLASSES else 0.3
    fig = new_figure(theme, (6.8 if n <= 12 else 10.5) + (rotated if confusion is not None
                                                           else 0), layout=None)
    axes = fig.subplots(1, panels, squeeze=False).ravel()
    left = label_w + 0.75 if n <= MANY_CLASSES or confusion is None else 1.2
    adjust(fig, 1, panels, left=left, wgap=label_w + 0.7, top=1.0,
           bottom=(rotated + 1.0) if confusion is not None else 0.9)
    i = 0
    if confusion is not None:
        ax = axes[i]
        i += 1
        counts = np.asarray(confusion, dtype=float)
        rows = counts.sum(axis=1, keepdims=True)
        share = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
        ax.imshow(share, cmap=cfg.get("confusion_cmap", "Blues"), vmin=0, vmax=1)
        if n <= 15:
            for (r, c), value in np.ndenumerate(counts):
                if value:
                    ax.text(c, r, f"{int(value)}", ha="center", va="center", fontsize=5.5,
                            color="white" if share[r, c] > 0.6 else "#222222",
                            in_layout=False)
        _class_ticks(ax, names[: counts.shape[0]], "y", MANY_CLASSES - 1)
        _class_ticks(ax, names[: counts.shape[1]], "x")
        ax.set_ylabel("true class" + (" (index)" if n > MANY_CLASSES else ""))
        ax.set_xlabel("predicted class" + (" (index)" if n > MANY_CLASSES else ""))
        ax.set_title(f"validation confusion at {epoch_label}\n"
                     f"{'counts; ' if n <= 15 else ''}colour = share of the true class")
        ax.grid(False)
    if split is not None:
        ax = axes[i]
        y = np.arange(len(split.index))
        for offset, col, color in ((-0.2, "train", cfg.get("train", "#1f77b4")),
                                   (0.2, "val", cfg.get("val", "#d62728"))):
            if col in split:
                label = "train probe" if col == "train" else "validation"
                ax.barh(y + offset, split[col].to_numpy(dtype=float), height=0.38,
                        color=color, label=label)
        _class_ticks(ax, [names[int(k)] if int(k) < n else str(k) for k in split.index])
        ax.invert_yaxis()
        ax.set_xlim(0, 1.05)
        ax.set_xlabel("recall")
        ax.set_title("recall per class: train probe vs validation" + (
            f"\n({len(split)} classes with the largest gap)" if n > len(split) else ""), pad=13)
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False,
                  borderaxespad=0.1)
    return to_image(fig, theme)


@styled
def layers_figure(layers: pd.DataFrame, theme: Theme) -> Image:
    """Grad norm, update ratio and dead fraction per layer over epochs."""
    limit = int(fig_cfg(theme).get("max_layers", 10))
    frame = layers.reset_index(drop=True)
    for col in ("grad_norm", "update_ratio", "dead_fraction", "epoch"):
        if col in frame:
            frame[col] = pd.to_numeric(frame[col], errors="coerce")
    order = list(dict.fromkeys(frame["layer"].astype(str)))
    if "grad_norm" in frame and len(order) > limit:
        means = frame.groupby(frame["layer"].astype(str))["grad_norm"].mean()
        keep = set(means.sort_values(ascending=False).index[:limit])
        order = [name for name in order if name in keep]
    panels = [(c, t) for c, t in (("grad_norm", "gradient norm"),
                                  ("update_ratio", "update ratio |dW| / |W|"),
                                  ("dead_fraction", "dead-unit fraction"))
              if c in frame and frame[c].notna().any()]
    ncol = 5 if max((len(n) for n in order), default=0) <= 16 else 3
    legend_rows = (len(order) + ncol - 1) // ncol
    fig = new_figure(theme, 6.2 + 0.4 * legend_rows, layout=None)
    axes = fig.subplots(1, max(1, len(panels)), squeeze=False).ravel()
    adjust(fig, 1, max(1, len(panels)), bottom=1.1 + 0.4 * legend_rows, wgap=1.5)
    palette = [f"C{i}" for i in range(10)]
    for ax, (col, title) in zip(axes, panels, strict=False):
        for k, name in enumerate(order):
            rows = frame[frame["layer"].astype(str) == name].sort_values("epoch")
            values = rows[col].replace([np.inf, -np.inf], np.nan)
            ax.xaxis.set_major_locator(MaxNLocator(6, integer=True))
            ax.plot(rows["epoch"], values, color=palette[k % 10],
                    linestyle="-" if k < 10 else "--", label=mpl_text(name, 34),
                    marker="o" if len(rows) <= 30 else None)
        positive = frame[col][frame[col] > 0]
        if col != "dead_fraction" and len(positive) and positive.max() / positive.min() > 50:
            log_y(ax)
        if col == "dead_fraction":
            ax.set_ylim(-0.02, 1.02)
        ax.set_title(title)
        ax.set_xlabel("epoch")
    handles, labels = axes[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="lower center", ncol=min(ncol, len(labels)),
                   frameon=False, bbox_to_anchor=(0.5, 0.0))
    return to_image(fig, theme)


@styled
def data_figure(labels: tuple[list[str], np.ndarray, np.ndarray] | None,
                shift: list[tuple[str, float]] | None, theme: Theme) -> Image:
    """Label shares train vs val and the most shifted features (standardised difference)."""
    cfg = fig_cfg(theme)
    panels = int(labels is not None) + int(bool(shift))
    label_w = text_cm([mpl_text(x, 18) for x in labels[0]]) \
        if labels is not None and len(labels[0]) <= MANY_CLASSES else 0.3
    shift_w = text_cm([mpl_text(x, 20) for x, _ in shift or []])
    fig = new_figure(theme, 5.4 + label_w * 0.75, layout=None)
    axes = fig.subplots(1, panels, squeeze=False).ravel()
    adjust(fig, 1, panels, left=(1.3 if labels is not None else shift_w + 0.5), top=1.0,
           wgap=shift_w + 0.6, bottom=label_w * 0.75 + 1.0)
    i = 0
    if labels is not None:
        names, train, val = labels
        ax = axes[i]
        i += 1
        x = np.arange(len(names))
        for offset, counts, color, label in ((-0.2, train, cfg.get("train", "#1f77b4"), "train"),
                                             (0.2, val, cfg.get("val", "#d62728"), "validation")):
            total = counts.sum()
            ax.bar(x + offset, counts / total if total else counts, width=0.38, color=color,
                   label=label)
        _class_ticks(ax, names, "x", 30)
        if len(names) > MANY_CLASSES:
            ax.set_xlabel("class index")
        ax.set_ylabel("share of samples")
        ax.set_title("label distribution", pad=13)
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False,
                  borderaxespad=0.1)
    if shift:
        ax = axes[i]
        names2 = [mpl_text(n, 20) for n, _ in shift][::-1]
        values = [v for _, v in shift][::-1]
        ax.barh(range(len(values)), values,
                color=[cfg.get("val", "#d62728") if abs(v) >= 0.25 else cfg.get("bar", "#9db4d3")
                       for v in values])
        ax.set_yticks(range(len(values)), names2)
        ax.axvline(0, color="#444444", linewidth=0.6)
        for edge in (-0.25, 0.25):
            ax.axvline(edge, color="#999999", linestyle=":", linewidth=0.8)
        ax.set_xlabel("(mean val - mean train) / pooled std")
        ax.set_title("most shifted features")
    return to_image(fig, theme)
