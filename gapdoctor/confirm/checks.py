"""Experiments that need no retraining: they read predictions of the trained model.

Each returns a :class:`Confirmation`. Every interval is honest about selection: anything
tuned (a threshold, a label alignment) is chosen on one half of the validation set and
scored on the other half, and the halves are swapped.

Example:
    >>> import numpy as np
    >>> y = np.arange(200) % 4
    >>> label_alignment(np.eye(4)[(y + 1) % 4], y).outcome   # labels off by one class
    'confirmed'
"""

from __future__ import annotations

import numpy as np

from gapdoctor.confirm.outcome import (
    MIN_EFFECT,
    Confirmation,
    decide,
    describe,
    paired_effect,
)

# Half-widths of a 95 % interval of validation accuracy. From 5 points on, the validation
# set cannot resolve the differences most tuning decisions hinge on (about 380 samples at
# 50 % accuracy); under 2.5 points (about 1,500 samples) it can.
WIDE_INTERVAL = 0.05
NARROW_INTERVAL = 0.025
ROLLS = (1, 2, 3, -1, -2, -3)


def predicted_class(probs: np.ndarray) -> np.ndarray:
    """Class ids from (n,) / (n, 1) sigmoid outputs or (n, K) scores."""
    probs = np.asarray(probs, float)
    if probs.ndim == 1 or probs.shape[1] == 1:
        return (probs.reshape(-1) >= 0.5).astype(int)
    return probs.argmax(axis=1)


def bootstrap_accuracy(correct: np.ndarray, seed: int = 0) -> Confirmation:
    """small_validation_set: how wide is the 95 % interval of validation accuracy?

    Wilson's interval, not a bootstrap: at 60 of 60 correct a bootstrap has zero width,
    while the true accuracy could well be 0.94."""
    from scipy.stats import binomtest

    correct = np.asarray(correct, float)
    k, n = int(correct.sum()), int(correct.size)
    ci = binomtest(k, n).proportion_ci(method="wilson")
    e = paired_effect(correct[None], np.zeros((1, n)), seed=seed)
    e.low, e.high = float(ci.low), float(ci.high)
    half = (e.high - e.low) / 2
    outcome = "confirmed" if half >= WIDE_INTERVAL else (
        "refuted" if half < NARROW_INTERVAL else "inconclusive")
    text = (f"A bootstrap over the {correct.size} validation samples puts accuracy "
            f"{e.effect:.3f} within ±{half * 100:.1f} points (95 %): ")
    text += {"confirmed": "too wide to tell small changes apart; a larger validation set "
                          "(or cross-validation) would.",
             "refuted": "narrow enough that the validation set is not the problem.",
             "inconclusive": "wide enough to hide small changes, not large ones."}[outcome]
    text += (" It restates the validation set's size, which the diagnosis already weighed, "
             "so it does not move the ranking.")
    return Confirmation("small_validation_set", "bootstrap_interval", outcome,
                        before=e.effect, after=e.effect, effect=half,
                        interval=(e.low, e.high), min_effect=WIDE_INTERVAL, text=text,
                        restates=True, details={"n_val": int(correct.size)})


