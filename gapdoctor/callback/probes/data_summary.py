"""Data summary, once per ``fit``: sizes, label distributions, per-feature summaries, exact
duplicates of validation samples in the training data, and bounded feature samples.

Feature samples (``x_train``, ``x_val``) are float32 and flattened; inputs wider than
``MAX_FEATURES`` columns are mapped by a fixed, seeded Gaussian random projection to
``PROJECTED_FEATURES`` columns (noted in ``meta["data"]["feature_projection"]``), which keeps
distances between rows approximately (Johnson-Lindenstrauss) and the record small.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from gapdoctor.analysis.duplicates import row_keys
from gapdoctor.analysis.inputs import count_collapsed
from gapdoctor.callback.data_sampling import Sample, label_ints
from gapdoctor.callback.probes.base import Probe
from gapdoctor.callback.state import RunState

MAX_FEATURES = 256
PROJECTED_FEATURES = 128
PROJECTION_SEED = 0
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def projection_matrix(n_features: int, seed: int = PROJECTION_SEED) -> np.ndarray:
    """The (n_features, PROJECTED_FEATURES) Gaussian projection, entries N(0, 1/k)."""
    rng = np.random.default_rng(seed)
    scale = 1.0 / np.sqrt(PROJECTED_FEATURES)
    return (rng.standard_normal((n_features, PROJECTED_FEATURES)) * scale).astype(np.float32)


def flat_features(x: np.ndarray, projection: np.ndarray | None = None) -> np.ndarray:
    """Rows of ``x`` as float32 vectors, projected when a matrix is given."""
    flat = np.asarray(x, dtype=np.float32).reshape(len(x), -1)
    return flat @ projection if projection is not None else flat


def feature_summary(x: np.ndarray, flat: np.ndarray) -> dict[str, Any]:
    """Mean, std, min, max and quantiles per feature (per channel for images)."""
    x = np.asarray(x)
    if x.ndim >= 3:
        kind, columns = "per_channel", x.reshape(-1, x.shape[-1]).astype(np.float64)
    elif flat.shape[1] != int(np.prod(x.shape[1:], dtype=np.int64)):
        kind, columns = "projected", flat.astype(np.float64)
    else:
        kind, columns = "per_feature", flat.astype(np.float64)
    finite = np.isfinite(columns)
    masked = np.where(finite, columns, np.nan)
    out: dict[str, Any] = {"kind": kind, "n": int(len(x)), "n_columns": int(columns.shape[1]),
                           "nonfinite": int((~finite).sum())}
    if not finite.any(axis=0).all():
        masked = np.where(finite.any(axis=0), masked, 0.0)
    out["mean"] = np.nanmean(masked, axis=0).tolist()
    out["std"] = np.nanstd(masked, axis=0).tolist()
    out["min"] = np.nanmin(masked, axis=0).tolist()
    out["max"] = np.nanmax(masked, axis=0).tolist()
    for q, values in zip(QUANTILES, np.nanquantile(masked, QUANTILES, axis=0), strict=True):
        out[f"q{int(round(q * 100)):02d}"] = values.tolist()
    return out


def duplicates(train: Sample, val: Sample) -> dict[str, int]:
    """Validation rows whose features exactly equal a training row (and how many of those
    carry a different label there), and training rows that equal another training row."""
    labels_of: dict[bytes, set[int]] = {}
    keys = row_keys(train.x)
    for key, label in zip(keys, label_ints(train.y), strict=True):
        labels_of.setdefault(key, set()).add(int(label))
    # the data's own repeat rate over the same rows: validation rows "in training" beyond it
    # are a leak (a rate from a smaller sample understates it: twins are found among fewer rows)
    repeats = int(pd.Series(keys).duplicated(keep=False).sum())
    count = conflicts = 0
    for key, label in zip(row_keys(val.x), label_ints(val.y), strict=True):
        found = labels_of.get(key)
        if found is not None:
            count += 1
            conflicts += int(found != {int(label)})
    return {"duplicates_val_in_train": count, "duplicate_label_conflicts": conflicts,
            "duplicates_within_train": repeats, "duplicates_train_rows": len(keys)}


def nonfinite_rows(sample: Sample, keep: int = 20) -> dict[str, Any]:
    """How many rows of ``sample`` hold a NaN or inf input, and the first ``keep`` of their
    source indices (so the report can point at the bad rows)."""
    flat = np.asarray(sample.x, dtype=np.float64).reshape(sample.n_rows, -1)
    bad = ~np.isfinite(flat).all(axis=1)
    return {"count": int(bad.sum()), "rows": [int(i) for i in sample.index[bad][:keep]],
            "scope": "all rows" if sample.exhausted else f"the first {sample.n_rows} rows"}


def collapsed_rows(sample: Sample) -> dict[str, Any]:
    """How many rows of ``sample`` take at most two distinct input values (see
    :func:`gapdoctor.analysis.inputs.collapsed_share`)."""
    flat = np.asarray(sample.x).reshape(sample.n_rows, -1)
    return {"count": count_collapsed(flat), "n": int(sample.n_rows), "width": int(flat.shape[1]),
            "scope": "all rows" if sample.exhausted else f"the first {sample.n_rows} rows"}


def _duplicates_in(state: RunState, data: dict[str, Any]) -> None:
    """Exact duplicates between and within the splits, over every row held in memory."""
    if state.train_source is None or state.val_source is None:
        return
    data.update(duplicates(state.train_source, state.val_source))
    data["duplicates_scope"] = ("all training data" if state.train_source.exhausted
                                else f"the first {state.train_source.n_rows} training samples")


def _counts(sample: Sample | None) -> dict[str, int] | None:
    if sample is None:
        return None
    values, counts = np.unique(label_ints(sample.y), return_counts=True)
    return {str(int(v)): int(c) for v, c in zip(values, counts, strict=True)}


class DataSummaryProbe(Probe):
    """Fills ``meta["data"]`` and the arrays ``x_train``, ``x_val``, ``y_val_features``."""

    name = "data_summary"

    def on_train_begin(self, state: RunState) -> None:
        train, val = state.train, state.val
        data = state.meta.setdefault("data", {})
        data.update({
            "n_train": state.train_source.n_total if state.train_source else None,
            "n_val": state.val_source.n_total if state.val_source else None,
            "n_train_probe": train.n_rows if train else 0,
            "n_val_used": val.n_rows if val else 0,
            "train_label_counts": _counts(state.train_source),
            "val_label_counts": _counts(state.val_source),
            "train_source": state.train_source.kind if state.train_source else None,
            "val_source": state.val_source.kind if state.val_source else None,
        })
        samples = [s for s in (train, val) if s is not None]
        if not samples:
            return
        if any(not isinstance(s.x, np.ndarray) for s in samples):
            state.note("The model has several inputs: feature summaries, duplicate checks and "
                       "feature samples were not recorded.")
            return
        data["input_shape"] = list(samples[0].x.shape[1:])
        if any(s.x.dtype.kind in "USO" for s in samples):
            self._text(state, data)
            return
        width = int(np.prod(samples[0].x.shape[1:], dtype=np.int64))
        projection = projection_matrix(width) if width > MAX_FEATURES else None
        if projection is not None:
            data["feature_projection"] = {"method": "gaussian_random_projection",
                                          "seed": PROJECTION_SEED, "from_dim": width,
                                          "to_dim": PROJECTED_FEATURES}
            state.note(f"Inputs have {width} features: feature samples were projected to "
                       f"{PROJECTED_FEATURES} dimensions by a seeded Gaussian random projection.")
        summaries: dict[str, Any] = {}
        for split, sample in (("train", train), ("val", val)):
            if sample is None:
                continue
            flat = flat_features(sample.x, projection)
            state.arrays[f"x_{split}"] = flat
            summaries[split] = feature_summary(sample.x, flat)
        if val is not None:
            state.arrays["y_val_features"] = label_ints(val.y)
        data["feature_summary"] = summaries
        # The feature sample is bounded; a single bad row elsewhere still poisons training, so
        # non-finite inputs are counted over every row held in memory.
        data["nonfinite_rows"] = {split: nonfinite_rows(source) for split, source in
                                  (("train", state.train_source), ("val", state.val_source))
                                  if source is not None and isinstance(source.x, np.ndarray)}
        data["collapsed_rows"] = {split: collapsed_rows(source) for split, source in
                                  (("train", state.train_source), ("val", state.val_source))
                                  if source is not None and isinstance(source.x, np.ndarray)}
        _duplicates_in(state, data)

    def _text(self, state: RunState, data: dict[str, Any]) -> None:
        """Text inputs (strings fed to e.g. a TextVectorization layer): no numbers to
        summarise, but exact duplicates are counted on the text itself."""
        state.note("The inputs are text: feature summaries, feature samples and the counts of "
                   "non-finite or two-valued rows were not recorded (they need numbers); "
                   "exact duplicates were counted on the text.")
        _duplicates_in(state, data)
