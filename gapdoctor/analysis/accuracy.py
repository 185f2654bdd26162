"""Accuracy facts of one run: per-epoch series, the validation size behind them, the chance
level, how far above it validation and training get, the interval and the best error rate.

Example:
    >>> acc = pd.Series([0.5, 0.7, 0.8, 0.9])
    >>> round(val_error(acc), 3), round(train_above_chance(acc, 0.5), 3)
    (0.2, 0.6)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gapdoctor.analysis.classes import label_counts
from gapdoctor.analysis.curves import series
from gapdoctor.analysis.ramps import finite_number
from gapdoctor.record.schema import RunRecord

ACCURACY_LOGS = ("accuracy", "acc", "sparse_categorical_accuracy", "categorical_accuracy",
                 "binary_accuracy")


def accuracy_series(run: RunRecord, split: str) -> pd.Series:
    """Accuracy per epoch of ``split`` (``"val"`` or ``"train"``): the callback's own
    eval-mode accuracy (argmax; the train probe for training), else an accuracy log."""
    prefix = "val_" if split == "val" else ""
    sm = run.split_metrics
    if run.has("split_metrics"):
        values = sm[sm["split"] == split].set_index("epoch")["accuracy"].astype(float)
        if np.isfinite(values).any():
            return values.dropna()
    for name in ACCURACY_LOGS:
        if run.has(f"curve:{prefix}{name}"):
            return series(run.curves, prefix + name)
    return pd.Series(dtype=float)


def logged_accuracy_series(run: RunRecord) -> pd.Series:
    """fit's logged training accuracy per epoch (training mode, averaged over the epoch's
    batches; the followed output's for a model with several), when it is the quantity the
    callback's arg-max accuracy is; else empty.

    Keras' BinaryAccuracy on a multi-class output counts each unit apart (and "accuracy"
    means it when the loss is a binary cross-entropy): another quantity, never compared.
    """
    task = run.meta.get("task")
    if task not in ("binary", "multiclass"):
        return pd.Series(dtype=float)
    loss = run.meta.get("loss") or {}
    loss_name = str(loss.get("name") or loss.get("class_name") or "").lower().replace("_", "")
    per_unit = task == "multiclass" and loss_name.startswith("binary")
    names = () if per_unit else ACCURACY_LOGS if task == "binary" else tuple(
        n for n in ACCURACY_LOGS if n != "binary_accuracy")
    followed = run.meta.get("followed_output") or {}
    prefixes = [f"{k}_" for k in (followed.get("key"), followed.get("name"))
                if isinstance(k, str)] if followed else [""]
    for prefix in prefixes:
        for name in names:
            if run.has(f"curve:{prefix}{name}"):
                return series(run.curves, prefix + name)
    return pd.Series(dtype=float)


def n_val(run: RunRecord) -> int | None:
    """Validation samples behind the metric: from metadata, else the callback's count."""
    data = run.meta.get("data") or {}
    for key in ("n_val", "n_val_used"):
        if isinstance(data.get(key), (int, float)) and data[key] > 0:
            return int(data[key])
    if run.has("split_metrics"):
        val = run.split_metrics[run.split_metrics["split"] == "val"]
        if len(val) and np.isfinite(val["n"]).any():
            return int(val["n"].max())
    return None


def chance(run: RunRecord, n_classes: int) -> float:
    """Accuracy of always predicting the most common validation class."""
    counts = label_counts(run, "val")
    if counts is not None and counts.sum() > 0:
        return float(counts.max() / counts.sum())
    return 1.0 / n_classes if n_classes else float("nan")


def val_above_chance(acc: pd.Series, chance: float, auc: float) -> float:
    """How far validation is above chance, as a share of the possible gain (NaN if
    unknown): 0 = at chance, 1 = perfect. The larger of the best accuracy's share above
    the majority rate and the network's ROC AUC's share above 0.5: with a rare class,
    accuracy stays near the majority rate although the model ranks well."""
    if not len(acc) or not finite_number(chance):
        return float("nan")
    share = (float(acc.max()) - chance) / max(1e-6, 1 - chance)
    return max(share, 2 * (auc - 0.5)) if finite_number(auc) else share


def train_above_chance(acc: pd.Series, chance: float) -> float:
    """Recent training accuracy (last 3 epochs) as a share of the possible above chance."""
    if not len(acc) or not finite_number(chance):
        return float("nan")
    return (float(acc.iloc[-3:].mean()) - chance) / max(1e-6, 1 - chance)


def val_interval(acc: pd.Series, n: int | None) -> tuple[int, float, float, float] | None:
    """(n, accuracy, low, high): 95% Wilson interval of recent validation accuracy."""
    if not len(acc) or not n:
        return None
    from scipy import stats  # lazy: keeps `import gapdoctor` fast

    p = min(max(float(acc.iloc[-3:].mean()), 0.0), 1.0)
    ci = stats.binomtest(int(round(p * n)), n).proportion_ci(confidence_level=0.95, method="wilson")
    return n, p, float(ci.low), float(ci.high)


def val_error(acc: pd.Series) -> float:
    """Lowest validation error rate of the run (1 - best accuracy), NaN if unknown.

    The best epoch (of a 3-epoch running mean), because memorising wrong labels later
    degrades validation too.
    """
    return float(1 - acc.rolling(3, min_periods=1).mean().max()) if len(acc) else float("nan")
