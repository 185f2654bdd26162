"""A Keras ``History`` saved as JSON -> ``RunRecord``.

Reads ``json.dump(history.history)`` (``{"loss": [...], "val_loss": [...]}``), the same
wrapped as ``{"history": {...}, "epoch": [...], "params": {...}}``, every shape pandas'
``to_json`` writes (see :mod:`gapdoctor.importers.pandas_json`) and, through
:mod:`gapdoctor.importers.hf_trainer`, a Hugging Face ``trainer_state.json``.

Real files also hold numbers saved as strings (``json.dump(..., default=str)`` writes
``"0.27"``; ``"np.float32(0.27)"`` and ``"tensor(0.27)"`` occur too): read as numbers.
Keys that are not per-epoch lists (``"timestamp": "..."``) are ignored with a note;
PyTorch-style and capitalised names (``train_loss``, ``Val_Acc``) are renamed to Keras's.

``val_*`` lists shorter than the training ones come from ``fit(validation_freq=k)``: Keras
validates on epochs k, 2k, ... (1-based), so such a list is placed on those epochs and the
others are NaN. A length that fits no frequency is aligned to the last epochs, with a note.

Example:
    >>> run = read_history_json("history.json")        # doctest: +SKIP
    >>> run.curves.columns.tolist()                    # doctest: +SKIP
    ['loss', 'accuracy', 'val_loss', 'val_accuracy']
"""

from __future__ import annotations

import ast
import json
import math
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gapdoctor.errors import RecordError
from gapdoctor.importers._common import (
    expand_arrays,
    finish_record,
    read_text,
    run_stem,
    show,
)
from gapdoctor.importers._numbers import is_finite_int, to_float
from gapdoctor.importers.names import INDEX_KEYS, STEP_KEYS, keras_names
from gapdoctor.importers.pandas_json import pandas_columns
from gapdoctor.record.schema import RunRecord

SOURCE = "keras_history"
NOT_A_LOG = "not a training log (expected an object of metric lists like {\"loss\": [...]})"
_JSON_KIND = {type(None): "null", bool: "true/false", str: "string", int: "number",
              float: "number", list: "list"}


class _NotAList(Exception):
    """A key whose value is not a per-epoch list: metadata, ignored unless nothing is left."""


def _kind(value: Any) -> str:
    return f"a {type(value).__name__}" if value is not None else "null"


def _values(path: Path, key: str, raw: Any, notes: list[str], texts: list[str]
            ) -> dict[str, list[float]]:
    """One History entry as one column (or several for array values).

    Raises:
        _NotAList: the value is not a list (or holds no number at all).
        RecordError: a list mixing numbers with values that are not numbers.
    """
    if isinstance(raw, dict):  # pandas column-wise JSON: {"0": v0, "1": v1, ...}
        try:
            raw = [raw[k] for k in sorted(raw, key=int)]
        except (ValueError, TypeError):
            raise _NotAList(f"{show(key)} is an object whose keys are not epoch numbers; "
                            "expected a list of numbers") from None
    if not isinstance(raw, list):
        raise _NotAList(f"{show(key)} is {_kind(raw)}, expected a list of numbers (one per "
                        "epoch)")
    if raw and all(isinstance(v, list) or v is None for v in raw) \
            and any(isinstance(v, list) for v in raw):
        cells = []
        for i, v in enumerate(raw):
            nums = None if v is None else [to_float(x) for x in v]
            if nums is not None and None in nums:
                raise RecordError(f"{path}: {show(key)}[{i}] holds a non-number")
            cells.append(nums)
        return expand_arrays(key, cells, notes) or {}
    out = [math.nan if v is None else to_float(v) for v in raw]
    if None in out:
        i = out.index(None)
        what = (f"{show(key)}[{i}] is {_kind(raw[i])} ({show(raw[i])}), expected a number")
        if not any(v is not None and raw[j] is not None for j, v in enumerate(out)):
            raise _NotAList(what)  # not one number: a list of labels or timestamps
        raise RecordError(f"{path}: {what}")
    texts += [v for v in raw[:1] if isinstance(v, str)]
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
            notes.append(f"{show(key)} has {n} values for {n_epochs} epochs: aligned to "
                         "the last epochs")
        else:
            notes.append(f"{show(key)} is empty")
        frame[key] = full
    return pd.DataFrame(frame, index=pd.RangeIndex(n_epochs, name="epoch"))


