"""Validation ahead of training: how far validation accuracy leads the training accuracy,
how much better the train probe's loss is at the best epoch, and the noise they are read in.

Same weights, same mode: a model is not more accurate on held-out samples than on the ones
it was fitted to, unless those carry wrong labels. The callback's eval-mode metrics on the
train probe give that comparison; Keras's logged training metric (a running average over
the epoch) is the fallback.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gapdoctor.analysis.curves import CurveFacts
from gapdoctor.analysis.ramps import finite_number
from gapdoctor.record.schema import RunRecord


def train_val_lag(run: RunRecord, curves: CurveFacts) -> tuple[float, str]:
    """How far validation accuracy is ahead of training accuracy late in training, and
    what it was read from.

    Uses the callback's eval-mode accuracy on the train probe when recorded (the mean over
    the first half of the run); otherwise Keras's logged metrics, whose training value is a
    running average over the epoch, so only the last epochs are compared.
    """
    sm = run.split_metrics
    if run.has("split_metrics"):
        table = sm.pivot_table(index="epoch", columns="split", values="accuracy")
        if {"train", "val"} <= set(table.columns):
            lag = (table["val"] - table["train"]).dropna()
            if len(lag) >= 2:
                # skip the unsettled first epoch; stop at mid-run, since a large model
                # later memorises wrong labels and the lead turns into a training lead
                lag = lag.iloc[1: max(2, (len(lag) + 1) // 2)]
            if len(lag):
                return float(lag.mean()), "eval-mode accuracy, train probe vs validation"
    if finite_number(curves.gap_epoch_end) and curves.mode == "max":
        return -curves.gap_epoch_end, "logged training vs validation metric"
    return float("nan"), ""


def val_lead_peak(run: RunRecord, se: float) -> tuple[float, float]:
    """(peak, peak in standard errors ``se``) of validation minus train-probe accuracy,
    both in eval mode on the same weights, as a 3-epoch running mean; NaN without split
    metrics.

    The *peak* because a large model memorises wrong labels within a few epochs and the
    lead then turns into a training lead; the running mean because the peak of a noisy
    series is biased up.
    """
    if not run.has("split_metrics"):
        return float("nan"), float("nan")
    table = run.split_metrics.pivot_table(index="epoch", columns="split", values="accuracy")
    if not {"train", "val"} <= set(table.columns):
        return float("nan"), float("nan")
    lead = (table["val"] - table["train"]).dropna()
    lead = lead.iloc[1:] if len(lead) > 2 else lead  # the first epoch is unsettled
    if not len(lead):
        return float("nan"), float("nan")
    peak = float(lead.rolling(3, min_periods=1).mean().max())
    return peak, (peak / se if finite_number(se) and se > 0 else float("nan"))


def loss_lag_at_best(run: RunRecord) -> float:
    """Eval-mode loss on the train probe / validation loss, at the epoch of the lowest
    validation loss (NaN without the callback's split metrics).

    Before memorisation sets in, a model is not worse on the samples it was fitted to than
    on held-out ones, unless their labels are wrong.
    """
    if not run.has("split_metrics"):
        return float("nan")
    table = run.split_metrics.pivot_table(index="epoch", columns="split", values="loss")
    if not {"train", "val"} <= set(table.columns):
        return float("nan")
    both = table[["train", "val"]].dropna()
    both = both[(both["val"] > 0) & np.isfinite(both).all(axis=1)]
    if both.empty:
        return float("nan")
    best = both["val"].idxmin()
    return float(both.loc[best, "train"] / both.loc[best, "val"])


def lag_noise(run: RunRecord, val_acc: pd.Series, n_val: int | None) -> float:
    """Standard error of a difference between validation and train-probe accuracy."""
    n_probe = (run.meta.get("data") or {}).get("n_train_probe") or (
        len(run.arrays["probe_labels"]) if run.has("probe_labels") else None)
    if not len(val_acc) or not n_val or not n_probe:
        return float("nan")
    p = min(max(float(val_acc.iloc[-3:].mean()), 0.05), 0.95)
    return float(np.sqrt(p * (1 - p) / n_val + p * (1 - p) / n_probe))


# The callback's split losses are cross-entropies of the predicted probabilities; a logged
# loss is the same quantity only for these (other losses, e.g. focal or hinge, are on
# another scale: a focal loss is many times smaller than the cross-entropy of the same model)
_CROSS_ENTROPIES = ("sparsecategoricalcrossentropy", "categoricalcrossentropy",
                    "binarycrossentropy")


def logged_cross_entropy(run: RunRecord) -> str | None:
    """The curves column holding the logged training loss as the cross-entropy the train
    probe's eval-mode loss is (``loss``; ``<output>_loss`` for a model with several
    outputs), or None when the compiled loss is another one or the column is missing.

    Example:
        >>> run = RunRecord.empty(run_name="r")
        >>> run.curves = pd.DataFrame({"loss": [0.5]})
        >>> run.meta["loss"] = {"name": "categorical_focal_crossentropy"}
        >>> logged_cross_entropy(run) is None
        True
    """
    loss = run.meta.get("loss") or {}
    names = {str(loss.get(k) or "").lower().replace("_", "") for k in ("name", "class_name")}
    names.discard("")
    if names and not names & set(_CROSS_ENTROPIES):  # a Loss object or function, by either
        return None
    followed = run.meta.get("followed_output") or {}
    column = "loss"
    if followed:
        keys = [str(k) for k in (followed.get("key"), followed.get("name")) if k is not None]
        column = next((f"{k}_loss" for k in keys if f"{k}_loss" in run.curves.columns), "")
    return column if column and column in run.curves.columns else None
