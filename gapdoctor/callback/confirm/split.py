"""The rows ``fit(validation_split=...)`` trained and validated on, for the retrainings.

Keras keeps the last ``n - floor(n * (1 - split))`` rows of ``x`` out of training and
validates on them. GapDoctor's ``train_data`` may hold all ``n`` rows (the callback then
trims them for its probes, recording ``meta["data"]["n_train"]``), and with no
``validation_data`` the held-out rows are its validation set, which the constructor never
saw. Inside ``fit`` (``GapDoctor(confirm=True)``) the split is read from fit's own frame.
"""

from __future__ import annotations

import math
from typing import Any

import keras

from gapdoctor.callback.fit_call import fit_frame_locals


def _rows(data: Any) -> int | None:
    try:
        return int(len(keras.tree.flatten(data[0])[0]))
    except (TypeError, IndexError, ValueError, KeyError):
        return None


def _cut(data: Any, start: int, stop: int | None) -> tuple:
    return tuple(keras.tree.map_structure(lambda a: a[start:stop], part)
                 if part is not None else None for part in data)


def fit_rows(doctor: Any, train: Any, validation: Any) -> tuple[Any, Any, str | None]:
    """``(train, validation, note)``: ``train`` without fit's held-out tail and, when no
    validation data was given, that tail as the validation set; unchanged without a split.
    ``note`` says what was done (None: nothing)."""
    args = (doctor.record.meta.get("fit") or {}) if doctor.record is not None else {}
    split = args.get("validation_split")
    if not split:
        return train, validation, None
    local = fit_frame_locals(doctor.model)   # confirm=True: still inside fit
    if local is not None and isinstance(local.get("validation_data"), (tuple, list)):
        held = tuple(local["validation_data"])[:2]
        fitted = tuple(v for v in (local.get("x"), local.get("y"), local.get("sample_weight"))
                       if v is not None)
        trimmed = (doctor.record.meta.get("data") or {}).get("n_train") == _rows(fitted)
        # the default train_data is fit's whole x (the callback checked its tail) or absent
        if train is doctor.train_data and (train is None or trimmed):
            train = fitted
        return train, validation if validation is not None else held, (
            "the rows fit(validation_split=...) trained and validated on")
    if not isinstance(train, (tuple, list)) or len(train) not in (2, 3):
        return train, validation, None
    n = _rows(train)
    data = doctor.record.meta.get("data") or {}
    if not n:
        return train, validation, None
    n_fit = int(math.floor(n * (1.0 - float(split))))
    # train_data is fit's whole x when the callback trimmed it to fit's training rows, or,
    # with no validation_data, when its tail has as many rows as fit validated on
    whole = (data.get("n_train") == n_fit or doctor.validation_data is None
             and data.get("n_train") in (None, n) and data.get("n_val") == n - n_fit)
    if not whole or n_fit >= n:
        return train, validation, None
    note = (f"the last {n - n_fit} of train_data's {n} rows were left out of the "
            f"retrainings (fit(validation_split={split}) held them out)")
    if validation is None:
        validation = _cut(train, n_fit, None)[:2]
        note += " and are the validation set"
    return _cut(train, 0, n_fit), validation, note
