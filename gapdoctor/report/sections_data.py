"""Inside-the-model and data sections of the run report."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from reportlab.lib.units import cm
from reportlab.platypus import KeepTogether

from gapdoctor.analysis.classes import label_counts
from gapdoctor.analysis.off_support import K
from gapdoctor.report import figures_detail
from gapdoctor.report.context import Page
from gapdoctor.report.styles import esc, fmt


def model(page: Page) -> list[Any]:
    """Section 3: per-layer gradient norms, update ratios and dead units over epochs."""
    run, theme = page.run, page.theme
    out = page.h1("model", "Inside the model")
    layers = run.layers if run.has("layers") else pd.DataFrame()
    needed = {"epoch", "layer"}
    if layers.empty or not needed <= set(layers.columns):
        return out + [page.missing("model", "No per-layer measurements were recorded.")]
    out.append(figures_detail.layers_figure(layers, theme))
    frame = layers.reset_index(drop=True)
    notes = []
    if "nonfinite" in frame and (pd.to_numeric(frame["nonfinite"], errors="coerce") > 0).any():
        bad = frame[pd.to_numeric(frame["nonfinite"], errors="coerce") > 0]
        first = bad.sort_values("epoch").iloc[0]
        notes.append(f"Non-finite weights or gradients first appeared in layer "
                     f"{esc(first['layer'])} at epoch {int(first['epoch'])} "
                     f"({bad['layer'].nunique()} layer(s) affected).")
    last = frame[frame["epoch"] == frame["epoch"].max()]
    if "dead_fraction" in last and last["dead_fraction"].notna().any():
        row = last.loc[pd.to_numeric(last["dead_fraction"], errors="coerce").idxmax()]
        notes.append(f"At the last epoch the largest dead-unit fraction is "
                     f"{fmt(row['dead_fraction'], 2)} in layer {esc(row['layer'])}.")
    if "update_ratio" in last and last["update_ratio"].notna().any():
        ratios = pd.to_numeric(last["update_ratio"], errors="coerce").dropna()
        notes.append(f"Last-epoch update ratios range from {fmt(ratios.min(), 2)} to "
                     f"{fmt(ratios.max(), 2)} across {len(ratios)} layer(s).")
    shown = int(theme.cfg.get("figures", {}).get("max_layers", 10))
    if frame["layer"].nunique() > shown:
        notes.append(f"The plots show the {shown} layers with the largest gradient norms "
                     f"of {frame['layer'].nunique()}.")
    return out + [theme.para(n, "body", markup=True) for n in notes]


def _shift(page: Page) -> tuple[list[tuple[str, float]], str]:
    """Standardised mean differences of features, most shifted first, and where from."""
    data, arrays = page.data_meta(), page.run.arrays
    names = data.get("feature_names") or []
    unit = "projection" if data.get("feature_projection") else "feature"
    if page.run.has("x_train") and page.run.has("x_val"):
        xt = np.asarray(arrays["x_train"], dtype=float).reshape(len(arrays["x_train"]), -1)
        xv = np.asarray(arrays["x_val"], dtype=float).reshape(len(arrays["x_val"]), -1)
        if xt.shape[1] != xv.shape[1]:
            return [], "train and validation samples have different widths"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
            mt, mv = np.nanmean(xt, 0), np.nanmean(xv, 0)
            st, sv = np.nanstd(xt, 0), np.nanstd(xv, 0)
        source = f"the recorded samples ({len(xt)} train, {len(xv)} validation rows)"
    else:
        summary = data.get("feature_summary") or {}
        train, val = summary.get("train") or {}, summary.get("val") or {}
        unit = {"projected": "projection", "per_channel": "channel"}.get(train.get("kind"), unit)
        try:
            mt, mv = np.asarray(train["mean"], float), np.asarray(val["mean"], float)
            st = np.asarray(train.get("std", np.ones_like(mt)), float)
            sv = np.asarray(val.get("std", st), float)
        except (KeyError, TypeError, ValueError, AttributeError):
            return [], ""
        if not mt.shape == mv.shape == st.shape == sv.shape or mt.ndim != 1:
            return [], "train and validation feature summaries do not match"
        source = "the recorded feature summary"
    pooled = np.sqrt((st ** 2 + sv ** 2) / 2)  # finite even when one split is constant
    with np.errstate(divide="ignore", invalid="ignore"):
        smd = np.where(pooled > 1e-12, (mv - mt) / pooled, 0.0)
    smd = np.clip(np.nan_to_num(smd, nan=0.0), -10.0, 10.0)
    order = np.argsort(-np.abs(smd))[: page.theme.limit("shifted_features", 10)]
    label = [str(names[j]) if j < len(names) else f"{unit} {j}" for j in order]
    return list(zip(label, (float(smd[j]) for j in order), strict=False)), source


def _flagged(sample: dict[str, Any]) -> bool:
    """A listed sample is a suspect only while its mean margin is negative (or unknown)."""
    aum = sample.get("aum")
    try:
        return aum is None or float(aum) < 0
    except (TypeError, ValueError):
        return True


def _suspects(page: Page) -> tuple[list[dict[str, Any]], str, int]:
    """Flagged training samples (mean margin below 0), most suspicious first, where they
    come from and how many were flagged in all.

    ([], "", 0) when no margins were recorded; ([], source, 0) when none was flagged.
    """
    finding = page.diagnosis.finding("label_noise")
    limit = page.theme.limit("suspects", 12)
    listed = finding.details.get("suspects") if finding else None
    if isinstance(listed, list) and listed:
        rows = [s for s in listed if isinstance(s, dict) and _flagged(s)]
        if rows:
            d = finding.details
            counts = (f" ({fmt(d['n_flagged'])} of {fmt(d['n_probe'])} training-probe samples "
                      "flagged)" if d.get("n_flagged") and d.get("n_probe") else "")
            total = d.get("n_flagged") if isinstance(d.get("n_flagged"), int) else len(rows)
            return rows[:limit], "the label-noise rule" + counts, max(total, len(rows))
    arrays = page.run.arrays
    margins = arrays.get("margins")
    if margins is None or margins.ndim != 2 or not margins.size:
        return [], "", 0
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: "mean of empty"
        aum = np.nanmean(np.where(np.isfinite(margins), margins, np.nan), axis=0)
    order = [j for j in np.argsort(np.nan_to_num(aum, nan=np.inf)) if np.isfinite(aum[j])]
    index, labels = arrays.get("probe_index"), arrays.get("probe_labels")
    proba = arrays.get("probe_proba_last")
    negative = int(np.sum(aum < 0))
    rows = []
    for j in order[:min(limit, negative)]:
        rows.append({"index": int(index[j]) if index is not None and j < len(index) else int(j),
                     "given": int(labels[j]) if labels is not None and j < len(labels) else None,
                     "predicted": int(np.argmax(proba[j])) if proba is not None
                     and proba.ndim == 2 and j < len(proba) else None,
                     "aum": float(aum[j])})
    return rows, (f"the mean margins over {margins.shape[0]} epochs: {negative} of "
                  f"{margins.shape[1]} training-probe samples have a negative mean margin"), \
        negative


def _off_support(page: Page) -> str:
    """The validation rows no training row resembles, as the shift rule measured them ("" when
    none beyond chance, or no inputs were recorded)."""
    finding = page.diagnosis.finding("distribution_shift")
    details = finding.details if finding else {}
    rows = details.get("off_support_rows")
    if not details.get("off_support") or not isinstance(rows, list) or not rows:
        return ""
    return (f"Validation rows that no training row resembles (no training row among their {K} "
            f"nearest neighbours, or twice as far as training rows lie from each other): "
            f"{esc(details['off_support'])}; all of them are in "
            "the diagnosis JSON (<i>off_support_rows</i>). Print a few beside training rows as "
            "the model receives them: another scale, inverted, reordered or re-encoded values "
            "point at the validation pipeline; plausible rows that training never covered, at a "
            "shift.")


def _labels(page: Page) -> tuple[list[str], np.ndarray, np.ndarray] | None:
    """(class names, train counts, validation counts), or None when not recorded."""
    train, val = label_counts(page.run, "train"), label_counts(page.run, "val")
    if train is None or val is None or not len(train) or not len(val):
        return None
    width = max(len(train), len(val), len(page.class_names))
    train, val = (np.pad(c, (0, width - len(c))) for c in (train, val))
    return [page.class_name(i) for i in range(width)], train, val


DATA_FIGURE = "data"  # the key of the data section's figure in ``Page.drawn``


def data_figure(page: Page) -> Any:
    """The data section's label-count and feature-shift figure (None when neither was
    recorded); it needs only the record, so it can be drawn while the diagnosis runs."""
    labels, (shift, _) = _labels(page), _shift(page)
    if labels is None and not shift:
        return None
    return figures_detail.data_figure(labels, shift, page.theme)


def data(page: Page) -> list[Any]:
    """Section 4: label and feature distributions, duplicates, suspicious samples."""
    theme = page.theme
    out = page.h1("data", "Data")
    meta = page.data_meta()
    shift, shift_source = _shift(page)
    suspects, suspect_source, flagged = _suspects(page)
    if not meta and not shift and not suspects:
        return out + [page.missing("data", "No data summaries were recorded.")]
    sizes = [f"{k.replace('_', ' ')}: {fmt(meta[k])}" for k in
             ("n_train", "n_val", "n_train_probe", "n_val_used", "input_shape") if k in meta]
    if sizes:
        out.append(theme.para("Sizes: " + "; ".join(sizes) + ".", "body"))
    labels = _labels(page)
    if shift:
        worst = [f"{esc(n)} ({v:+.2f})" for n, v in shift if abs(v) >= 0.25]
        text = ("Features whose validation mean moved by more than 0.25 standard deviations: "
                + ", ".join(worst) + "." if worst else
                "No feature's mean moved by more than 0.25 standard deviations.")
        out.append(theme.para(f"{text} Measured on {esc(shift_source)}.", "body", markup=True))
    elif shift_source:
        out.append(theme.para(f"Feature shift not measured: {shift_source}.", "muted"))
    else:
        out.append(theme.para("Feature samples were not recorded, so feature shift "
                              "could not be measured.", "muted"))
    dup = meta.get("duplicates_val_in_train")
    text = "Duplicates between the splits were not counted."
    if dup is not None:
        text = f"Validation samples that also appear in the training data: {fmt(dup)}"
        if meta.get("duplicate_label_conflicts"):
            text += f", {fmt(meta['duplicate_label_conflicts'])} of them with a different label"
        text += f" (searched {meta['duplicates_scope']})." if meta.get("duplicates_scope") \
            else "."
    out.append(theme.para(text, "body"))
    unlike = _off_support(page)
    if unlike:
        out.append(theme.para(unlike, "body", markup=True))
    # the figure follows the sentences, so they can start a page the figure does not fit on
    figure = (page.drawn.get(DATA_FIGURE) or [None])[0] or data_figure(page)
    if figure is not None:
        out.append(figure)
    if labels is None:
        out.append(theme.para("Label counts per split were not recorded.", "muted"))
    if not suspects:
        out.append(theme.para(
            "Suspicious training samples: none. No training sample kept a negative mean "
            "margin for its given label." if suspect_source else "Suspicious training "
            "samples: no per-sample margins were recorded, so none can be singled out.",
            "muted"))
        return out
    rows = [["training index", "given label", "model predicts", "mean margin (AUM)"]]
    for s in suspects:
        rows.append([fmt(s.get("index")),
                     page.class_name(s["given"]) if s.get("given") is not None else "n/a",
                     page.class_name(s["predicted"]) if s.get("predicted") is not None
                     else "n/a", fmt(s.get("aum"))])
    out.append(KeepTogether([
        theme.para("Most suspicious training samples", "h2"),
        theme.para(f"Training samples whose given label the model kept disagreeing with "
                   f"(negative mean margin), from {esc(suspect_source)}; "
                   + (f"all {flagged} are listed" if flagged <= len(suspects) else
                      f"the {len(suspects)} lowest are listed")
                   + ". Look at these first: a wrong label here is the cheapest fix there is.",
                   "body", markup=True),
        theme.table(rows, [3 * cm, 5 * cm, 5 * cm, 3.2 * cm])]))
    return out
