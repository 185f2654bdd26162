"""Input checks for distribution_shift and pipeline_bug that use the full data sets.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=(400, 5)), rng.normal(2, 1, size=(400, 5))
    >>> domain_classifier(a, b).outcome
    'confirmed'
"""

from __future__ import annotations

import numpy as np

from gapdoctor.analysis.features import AUC_VANISHED, _second_order
from gapdoctor.confirm.outcome import Confirmation

MAX_ROWS = 2000     # per split: AUC within about +-0.02, a few seconds of fitting
MAX_FEATURES = 256  # wider inputs are reduced by PCA first (images, long signals)
# A per-feature spread that differs by this factor between the splits is what a skipped or
# doubled preprocessing step produces; sampling noise and real drift rarely reach it.
SCALE_FACTOR = 3.0


def flat_features(x: np.ndarray) -> np.ndarray:
    """One row of float features per sample: token ids become id counts (top 500 ids)."""
    x = np.asarray(x)
    if x.dtype.kind in "iu" and x.ndim == 2:
        ids = np.clip(x, 0, None)
        top = np.argsort(-np.bincount(ids.ravel()))[:500]
        lookup = np.full(int(ids.max()) + 1, -1)
        lookup[top] = np.arange(len(top))
        counts = np.zeros((len(x), len(top)), "float32")
        rows, cols = np.nonzero(lookup[ids] >= 0)
        np.add.at(counts, (rows, lookup[ids][rows, cols]), 1)
        return counts
    return np.nan_to_num(x.reshape(len(x), -1).astype("float64"))


def domain_classifier(x_train: np.ndarray, x_val: np.ndarray, seed: int = 0) -> Confirmation:
    """distribution_shift: can a classifier, cross-validated, tell validation inputs from
    training inputs? AUC 0.5 means no. The interval is Hanley and McNeil's."""
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    rng = np.random.default_rng(seed)
    both = flat_features(np.concatenate([x_train, x_val]))
    a, b = both[: len(x_train)], both[len(x_train):]
    m = min(len(a), len(b), MAX_ROWS)
    a, b = a[rng.choice(len(a), m, replace=False)], b[rng.choice(len(b), m, replace=False)]
    x = np.concatenate([a, b])
    if x.shape[1] > MAX_FEATURES:
        x = PCA(64, random_state=seed).fit_transform(x)
    x = _second_order(x, seed)
    y = np.r_[np.zeros(m), np.ones(m)]
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    # linear on second-order features: sees changes of mean, spread and dependence, and
    # fits in about a second where boosted trees took a minute on 2 cores
    model = LogisticRegression(C=0.5, max_iter=300)
    proba = cross_val_predict(model, x, y, cv=folds, method="predict_proba")[:, 1]
    auc = float(roc_auc_score(y, proba))
    q1, q2 = auc / (2 - auc), 2 * auc ** 2 / (1 + auc)
    se = float(np.sqrt((auc * (1 - auc) + (m - 1) * (q1 - auc ** 2) + (m - 1) * (q2 - auc ** 2))
                       / (m * m)))
    low, high = auc - 1.96 * se, auc + 1.96 * se
    margin = AUC_VANISHED - 0.5
    outcome = ("confirmed" if low > AUC_VANISHED else
               "refuted" if high < AUC_VANISHED else "inconclusive")
    text = (f"A classifier cross-validated on {m} training and {m} validation inputs tells "
            f"them apart with AUC {auc:.3f} (95 % interval {low:.3f} to {high:.3f}; 0.5 = "
            "indistinguishable): ")
    text += {"confirmed": "the validation inputs come from another distribution.",
             "refuted": "the inputs look alike, so a shift of the inputs does not explain the gap.",
             "inconclusive": "a slight difference at most."}[outcome]
    # partial: a shift of the labels (prior shift) or of p(y|x) leaves the inputs alike
    return Confirmation("distribution_shift", "domain_classifier", outcome, metric="domain AUC",
                        partial=True, premise=True,
                        before=0.5, after=auc, effect=auc - 0.5,
                        interval=(low - 0.5, high - 0.5), min_effect=margin, text=text,
                        details={"rows_per_split": m})


def restandardized(x_train: np.ndarray, x_val: np.ndarray) -> np.ndarray | None:
    """The validation inputs moved onto the training inputs' per-feature mean and spread,
    or None when no feature's spread differs by ``SCALE_FACTOR`` (nothing to re-apply).
    Token ids are never rescaled."""
    x_train, x_val = np.asarray(x_train), np.asarray(x_val)
    if x_val.dtype.kind not in "f" or len(x_val) < 2:
        return None
    axis = 0 if x_val.ndim == 2 else None
    mt, st = np.nanmean(x_train, axis=axis), np.nanstd(x_train, axis=axis)
    mv, sv = np.nanmean(x_val, axis=axis), np.nanstd(x_val, axis=axis)
    ok = (st > 0) & (sv > 0)
    ratio = np.where(ok, sv / np.where(st > 0, st, 1), 1.0)
    # the typical feature, not any one: near-constant columns (image borders) vary by
    # large factors between two samples of one distribution
    if not np.any(ok) or np.median(np.abs(np.log(ratio[ok]))) < np.log(SCALE_FACTOR):
        return None
    scaled = (x_val - mv) / np.where(sv > 0, sv, 1) * np.where(ok, st, 1) + mt
    return scaled.astype(x_val.dtype)
