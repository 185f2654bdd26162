"""What the running ``model.fit(...)`` call was given that Keras does not show a callback.

Keras 3 gives a callback ``params`` (``epochs``, ``steps``, ``verbose``) but not the
arguments of ``fit``: ``validation_split``, ``class_weight``, ``initial_epoch``,
``steps_per_epoch``, ``validation_steps``. Every backend's ``fit`` keeps them as local
variables of its frame while it calls ``on_train_begin``, so they are read from there (and
only read). When the frame cannot be found (a custom training loop calling the callbacks
itself, another Keras), :func:`fit_arguments` returns None and nothing depends on it.

Keras details:
    - ``fit(validation_split=f)`` without ``validation_data`` slices the last
      ``floor(n * f)`` rows off ``x``/``y``/``sample_weight`` before training
      (``keras.src.trainers.data_adapters.array_slicing.train_validation_split``); at
      ``on_train_begin`` the frame's ``validation_data`` holds those held-out rows and its
      ``x`` the rows that are trained on.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

# ``fit`` arguments recorded in ``meta["fit"]`` (plain values only).
RECORDED = ("validation_split", "initial_epoch", "steps_per_epoch", "validation_steps",
            "validation_freq", "batch_size", "validation_batch_size", "shuffle")
MAX_DEPTH = 40


def fit_frame_locals(model: Any) -> dict[str, Any] | None:
    """The local variables of the ``fit`` call of ``model`` on the current stack, or None."""
    frame = sys._getframe(1)
    depth = 0
    try:
        while frame is not None and depth < MAX_DEPTH:
            code = frame.f_code
            if code.co_name == "fit" and "validation_split" in code.co_varnames:
                local = frame.f_locals
                if local.get("self") is model:
                    return dict(local)
            frame, depth = frame.f_back, depth + 1
    finally:
        del frame
    return None


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    return repr(value)[:200]


def fit_arguments(model: Any) -> dict[str, Any] | None:
    """``{name: value}`` of the ``fit`` arguments GapDoctor records and uses, or None.

    Keys: those of :data:`RECORDED`, ``class_weight`` (``{class: weight}`` or None),
    ``sample_weight`` (whether one was given), ``validation_given`` (whether fit has
    validation data, given or split off) and, after a ``validation_split``,
    ``split_validation`` (the held-out ``(x, y[, sample_weight])``) and ``split_train_x``
    (the trained-on ``x``); the last two are not recorded.
    """
    local = fit_frame_locals(model)
    if local is None:
        return None
    out: dict[str, Any] = {name: _plain(local.get(name)) for name in RECORDED}
    weights = local.get("class_weight")
    out["class_weight"] = ({str(k): float(v) for k, v in weights.items()}
                           if isinstance(weights, dict) else _plain(weights))
    out["sample_weight"] = local.get("sample_weight") is not None
    out["validation_given"] = local.get("validation_data") is not None
    # fit's own data (not recorded): GapDoctor reads it when it was given none
    out["fit_data"] = {"x": local.get("x"), "y": local.get("y"),
                       "sample_weight": local.get("sample_weight"),
                       "validation_data": local.get("validation_data")}
    if _was_split(local):
        out["split_validation"] = local["validation_data"]
        out["split_train_x"] = local.get("x")
    return out


def _rows(data: Any) -> int | None:
    import keras

    try:
        return int(len(keras.tree.flatten(data)[0]))
    except (TypeError, IndexError, ValueError):
        return None


def _was_split(local: dict[str, Any]) -> bool:
    """Whether fit's validation data are rows it split off ``x`` (not ``validation_data``
    given with a ``validation_split`` that fit then ignores): the sizes must be those of
    Keras's split, ``n_train == floor(n * (1 - validation_split))``."""
    split, val = local.get("validation_split"), local.get("validation_data")
    if not split or not isinstance(val, (tuple, list)) or not val:
        return False
    n_train, n_val = _rows(local.get("x")), _rows(val[0])
    if not n_train or not n_val:
        return False
    return n_train == int(np.floor((n_train + n_val) * (1.0 - float(split))))


