"""The callback's first step of every ``fit``: bounded samples of the validation and training
data, and the validation slices (``groups``) mapped onto the validation sample."""

from __future__ import annotations

from typing import Any

import numpy as np

from gapdoctor.callback.data_sampling import bounded_sample, label_ints
from gapdoctor.callback.state import RunState


def take_validation_sample(state: RunState, validation_data: Any, max_val: int) -> None:
    """Draw the bounded validation sample (state is changed only if the data can be read)."""
    data = state.meta.setdefault("data", {})
    if validation_data is None:
        state.note("No validation_data was given to GapDoctor: validation predictions, "
                   "per-class validation metrics, calibration and data comparisons were "
                   "not recorded (only val_* values from Keras logs).")
        return
    val, source, stratified = bounded_sample(validation_data, max_val, "validation_data",
                                             pool=max_val, labels=state.head.labels)
    labels = label_ints(val.y)
    state.val, state.val_source = val, source
    data["val_sampled"] = "stratified" if stratified else "all read"
    state.arrays.update(val_index=val.index, val_labels=labels)
    for note in source.notes:
        state.note(note)


def take_train_probe(state: RunState, train_data: Any, max_probe: int) -> None:
    """Draw the fixed, stratified train probe (state is changed only if the data can be read)."""
    data = state.meta.setdefault("data", {})
    if train_data is None:
        state.note("No train_data was given to GapDoctor: no train probe, so no per-sample "
                   "margins or eval-mode train metrics were recorded.")
        return
    probe, source, stratified = bounded_sample(train_data, max_probe, "train_data",
                                               labels=state.head.labels)
    labels = label_ints(probe.y)
    state.train, state.train_source = probe, source
    data["probe_stratified"] = bool(stratified)
    state.arrays.update(probe_index=probe.index, probe_labels=labels)
    for note in source.notes:
        state.note(note)


def map_groups(state: RunState, groups: dict[str, np.ndarray] | None) -> None:
    """Positions in the validation sample of each user-given validation slice."""
    if not groups or state.val is None:
        return
    n_total = state.val_source.n_total if state.val_source else None
    for name, spec in groups.items():
        if spec.dtype == bool:
            if n_total is not None and len(spec) != n_total:
                raise ValueError(f"group {name!r}: mask has {len(spec)} entries but the "
                                 f"validation data has {n_total} samples")
            spec = np.flatnonzero(spec)
        state.groups[name] = np.flatnonzero(np.isin(state.val.index, spec))
