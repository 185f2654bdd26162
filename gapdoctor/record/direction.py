"""Which way is better for a metric: one answer for the callback, the rules and the report.

Order of evidence, as Keras's EarlyStopping does it: the Keras metric class recorded at
train time first (``meta["metrics"]``, each with its ``class_name``), then a table of the
names Keras and common libraries log. A name that neither knows is ``None`` ("unknown"),
never silently "lower is better".

Example:
    >>> metric_direction("val_mean_io_u"), metric_direction("val_msle"), metric_direction("val_foo")
    ('max', 'min', None)
    >>> metric_direction("val_score", [{"name": "score", "class_name": "R2Score"}])
    'max'
"""

from __future__ import annotations

import re
from typing import Any

# Keras 3 metric classes by their ``_direction`` ("up" -> max, "down" -> min).
_CLASS_DIRECTION = {
    **dict.fromkeys((
        "Accuracy", "BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy",
        "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy", "AUC", "Precision",
        "Recall", "PrecisionAtRecall", "RecallAtPrecision", "SensitivityAtSpecificity",
        "SpecificityAtSensitivity", "TruePositives", "TrueNegatives", "F1Score", "FBetaScore",
        "IoU", "MeanIoU", "BinaryIoU", "OneHotIoU", "OneHotMeanIoU", "CosineSimilarity",
        "R2Score", "PearsonCorrelation", "ConcordanceCorrelation"), "max"),
    **dict.fromkeys((
        "FalsePositives", "FalseNegatives", "MeanSquaredError", "MeanAbsoluteError",
        "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError", "RootMeanSquaredError",
        "LogCoshError", "Hinge", "SquaredHinge", "CategoricalHinge", "KLDivergence", "Poisson",
        "BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
        "CategoricalFocalCrossentropy", "BinaryFocalCrossentropy"), "min"),
}

# Logged names (after removing ``val_``/``eval_`` and a trailing ``_1``), matched as whole
# underscore-separated tokens so that "mse" never matches inside another word.
_MAX_TOKENS = {"acc", "accuracy", "auc", "prc", "precision", "recall", "f1", "fbeta", "f2",
               "iou", "io_u", "miou", "dice", "jaccard", "psnr", "ssim", "cosine_similarity",
               "r2", "r2_score", "pearson", "spearman", "correlation", "kappa", "mcc",
               "true_positives", "true_negatives", "sensitivity", "specificity", "map", "bleu",
               "rouge", "top_k_categorical_accuracy", "score",
               # ranking and retrieval (TF-Ranking, torchmetrics): higher is better
               "mrr", "reciprocal_rank", "ndcg", "hits", "hit_rate", "auroc", "auprc", "top1",
               "top5", "explained_variance", "r_squared"}
_MIN_TOKENS = {"loss", "error", "err", "mse", "mae", "mape", "msle", "rmse", "logcosh",
               "hinge", "kld", "kl_divergence", "kullback_leibler_divergence", "poisson",
               "crossentropy", "perplexity", "ppl", "false_positives", "false_negatives",
               "nll", "cer", "wer", "distance", "brier", "ece", "huber", "smape", "rmsle",
               "cross_entropy", "mean_rank"}


def _base(name: str) -> str:
    lowered = name.lower()
    for prefix in ("val_", "eval_", "validation_", "test_", "train_"):
        if lowered.startswith(prefix):
            lowered = lowered[len(prefix):]
            break
    return re.sub(r"_\d+$", "", lowered)


def _by_name(base: str) -> str | None:
    tokens = base.split("_")
    joined = {"_".join(tokens[i:j]) for i in range(len(tokens)) for j in range(i + 1, len(tokens) + 1)}
    # "loss"/"error" anywhere wins: "dice_loss", "iou_loss" are lower-is-better
    if joined & _MIN_TOKENS or base.endswith(("crossentropy", "loss", "error")):
        return "min"
    if joined & _MAX_TOKENS or base.endswith(("accuracy", "_auc")):
        return "max"
    return None


def metric_direction(name: str, metrics: list[Any] | None = None) -> str | None:
    """``"max"`` when larger is better, ``"min"`` when smaller is, ``None`` when unknown.

    Args:
        name: the logged metric name, e.g. ``"val_mean_io_u"``.
        metrics: ``meta["metrics"]`` of a record (``[{name, class_name, config}]``); the
            recorded Keras class decides first.
    """
    base = _base(name)
    for metric in metrics or []:
        if isinstance(metric, dict) and str(metric.get("name", "")).lower() == base:
            found = _CLASS_DIRECTION.get(str(metric.get("class_name", "")))
            if found:
                return found
    return _by_name(base)
