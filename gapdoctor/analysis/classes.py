"""Per-class facts: which classes lag on validation, whether they were learned in training,
their share of the training data, and what a tuned decision threshold would change."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gapdoctor.record.schema import RunRecord


@dataclass
class ClassFacts:
    """Validation recall per class (mean of the last 3 epochs) and what goes with it.

    ``typical_recall`` is the 75th percentile of class recalls; ``lagging`` lists classes
    0.25 or more below it and ``lag`` is how far the worst class is below it.
    """

    recall: pd.Series
    support: pd.Series
    typical_recall: float
    lagging: list[int]
    lag: float
    lagging_trend: float
    lagging_train_recall: float
    lagging_train_share_ratio: float
    names: dict[int, str] = field(default_factory=dict)
    f1_at_half: float = float("nan")
    f1_best_threshold: float = float("nan")
    best_threshold: float = float("nan")
    positive_share: float = float("nan")
    lagging_gap_share: float = float("nan")


def _last_epochs_mean(table: pd.DataFrame, split: str, column: str, k: int = 3) -> pd.Series:
    part = table[table["split"] == split]
    if part.empty:
        return pd.Series(dtype=float)
    last = sorted(part["epoch"].unique())[-k:]
    return part[part["epoch"].isin(last)].groupby("class_index")[column].mean()


def _threshold_facts(run: RunRecord, facts: ClassFacts) -> None:
    """Binary tasks: F1 of the positive class at 0.5 and at the best threshold."""
    a = run.arrays
    if run.meta.get("task") != "binary" or not run.has("val_proba_last") or not run.has("val_labels"):
        return
    from sklearn.metrics import f1_score, precision_recall_curve  # lazy: binary tasks only

    y = np.asarray(a["val_labels"]).astype(int)
    p = np.asarray(a["val_proba_last"], float)
    p = p[:, -1] if p.ndim == 2 else p
    if len(np.unique(y)) < 2 or not np.isfinite(p).all():
        return
    facts.positive_share = float(np.mean(y == 1))
    facts.f1_at_half = float(f1_score(y, p >= 0.5, zero_division=0))
    precision, recall, thresholds = precision_recall_curve(y, p)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    best = int(np.argmax(f1[:-1])) if len(thresholds) else 0
    facts.f1_best_threshold = float(f1[best])
    facts.best_threshold = float(thresholds[best]) if len(thresholds) else float("nan")


def class_facts(run: RunRecord, n_classes: int) -> ClassFacts | None:
    """Per-class validation recall and the classes that lag (None without per-class data)."""
    if not run.has("per_class"):
        return None
    table = run.per_class
    recall = _last_epochs_mean(table, "val", "recall")
    support = _last_epochs_mean(table, "val", "support")
    if len(recall) < 2:
        return None
    # the level the model reaches on the classes it does learn: the 75th percentile, so a
    # slice of several classes cannot drag the reference down with it
    typical = float(recall.quantile(0.75))
    # a class lags when its recall is 0.25 below that: beyond the binomial noise of a class
    # with ~30 validation samples (standard error ~0.08 at recall 0.8)
    lagging = [int(c) for c in recall.index if recall[c] < typical - 0.25]
    lag = float(typical - recall.min())
    names = {}
    if "class_name" in table.columns:
        names = {int(k): str(v) for k, v in table.groupby("class_index")["class_name"].first().items()}
    facts = ClassFacts(recall=recall, support=support, typical_recall=typical, lagging=lagging,
                       lag=lag, lagging_trend=float("nan"), lagging_train_recall=float("nan"),
                       lagging_train_share_ratio=float("nan"), names=names)
    if lagging:
        val = table[(table["split"] == "val") & table["class_index"].isin(lagging)]
        per_epoch = val.groupby("epoch")["recall"].mean()
        half = per_epoch.iloc[len(per_epoch) // 2:]
        if len(half) >= 2:
            # the second half's last epochs against its first ones, never overlapping
            k = min(2, len(half) // 2)
            facts.lagging_trend = float(half.iloc[-k:].mean() - half.iloc[:k].mean())
        train_recall = _last_epochs_mean(table, "train", "recall")
        if len(train_recall):
            facts.lagging_train_recall = float(train_recall.reindex(lagging).mean())
            gap = (train_recall - recall).clip(lower=0) * support.reindex(recall.index).fillna(0)
            if gap.sum() > 0:
                facts.lagging_gap_share = float(gap.reindex(lagging).sum() / gap.sum())
        counts = label_counts(run, "train")
        if counts is not None and len(counts) >= max(lagging) + 1 and np.median(counts) > 0:
            facts.lagging_train_share_ratio = float(counts[lagging].mean() / np.median(counts))
    _threshold_facts(run, facts)
    return facts


def label_counts(run: RunRecord, split: str) -> np.ndarray | None:
    """Label counts of ``split`` ("train" or "val") as an array indexed by class.

    Accepts a list or a ``{class: count}`` mapping in ``meta["data"]["<split>_label_counts"]``.

    Example:
        >>> r = RunRecord(meta={"data": {"val_label_counts": {"0": 3, "2": 1}}})
        >>> label_counts(r, "val").tolist()
        [3.0, 0.0, 1.0]
    """
    counts = (run.meta.get("data") or {}).get(f"{split}_label_counts")
    if isinstance(counts, dict):
        try:
            pairs = {int(k): float(v) for k, v in counts.items()}
        except (TypeError, ValueError):
            return None
        if not pairs or min(pairs) < 0:
            return None
        out = np.zeros(max(pairs) + 1)
        for k, v in pairs.items():
            out[k] = v
        return out
    if isinstance(counts, (list, tuple)) and counts:
        try:
            return np.asarray(counts, float)
        except (TypeError, ValueError):
            return None
    return None


def watched_class_share(run: RunRecord, monitor: str | None) -> tuple[int, float] | None:
    """``(class, validation share)`` of the one class the monitored metric reads, when its
    recorded Keras config names a ``class_id`` (None otherwise). On a one-unit sigmoid
    output index 0 is the positive class, label 1.

    Example:
        >>> r = RunRecord(meta={"metrics": [{"name": "recall", "class_name": "Recall",
        ...                                  "config": {"class_id": 0}}],
        ...                     "task": "multiclass", "data": {"val_label_counts": {"0": 90, "1": 10}}})
        >>> watched_class_share(r, "val_recall")
        (0, 0.9)
        >>> r.meta["metrics"][0]["config"]["class_id"] = -1   # a damaged config: no read
        >>> watched_class_share(r, "val_recall") is None
        True
    """
    if not monitor:
        return None
    name = monitor[4:] if monitor.startswith("val_") else monitor
    counts = label_counts(run, "val")
    for metric in run.meta.get("metrics") or []:
        if not isinstance(metric, dict) or metric.get("name") != name:
            continue
        class_id = (metric.get("config") or {}).get("class_id")
        if not isinstance(class_id, int) or isinstance(class_id, bool) or counts is None or counts.sum() <= 0:
            return None
        label = 1 if run.meta.get("task") == "binary" and class_id == 0 else class_id
        if not 0 <= label < len(counts):  # a negative id would index from the end
            return None
        return label, float(counts[label] / counts.sum())
    return None
