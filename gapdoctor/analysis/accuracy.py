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


# how the rules read :func:`unlearned`: within 5 % of chance at the end the model lost what it
# had learned; from 15 % it kept some of it
UNLEARNED_FACT = ("training accuracy at the end above chance (share of the possible), after it had "
                  "reached 30 % of the way")
UNLEARNED_RANGE = (0.15, 0.05)


def unlearned(acc: pd.Series, chance: float, peak: float = 0.3) -> float:
    """Recent training accuracy as a share of the possible above chance, for a run whose
    training accuracy had reached at least ``peak`` of that share earlier (NaN otherwise):
    near 0, the model lost what it had learned on its own training rows.

    Example:
        >>> round(unlearned(pd.Series([.5, .8, .84, .54, .54, .54]), 0.54), 2)
        0.0
    """
    if len(acc) < 4 or not finite_number(chance):
        return float("nan")
    span = max(1e-6, 1 - chance)
    if (float(acc.max()) - chance) / span < peak:
        return float("nan")
    return (float(acc.iloc[-3:].mean()) - chance) / span


def val_interval(acc: pd.Series, n: int | None) -> tuple[int, float, float, float] | None:
    """(n, accuracy, low, high): 95% Wilson interval of recent validation accuracy."""
    if not len(acc) or not n:
        return None
    from scipy import stats  # lazy: keeps `import gapdoctor` fast

    p = min(max(float(acc.iloc[-3:].mean()), 0.0), 1.0)
    ci = stats.binomtest(int(round(p * n)), n).proportion_ci(confidence_level=0.95, method="wilson")
    return n, p, float(ci.low), float(ci.high)


def estimate_n_from_steps(values: np.ndarray, max_n: int = 2000) -> int | None:
    """Smallest n for which every accuracy value is a multiple of 1/n (None if none fits).

    Example:
        >>> estimate_n_from_steps(np.array([0.75, 0.8, 0.85, 0.9]))
        20
    """
    values = values[np.isfinite(values)]
    if len(np.unique(values)) < 3:
        return None
    block = max(1, 2**18 // len(values))  # candidates tested at once (bounded memory)
    for start in range(2, max_n + 1, block):
        n = np.arange(start, min(start + block, max_n + 1), dtype=float)[:, None]
        fits = np.all(np.abs(values * n - np.round(values * n)) < 1e-4 * n, axis=1)
        if fits.any():
            return int(n[np.argmax(fits), 0])
    return None


def val_error(acc: pd.Series) -> float:
    """Lowest validation error rate of the run (1 - best accuracy), NaN if unknown.

    The best epoch (of a 3-epoch running mean), because memorising wrong labels later
    degrades validation too.
    """
    return float(1 - acc.rolling(3, min_periods=1).mean().max()) if len(acc) else float("nan")


def val_accuracy_drop(acc: pd.Series, n: int | None) -> tuple[float, float]:
    """(drop, drop in standard errors): validation accuracy lost between its peak and the
    end of the run, both as 3-epoch means; NaN under 6 epochs or without the size.

    The standard error is one proportion's at the peak over ``n`` samples: the same
    samples are scored at both epochs, so this over-states the noise of the difference.

    Example:
        >>> acc = pd.Series([.5, .7, .8, .8, .8, .75, .7, .7, .7])
        >>> [round(v, 2) for v in val_accuracy_drop(acc, 400)]
        [0.1, 5.0]
    """
    acc = acc.dropna()
    if len(acc) < 6 or not n:
        return float("nan"), float("nan")
    peak = float(acc.rolling(3).mean().max())
    drop = peak - float(acc.iloc[-3:].mean())
    p = min(max(peak, 0.02), 0.98)
    return drop, drop / float(np.sqrt(p * (1 - p) / n))


# Keras layers that compute the same function in training and inference mode (by class
# name): a record made before the callback listed mode-dependent layers is read through it
_MODE_FREE = {
    "InputLayer", "Dense", "EinsumDense", "Embedding", "Conv1D", "Conv2D", "Conv3D",
    "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose", "SeparableConv1D",
    "SeparableConv2D", "DepthwiseConv1D", "DepthwiseConv2D", "MaxPooling1D", "MaxPooling2D",
    "MaxPooling3D", "AveragePooling1D", "AveragePooling2D", "AveragePooling3D",
    "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
    "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D", "Flatten", "Reshape",
    "Permute", "RepeatVector", "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax",
    "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot",
    "Cropping1D", "Cropping2D", "Cropping3D", "ZeroPadding1D", "ZeroPadding2D",
    "ZeroPadding3D", "UpSampling1D", "UpSampling2D", "UpSampling3D", "LayerNormalization",
    "GroupNormalization", "UnitNormalization", "Normalization", "Rescaling", "Identity",
    "Masking"}


def mode_dependent_layers(run: RunRecord) -> list[str] | None:
    """Names of the model's layers that may act differently in training mode (batch
    normalisation, dropout and noise, augmentation, custom layers); None when unknown.

    The callback lists them (``meta["model"]["mode_layers"]``, nested layers included);
    for an older record, any top-level layer not known to act the same in both modes
    counts, nested models included.

    Example:
        >>> run = RunRecord.empty(run_name="r")
        >>> run.meta["model"] = {"layers": [{"name": "d", "class_name": "Dense"}]}
        >>> mode_dependent_layers(run)
        []
    """
    model = run.meta.get("model") or {}
    listed = model.get("mode_layers")
    if isinstance(listed, dict):
        return [str(name) for names in listed.values() for name in (names or [])]
    layers = model.get("layers")
    if not isinstance(layers, list) or not layers:
        return None
    return [str(row.get("name")) for row in layers if isinstance(row, dict)
            and row.get("class_name") not in _MODE_FREE]