def _epochs(raw: Any) -> list[int] | None:
    """A list of distinct epoch numbers, or None."""
    if not isinstance(raw, list):
        return None
    values = [to_float(v) for v in raw]
    if not all(v is not None and is_finite_int(v) for v in values) \
            or len(set(values)) != len(values):
        return None
    return [int(v) for v in values]  # type: ignore[arg-type]


def history_from_obj(path: Path, obj: Any) -> tuple[pd.DataFrame, dict[str, Any], list[str]]:
    """Curves, extra meta and notes from a parsed History JSON document."""
    notes: list[str] = []
    meta: dict[str, Any] = {}
    epochs = None
    if isinstance(obj, dict) and isinstance(obj.get("history"), dict):
        params = obj.get("params")
        if isinstance(params, dict) and is_finite_int(to_float(params.get("epochs")) or -1.0):
            meta["epochs_planned"] = int(params["epochs"])
        epochs = _epochs(obj.get("epoch"))
        obj = obj["history"]
    shaped = pandas_columns(path, obj)
    if shaped is not None:
        obj, index, orient = shaped
        epochs = _epochs(index) if index is not None else epochs
        if orient != "records":
            notes.append(f"read as pandas to_json(orient={orient!r})")
    printed = _printed_dict(obj)
    if printed is not None:
        obj = printed
        notes.append("the file holds the printed History dict as a JSON string "
                     "(json.dump(str(history.history))): read as a Python literal")
    if isinstance(obj, list):
        raise RecordError(f"{path}: a JSON list, but not a list of per-epoch objects; "
                          f"{NOT_A_LOG}")
    if not isinstance(obj, dict):
        raise RecordError(f"{path}: JSON {_JSON_KIND.get(type(obj), 'value')}, {NOT_A_LOG}")
    if not obj:
        raise RecordError(f"{path}: no metric lists (empty JSON object)")
    keys = [str(k) for k in obj]
    raws = dict(zip(keras_names(keys, notes), obj.values(), strict=True))
    columns: dict[str, list[float]] = {}
    ignored: list[str] = []
    texts: list[str] = []
    for key, raw in raws.items():
        if key in INDEX_KEYS:
            epochs = _epochs(raw) or epochs
            continue
        if key in STEP_KEYS:
            notes.append(f"{show(key)} ignored: the record counts epochs")
            continue
        try:
            columns.update(_values(path, key, raw, notes, texts))
        except _NotAList as exc:
            ignored.append(str(exc))
    if not columns:
        raise RecordError(f"{path}: no numeric metric lists" + (f" ({ignored[0]})"
                                                                 if ignored else ""))
    if ignored:
        notes.append(f"ignored {len(ignored)} key(s) that are not per-epoch number lists: "
                     + "; ".join(ignored[:3]))
    if texts:
        notes.append(f"numbers saved as text such as {show(texts[0], 30)} read as numbers")
    curves = _align(path, columns, notes)
    if epochs is not None and len(epochs) == len(curves):
        curves.index = pd.Index(epochs, name="epoch")
        curves = curves.sort_index()
    return curves, meta, notes


def _json_lines(path: Path, text: str) -> list[Any] | None:
    """The objects of a JSON Lines text, one per non-blank line; None if it is not one.

    Raises:
        RecordError: its first line is an object but a later line is not.
    """
    rows: list[Any] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row, why = json.loads(line), "is not a JSON object"
        except (json.JSONDecodeError, RecursionError):
            row, why = None, "is not valid JSON (cut off while writing?)"
        if not isinstance(row, dict):
            if not rows:
                return None
            raise RecordError(f"{path}: JSON Lines (one object per epoch) whose line {number} "
                              f"{why}")
        rows.append(row)
    return rows if len(rows) > 1 else None


# numpy 2 prints scalars as np.float32(0.5); NaN and inf print bare
_NUMPY_SCALAR = re.compile(r"\b(?:np|numpy)\.(?:float|int|uint)\d*\(([^()]*)\)")
_BARE = re.compile(r"\b(nan|inf)\b")


