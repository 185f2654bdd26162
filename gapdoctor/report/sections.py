"""Learning-curve and per-class sections of the run report."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from reportlab.lib.units import cm
from reportlab.platypus import KeepTogether, Spacer

from gapdoctor.report import figures, figures_detail
from gapdoctor.report.context import Page
from gapdoctor.report.styles import esc, fmt


def curves(page: Page) -> list[Any]:
    """Section 1: loss and metrics per epoch, the gap and the learning rate."""
    out = page.h1("curves", "Learning curves")
    data = page.curves
    if data.empty or not figures.metric_pairs(data):
        return out + [page.missing("curves", "No per-epoch curves were recorded.")]
    best, _ = page.best
    out.append(figures.curves_figure(data, best, page.theme))
    rows = [["metric", "train (last)", "validation (last)", "validation (best)", "best epoch"]]
    for name in figures.metric_pairs(data):
        train = data[name].dropna() if name in data else pd.Series(dtype=float)
        val = data[f"val_{name}"].replace([np.inf, -np.inf], np.nan).dropna() \
            if f"val_{name}" in data else pd.Series(dtype=float)
        mode = page.mode(f"val_{name}")
        best_epoch = None if val.empty or mode == "unknown" else (
            val.idxmin() if mode == "min" else val.idxmax())
        rows.append([name, fmt(train.iloc[-1]) if len(train) else "n/a",
                     fmt(val.iloc[-1]) if len(val) else "n/a",
                     fmt(val[best_epoch]) if best_epoch is not None else "n/a",
                     str(best_epoch) if best_epoch is not None else "n/a"])
    out.append(Spacer(1, 4))
    out.append(page.theme.table(rows, [5.5 * cm, 2.8 * cm, 2.8 * cm, 2.8 * cm, 2 * cm]))
    note = "Epochs are counted from 0, as in Keras logs and CSVLogger files."
    column, constant = figures.learning_rate(data)
    if constant is not None:
        note = f"The learning rate stayed at {fmt(constant)} throughout. " + note
    elif column is None:
        note = "The learning rate was not recorded. " + note
    out.append(page.theme.para(note, "muted"))
    return out


def _recall_from_confusion(conf: np.ndarray) -> np.ndarray:
    conf = np.asarray(conf, dtype=float)
    rows = conf.sum(axis=1)
    return np.divide(np.diag(conf), rows, out=np.full(len(rows), np.nan), where=rows > 0)


def _confused_pairs(page: Page, confusion: np.ndarray, epoch_label: str) -> list[Any]:
    """The validation mistakes that happen most often, as a small table."""
    counts = np.asarray(confusion, dtype=float)
    off = counts.copy()
    np.fill_diagonal(off, 0)
    if not np.nansum(off):
        return []
    rows_total = counts.sum(axis=1)
    order = np.dstack(np.unravel_index(np.argsort(-off, axis=None), off.shape))[0][:5]
    rows = [["true class", "predicted as", "count", "share of the true class"]]
    for r, c in order:
        if off[r, c] <= 0:
            break
        rows.append([page.class_name(r), page.class_name(c), fmt(off[r, c]),
                     f"{off[r, c] / rows_total[r]:.0%}" if rows_total[r] else "n/a"])
    return [page.theme.para(f"Most frequent validation mistakes at {epoch_label}", "h2"),
            page.theme.table(rows, [5.5 * cm, 5.5 * cm, 1.8 * cm, 3.6 * cm])]


def slices(page: Page) -> list[Any]:
    """User-given validation slices (``groups`` table): accuracy and loss at the last epoch."""
    groups = page.run.groups
    if not page.run.has("groups") or not {"epoch", "group"} <= set(groups.columns):
        return []
    last = groups[groups["epoch"] == groups["epoch"].max()]
    rows = [["validation slice", "samples", "accuracy", "loss"]]
    for _, row in last.iterrows():
        rows.append([str(row["group"]), fmt(row.get("n")), fmt(row.get("accuracy")),
                     fmt(row.get("loss"))])
    return [page.theme.para(f"Validation slices at epoch {fmt(groups['epoch'].max())}", "h2"),
            page.theme.table(rows, [7 * cm, 2.4 * cm, 2.4 * cm, 2.4 * cm])]


def per_class(page: Page) -> list[Any]:
    """Section 2: per-class recall/F1 heat maps, confusion at the best epoch, train vs val,
    and the user's validation slices."""
    return _per_class(page) + slices(page)