def _halves(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    return order[: n // 2], order[n // 2:]


def _best_alignment(pred: np.ndarray, labels: np.ndarray, k: int) -> tuple[str, np.ndarray]:
    """The relabelling of ``labels`` (a class remap or a row roll) that best matches
    ``pred``; the identity when nothing beats it."""
    from scipy.optimize import linear_sum_assignment

    best, best_acc, best_map = "identity", float(np.mean(pred == labels)), labels
    joint = np.zeros((k, k))
    np.add.at(joint, (labels, pred), 1)
    rows, cols = linear_sum_assignment(-joint)
    mapping = np.arange(k)
    mapping[rows] = cols
    candidates = {"class remap": mapping[labels]}
    for r in ROLLS:
        candidates[f"rows shifted by {r}"] = np.roll(labels, r)
    for name, relabelled in candidates.items():
        acc = float(np.mean(pred == relabelled))
        if acc > best_acc:
            best, best_acc, best_map = name, acc, relabelled
    return best, best_map


def _apply(name: str, pred_labels: np.ndarray, fitted_on: tuple[np.ndarray, np.ndarray],
           k: int) -> np.ndarray:
    """Apply the alignment chosen on one half to the labels of the other half."""
    if name == "identity":
        return pred_labels
    if name == "class remap":
        from scipy.optimize import linear_sum_assignment

        pred, labels = fitted_on
        joint = np.zeros((k, k))
        np.add.at(joint, (labels, pred), 1)
        rows, cols = linear_sum_assignment(-joint)
        mapping = np.arange(k)
        mapping[rows] = cols
        return mapping[pred_labels]
    return np.roll(pred_labels, int(name.rsplit(" ", 1)[1]))


def label_alignment(probs: np.ndarray, labels: np.ndarray, seed: int = 0) -> Confirmation:
    """pipeline_bug: would validation labels re-aligned to the inputs (another class order,
    rows shifted by 1-3) agree with the model far more often? Chosen on one half, scored on
    the other (a row shift is scored on the whole set: it cannot be applied to a half)."""
    pred = predicted_class(probs)
    labels = np.asarray(labels).astype(int).reshape(-1)
    k = int(max(pred.max(), labels.max())) + 1
    name, relabelled = _best_alignment(pred, labels, k)
    if name.startswith("rows"):
        treated = (pred == relabelled).astype(float)
    else:
        a, b = _halves(len(labels), seed)
        treated = np.empty(len(labels))
        for fit, score in ((a, b), (b, a)):
            chosen, _ = _best_alignment(pred[fit], labels[fit], k)
            treated[score] = pred[score] == _apply(chosen, labels[score],
                                                   (pred[fit], labels[fit]), k)
    control = (pred == labels).astype(float)
    e = paired_effect(treated[None], control[None], seed=seed)
    outcome = decide(e.low, e.high, e.effect)
    what = ("Re-aligning the validation labels" if name == "identity"
            else f"Re-aligning the validation labels ({name})")
    return Confirmation("pipeline_bug", "label_alignment", outcome, before=float(control.mean()),
                        after=float(treated.mean()), effect=e.effect, interval=(e.low, e.high),
                        specific=True, text=describe(outcome, what, e.effect, e.low, e.high),
                        details={"alignment": name})


def _binary_macro_f1(y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Macro-F1 of each row of 0/1 predictions ``pred`` (T, n) against ``y`` (n,) at once
    (sklearn's f1_score, one threshold at a time, took seconds per experiment)."""
    y = y.astype(bool)[None, :]
    tp, fp = (pred & y).sum(1), (pred & ~y).sum(1)
    fn, tn = (~pred & y).sum(1), (~pred & ~y).sum(1)
    f_pos = np.divide(2 * tp, 2 * tp + fp + fn, out=np.zeros(len(pred)), where=2 * tp + fp + fn > 0)
    f_neg = np.divide(2 * tn, 2 * tn + fn + fp, out=np.zeros(len(pred)), where=2 * tn + fn + fp > 0)
    return (f_pos + f_neg) / 2


def threshold_tuning(probs: np.ndarray, labels: np.ndarray, seed: int = 0,
                     splits: int = 100) -> Confirmation:
    """metric_mismatch: does a decision rule tuned on half the validation set (the binary
    threshold; for several classes, dividing by the predicted class frequencies) raise
    macro-F1 on the other half? Repeated over random halves; the interval is their spread."""
    from sklearn.metrics import f1_score

    probs = np.asarray(probs, float)
    labels = np.asarray(labels).astype(int).reshape(-1)
    binary = probs.ndim == 1 or probs.shape[1] == 1
    p = probs.reshape(-1) if binary else probs
    gains, before, after = [], [], []
    for s in range(splits):
        a, b = _halves(len(labels), seed + s)
        default = predicted_class(p[b])
        if binary:
            grid = np.unique(np.quantile(p[a], np.linspace(0.02, 0.98, 49)))
            scores = _binary_macro_f1(labels[a], p[a][None, :] >= grid[:, None])
            tuned = (p[b] >= grid[int(np.argmax(scores))]).astype(int)
        else:
            prior = np.clip(p[a].mean(axis=0), 1e-6, None)
            tuned = (p[b] / prior).argmax(axis=1)
        f0 = f1_score(labels[b], default, average="macro", zero_division=0)
        f1 = f1_score(labels[b], tuned, average="macro", zero_division=0)
        gains.append(f1 - f0)
        before.append(f0)
        after.append(f1)
    gains = np.asarray(gains)
    effect = float(gains.mean())
    low, high = (float(v) for v in np.percentile(gains, [2.5, 97.5]))
    outcome = decide(low, high, effect)
    rule = "a decision threshold" if binary else "a correction for predicted class frequencies"
    return Confirmation("metric_mismatch", "threshold_tuning", outcome, metric="macro-F1",
                        partial=True,
                        before=float(np.mean(before)), after=float(np.mean(after)),
                        effect=effect, interval=(low, high), min_effect=MIN_EFFECT,
                        text=describe(outcome, f"Scoring with {rule} tuned on the other half",
                                      effect, low, high, metric="macro-F1", partial=True),
                        details={"splits": splits})
