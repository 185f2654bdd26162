"""What the recorded input samples show: rows with NaN/inf, collapsed rows, token ids that the model embeds,
validation columns in another order, and the feature facts (domain classifier, reference
models) in the representation that fits the inputs."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gapdoctor.analysis.features import FeatureFacts, feature_facts
from gapdoctor.analysis.integrity import Integrity, far_values, integrity
from gapdoctor.analysis.off_support import OffSupport, off_support
from gapdoctor.analysis.ramps import finite_number, ramp
from gapdoctor.analysis.reorder import Reorder, column_reorder
from gapdoctor.analysis.spectra import spectral_view
from gapdoctor.analysis.tokens import are_ids, embeds_ids, new_fill, token_views
from gapdoctor.record.schema import RunRecord


def nonfinite_inputs(run: RunRecord) -> dict[str, Any]:
    """Rows with NaN/inf inputs per split: ``{split: {count, rows, scope}}``, from the
    whole data when the callback counted it, else from the feature samples."""
    data = run.meta.get("data") or {}
    counted = data.get("nonfinite_rows")
    out: dict[str, Any] = {}
    if isinstance(counted, dict):
        out = {k: v for k, v in counted.items()
               if isinstance(v, dict) and finite_number(v.get("count")) and v["count"] > 0}
    for split in ("train", "val"):
        x = run.arrays.get(f"x_{split}")
        if split not in out and isinstance(x, np.ndarray) and x.size:
            bad = ~np.isfinite(x.reshape(len(x), -1)).all(axis=1)
            if bad.any():
                out[split] = {"count": int(bad.sum()), "rows": [], "scope": "the feature sample"}
    return out


# Rows narrower than this can hold two distinct values legitimately (a few binary flags).
MIN_COLLAPSE_WIDTH = 8
_CHUNK = 4096  # rows per step: bounds the boolean temporaries of wide inputs


def count_collapsed(flat: np.ndarray) -> int:
    """Rows with at most two distinct values over at least ``MIN_COLLAPSE_WIDTH`` inputs:
    every input equals the row's minimum or its maximum. A blank image (a failed decode), a
    float image cast to uint8 (0 or 1/255) or a row zero-filled by a failed join look so.

    Example:
        >>> count_collapsed(np.array([[0.0] * 8, [0.0, 1 / 255] * 4, np.linspace(0, 1, 8)]))
        2
    """
    if flat.ndim != 2 or flat.shape[1] < MIN_COLLAPSE_WIDTH:
        return 0
    count = 0
    for start in range(0, len(flat), _CHUNK):
        x = flat[start:start + _CHUNK]
        low, high = x.min(axis=1, keepdims=True), x.max(axis=1, keepdims=True)
        count += int(((x == low) | (x == high)).all(axis=1).sum())
    return count


def collapsed_share(run: RunRecord) -> dict[str, float]:
    """Share of rows with at most two distinct input values, per split: from every row in
    memory when the callback counted them, else from unprojected feature samples."""
    data = run.meta.get("data") or {}
    counted = data.get("collapsed_rows")
    out: dict[str, float] = {}
    if isinstance(counted, dict):
        for split, v in counted.items():
            if isinstance(v, dict) and finite_number(v.get("count")) and finite_number(v.get("n")) \
                    and v["n"] > 0:
                out[split] = float(v["count"]) / float(v["n"])
        return out
    if data.get("feature_projection"):
        return out  # a random projection of a collapsed row is not collapsed
    for split in ("train", "val"):
        x = run.arrays.get(f"x_{split}")
        if isinstance(x, np.ndarray) and x.ndim == 2 and len(x):
            out[split] = count_collapsed(x) / len(x)
    return out


def collapsed_excess(share: dict[str, float]) -> tuple[float, float, str]:
    """(validation share of collapsed rows beyond the training share, how far it can be
    trusted, why): NaN without both splits. Where training rows are often two-valued too
    (binary or sparse count features), such rows are a kind of data, not erased ones: the
    trust falls from 1 at 1 % of training rows to 0 at 5 %."""
    if "val" not in share or "train" not in share:
        return float("nan"), 0.0, ""
    trust = 1 - ramp(share["train"], 0.01, 0.05)
    return (share["val"] - share["train"], trust,
            f"{share['train']:.1%} of training rows are two-valued too (none from 5%)")


def token_inputs(run: RunRecord) -> bool:
    """Whether the recorded inputs are token ids that the model embeds (see
    :mod:`gapdoctor.analysis.tokens`): compared as bags of tokens, not as numbers."""
    a = run.arrays
    return (embeds_ids(run.meta) and run.has("x_train") and run.has("x_val")
            and are_ids(a["x_train"], a["x_val"]))


def numeric_samples(run: RunRecord) -> tuple[np.ndarray, np.ndarray] | None:
    """Both recorded input samples as floats, or None when either is missing, not numeric
    (text recorded as strings) or of another row shape than the other: nothing to compare.

    Example:
        >>> from gapdoctor.record.schema import RunRecord
        >>> run = RunRecord.empty(source="doc")
        >>> run.arrays.update(x_train=np.array(["a b", "c"]), x_val=np.array(["d"]))
        >>> numeric_samples(run) is None
        True
    """
    x_train, x_val = run.arrays.get("x_train"), run.arrays.get("x_val")
    if not (isinstance(x_train, np.ndarray) and isinstance(x_val, np.ndarray)) or \
            x_train.shape[1:] != x_val.shape[1:]:
        return None
    try:
        return np.asarray(x_train, dtype=float), np.asarray(x_val, dtype=float)
    except (TypeError, ValueError):
        return None


def features_of(run: RunRecord, tokens: bool) -> FeatureFacts | None:
    """Feature facts of the recorded samples (None without both comparable splits and probe
    labels): as bags of tokens when ``tokens``, with a spectral view when raw signals or
    images."""
    a, samples = run.arrays, numeric_samples(run)
    if samples is None or not run.has("probe_labels"):
        return None
    labels = a["probe_labels"]
    if len(labels) != len(samples[0]):
        return None
    x_train, x_val = samples
    views, raw_name = {}, "raw"
    if tokens:
        x_train, x_val = token_views(x_train, x_val)
        raw_name = "bags of tokens"
    elif not (run.meta.get("data") or {}).get("feature_projection"):
        shape = (run.meta.get("data") or {}).get("input_shape")
        spectra = (spectral_view(x_train, shape), spectral_view(x_val, shape))
        if spectra[0] is not None and spectra[1] is not None:
            views["spectra"] = spectra
    return feature_facts(x_train, labels, x_val, a.get("y_val_features"), views=views,
                         raw_name=raw_name)


def off_support_of(run: RunRecord, tokens: bool) -> OffSupport | None:
    """The recorded validation rows without a training row near them (see
    :mod:`gapdoctor.analysis.off_support`), as bags of tokens when ``tokens`` (a token's
    position in a sequence is no coordinate); None without both samples."""
    samples = numeric_samples(run)
    if samples is None:
        return None
    x_train, x_val = token_views(*samples) if tokens else samples
    return off_support(x_train, x_val, run.arrays.get("val_index"))


def reorder_of(run: RunRecord, tokens: bool) -> Reorder | None:
    """Whether validation's columns are training's in another order (see
    :mod:`gapdoctor.analysis.reorder`), when the recorded features are the raw columns
    (not a random projection, not token ids: positions in a sequence are no columns)."""
    a, data = run.arrays, run.meta.get("data") or {}
    x_tr, x_va = a.get("x_train"), a.get("x_val")
    if (data.get("feature_projection") or tokens or not isinstance(x_tr, np.ndarray)
            or not isinstance(x_va, np.ndarray) or x_tr.ndim != 2 or x_va.ndim != 2
            or x_tr.shape[1] != x_va.shape[1] or not 2 <= x_tr.shape[1] <= 256
            or min(len(x_tr), len(x_va)) < 20):
        return None
    return column_reorder(x_tr, x_va, a.get("probe_labels"), a.get("y_val_features"))


def new_fill_of(run: RunRecord, tokens: bool) -> float | None:
    """Share of validation sequences filled with an id training's are not (see
    :func:`gapdoctor.analysis.tokens.new_fill`), for token inputs only; None otherwise."""
    samples = numeric_samples(run) if tokens else None
    if samples is None:
        return None
    share = new_fill(*samples)
    return share if math.isfinite(share) else None


def far_values_of(run: RunRecord, tokens: bool) -> float | None:
    """Share of validation values beyond twice training's whole range (see
    :func:`gapdoctor.analysis.integrity.far_values`) for inputs that are no table of raw
    columns (images, signals, projected columns; tables get :func:`integrity_of`); None for
    tables, token ids (a new vocabulary brings new ids) or without both samples."""
    data = run.meta.get("data") or {}
    samples = numeric_samples(run)
    shape = data.get("input_shape")
    table = isinstance(shape, list) and len(shape) == 1 and not data.get("feature_projection")
    if samples is None or tokens or table or not isinstance(shape, list):
        return None
    share = far_values(*samples)
    return share if math.isfinite(share) else None


def integrity_of(run: RunRecord, tokens: bool) -> Integrity | None:
    """Validation columns that break the training data's schema (see
    :mod:`gapdoctor.analysis.integrity`), for tables only: one value per feature, recorded raw.
    Pixels and time steps are no schema columns: a wafer map with larger dies leaves its border
    pixels constant, a stronger baseline lifts a spectrum's quiet channels far out of their
    range, with nothing broken (fresh12's first look: 4 of 6 shifts read so, 0 of 6 bugs).
    Token ids neither: a new vocabulary brings new values."""
    data = run.meta.get("data") or {}
    samples = numeric_samples(run)
    shape = data.get("input_shape")
    if samples is None or tokens or data.get("feature_projection") or \
            not (isinstance(shape, list) and len(shape) == 1):
        return None
    x_train, x_val = (x.reshape(len(x), -1) for x in samples)
    found = integrity(x_train, x_val)
    return found if found.checked else None
