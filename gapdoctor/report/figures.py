"""Matplotlib figures rendered to in-memory PNGs, wrapped as reportlab ``Image`` flowables.

Figures are built with ``matplotlib.figure.Figure`` and the Agg canvas directly, so no
pyplot state, GUI backend or global ``rcParams`` are touched.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import LogFormatter, MaxNLocator, NullLocator
from reportlab.lib.units import cm
from reportlab.platypus import Image

from gapdoctor.record.schema import metric_mode
from gapdoctor.report.styles import Theme

_RC = {"font.size": 7.5, "axes.titlesize": 8, "axes.labelsize": 7.5, "xtick.labelsize": 6.5,
       "ytick.labelsize": 6.5, "legend.fontsize": 6.5, "axes.spines.top": False,
       "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.25,
       "grid.linewidth": 0.5, "lines.linewidth": 1.3, "lines.markersize": 2.5}


def fig_cfg(theme: Theme) -> dict[str, Any]:
    return theme.cfg.get("figures", {})


def mpl_text(value: Any, limit: int = 28) -> str:
    """A label matplotlib shows literally (no mathtext), shortened in the middle to ``limit``
    characters so that both the start and the distinguishing end stay visible."""
    text = str(value).replace("\n", " ")
    if len(text) > limit:
        head = (limit - 1) // 2
        text = text[:head] + "\u2026" + text[len(text) - (limit - 1 - head):]
    return text.replace("$", r"\$")


def new_figure(theme: Theme, height_cm: float, width_cm: float | None = None,
               layout: str | None = "constrained") -> Figure:
    """A figure sized in centimetres; ``layout=None`` for a fixed grid (see ``adjust``)."""
    width = width_cm or float(fig_cfg(theme).get("width_cm", 17.5))
    fig = Figure(figsize=(width / 2.54, height_cm / 2.54), layout=layout)
    FigureCanvasAgg(fig)
    return fig


def text_cm(labels: list[str], points: float = 6.5) -> float:
    """Rough width in cm of the longest label (DejaVu Sans averages ~0.58 em per char)."""
    longest = max((len(str(label)) for label in labels), default=0)
    return longest * points * 0.58 / 72 * 2.54


def adjust(fig: Figure, nrows: int, ncols: int, left: float = 1.3, right: float = 0.3,
           bottom: float = 0.9, top: float = 0.55, wgap: float = 1.6,
           hgap: float = 1.35) -> None:
    """Place a subplot grid with margins and gaps in centimetres (constrained layout costs
    about as much as drawing the figure twice; fixed-label figures do not need it)."""
    width, height = (v * 2.54 for v in fig.get_size_inches())
    cell_w = (width - left - right - wgap * (ncols - 1)) / ncols
    cell_h = (height - bottom - top - hgap * (nrows - 1)) / nrows
    fig.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height,
                        top=1 - top / height, wspace=wgap / cell_w, hspace=hgap / cell_h)


def to_image(fig: Figure, theme: Theme) -> Image:
    """Render ``fig`` and return it as a flowable at its design size.

    The pixels go to reportlab as a binary PPM (RGB, uncompressed). reportlab decodes any
    image it is given and deflates the RGB samples itself, so compressing a PNG first was
    wasted work, and a PNG's alpha channel became a soft mask in the PDF, a second image
    to split off, digest and deflate while the report is assembled (after the diagnosis,
    so on the critical path). The figures are opaque (white face): the same pixels show.
    """
    from PIL import Image as Pixels  # matplotlib's own dependency, loaded with it

    if not titles_clear(fig):
        raise _TitleNeedsRoom
    dpi = int(fig_cfg(theme).get("dpi", 120))
    raw = io.BytesIO()
    fig.savefig(raw, format="rgba", dpi=dpi)  # the Agg buffer that PNG would encode
    renderer = fig.canvas.get_renderer()
    size = (int(renderer.width), int(renderer.height))
    buffer = io.BytesIO()
    Pixels.frombuffer("RGBA", size, raw.getbuffer(), "raw", "RGBA", 0, 1) \
        .convert("RGB").save(buffer, format="PPM")
    width, height = fig.get_size_inches()
    buffer.seek(0)
    return Image(buffer, width=width * 2.54 * cm, height=height * 2.54 * cm)


class _TitleNeedsRoom(Exception):
    """Something sits above an axes (see ``titles_clear``): draw the figure again with
    titles that matplotlib places itself."""


def titles_clear(fig: Figure) -> bool:
    """Whether every titled axes of ``fig`` is free above its top edge: no tick labels or
    axis label on top, no offset text ("1e-5", "+1e3") over the y axis. Unless the report's
    rc context says otherwise (``axes.titley``), matplotlib searches for a free place above
    each axes at every draw, measuring every tick label (a tenth of the report's drawing
    time); where nothing is up there, that search finds the default place, so the figures
    are drawn with titles fixed at the top edge, and again without that when this says no.
    """
    import matplotlib

    if matplotlib.rcParams["axes.titley"] is None:  # placed by matplotlib already
        return True
    for ax in fig.axes:
        if not any(ax.get_title(loc) for loc in ("left", "center", "right")):
            continue
        if (ax.xaxis.get_ticks_position() in ("top", "unknown")
                or ax.xaxis.get_label_position() == "top"):
            return False
        formatter = ax.yaxis.get_major_formatter()
        formatter.set_locs(ax.yaxis.get_majorticklocs())
        if formatter.get_offset():
            return False
    return True


def styled(func: Any) -> Any:
    """Run a figure builder inside the report's rc context (restored afterwards), with
    titles fixed at the top edge of their axes unless ``titles_clear`` says no."""
    import matplotlib

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with matplotlib.rc_context({**_RC, "axes.titley": 1.0}):
                return func(*args, **kwargs)
        except _TitleNeedsRoom:
            with matplotlib.rc_context(_RC):
                return func(*args, **kwargs)

    wrapper.__doc__ = func.__doc__
    return wrapper


def log_y(ax: Any) -> None:
    """A log-scaled y axis with plain-text labels ("1e-03"): the default 10^x labels go
    through mathtext, whose parser costs a third of a second to build in each process."""
    ax.set_yscale("log")
    ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(LogFormatter())


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
