"""A Keras ``History`` saved as JSON -> ``RunRecord``.

Reads ``json.dump(history.history)`` (``{"loss": [...], "val_loss": [...]}``), the same
wrapped as ``{"history": {...}, "epoch": [...], "params": {...}}``, and the two shapes
pandas writes (``DataFrame(history.history).to_json()`` column-wise or ``orient="records"``).

``val_*`` lists shorter than the training ones come from ``fit(validation_freq=k)``: Keras
validates on epochs k, 2k, ... (1-based), so such a list is placed on those epochs and the
others are NaN. A length that fits no frequency is aligned to the last epochs, with a note.

Example:
    >>> run = read_history_json("history.json")        # doctest: +SKIP
    >>> run.curves.columns.tolist()                    # doctest: +SKIP
    ['loss', 'accuracy', 'val_loss', 'val_accuracy']
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gapdoctor.errors import RecordError
from gapdoctor.importers._common import expand_arrays, finish_record, read_text
from gapdoctor.record.schema import RunRecord

SOURCE = "keras_history"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _values(path: Path, key: str, raw: Any, notes: list[str]) -> dict[str, list[float]]:
    """Validate one History entry; returns one column (or several for array values)."""
    if isinstance(raw, dict):  # pandas column-wise JSON: {"0": v0, "1": v1, ...}
        try:
            raw = [raw[k] for k in sorted(raw, key=int)]
        except ValueError:
            raise RecordError(f"{path}: '{key}' is an object whose keys are not epoch "
                              "numbers; expected a list of numbers") from None
    if not isinstance(raw, list):
        raise RecordError(f"{path}: '{key}' is a {type(raw).__name__}, expected a list of "
                          "numbers (one per epoch)")
    if raw and all(isinstance(v, list) or v is None for v in raw) \
            and any(isinstance(v, list) for v in raw):
        cells = []
        for i, v in enumerate(raw):
            nums = None if v is None else [_number(x) for x in v]
            if nums is not None and None in nums:
                raise RecordError(f"{path}: '{key}'[{i}] holds a non-number")
            cells.append(nums)
        return expand_arrays(key, cells, notes) or {}
    out = []
    for i, v in enumerate(raw):
        num = math.nan if v is None else _number(v)
        if num is None:
            raise RecordError(f"{path}: '{key}'[{i}] is a {type(v).__name__} ({v!r:.40}), "
                              "expected a number")
        out.append(num)
    return {key: out}


def _align(path: Path, columns: dict[str, list[float]], notes: list[str]) -> pd.DataFrame:
    """Place every list on its epochs: full length as is, short val lists by frequency."""
    train = {k: v for k, v in columns.items() if not k.startswith("val_")}
    n_epochs = max(len(v) for v in (train or columns).values())
    n_epochs = max([n_epochs] + [len(v) for v in columns.values()])
    if n_epochs == 0:
        raise RecordError(f"{path}: every list is empty (no epochs recorded)")
    frame: dict[str, np.ndarray] = {}
    for key, values in columns.items():
        full = np.full(n_epochs, np.nan)
        n = len(values)
        if n == n_epochs:
            full[:] = values
        elif n and key.startswith("val_"):
            freqs = [k for k in range(2, n_epochs + 1) if n_epochs // k == n]
            if freqs:
                k = freqs[0]
                full[[k * (i + 1) - 1 for i in range(n)]] = values
                note = (f"validation lists have {n} values for {n_epochs} epochs: placed "
                        f"on epochs {k}, {2 * k}, ... (1-based; validation_freq={k})")
                if len(freqs) > 1:
                    note += f"; validation_freq could also be {freqs[1]}..{freqs[-1]}"
            else:
                full[n_epochs - n:] = values
                note = (f"validation lists have {n} values for {n_epochs} epochs, which "
                        "fits no validation_freq: aligned to the last epochs")
            if note not in notes:
                notes.append(note)
        elif n:
            full[n_epochs - n:] = values
            notes.append(f"'{key}' has {n} values for {n_epochs} epochs: aligned to the "
                         "last epochs")
        else:
            notes.append(f"'{key}' is empty")
        frame[key] = full
    return pd.DataFrame(frame, index=pd.RangeIndex(n_epochs, name="epoch"))


def history_from_obj(path: Path, obj: Any) -> tuple[pd.DataFrame, dict[str, Any], list[str]]:
    """Curves, extra meta and notes from a parsed History JSON document."""
    notes: list[str] = []
    meta: dict[str, Any] = {}
    epochs = None
    if isinstance(obj, list):  # pandas orient="records": one object per epoch
        if not obj or not all(isinstance(row, dict) for row in obj):
            raise RecordError(f"{path}: a JSON list, but not a list of per-epoch objects")
        keys = list(dict.fromkeys(k for row in obj for k in row))
        obj = {k: [row.get(k) for row in obj] for k in keys}
    if not isinstance(obj, dict):
        raise RecordError(f"{path}: JSON {type(obj).__name__}, expected an object of "
                          "metric lists like {\"loss\": [...]}")
    if isinstance(obj.get("history"), dict):
        params = obj.get("params")
        if isinstance(params, dict) and isinstance(params.get("epochs"), int):
            meta["epochs_planned"] = params["epochs"]
        if isinstance(obj.get("epoch"), list) and all(
                isinstance(e, int) and not isinstance(e, bool) for e in obj["epoch"]):
            epochs = obj["epoch"]
        obj = obj["history"]
    if not obj:
        raise RecordError(f"{path}: no metric lists (empty JSON object)")
    columns: dict[str, list[float]] = {}
    for key, raw in obj.items():
        columns.update(_values(path, str(key), raw, notes))
    if not columns:
        raise RecordError(f"{path}: no numeric metric lists")
    curves = _align(path, columns, notes)
    if epochs is not None and len(epochs) == len(curves) and len(set(epochs)) == len(epochs):
        curves.index = pd.Index(epochs, name="epoch")
    return curves, meta, notes


def read_history_json(path: str | os.PathLike[str], text: str | None = None) -> RunRecord:
    """Read a Keras History JSON file into a ``RunRecord`` (``source='keras_history'``).

    Raises:
        RecordError: empty, truncated or invalid JSON, or values of the wrong type.
    """
    path = Path(path)
    text = read_text(path, text)
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        opens = text.count("{") + text.count("[") - text.count("}") - text.count("]")
        truncated = exc.pos >= len(text.rstrip()) - 2 or opens > 0
        what = "truncated JSON" if truncated else "invalid JSON"
        raise RecordError(f"{path}: {what} ({exc.msg} at line {exc.lineno}, column "
                          f"{exc.colno})") from None
    curves, meta, notes = history_from_obj(path, obj)
    return finish_record(path, curves, SOURCE, path.stem, notes, meta)
