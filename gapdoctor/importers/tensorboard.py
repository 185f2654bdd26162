"""A ``keras.callbacks.TensorBoard`` log directory -> ``RunRecord``, without TensorFlow.

Keras writes ``train/`` and ``validation/`` subdirectories of event files; TF2 stores each
scalar as a tensor (``epoch_loss``, ``epoch_accuracy``, ``epoch_learning_rate``) at
step = epoch. ``epoch_<m>`` becomes ``<m>`` (train) or ``val_<m>`` (validation),
``epoch_learning_rate`` becomes ``lr``; every point is kept (no reservoir sampling), and a
step written twice (a log dir reused by a second fit) keeps its latest value.

The event files are TFRecord framed ``Event`` protos, decoded with the ``tensorboard``
package's protos and tensor utilities. TensorBoard's ``EventAccumulator`` is not used: it
resolves ``tensorboard.compat.tf``, which imports TensorFlow when it is installed (8 s),
and forcing the stub instead would break ``tf.summary`` later in the same process.

Example:
    >>> run = read_tensorboard("logs/fit")        # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gapdoctor.errors import RecordError
from gapdoctor.importers._common import finish_record, show
from gapdoctor.importers.tfrecord import read_records
from gapdoctor.record.schema import RunRecord

SOURCE = "tensorboard"
EVENT_GLOB = "*tfevents*"
_VAL_DIRS = ("validation", "val", "eval", "valid")
_STAMP = re.compile(r"tfevents\.(\d+)")
_MAX_SPAN = 1_000_000  # epochs between the first and last step, beyond which no reindexing


def event_files(path: Path) -> list[Path]:
    """Event files in ``path`` and its subdirectories up to two levels down."""
    if path.is_file():
        return [path]
    found = list(path.glob(EVENT_GLOB)) + list(path.glob(f"*/{EVENT_GLOB}")) \
        + list(path.glob(f"*/*/{EVENT_GLOB}"))
    return sorted(f for f in found if f.is_file())


def _scalar(value: Any) -> float | None:
    """The number a summary value holds; None for non-scalars (histograms, images, ...).

    Raises:
        ValueError: a tensor whose dtype, shape and content disagree (a corrupt record).
    """
    from tensorboard.util import tensor_util

    kind = value.WhichOneof("value")
    if kind == "simple_value":
        return float(value.simple_value)
    if kind != "tensor":
        return None
    try:
        array = tensor_util.make_ndarray(value.tensor)
    except (TypeError, ValueError, KeyError, IndexError, OverflowError, MemoryError) as exc:
        raise ValueError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) \
            from None
    if array.size != 1 or array.dtype.kind not in "fiub":
        return None
    return float(array.reshape(()))


def _keras_meta(value: Any) -> dict[str, Any]:
    """Loss, optimizer, metrics and output layer from the ``keras`` model-config tag."""
    from tensorboard.util import tensor_util

    raw = tensor_util.make_ndarray(value.tensor).reshape(-1)[0]
    config = json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else str(raw))
    meta: dict[str, Any] = {}
    compile_config = config.get("compile_config") or {}
    if isinstance(compile_config.get("loss"), str):
        meta["loss"] = {"name": compile_config["loss"]}
    optimizer = compile_config.get("optimizer")
    if isinstance(optimizer, dict):
        meta["optimizer"] = {"class_name": optimizer.get("class_name"),
                             "config": optimizer.get("config", {})}
    metrics = compile_config.get("metrics")
    if isinstance(metrics, list):
        meta["metrics"] = [{"name": m} for m in metrics if isinstance(m, str)]
    layers = (config.get("config") or {}).get("layers") or []
    model: dict[str, Any] = {"name": (config.get("config") or {}).get("name"),
                             "layers": [layer.get("class_name") for layer in layers]}
    if layers:
        last = layers[-1].get("config") or {}
        model["output_activation"] = last.get("activation")
        model["output_units"] = last.get("units")
    meta["model"] = model
    return meta


def _values(file: Path, event: Any, split: str, meta: dict[str, Any], notes: list[str],
            skipped: set[str]) -> dict[str, Any]:
    """``{column: (number, is_epoch_tag)}`` of one event (``_meta`` from the keras tag).

    Raises:
        RecordError: a scalar tag holds a tensor whose dtype or shape is corrupt.
    """
    out: dict[str, Any] = {}
    for value in event.summary.value:
        if value.tag == "keras" and split == "train" and not meta:
            try:
                out["_meta"] = _keras_meta(value)
            except (ValueError, KeyError, AttributeError, IndexError, TypeError,
                    RecursionError):
                notes.append("could not parse the model config in the 'keras' tag")
            continue
        column = _column(value.tag, split)
        try:
            number = _scalar(value) if column else None
        except ValueError as exc:
            raise RecordError(f"{file}: corrupt event file (tag {show(value.tag)} at step "
                              f"{event.step}: {show(exc, 60)})") from None
        if number is None:
            skipped.add(value.tag)
            continue
        out[column] = (number, value.tag.startswith("epoch_"))
    return out


def _column(tag: str, split: str) -> str | None:
    """Curves column for a tag of a split, None for tags that are not per-epoch scalars."""
    if tag.startswith(("batch_", "evaluation_")) or tag == "keras":
        return None
    name = tag[len("epoch_"):] if tag.startswith("epoch_") else tag
    if name in ("learning_rate", "lr"):
        return "lr" if split == "train" else None
    if split == "val" and not name.startswith("val_"):
        return f"val_{name}"
    return name


def _split(file: Path) -> str:
    return "val" if file.parent.name.lower() in _VAL_DIRS else "train"


def run_dirs(files: list[Path], root: Path) -> set[str]:
    """Subdirectories of ``root`` that are not a split of one run (i.e. other runs)."""
    splits = _VAL_DIRS + ("train",)
    return {f.parent.relative_to(root).parts[0] for f in files
            if f.parent != root and f.parent.relative_to(root).parts[0].lower() not in splits}


def _order(file: Path) -> tuple[int, str]:
    match = _STAMP.search(file.name)
    return (int(match.group(1)) if match else 0, file.name)


def read_tensorboard(path: str | os.PathLike[str]) -> RunRecord:
    """Read a TensorBoard log dir (or one event file) into a ``RunRecord``.

    Raises:
        RecordError: no event files, several runs in one dir, a corrupt event file, or
            no per-epoch scalars.
    """
    from google.protobuf.message import DecodeError
    from tensorboard.compat.proto import event_pb2

    path = Path(path)
    half = path.name.lower()
    other = _VAL_DIRS if half == "train" else ("train",) if half in _VAL_DIRS else ()
    if path.is_dir() and any((path.parent / o).is_dir() and event_files(path.parent / o)
                             for o in other) and not run_dirs(event_files(path.parent), path.parent):
        # one half of a Keras log (TensorBoard lists each as a run), in a parent that holds
        # that one run only: read both halves
        try:
            record = read_tensorboard(path.parent)
        except RecordError:
            pass  # an unreadable other half: this half alone
        else:
            record.meta["notes"].insert(0, f"{path} is one half of a Keras log: read "
                                        f"{path.parent}, its training and validation curves")
            return record
    files = event_files(path)
    if not files:
        raise RecordError(f"{path}: no TensorBoard event files (events.out.tfevents.*) "
                          "and no record.json")
    root = path if path.is_dir() else path.parent
    runs = sorted(run_dirs(files, root))
    if len(runs) == 1 and all(f.parent != root for f in files):
        root = root / runs[0]  # a parent dir holding exactly one run
        files = event_files(root)
        runs = sorted(run_dirs(files, root))
    if runs:
        raise RecordError(f"{path}: holds several runs ({', '.join(runs[:5])}); pass one "
                          "run's directory, or use gapdoctor batch")
    notes: list[str] = []
    meta: dict[str, Any] = {}
    points: list[tuple[str, int, float, float, bool]] = []  # column, step, time, value, epoch_*
    skipped: set[str] = set()
    bad_crc = 0
    for file in sorted(files, key=_order):
        split = _split(file)
        for record in read_records(file, notes):
            try:
                event = event_pb2.Event.FromString(record.data)
            except (DecodeError, RuntimeWarning):
                if not record.data_ok():
                    bad_crc += 1
                    continue
                raise RecordError(f"{file}: corrupt event file (record at byte "
                                  f"{record.offset} is not an Event protobuf)") from None
            used = _values(file, event, split, meta, notes, skipped)
            if used and not record.data_ok():
                bad_crc += 1
                continue
            if used and not meta and split == "train":
                meta.update(used.pop("_meta", {}))
            used.pop("_meta", None)
            points += [(column, int(event.step), float(event.wall_time), number, keras)
                       for column, (number, keras) in used.items()]
    if bad_crc:
        notes.append(f"{bad_crc} record(s) failed their checksum (corrupt bytes) and were "
                     "skipped")
    if not points:
        raise RecordError(f"{path}: event files hold no per-epoch scalars (epoch_loss, ...)")
    if any(t.startswith("batch_") for t in skipped):
        notes.append("batch-level scalars (batch_*) ignored: only per-epoch values are used")
    table = pd.DataFrame(points, columns=["column", "epoch", "wall_time", "value", "keras"])
    if table["keras"].any() and not table["keras"].all():
        # Keras logs per-epoch values as epoch_*; other scalars may be stepped by batch
        others = sorted(set(table.loc[~table["keras"], "column"]))
        notes.append(f"scalars other than epoch_* ignored ({', '.join(others[:5])}): their "
                     "steps need not be epochs")
        table = table[table["keras"]]
    repeated = table.duplicated(["column", "epoch"]).any()
    table = table.drop_duplicates(["column", "epoch"], keep="last")
    if repeated:
        notes.append("some epochs were written more than once (log dir reused by several "
                     "fits?): kept the latest value of each")
    curves = table.pivot(index="epoch", columns="column", values="value")
    order = {"train": 0, "val": 1, "lr": 2}
    curves = curves[sorted(curves.columns, key=lambda c: (
        order["lr"] if c == "lr" else order["val" if c.startswith("val_") else "train"],
        c != "loss" and c != "val_loss", c))]
    first, last = int(curves.index.min()), int(curves.index.max())
    if last - first < _MAX_SPAN:
        curves = curves.reindex(np.arange(first, last + 1))
    else:
        notes.append("steps span more than a million epochs: only the logged steps kept")
    curves.columns.name = None
    run_name = (root.parent if root.name.lower() in _VAL_DIRS + ("train",) else root).name
    return finish_record(path, curves, SOURCE, run_name, notes, meta)
