"""Summary, learning-curve and per-class sections of the run report."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from reportlab.graphics.shapes import Drawing, Line, Rect
from reportlab.lib import colors
from reportlab.lib.units import cm
from reportlab.platypus import KeepTogether, ListFlowable, ListItem, Spacer

from gapdoctor.diagnosis import Finding, Fix
from gapdoctor.report import figures, figures_detail
from gapdoctor.report.context import Page
from gapdoctor.report.styles import IfFits, esc, fmt


def first_fixes(findings: list[Finding], count: int = 3) -> list[tuple[Finding, Fix]]:
    """Fixes to try first: round-robin over the reported findings, highest score first."""
    out: list[tuple[Finding, Fix]] = []
    depth = max((len(f.fixes) for f in findings), default=0)
    for level in range(depth):
        for finding in findings:
            if level < len(finding.fixes) and len(out) < count:
                out.append((finding, finding.fixes[level]))
    return out


def _certainty(page: Page) -> list[str]:
    """Escaped sentences on how much evidence the diagnosis could use."""
    run, d, theme = page.run, page.diagnosis, page.theme
    source = str(run.meta.get("source") or d.source or "unknown")
    described = theme.cfg.get("source", {}).get(source, source)
    notes = [f"The evidence came from {esc(described)}."]
    if d.skipped:
        names = ", ".join(esc(theme.label(s.get("cause", "?"))) for s in d.skipped)
        notes.append(f"{len(d.skipped)} of {len(d.skipped) + len(d.findings) + len(d.errors)} "
                     f"causes could not be checked for lack of data: {names} "
                     "(reasons in the appendix).")
    if d.errors:
        notes.append(f"{len(d.errors)} rule(s) failed with an error and were left out: "
                     + ", ".join(esc(e.get("cause", "?")) for e in d.errors) + ".")
    if run.failures:
        probes = sorted({str(f.get("probe", "?")) for f in run.failures})
        notes.append(f"{len(run.failures)} probe measurement(s) could not be recorded "
                     f"({esc(', '.join(probes))}).")
    if run.n_epochs < 5:
        notes.append(f"Only {run.n_epochs} epoch(s) were recorded; trends over so few points "
                     "are weak evidence.")
    reported = d.reported
    if len(reported) >= 2 and reported[0].score - reported[1].score < 0.1:
        notes.append(f"The top two causes score within 0.1 of each other "
                     f"({fmt(reported[0].score, 2)} vs {fmt(reported[1].score, 2)}); treat "
                     "them as joint suspects and check both.")
    for note in run.meta.get("notes") or []:
        notes.append(esc(note))
    if len(notes) == 1 and not d.skipped:
        notes.append("Every cause could be checked against the record.")
    return notes


def _bullets(page: Page, items: list[Any], numbered: bool = False) -> ListFlowable:
    theme = page.theme
    flow = [ListItem(i if not isinstance(i, str) else theme.para(i, "body", markup=True),
                     leftIndent=14) for i in items]
    kw = {"bulletType": "1", "bulletFormat": "%s."} if numbered else {"bulletType": "bullet",
                                                                       "start": "\u2022"}
    return ListFlowable(flow, bulletFontName=theme.font, bulletFontSize=8.5, leftIndent=14,
                        **kw)


def _bar(page: Page, score: float | None, reported: bool, width: float = 6.5 * cm) -> Drawing:
    """One score as a horizontal bar with the reporting threshold as a dashed line."""
    theme, threshold = page.theme, page.diagnosis.threshold
    figs = theme.cfg.get("figures", {})
    drawing = Drawing(width, 9)
    drawing.add(Rect(0, 1.5, width, 6, fillColor=theme.color("table_stripe"), strokeColor=None))
    if score is not None:
        fill = figs.get("bar_reported", "#d95f02") if reported else figs.get("bar", "#9db4d3")
        drawing.add(Rect(0, 1.5, max(0.5, score * width), 6, strokeColor=None,
                         fillColor=colors.HexColor(fill)))
    drawing.add(Line(threshold * width, 0, threshold * width, 9, strokeWidth=0.9,
                     strokeDashArray=[2, 1.5],
                     strokeColor=colors.HexColor(figs.get("threshold", "#b3261e"))))
    return drawing


def ranking(page: Page) -> Any:
    """Every cause that ran, ranked, with its score as a bar; causes not checked last."""
    d, theme = page.diagnosis, page.theme
    rows: list[list[Any]] = [["#", "cause", "score", f"score from 0 to 1; dashed line: "
                              f"reporting threshold {d.threshold:.2f}", "status"]]
    for k, f in enumerate(d.findings, start=1):
        status = "reported" if f.score >= d.threshold else "below threshold"
        rows.append([str(k), f.title or theme.label(f.cause), f"{f.score:.2f}",
                     _bar(page, f.score, f.score >= d.threshold), status])
    for s in d.skipped:
        rows.append(["", theme.label(s.get("cause", "?")), "n/a", _bar(page, None, False),
                     "not checked"])
    for e in d.errors:
        rows.append(["", theme.label(e.get("cause", "?")), "n/a", _bar(page, None, False),
                     "rule failed"])
    return theme.table(rows, [0.7 * cm, 4.6 * cm, 1.3 * cm, 6.9 * cm, 2.6 * cm],
                       extra=[("VALIGN", (0, 0), (-1, -1), "MIDDLE")])


def summary(page: Page) -> list[Any]:
    """Page 1: verdict, ranked causes, three fixes, how sure we are."""
    run, d, theme = page.run, page.diagnosis, page.theme
    out: list[Any] = [theme.para("Why is the validation metric stuck?", "title")]
    source = run.meta.get("source") or d.source or "unknown"
    out.append(theme.para(f"Run <b>{esc(run.name)}</b> · source: {esc(source)} · {run.n_epochs} "
                          f"epochs recorded · monitored metric: {esc(page.monitor or 'none')}",
                          "muted", markup=True))
    top = d.findings[0] if d.findings else None
    if d.verdict != "healthy" and top is not None:
        text = (f"<b>Most likely cause: {esc(top.title or theme.label(top.cause))}</b> "
                f"(score {top.score:.2f}). {esc(top.summary)}")
        out.append(theme.para(text, "verdict", markup=True))
    elif top is not None:
        out.append(theme.para(f"<b>No cause reached the reporting threshold "
                              f"({d.threshold:.2f}).</b> The strongest signal was "
                              f"{esc(top.title or theme.label(top.cause))} at {top.score:.2f}; "
                              "on this evidence the run looks healthy.", "healthy", markup=True))
    else:
        out.append(theme.para("<b>No diagnosis: none of the causes could be checked on this "
                              "record.</b> See below for what was missing.", "healthy",
                              markup=True))
    out += [Spacer(1, 4), theme.para(page.headline(), "body", markup=True)]
    out.append(theme.para("How the causes rank", "h2"))
    if d.findings or d.skipped or d.errors:
        out.append(ranking(page))
    if not d.findings:
        out.append(theme.para("No rule could run on this record, so no cause was scored.",
                              "body"))
    out.append(theme.para("What to try first", "h2"))
    fixes = first_fixes(d.reported)
    if fixes:
        items = [f"<b>{esc(fix.title)}</b> ({esc(theme.label(f.cause))}). {esc(fix.why)}"
                 for f, fix in fixes]  # the cause in brackets also ends the title
        out.append(_bullets(page, items, numbered=True))
        out.append(theme.para("The Keras code for each fix is in the Findings section.",
                              "muted"))
    elif d.findings:
        out.append(theme.para("Nothing reached the threshold, so there is nothing urgent to "
                              "change. Keep an eye on the highest-scoring cause if the gap "
                              "grows in later runs.", "body"))
    else:
        out.append(theme.para("Nothing can be recommended without evidence. Training with the "
                              "gapdoctor callback records per-class, per-sample and per-layer "
                              "measurements, which lets every cause be checked.", "body"))
    out.append(theme.para("How sure we are", "h2"))
    out.append(_bullets(page, _certainty(page)))
    if not page.curves.empty and figures.metric_pairs(page.curves):
        glance = figures.glance_figure(page.curves, page.best[0], page.monitor, theme)
        out.append(IfFits([theme.para("At a glance", "h2"), glance]))
    return out


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
        lower = "loss" in name or name.endswith(("mae", "mse", "error"))
        best_epoch = (val.idxmin() if lower else val.idxmax()) if not val.empty else None
        rows.append([name, fmt(train.iloc[-1]) if len(train) else "n/a",
                     fmt(val.iloc[-1]) if len(val) else "n/a",
                     fmt(val[best_epoch]) if best_epoch is not None else "n/a",
                     str(best_epoch) if best_epoch is not None else "n/a"])
    out.append(Spacer(1, 4))
    out.append(page.theme.table(rows, [5.5 * cm, 2.8 * cm, 2.8 * cm, 2.8 * cm, 2 * cm]))
    out.append(page.theme.para("Epochs are counted from 0, as in Keras logs and CSVLogger "
                               "files.", "muted"))
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
    order = np.dstack(np.unravel_index(np.argsort(-off, axis=None), off.shape))[0][:6]
    rows = [["true class", "predicted as", "count", "share of the true class"]]
    for r, c in order:
        if off[r, c] <= 0:
            break
        rows.append([page.class_name(r), page.class_name(c), fmt(off[r, c]),
                     f"{off[r, c] / rows_total[r]:.0%}" if rows_total[r] else "n/a"])
    return [page.theme.para(f"Most frequent validation mistakes at {epoch_label}", "h2"),
            page.theme.table(rows, [5.5 * cm, 5.5 * cm, 1.8 * cm, 3.6 * cm])]


def per_class(page: Page) -> list[Any]:
    """Section 2: per-class recall/F1 heat maps, confusion at the best epoch, train vs val."""
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
