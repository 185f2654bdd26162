"""Calibration candidates for the rules' evidence sums, and how one is chosen.

Every candidate is fitted on the development part of the fault corpus only. The choice is
made by cross-validation inside that part, leaving out whole data sources *and*, separately,
whole fault implementations: the held-out part differs from the development part in both,
so a map that only survives one of them would not survive it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from benchmarks.diagnosis.scoring import _acceptable, _joint_logits, figures, scores
from gapdoctor.diagnosis import CAUSES


def _cause_data(table: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per cause, the finite logits and whether each run has the cause. A run whose case also
    accepts this cause as a verdict, without it being the injected one, is left out: it is
    neither a clean positive nor a clean negative."""
    ok = _acceptable(table)
    out = {}
    for cause in CAUSES:
        logit = table.get(f"logit_{cause}")
        if logit is None:
            continue
        keep = np.array([not (cause in a and cause != lab) for a, lab in zip(ok, table["cause"], strict=True)])
        x = logit.to_numpy(float)[keep]
        y = (table["cause"] == cause).to_numpy()[keep]
        finite = np.isfinite(x)
        out[cause] = (x[finite], y[finite])
    return out


def fit_platt(table: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Per cause, ``a, b`` of logistic(a * logit + b) fitted to 'this run has this cause'.

    Lightly regularised (C=1) so that a cause with few positives keeps a slope near the
    hand-set one rather than a perfect-separation extreme.
    """
    from sklearn.linear_model import LogisticRegression

    params = {}
    for cause, (x, y) in _cause_data(table).items():
        if y.sum() < 3 or (~y).sum() < 3:
            params[cause] = {"a": 1.0, "b": 0.0}
            continue
        model = LogisticRegression(C=1.0).fit(x[:, None], y)
        params[cause] = {"a": round(float(model.coef_[0, 0]), 4),
                         "b": round(float(model.intercept_[0]), 4)}
    return params


def fit_softmax(table: pd.DataFrame, l2: float = 1.0) -> dict[str, Any]:
    """Per cause ``a, b`` of the competing-causes map (gapdoctor/rules/calibration.py,
    ``joint_scores``), by maximum likelihood of the accepted verdicts: a run whose case
    accepts several verdicts counts their summed probability. The L2 pull toward a = 1,
    b = 0 (the declared weights) keeps a cause with few runs near its hand-set scale."""
    from scipy.optimize import minimize
    from scipy.special import logsumexp

    ok = _acceptable(table)
    names = ["healthy", *CAUSES]
    accept = np.array([[n in a for n in names] for a in ok])
    k = len(CAUSES)

    def loss(theta: np.ndarray) -> float:
        z = _joint_logits(table, theta[:k], theta[k:])
        hit = logsumexp(np.where(accept, z, -np.inf), axis=1) - logsumexp(z, axis=1)
        return float(-hit.mean() + l2 / len(table) * (((theta[:k] - 1) ** 2).sum()
                                                        + (theta[k:] ** 2).sum()))

    start = np.concatenate([np.ones(k), np.zeros(k)])
    bounds = [(0.05, 5.0)] * k + [(-10.0, 10.0)] * k
    theta = minimize(loss, start, method="L-BFGS-B", bounds=bounds).x
    return {"_joint": True, **{c: {"a": round(float(theta[i]), 4), "b": round(float(theta[k + i]), 4)}
                               for i, c in enumerate(CAUSES)}}


def fit_weights(table: pd.DataFrame, c: float = 0.3) -> dict[str, dict[str, Any]]:
    """Per cause, refit the evidence weights (L2-regularised logistic regression over each
    declared piece's strength), keeping every weight on the side its reason argues for: a
    weight whose fit flips sign is set to 0 (the reason would no longer be true)."""
    from scipy.optimize import minimize_scalar
    from sklearn.linear_model import LogisticRegression

    ok = _acceptable(table)
    params: dict[str, dict[str, Any]] = {}
    for cause in CAUSES:
        keys = sorted(col[3:] for col in table.columns if col.startswith(f"ev_{cause}."))
        logit = table.get(f"logit_{cause}")
        if logit is None or not keys:
            continue
        keep = np.array([not (cause in a and cause != lab) for a, lab in zip(ok, table["cause"], strict=True)])
        keep &= logit.notna().to_numpy()
        x = table.loc[keep, [f"ev_{k}" for k in keys]].fillna(0.0).to_numpy(float)
        y = (table["cause"][keep] == cause).to_numpy()
        if y.sum() < 3 or (~y).sum() < 3:
            continue
        from gapdoctor.rules import RULES

        declared = {}
        for rule in RULES:
            import importlib

            module = importlib.import_module(rule.__module__)
            declared.update({v.key: v.weight for v in vars(module).values() if hasattr(v, "key") and hasattr(v, "lo")})
        w = LogisticRegression(C=c, max_iter=2000).fit(x, y).coef_[0]
        w = np.array([wi if np.sign(wi) == np.sign(declared.get(k, wi)) else 0.0 for wi, k in zip(w, keys, strict=True)])
        z0 = x @ w

        def loss(b: float, z0: np.ndarray = z0, y: np.ndarray = y) -> float:
            p = 1 / (1 + np.exp(-np.clip(z0 + b, -30, 30)))
            return float(-np.mean(y * np.log(p + 1e-12) + (1 - y) * np.log(1 - p + 1e-12)))

        b = float(minimize_scalar(loss, bounds=(-15, 15), method="bounded").x)
        params[cause] = {"prior": round(b, 4),
                         "weights": {k: round(float(v), 4) for k, v in zip(keys, w, strict=True)}}
    return params


def fit_platt_shrunk(table: pd.DataFrame, strength: float = 1.0) -> dict[str, dict[str, float]]:
    """Per cause ``a, b`` of logistic(a * logit + b), pulled toward the declared scale (1, 0).

    Maximises the log-likelihood minus ``strength * ((a - 1)^2 + b^2)``: a Gaussian prior
    centred on the hand-set weights. Plain Platt (:func:`fit_platt`) fits each cause's few
    fault implementations closely, and leaving one implementation out shows the cost (0.787
    -> 0.695 top-1 on the development part); the pull keeps the map near the declared
    weights unless the corpus clearly argues otherwise.
    """
    from scipy.optimize import minimize

    params = {}
    for cause, (x, y) in _cause_data(table).items():
        x = np.clip(x, -30, 30)

        def loss(theta: np.ndarray, x: np.ndarray = x, y: np.ndarray = y) -> float:
            z = theta[0] * x + theta[1]
            # log(1 + e^-z) for the positives, log(1 + e^z) for the negatives, overflow-free
            nll = np.logaddexp(0.0, np.where(y, -z, z)).sum()
            return float(nll + strength * ((theta[0] - 1.0) ** 2 + theta[1] ** 2))

        theta = minimize(loss, np.array([1.0, 0.0]), method="L-BFGS-B",
                         bounds=[(0.05, 5.0), (-10.0, 10.0)]).x
        params[cause] = {"a": round(float(theta[0]), 4), "b": round(float(theta[1]), 4)}
    return params


# The candidates and how each is fitted on a training part.
CANDIDATES = {
    "hand weights": lambda table: None,
    "platt": lambda table: fit_platt(table),
    "platt, shrunk 0.3": lambda table: fit_platt_shrunk(table, 0.3),
    "platt, shrunk 1": lambda table: fit_platt_shrunk(table, 1.0),
    "platt, shrunk 3": lambda table: fit_platt_shrunk(table, 3.0),
    "refit weights": lambda table: fit_weights(table),
    "softmax": lambda table: fit_softmax(table),
}
# How a fitted candidate is stored in calibration.json ("method": how it is applied).
STORED_METHOD = {"hand weights": "none", "refit weights": "weights", "softmax": "softmax"}


def cross_validate(dev: pd.DataFrame, by: str = "source") -> dict[str, dict[str, Any]]:
    """Leave-one-group-out inside the development part, for choosing the calibration method
    without touching the held-out part: each group is scored by a map fitted on the others."""
    parts: dict[str, list[pd.DataFrame]] = {name: [] for name in CANDIDATES}
    for group in sorted(dev[by].unique()):
        train, held = dev[dev[by] != group], dev[dev[by] == group]
        for name, fit in CANDIDATES.items():
            s = scores(held, fit(train))
            parts[name].append(held.assign(**{f"score_{c}": s[c] for c in CAUSES}))
    return {name: figures(pd.concat(frames)) for name, frames in parts.items()}


def choose(dev: pd.DataFrame) -> tuple[str, dict[str, dict[str, dict[str, Any]]]]:
    """The candidate with the best mean of top-1 - false alarms - ECE over leave-one-source-out
    and leave-one-implementation-out, and the figures of both."""
    cv = {by: cross_validate(dev, by) for by in ("source", "implementation")}

    def merit(name: str) -> float:
        return float(np.mean([f[name]["top1"] - f[name]["false_alarms"] - f[name]["ece"]
                              for f in cv.values()]))

    return max(CANDIDATES, key=merit), cv
