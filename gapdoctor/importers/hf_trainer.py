"""A Hugging Face ``Trainer``'s ``trainer_state.json`` -> ``RunRecord``.

Its ``log_history`` mixes three kinds of entries, each stamped with a fractional ``epoch``
and a ``step``: training logs every ``logging_steps`` (``loss``, ``learning_rate``,
``grad_norm``), evaluations (``eval_loss``, ``eval_accuracy``, ..., ``eval_runtime``) and a
final summary (``train_runtime``, ``train_loss``). Each evaluation becomes a row: with
``eval_strategy="epoch"`` one per epoch, otherwise one per evaluation point (noted). Its
training ``loss`` is the mean of the losses logged since the previous evaluation, ``lr``
the last learning rate, and ``eval_*`` become ``val_*``. Without evaluations, the
training logs are grouped by epoch.

Example:
    >>> run = load_run("checkpoint-500/trainer_state.json")   # doctest: +SKIP
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gapdoctor.errors import RecordError
from gapdoctor.importers._common import finish_record, run_stem
from gapdoctor.importers._numbers import is_finite_int, to_float
from gapdoctor.importers.names import keras_name
from gapdoctor.record.schema import RunRecord

SOURCE = "hf_trainer"
_EVAL_IGNORED = ("eval_runtime", "eval_samples_per_second", "eval_steps_per_second",
                 "eval_model_preparation_time", "eval_jit_compilation_time")
_MAX_ROWS = 1_000_000


def is_trainer_state(obj: Any) -> bool:
    """Whether a parsed JSON document is a ``trainer_state.json``."""
    return isinstance(obj, dict) and isinstance(obj.get("log_history"), list)


def _entries(log: list[Any]) -> tuple[list[tuple[float, dict[str, float]]],
                                      list[tuple[float, dict[str, float]]], int]:
    """(epoch, values) of the training logs and of the evaluations; entries skipped."""
    train, evals, skipped = [], [], 0
    for entry in log:
        if not isinstance(entry, dict) or "train_runtime" in entry:
            continue
        epoch = to_float(entry.get("epoch"))
        if epoch is None or not math.isfinite(epoch) or not 0 <= epoch < _MAX_ROWS:
            skipped += 1
            continue
        numbers = {str(k): v for k, v in ((k, to_float(v)) for k, v in entry.items())
                   if v is not None}
        scores = {k: v for k, v in numbers.items()
                  if k.startswith("eval_") and k not in _EVAL_IGNORED}
        if scores:
            evals.append((epoch, {keras_name(k): v for k, v in scores.items()}))
        elif "loss" in numbers or "learning_rate" in numbers:
            train.append((epoch, {("lr" if k == "learning_rate" else k): numbers[k]
                                  for k in ("loss", "learning_rate") if k in numbers}))
    return train, evals, skipped


def _rows(train: list[tuple[float, dict[str, float]]],
          evals: list[tuple[float, dict[str, float]]]) -> tuple[pd.DataFrame, str]:
    """One row per evaluation (or per epoch without any), and how the rows were made."""
    evals = sorted(evals, key=lambda t: t[0])
    per_epoch = all(abs(e - round(e)) < 1e-6 for e, _ in evals)
    if evals:
        bounds = [e for e, _ in evals]
        index = [max(0, round(e) - 1) for e in bounds] if per_epoch else list(range(len(evals)))
        how = "one row per epoch-end evaluation" if per_epoch else (
            f"evaluations fall inside epochs, so each of the {len(evals)} rows is an "
            "evaluation point, not an epoch")
    else:
        bounds = sorted({max(0, math.ceil(e) - 1) + 1.0 for e, _ in train})
        index = [int(b) - 1 for b in bounds]
        how = "no evaluations: one row per epoch of training logs"
    rows: dict[int, dict[str, float]] = {}
    train = sorted(train, key=lambda t: t[0])
    j = 0
    for i, (row, hi) in enumerate(zip(index, bounds, strict=True)):
        losses, rates = [], []
        while j < len(train) and train[j][0] <= hi:  # the logs since the previous row
            losses += [train[j][1]["loss"]] if "loss" in train[j][1] else []
            rates += [train[j][1]["lr"]] if "lr" in train[j][1] else []
            j += 1
        values = rows.setdefault(row, {})
        if losses:
            values["loss"] = float(np.mean(losses))
        if rates:
            values["lr"] = rates[-1]
        if evals:
            values.update(evals[i][1])
    frame = pd.DataFrame.from_dict(rows, orient="index").sort_index()
    front = [c for c in ("loss", "val_loss") if c in frame.columns]
    frame = frame[front + [c for c in frame.columns if c not in front]]
    return frame, how


def read_trainer_state(path: Path, obj: dict[str, Any]) -> RunRecord:
    """Read a parsed ``trainer_state.json`` (``source='hf_trainer'``).

    Raises:
        RecordError: no training loss and no evaluation in ``log_history``.
    """
    train, evals, skipped = _entries(obj["log_history"])
    if not train and not evals:
        raise RecordError(f"{path}: a Hugging Face trainer_state.json whose log_history "
                          "holds no 'loss' and no 'eval_*' entries")
    curves, how = _rows(train, evals)
    curves.index.name = "epoch"
    notes = [f"Hugging Face trainer_state.json: {how}; training loss is the mean of the "
             f"losses logged in between ({len(train)} logs), eval_* read as val_*"]
    if skipped:
        notes.append(f"{skipped} log_history entries without a valid 'epoch' skipped")
    meta: dict[str, Any] = {}
    planned = to_float(obj.get("num_train_epochs"))
    if planned is not None and is_finite_int(planned):
        meta["epochs_planned"] = int(planned)
    name = path.parent.name if path.name.startswith("trainer_state") and path.parent.name \
        else run_stem(path)
    return finish_record(path, curves.astype(float), SOURCE, name, notes, meta)