def _first_leaf(data: Any) -> np.ndarray:
    import keras

    return np.asarray(keras.tree.flatten(data)[0])


def apply_fit_arguments(state: Any, model: Any, sources: dict[str, Any]) -> None:
    """Record the ``fit`` arguments in ``meta["fit"]`` and, after a ``validation_split``,
    point ``sources`` (``{"validation": ..., "train": ...}``, GapDoctor's data) at the
    rows fit actually validates and trains on, with a note saying what was done.

    - No ``validation_data`` given to GapDoctor: the held-out rows are its validation data
      (they are exactly fit's validation set).
    - ``train_data`` holding the rows before the split (its last rows are the held-out
      ones): those rows are left out of the train probe and the training dynamics, which
      must only see trained-on samples.
    """
    args = fit_arguments(model)
    if args is None:
        return
    split_val, split_x = args.pop("split_validation", None), args.pop("split_train_x", None)
    fit_data = args.pop("fit_data")
    state.meta["fit"] = args
    if split_val is None:
        adopt_fit_data(state, sources, fit_data)
        return
    n_val, n_fit = _rows(split_val[0]), _rows(split_x)
    share = args["validation_split"]
    held = (f"fit(validation_split={share}) held out the last {n_val} of the "
            f"{n_fit + n_val} rows of x as its validation set")
    if sources.get("validation") is None:
        sources["validation"] = (split_val[0], split_val[1])
        state.note(f"{held}; GapDoctor was given no validation_data, so it evaluates those "
                   f"{n_val} rows (rows {n_fit}-{n_fit + n_val - 1} of x).")
    else:
        state.note(f"{held}; GapDoctor evaluates the validation_data it was given instead, "
                   "so its validation metrics and Keras's val_* logs are on different rows.")
    train = sources.get("train")
    if train is None:   # fit's x and y are the trained-on rows by now
        adopt_fit_data(state, sources, fit_data)
        return
    if not isinstance(train, (tuple, list)) or len(train) not in (2, 3):
        return
    if _rows(train[0]) != n_fit + n_val:
        return
    import keras

    try:
        same = np.array_equal(_first_leaf(train[0])[n_fit:], _first_leaf(split_val[0]))
    except (TypeError, ValueError):
        same = False
    if same:
        sources["train"] = tuple(keras.tree.map_structure(lambda a: a[:n_fit], part)
                                 if part is not None else None for part in train)
        state.note(f"train_data holds the {n_val} rows fit's validation_split held out: they "
                   "were left out of the train probe and the training dynamics (the model "
                   f"never trains on them); train_data's first {n_fit} rows were used.")


def adopt_fit_data(state: Any, sources: dict[str, Any], fit_data: dict[str, Any]) -> None:
    """GapDoctor given no ``validation_data`` / ``train_data``: read fit's own (arrays, a
    tf.data.Dataset or a PyDataset), with a note; a Python generator cannot be read twice
    without taking batches from fit, so the note says to pass the data instead."""
    from gapdoctor.callback.data_sampling import source_kind

    x, y, weights = fit_data.get("x"), fit_data.get("y"), fit_data.get("sample_weight")
    offered = {"validation": fit_data.get("validation_data"),
               "train": None if x is None else x if y is None else
               (x, y) if weights is None else (x, y, weights)}
    took, unreadable = [], []
    for key, arg in (("validation", "validation_data"), ("train", "train_data")):
        if sources.get(key) is not None or offered[key] is None:
            continue
        if source_kind(offered[key]) is None:
            unreadable.append(f"its {key} data ({type(offered[key]).__name__})")
            continue
        sources[key] = offered[key]
        took.append((key, arg))
    if took:
        state.note(f"GapDoctor was given no {' or '.join(a for _, a in took)}, so it reads "
                   f"fit's own {' and '.join(k for k, _ in took)} data (a bounded sample).")
    if unreadable:
        state.note(f"GapDoctor cannot read fit's {' or '.join(unreadable)} a second time "
                   "without taking batches from fit: pass GapDoctor(validation_data=..., "
                   "train_data=...) as arrays, a tf.data.Dataset or a PyDataset.")
