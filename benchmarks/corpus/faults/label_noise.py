"""label_noise: wrong labels in the training split only (validation labels stay clean)."""

from __future__ import annotations

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.faults.registry import (
    implementation,
    lerp,
    other_class,
    projection,
)

# a linear model cannot memorise flipped labels (no label-noise story); GRUs are slow
MEMORISERS = ("mlp", "cnn2d", "cnn1d", "embed")


def _room_to_memorise(case: Case) -> None:
    """Enough capacity and epochs for the model to start fitting the wrong labels."""
    s = case.spec
    s.width, s.epochs, s.early_stopping = max(s.width, 2), max(s.epochs, 30), False
    s.dropout = 0.0


@implementation("label_noise/uniform", count=10, families=MEMORISERS, knob="flip rate 0.12-0.45")
def uniform(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Each training label is replaced, with a fixed probability, by a uniformly drawn
    other class."""
    rate = lerp(severity, 0.12, 0.45)
    flip = np.flatnonzero(rng.random(len(case.y_train)) < rate)
    case.y_train = case.y_train.copy()
    case.y_train[flip] = other_class(case.y_train[flip], case.n_classes, rng)
    _room_to_memorise(case)
    case.description = f"{len(flip) / len(case.y_train):.0%} of training labels flipped uniformly"


@implementation("label_noise/pair", count=10, families=MEMORISERS, knob="pair flip rate 0.15-0.42")
def pair(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Asymmetric (class-pair) noise: a share of class c's training labels read as the
    class paired with c (classes chained in a random cycle; binary: only positives read as negatives)."""
    rate = lerp(severity, 0.15, 0.42)
    k = case.n_classes
    order = rng.permutation(k)
    mapping = np.empty(k, int)
    mapping[order] = np.roll(order, -1)   # one cycle: every class has one partner
    sources = np.arange(k) if k > 2 else np.array([1])
    flip = np.flatnonzero(np.isin(case.y_train, sources) & (rng.random(len(case.y_train)) < rate))
    case.y_train = case.y_train.copy()
    case.y_train[flip] = mapping[case.y_train[flip]]
    _room_to_memorise(case)
    case.description = (f"class-pair noise: {rate:.0%} of each class's training labels read as "
                        f"its partner class ({len(flip)} labels)")


@implementation("label_noise/feature", count=10, families=MEMORISERS, knob="mean flip rate 0.12-0.40")
def feature_dependent(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Feature-dependent noise: the flip probability rises linearly along a direction of the
    input space (0 at one end, twice the mean rate at the other), to the next class."""
    rate = lerp(severity, 0.12, 0.40)
    proj, _ = projection(case, rng)
    rank = np.argsort(np.argsort(proj)) / max(len(proj) - 1, 1)
    flip = np.flatnonzero(rng.random(len(proj)) < np.minimum(2 * rate * rank, 0.9))
    case.y_train = case.y_train.copy()
    case.y_train[flip] = (case.y_train[flip] + 1) % case.n_classes
    _room_to_memorise(case)
    case.description = (f"feature-dependent noise: {len(flip) / len(proj):.0%} of training "
                        "labels flipped, more often along one input direction")
