"""Which training labels are wrong, over the whole training set, from recorded dynamics.

Inputs are the callback's ``dyn_*`` arrays (see ``callback/probes/dynamics.py``). Per sample:

- **AUM** (Pleiss et al., 2020): the mean over the recorded epochs of its given label's logit
  minus the largest other logit. Negative: the model kept pulling it towards another class.
- **Data map** (Swayamdipta et al., 2020): *confidence* = mean p(given label) over epochs,
  *variability* = its standard deviation. Wrong labels sit low and still (low confidence,
  low variability); hard or ambiguous samples move (high variability).
- **Neighbour vote**: the labels of its ``k`` nearest training samples in the model's
  representation, the sample itself left out, so the vote is an out-of-sample-like label
  distribution. A sample is *flagged* (a likely wrong label) when another class out-votes
  its given label among its neighbours (by ``VOTE_MARGIN``). Counting (given label, neighbours' label) pairs is a confident joint
  over the representation: its off-diagonal share estimates the noise rate, and one class
  pair that stands out is class-pair (asymmetric) noise. This catches class-pair noise that
  a global AUM < 0 cut misses, because the model learns part of the flip for the flipped
  class's images, but the neighbours of a flipped image still mostly carry the true label.

Three stories are told apart: a **wrong label** (flagged: its neighbours agree on another
class), a **hard sample** (not flagged, but AUM < 0: its neighbours agree with its label,
the model does not), and **a class the model cannot learn** (more than half of a class is
flagged: no majority of clean labels is left to outvote, so those are not counted as noise).

Example:
    >>> emb = np.r_[np.zeros((20, 2)), np.ones((20, 2))] + np.linspace(0, .1, 40)[:, None]
    >>> labels = np.r_[np.zeros(20, int), np.ones(20, int)]; labels[3] = 1
    >>> f = label_dynamics(np.zeros((2, 40)), np.full((2, 40), .5), labels, emb, k=5)
    >>> f.flagged_ids.tolist()
    [3]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

VOTE_MARGIN = 0.1  # the other class must out-vote the given one by this share of neighbours
UNLEARNED_SHARE = 0.5  # a class flagged beyond this has no clean majority left to vote
REFERENCE_MAX = 20_000  # neighbours are searched among at most this many samples
SUSPECT_COLUMNS = ("rank", "index", "given_label", "predicted_label", "likely_label",
                   "suspicion", "neighbour_agreement", "aum", "confidence", "variability")


@dataclass
class DynamicsFacts:
    """Per-sample scores of the whole training set and what they add up to."""

    n: int
    ids: np.ndarray
    labels: np.ndarray
    predicted: np.ndarray
    likely: np.ndarray
    aum: np.ndarray
    confidence: np.ndarray
    variability: np.ndarray
    votes: np.ndarray
    suspicion: np.ndarray
    flagged: np.ndarray
    hard: np.ndarray
    unlearned_classes: list[int]
    joint: np.ndarray
    k: int
    representation: str
    epochs: list[int] = field(default_factory=list)
    mean_proba: np.ndarray | None = None

    @property
    def n_flagged(self) -> int:
        return int(self.flagged.sum())

    @property
    def noise_rate(self) -> float:
        """Estimated share of wrong training labels (the flagged share)."""
        return self.n_flagged / max(1, self.n)

    @property
    def flagged_ids(self) -> np.ndarray:
        return self.ids[self.flagged]

    def top_pairs(self, limit: int = 5) -> list[tuple[int, int, int]]:
        """(given, likely, count) of the commonest flips, most frequent first."""
        off = self.joint.copy()
        np.fill_diagonal(off, 0)
        order = np.argsort(-off, axis=None)[:limit]
        return [(int(i), int(j), int(off[i, j])) for i, j in
                zip(*np.unravel_index(order, off.shape), strict=True) if off[i, j] > 0]

    def pair_concentration(self) -> float:
        """Share of flagged samples in the single commonest (given, likely) pair."""
        pairs = self.top_pairs(1)
        return pairs[0][2] / self.n_flagged if pairs and self.n_flagged else float("nan")

    def suspects(self) -> pd.DataFrame:
        """Every flagged sample, most suspicious first (the table of suspects.csv)."""
        rows = np.flatnonzero(self.flagged)
        rows = rows[np.argsort(-self.suspicion[rows], kind="stable")]
        agreement = self.votes[rows, self.labels[rows]]
        return pd.DataFrame({
            "rank": np.arange(1, len(rows) + 1), "index": self.ids[rows],
            "given_label": self.labels[rows], "predicted_label": self.predicted[rows],
            "likely_label": self.likely[rows], "suspicion": self.suspicion[rows].round(4),
            "neighbour_agreement": agreement.round(4), "aum": self.aum[rows].round(4),
            "confidence": self.confidence[rows].round(4),
            "variability": self.variability[rows].round(4)}, columns=list(SUSPECT_COLUMNS))

    def pred_probs(self) -> np.ndarray:
        """Out-of-sample-like class probabilities (the neighbour vote, smoothed by the
        model's mean probabilities as one extra vote), for ``cleanlab.find_label_issues``."""
        p = self.votes * self.k
        p = p + self.mean_proba if self.mean_proba is not None else p + 1e-3
        return (p / p.sum(axis=1, keepdims=True)).astype(np.float32)


def neighbour_votes(emb: np.ndarray, labels: np.ndarray, n_classes: int, k: int,
                    chunk: int = 1024, seed: int = 0) -> np.ndarray:
    """(N, C) share of each class among the ``k`` nearest other samples (cosine)."""
    # centred and normalised in float64: a diverging run's embeddings (up to float32's
    # largest value) overflow a float32 sum; the neighbour search then runs in float32
    emb = np.asarray(emb, dtype=np.float64)
    emb = emb - emb.mean(axis=0)
    emb = (emb / (np.linalg.norm(emb, axis=1, keepdims=True) + 1e-8)).astype(np.float32)
    n = len(emb)
    ref = np.arange(n) if n <= REFERENCE_MAX else np.sort(
        np.random.default_rng(seed).choice(n, REFERENCE_MAX, replace=False))
    k = min(k, len(ref) - 1)
    votes = np.zeros((n, n_classes), dtype=np.float32)
    ref_emb, ref_labels = emb[ref], labels[ref]
    position = np.full(n, -1)
    position[ref] = np.arange(len(ref))
    for start in range(0, n, chunk):
        rows = np.arange(start, min(n, start + chunk))
        sims = emb[rows] @ ref_emb.T
        own = position[rows]
        sims[(own >= 0).nonzero()[0], own[own >= 0]] = -np.inf  # never one's own vote
        near = np.argpartition(-sims, k, axis=1)[:, :k]
        np.add.at(votes, (np.repeat(rows, k), ref_labels[near].ravel()), 1.0)
    return votes / k


def default_k(n: int, labels: np.ndarray) -> int:
    """About sqrt(N) neighbours, 10 to 50, and at most half the smallest class."""
    counts = np.bincount(labels)
    smallest = int(counts[counts > 0].min()) if len(labels) else 1
    return int(max(3, min(int(np.sqrt(max(n, 1))), 50, max(10, smallest // 2))))


def label_dynamics(margins: np.ndarray, p_given: np.ndarray, labels: np.ndarray,
                   embedding: np.ndarray | None = None, mean_proba: np.ndarray | None = None,
                   ids: np.ndarray | None = None, n_classes: int | None = None,
                   k: int | None = None, epochs: list[int] | None = None) -> DynamicsFacts:
    """Score every training sample from its per-epoch margins ``(E, N)`` and p(given)
    ``(E, N)``; neighbours come from ``embedding`` ``(N, D)`` (else from log mean_proba)."""
    labels = np.asarray(labels).astype(np.int64)
    n = len(labels)
    n_classes = int(n_classes or max(int(labels.max(initial=0)) + 1,
                                     mean_proba.shape[1] if mean_proba is not None else 0))
    margins = np.nan_to_num(np.asarray(margins, dtype=np.float64).reshape(-1, n))
    p_given = np.nan_to_num(np.asarray(p_given, dtype=np.float64).reshape(-1, n))
    aum, confidence, variability = margins.mean(0), p_given.mean(0), p_given.std(0)
    if embedding is not None and len(embedding) == n:
        space, representation = np.asarray(embedding, dtype=np.float32), "model representation"
    elif mean_proba is not None:
        space = np.log(np.clip(mean_proba, 1e-6, 1)).astype(np.float32)
        representation = "mean predicted log-probabilities"
    else:
        space, representation = margins.T.astype(np.float32), "margin trajectories"
    k = int(k or default_k(n, labels))
    votes = neighbour_votes(np.nan_to_num(space), labels, n_classes, k)
    rows = np.arange(n)
    own = votes[rows, labels]
    others = votes.copy()
    others[rows, labels] = -1.0
    likely = np.where(others.max(1) - own > VOTE_MARGIN, others.argmax(1), labels)
    disagree = likely != labels
    joint = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(joint, (labels, likely), 1)
    share = np.bincount(labels[disagree], minlength=n_classes) / np.maximum(
        1, np.bincount(labels, minlength=n_classes))
    unlearned = [int(c) for c in np.flatnonzero(share > UNLEARNED_SHARE)]
    flagged = disagree & ~np.isin(labels, unlearned)
    scale = float(np.median(np.abs(aum))) or 1.0
    suspicion = 0.5 * (others.max(1) - own) + 0.5 * np.tanh(-aum / scale)
    predicted = (mean_proba.argmax(1) if mean_proba is not None else likely).astype(np.int64)
    return DynamicsFacts(
        n=n, ids=np.asarray(ids) if ids is not None else rows, labels=labels,
        predicted=predicted, likely=likely, aum=aum, confidence=confidence,
        variability=variability, votes=votes, suspicion=suspicion, flagged=flagged,
        hard=~disagree & (aum < 0), unlearned_classes=unlearned, joint=joint, k=k,
        representation=representation, epochs=list(epochs or []), mean_proba=mean_proba)


def dynamics_from_arrays(arrays: dict[str, Any], n_classes: int | None = None
                         ) -> DynamicsFacts | None:
    """:func:`label_dynamics` of a record's ``dyn_*`` arrays (None when absent/inconsistent)."""
    needed = ("dyn_margin", "dyn_p_given", "dyn_labels")
    if any(not isinstance(arrays.get(key), np.ndarray) or not arrays[key].size
           for key in needed):
        return None
    labels = arrays["dyn_labels"]
    margin, p_given = arrays["dyn_margin"], arrays["dyn_p_given"]
    if margin.ndim != 2 or margin.shape != p_given.shape or margin.shape[1] != len(labels) \
            or len(labels) < 10:
        return None
    emb, proba, ids = (arrays.get(k) for k in ("dyn_embedding", "dyn_proba_mean", "dyn_ids"))
    proba = proba if isinstance(proba, np.ndarray) and proba.shape[:1] == labels.shape else None
    ids = ids if isinstance(ids, np.ndarray) and ids.shape == labels.shape else None
    epochs = arrays.get("dyn_epochs")
    return label_dynamics(margin, p_given, labels,
                          emb if isinstance(emb, np.ndarray) else None, proba, ids,
                          n_classes=max(n_classes or 0, proba.shape[1] if proba is not None
                                        else 0) or None,
                          epochs=[int(e) for e in epochs] if isinstance(epochs, np.ndarray)
                          else None)


def dynamics_of(run: Any) -> DynamicsFacts | None:
    """The run's facts, computed once per record (the diagnosis, suspects.csv and the
    report share them, so they can never disagree)."""
    arrays = getattr(run, "arrays", None) or {}
    key = tuple(id(arrays.get(k)) for k in ("dyn_margin", "dyn_labels", "dyn_embedding"))
    cached = run.__dict__.get("_label_dynamics")
    if cached is not None and cached[0] == key:
        return cached[1]
    facts = dynamics_from_arrays(arrays, run.meta.get("n_classes"))
    run.__dict__["_label_dynamics"] = (key, facts)
    return facts