def _printed_dict(obj: Any) -> dict | None:
    """The dict of a JSON string that holds a printed History dict ("{'loss': [0.5, ...]}",
    what ``json.dump(str(history.history))`` writes), or None. Parsed with
    ``ast.literal_eval``: literals only, nothing is executed."""
    if not isinstance(obj, str) or not obj.lstrip().startswith("{"):
        return None
    text = _NUMPY_SCALAR.sub(r"\1", obj)
    text = _BARE.sub(lambda m: "None" if m.group(1) == "nan" else "1e999", text)
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def parse_json(path: Path, text: str) -> Any:
    """``json.loads(text)``; RecordError naming truncated or invalid JSON."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":  # JSON Lines (to_json(orient="records", lines=True)):
            rows = _json_lines(path, text)  # one object per epoch, read as orient "records"
            if rows is not None:
                return rows
        opens = text.count("{") + text.count("[") - text.count("}") - text.count("]")
        # cut off: the parser stops at the end, or in a string left open there (it names the
        # string's start); brackets left open with an error mid-text are just malformed
        truncated = exc.pos >= len(text.rstrip()) - 2 or (
            opens > 0 and exc.msg.startswith("Unterminated string"))
        what = "truncated JSON" if truncated else "invalid JSON"
        raise RecordError(f"{path}: {what} ({exc.msg} at line {exc.lineno}, column "
                          f"{exc.colno})") from None
    except RecursionError:
        raise RecordError(f"{path}: JSON nested too deeply to be a training log") from None


def _has_number_list(value: Any) -> bool:
    """A history-like dict: some value is a list of numbers (or a Keras ``history`` dict)."""
    if not isinstance(value, dict):
        return False
    if isinstance(value.get("history"), dict):
        return _has_number_list(value["history"])
    return any(isinstance(v, list) and v and all(isinstance(x, (int, float)) for x in v[:5])
               for v in value.values())


def keyed_runs(obj: Any) -> list[str]:
    """Names of the runs a JSON object holds side by side, keyed by name (``json.dump({name:
    history.history for ...})``): two or more values, every one a history-like dict; else [].

    Example:
        >>> keyed_runs({"vgg": {"loss": [1, .5]}, "resnet": {"loss": [1, .4], "test_accuracy": .9}})
        ['vgg', 'resnet']
        >>> keyed_runs({"history": {"loss": [1.0]}, "params": {"epochs": 1}})
        []
    """
    if not isinstance(obj, dict) or len(obj) < 2 or "history" in obj:
        return []
    return [str(k) for k in obj] if all(_has_number_list(v) for v in obj.values()) else []


def read_history_json(path: str | os.PathLike[str], text: str | None = None,
                      key: str | None = None) -> RunRecord:
    """Read a Keras History JSON file into a ``RunRecord`` (``source='keras_history'``).

    A Hugging Face ``trainer_state.json`` is handed to
    :func:`gapdoctor.importers.hf_trainer.read_trainer_state`. A file holding several
    runs keyed by name needs ``key`` (the run is then named ``<stem>#<key>``).

    Raises:
        RecordError: empty, truncated or invalid JSON, values of the wrong type, or several
            runs and no (or an unknown) ``key``.
    """
    path = Path(path)
    return read_history_obj(path, parse_json(path, read_text(path, text)), key)


def read_history_obj(path: Path, obj: Any, key: str | None = None) -> RunRecord:
    """A ``RunRecord`` from a parsed History document (see :func:`read_history_json`)."""
    from gapdoctor.importers.hf_trainer import is_trainer_state, read_trainer_state

    if is_trainer_state(obj):
        return read_trainer_state(path, obj)
    names, name = keyed_runs(obj), run_stem(path)
    if key is not None and key not in names:
        raise RecordError(f"{path}: no run named {key!r}" + (
            f" (it holds {', '.join(names)})" if names else " (it holds one unnamed run)"))
    if key is None and names:
        raise RecordError(f"{path}: holds {len(names)} runs keyed by name ({', '.join(names[:6])}"
                          f"); name one as {path.name}#{names[0]}, or give the file to "
                          "'gapdoctor analyze' or 'batch', which read them all")
    if key is not None:
        obj, name = obj[key], f"{name}#{key}"
    curves, meta, notes = history_from_obj(path, obj)
    if key is not None:
        meta["selected"] = key
    return finish_record(path, curves, SOURCE, name, notes, meta)


def read_keyed_runs(path: Path, obj: Any) -> list[RunRecord] | None:
    """Every run of a parsed document that holds several keyed by name; None when it holds
    one."""
    names = keyed_runs(obj)
    return [read_history_obj(path, obj, k) for k in names] if names else None
