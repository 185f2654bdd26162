"""Shared pieces of the importers: array cells, task inference and the final record.

Nothing here imports TensorFlow or Keras.
"""

from __future__ import annotations

import gzip
import io
import re
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gapdoctor.errors import RecordError
from gapdoctor.importers._numbers import is_finite_int
from gapdoctor.record.schema import RunRecord, metric_mode, pick_monitor

_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf)", re.I)

GZIP_MAGIC = b"\x1f\x8b"
MAX_UNZIPPED = 512 << 20  # a gzip bomb stops here

# Keras logs keys that mean "the learning rate in effect"; the record calls it ``lr``.
LR_KEYS = ("lr", "learning_rate")

_MULTICLASS = ("sparse_categorical", "categorical_accuracy", "categorical_crossentropy",
               "top_k", "sparse_top_k")
_BINARY = ("binary_accuracy", "binary_crossentropy", "binary_focal")
_REGRESSION = ("mean_absolute", "mean_squared", "mae", "mse", "rmse", "huber", "log_cosh",
               "r2_score", "msle", "mape")


def read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped when it is gzip (``.csv.gz``, ``.json.gz``)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RecordError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if data[:2] != GZIP_MAGIC:
        return data
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as handle:
            out = handle.read(MAX_UNZIPPED + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise RecordError(f"{path}: corrupt gzip file ({exc})") from None
    if len(out) > MAX_UNZIPPED:
        raise RecordError(f"{path}: unzips to more than {MAX_UNZIPPED >> 20} MiB; not a "
                          "training log")
    return out


def read_text(path: Path, text: str | None = None) -> str:
    """The file's text (``text`` if already read); RecordError if not UTF-8 or blank."""
    if text is None:
        data = read_bytes(path)
        sniff_binary(path, data[:8192])
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise RecordError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") \
                from None
    if not text.strip():
        raise RecordError(f"{path}: empty file")
    return text


def show(text: object, width: int = 40) -> str:
    """``text`` quoted for a one-line message: control characters escaped, long text cut."""
    shown = repr(str(text))
    return shown if len(shown) <= width else shown[:width - 4] + "...'"


def run_stem(path: Path) -> str:
    """A run name from a file name: ``h.csv.gz`` -> ``h``."""
    name = path.name[:-3] if path.name.lower().endswith(".gz") else path.name
    return Path(name).stem or name


def sniff_binary(path: Path, head: bytes) -> None:
    """Raise when ``head`` (the first bytes of ``path``) looks like a binary file."""
    if b"\x00" in head:
        raise RecordError(f"{path}: binary file, not a History JSON, CSVLogger CSV, "
                          "TensorBoard log or gapdoctor run record")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a multi-byte char cut at the buffer's end
            raise RecordError(f"{path}: not UTF-8 text (undecodable byte at offset "
                              f"{exc.start}); expected a History JSON or CSVLogger CSV") from None


# Keras metrics that log one value per class by default (average=None)
_PER_CLASS_SCORES = frozenset({"f1_score", "fbeta_score"})


def parse_array_cell(text: str) -> list[float] | None:
    """Numbers of a cell such as ``"[0.1 0.2]"`` or ``"[0.1, nan]"``; None when not an array."""
    # Keras 3's CSVLogger writes an array as '"[0.1, 0.2]"', quotes included
    stripped = text.strip().strip("\"'").strip()
    if not (stripped.startswith("[") and stripped.endswith("]")) or "..." in stripped:
        return None
    body = stripped.strip("[]").replace(",", " ")
    tokens = body.split()
    if not tokens or any(_NUMBER.fullmatch(t) is None for t in tokens):
        return None
    return [float(t) for t in tokens]


def expand_arrays(name: str, cells: list[list[float] | None], notes: list[str]
                  ) -> dict[str, list[float]] | None:
    """Columns ``name_0..name_{n-1}`` from per-epoch arrays of one length (None = missing).

    Returns None (and notes why) when the arrays differ in length.
    """
    lengths = {len(c) for c in cells if c is not None}
    if len(lengths) != 1:
        notes.append(f"'{name}' held arrays of differing lengths {sorted(lengths)}; dropped")
        return None
    width = lengths.pop()
    out = {f"{name}_{i}": [c[i] if c is not None else np.nan for c in cells]
           for i in range(width)}
    notes.append(f"'{name}' held arrays of {width} values per epoch (e.g. per class); "
                 f"expanded to {name}_0..{name}_{width - 1}")
    if name.removeprefix("val_") in _PER_CLASS_SCORES and width > 1:
        # F1Score()/FBetaScore() default to average=None, one score per class: the run is
        # followed by their unweighted mean (what average="macro" logs), not by class 0
        with np.errstate(all="ignore"):
            macro = [float(np.nanmean(c)) if c is not None and np.isfinite(c).any() else np.nan
                     for c in cells]
        out = {name: macro, **out}  # first: a monitor is picked from the first val_* metric
        notes.append(f"'{name}' is their mean over the {width} classes (macro average)")
    return out


def infer_task(columns: Any, loss: str | None = None, output_units: int | None = None,
               output_activation: str | None = None) -> str | None:
    """The task a run most likely trained, from its loss and metric names; None if unclear."""
    loss = (loss or "").lower()
    if "sparse_categorical" in loss or loss.startswith("categorical"):
        return "multiclass"
    if "binary" in loss:
        return "multilabel" if (output_units or 1) > 1 else "binary"
    if any(k in loss for k in _REGRESSION):
        return "regression"
    names = [str(c).lower().removeprefix("val_") for c in columns]
    if any(n.startswith(_MULTICLASS) for n in names):
        return "multiclass"
    if any(n.startswith(_BINARY) for n in names):
        return "binary"
    if output_activation == "softmax":
        return "multiclass"
    if names and not any("acc" in n or "auc" in n or "precision" in n or "recall" in n
                         for n in names) and any(n.startswith(_REGRESSION) for n in names):
        return "regression"
    return None


def finish_record(path: Path, curves: pd.DataFrame, source: str, run_name: str,
                  notes: list[str], meta: dict[str, Any] | None = None) -> RunRecord:
    """Check ``curves`` and wrap it in a ``RunRecord`` with monitor, task and notes set.

    Raises:
        RecordError: no columns, no epochs, or not a single finite-or-NaN number anywhere.
    """
    if curves.empty or len(curves.columns) == 0:
        raise RecordError(f"{path}: no per-epoch values found")
    if not all(dtype.kind == "f" for dtype in curves.dtypes):
        curves = curves.apply(pd.to_numeric, errors="coerce")
    curves = curves.astype(float)
    if curves.isna().all().all():
        raise RecordError(f"{path}: every value is NaN or empty ({len(curves)} epochs, "
                          f"columns {', '.join(map(str, curves.columns[:6]))})")
    infinite = [str(c) for c in curves.columns if np.isinf(curves[c].to_numpy()).any()]
    if infinite:
        notes = [*notes, f"infinite values (a diverged run, or numbers beyond the float "
                 f"range) in {', '.join(infinite[:4])}: read as non-finite"]
    if "lr" not in curves.columns and "learning_rate" in curves.columns:
        curves = curves.rename(columns={"learning_rate": "lr"})
    index = pd.to_numeric(pd.Series(curves.index), errors="coerce")
    if not index.map(is_finite_int).all():
        raise RecordError(f"{path}: epoch numbers must be whole numbers from 0 to 10^9")
    curves.index = pd.Index(index.astype("int64").to_numpy(), name="epoch")
    curves.columns = [str(c) for c in curves.columns]
    record = RunRecord.empty(source=source, run_name=run_name)
    record.meta.update(meta or {})
    record.meta["notes"] = list(notes)
    record.curves = curves
    record.path = path
    # a metric without a number in any epoch cannot be followed; the loss can (a diverged
    # run's NaN loss is what the diagnosis reads)
    empty = [c for c in curves.columns if c.startswith("val_") and "loss" not in c
             and not np.isfinite(curves[c].to_numpy()).any()]
    monitor = pick_monitor([c for c in curves.columns if c not in empty])
    if empty:
        record.meta["notes"].append(
            f"{', '.join(empty[:3])} {'is' if len(empty) == 1 else 'are'} NaN or empty in every "
            "epoch (the default monitor skips it)")
    if monitor:
        record.meta["monitor"] = monitor
        record.meta["monitor_mode"] = metric_mode(monitor)
    else:
        record.meta["notes"].append("no validation curves (val_*) in this log: pass "
                                    "validation_data to fit to diagnose the gap")
    if "task" not in record.meta:
        model = record.meta.get("model") or {}
        task = infer_task(curves.columns, (record.meta.get("loss") or {}).get("name"),
                          model.get("output_units"), model.get("output_activation"))
        if task:
            record.meta["task"] = task
    return record
