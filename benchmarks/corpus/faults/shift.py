"""distribution_shift: validation drawn from another distribution than training."""

from __future__ import annotations

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.faults.registry import (
    EASY,
    features,
    implementation,
    lerp,
    pool,
    projection,
    set_split,
)


def _redraw(case: Case, score: np.ndarray, purity: float, rng: np.random.Generator,
            held: np.ndarray | None = None) -> None:
    """Per class, validation = the highest-``score`` rows (a ``purity`` share of it), the rest
    drawn at random; training gets everything else, less a ``purity`` share of the ``held``
    rows not in validation. The label mix is unchanged."""
    x, y = pool(case)
    n_val_share = len(case.y_val) / len(y)
    is_val = np.zeros(len(y), bool)
    for c in range(case.n_classes):
        members = np.flatnonzero(y == c)
        n_val = max(1, int(round(n_val_share * len(members))))
        n_shift = int(round(purity * n_val))
        ranked = members[np.argsort(-score[members])]
        chosen = list(ranked[:n_shift])
        rest = ranked[2 * n_val:] if len(ranked) > 2 * n_val else ranked[n_shift:]
        chosen += list(rng.choice(rest, min(n_val - n_shift, len(rest)), replace=False))
        is_val[chosen] = True
    set_split(case, x, y, is_val)
    if held is not None:
        gone = held[~is_val] & (rng.random(int((~is_val).sum())) < purity)
        case.keep("train", np.flatnonzero(~gone))


# (on near-separable sources a shifted validation set still scores at the ceiling)
@implementation("distribution_shift/region", count=8, layouts=("vector", "image"), exclude=EASY,
                knob="share of validation from the "
                "far end of the direction 0.6-1.0")
def covariate_region(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Covariate shift: within each class, validation comes from one end of a direction of
    the input space (a random mix of the top principal components)."""
    pt, pv = projection(case, rng)
    _redraw(case, np.concatenate([pt, pv]), lerp(severity, 0.6, 1.0), rng)
    case.description = "validation drawn from one region of the input space (same label mix)"


@implementation("distribution_shift/subpopulation", count=8, layouts=("vector", "image"),
                exclude=EASY, knob="share of validation from "
                "the held-out sub-cluster 0.6-1.0")
def subpopulation(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Sub-population shift: each class is split into 3 clusters; validation comes mostly from
    one cluster per class, and training loses most of that cluster."""
    from sklearn.cluster import KMeans

    x, y = pool(case)
    f = np.concatenate([features(case, case.x_train), features(case, case.x_val)])
    score = np.zeros(len(y))
    for c in range(case.n_classes):
        members = np.flatnonzero(y == c)
        if len(members) < 6:
            continue
        labels = KMeans(3, n_init=3, random_state=case.seed).fit_predict(f[members])
        held = rng.integers(0, 3)
        score[members] = (labels == held) + 1e-3 * rng.random(len(members))
    _redraw(case, score, lerp(severity, 0.6, 1.0), rng, held=score >= 1)
    case.description = "validation drawn from one sub-cluster of each class"


@implementation("distribution_shift/input_noise", count=8, knob="noise std 0.5-1.6 x train "
                "std (tokens: 20-60 % of tokens replaced)")
def input_noise(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Noisy validation inputs (a different sensor): Gaussian noise scaled to the training
    spread; token sequences get random token substitutions instead."""
    if case.layout == "tokens":
        share = lerp(severity, 0.2, 0.6)
        hit = rng.random(case.x_val.shape) < share
        case.x_val = np.where(hit, rng.integers(2, case.source.vocab, case.x_val.shape),
                              case.x_val).astype("int32")
        case.description = f"{share:.0%} of validation tokens replaced at random"
        return
    sigma = lerp(severity, 0.5, 1.6)
    std = case.x_train.std(0, keepdims=True) if case.layout == "vector" else case.x_train.std()
    case.x_val = (case.x_val + rng.normal(0, 1, case.x_val.shape) * sigma * std).astype("float32")
    if case.layout == "image":
        case.x_val = np.clip(case.x_val, 0, 1)
    case.description = f"Gaussian noise ({sigma:.1f} x train std) added to validation inputs"


@implementation("distribution_shift/blur", count=7, layouts=("image", "signal"),
                knob="blur sigma 0.9-2.2 px (signals: 3-8 steps)")
def blur(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Blurred validation inputs (another camera or a low-pass front end)."""
    from scipy.ndimage import gaussian_filter

    if case.layout == "image":
        sigma = lerp(severity, 0.9, 2.2)
        case.x_val = gaussian_filter(case.x_val, sigma=(0, sigma, sigma, 0)).astype("float32")
    else:
        sigma = lerp(severity, 3.0, 8.0)
        case.x_val = gaussian_filter(case.x_val, sigma=(0, sigma, 0)).astype("float32")
    case.description = f"validation inputs blurred (sigma {sigma:.1f})"


@implementation("distribution_shift/prior", count=7, layouts=("vector", "image", "signal"),
                exclude=EASY, knob="minority keep share 0.35-0.06")
def prior(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Prior (label-mix) shift: half the classes are rare in training and common in
    validation, the other half the reverse."""
    keep = lerp(severity, 0.35, 0.06)
    case.spec.class_weight = False   # class weights would undo the shift
    rare_in_train = rng.permutation(case.n_classes)[: max(1, case.n_classes // 2)]
    for part, rare in (("train", np.isin(np.arange(case.n_classes), rare_in_train)),
                       ("val", ~np.isin(np.arange(case.n_classes), rare_in_train))):
        y = getattr(case, f"y_{part}")
        drop = rare[y] & (rng.random(len(y)) > keep)
        case.keep(part, np.flatnonzero(~drop))
    case.description = (f"classes {sorted(rare_in_train.tolist())} kept at {keep:.0%} in "
                        "training, the others at that share in validation")