def _per_class(page: Page) -> list[Any]:
    run, theme = page.run, page.theme
    out = page.h1("per_class", "Per class")
    table = run.per_class if run.has("per_class") else pd.DataFrame()
    conf_val, conf_train = run.arrays.get("confusion_val"), run.arrays.get("confusion_train")
    names = page.class_names
    if table.empty and (conf_val is None or conf_val.ndim != 3 or not conf_val.size):
        return out + [page.missing("per_class", "No per-class measurements were recorded.")]
    best, _ = page.best
    heat: list[tuple[str, pd.DataFrame]] = []
    val = table[table["split"].astype(str) == "val"] if "split" in table else pd.DataFrame()
    for metric in ("recall", "f1"):
        if not val.empty and metric in val and val[metric].notna().any():
            grid = val.pivot_table(index="class_index", columns="epoch", values=metric)
            heat.append((f"validation {metric} per class", grid.sort_index()))
    if not heat and conf_val is not None and conf_val.ndim == 3 and conf_val.size:
        grid = pd.DataFrame(np.array([_recall_from_confusion(c) for c in conf_val]).T)
        heat.append(("validation recall per class (from confusion)", grid))
    if heat and names:
        out += [figures_detail.per_class_heat(heat, names, best, theme), Spacer(1, 3)]
        grid = heat[0][1]
        column = best if best in grid.columns else grid.columns[-1]
        worst = grid[column].dropna().sort_values().head(3)
        text = ", ".join(f"{esc(page.class_name(i))} ({fmt(v, 2)})" for i, v in worst.items())
        out.append(theme.para(f"Lowest {esc(heat[0][0].split(' per')[0])} at epoch "
                              f"{column}: {text}.", "body", markup=True))
    confusion, epoch_label = None, ""
    if conf_val is not None and conf_val.ndim == 3 and len(conf_val):
        index = best if best is not None and best < len(conf_val) else len(conf_val) - 1
        confusion, epoch_label = conf_val[index], f"epoch {index}" + (
            " (best)" if index == best else " (last)")
    split = None
    if "split" in table and {"train", "val"} <= set(table["split"].astype(str)):
        last = min(table[table["split"] == s]["epoch"].max() for s in ("train", "val"))
        rows = table[table["epoch"] == last]
        split = rows.pivot_table(index="class_index", columns="split", values="recall")
    elif conf_train is not None and conf_val is not None and conf_train.ndim == 3 \
            and len(conf_train) and len(conf_val):
        split = pd.DataFrame({"train": pd.Series(_recall_from_confusion(conf_train[-1])),
                              "val": pd.Series(_recall_from_confusion(conf_val[-1]))})
    drawn = split
    if split is not None and len(split) > 30 and {"train", "val"} <= set(split.columns):
        keep = (split["train"] - split["val"]).fillna(0).sort_values(ascending=False).index[:25]
        drawn = split.loc[sorted(keep)]
    if (confusion is not None or split is not None) and names:
        out.append(KeepTogether([figures_detail.confusion_and_split(
            confusion, names, drawn, epoch_label, theme)]))
    if split is not None and {"train", "val"} <= set(split.columns):
        gap = (split["train"] - split["val"]).dropna().sort_values(ascending=False)
        gap = gap[gap > 0.05].head(3)
        text = ", ".join(f"{esc(page.class_name(i))} ({fmt(v, 2)})" for i, v in gap.items())
        out.append(theme.para(
            f"Classes the model knows on the training probe but not on validation (recall "
            f"gap at the last epoch): {text}." if len(gap) else "Training-probe and validation "
            "recall agree within 0.05 for every class at the last epoch.", "body",
            markup=True))
    if confusion is not None:
        out += _confused_pairs(page, confusion, epoch_label)
    return out
