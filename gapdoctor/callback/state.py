"""What the probes of one ``fit`` share: the model, the bounded data samples, the rows they
have recorded so far, and how to turn those rows into a :class:`RunRecord`.

Probes append plain dicts to ``rows[table]`` and numpy rows to ``series[array]``; the
callback calls :meth:`RunState.to_record` before each write, so a probe never builds a
DataFrame itself (keeps the per-epoch cost small).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gapdoctor.callback.data_sampling import Sample
from gapdoctor.callback.followed_output import Head
from gapdoctor.record.schema import TABLE_COLUMNS, RunRecord

# Arrays grown by one row per epoch: the epochs of their rows are in ``pred_epochs``.
EPOCH_SERIES = ("margins", "correct", "confusion_val", "confusion_train", "score_hist_val")


@dataclass
class RunState:
    """Shared state of one ``fit``: created in ``on_train_begin``, dropped with the next one."""

    model: Any
    record: RunRecord
    run_dir: Path | None  # None when no folder could be made (nothing is written)
    settings: dict[str, Any]
    val: Sample | None = None
    train: Sample | None = None
    val_source: Sample | None = None
    train_source: Sample | None = None
    groups: dict[str, np.ndarray] = field(default_factory=dict)
    curves: list[dict[str, Any]] = field(default_factory=list)
    rows: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {name: [] for name in TABLE_COLUMNS})
    series: dict[str, list[np.ndarray]] = field(
        default_factory=lambda: {name: [] for name in EPOCH_SERIES})
    series_epochs: list[int] = field(default_factory=list)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    epoch_time: float | None = None
    probe_seconds: dict[str, float] = field(default_factory=dict)
    compiled: dict[str, Any] = field(default_factory=dict)  # functions probes share
    # the validation sample's representation at the latest epoch (predictions -> dynamics),
    # assembled only when asked: the dynamics keep it at a few epochs, not every one
    val_embedding: Callable[[], np.ndarray] | None = None
    head: Head = field(default_factory=Head)  # the output the probes follow
    # the weights of the epoch being recorded, when its probes run after training moved on
    # (a deferred epoch, see ``deferred.py``); None: the model's current weights
    values: dict[int, Any] | None = None
    # what each probe's ``capture`` took on the training thread for the epoch being recorded
    captured: dict[str, Any] = field(default_factory=dict)

    @property
    def meta(self) -> dict[str, Any]:
        return self.record.meta

    def settings_problem(self, sentence: str) -> None:
        """A setting of the user's that cannot apply (e.g. a monitor the fit does not log):
        noted in the record and listed in the fit's one warning, not counted as a failure."""
        self.note(sentence)
        problems = self.meta.setdefault("settings_problems", [])
        if sentence not in problems:
            problems.append(sentence)

    def note(self, sentence: str) -> None:
        """Add a sentence to ``meta["notes"]`` (once)."""
        notes = self.meta.setdefault("notes", [])
        if sentence not in notes:
            notes.append(sentence)

    def model_built(self) -> bool:
        """Whether the model has its variables (a Sequential model without an ``Input`` is
        only built by its first training step, after ``on_train_begin``)."""
        return bool(getattr(self.model, "built", False)) and bool(self.model.weights)

    def table_rows(self) -> dict[str, tuple[list[str], list[dict[str, Any]]]]:
        """``{table: (columns, rows)}`` of everything recorded so far (rows are shared)."""
        out: dict[str, tuple[list[str], list[dict[str, Any]]]] = {}
        if self.curves:
            columns = list(dict.fromkeys(k for row in self.curves for k in row))
            out["curves"] = (columns, self.curves)
        for name, columns in TABLE_COLUMNS.items():
            rows = self.rows[name]
            if rows:
                extra = [c for c in rows[0] if c not in columns]
                out[name] = ([*columns, *extra], rows)
        return out

    def current_arrays(self) -> dict[str, np.ndarray]:
        """Every array of the record, the per-epoch series stacked."""
        arrays = dict(self.arrays)
        for name, rows in self.series.items():
            if rows:
                arrays[name] = np.stack(rows)
        if self.series_epochs:
            arrays["pred_epochs"] = np.asarray(self.series_epochs, dtype=np.int64)
        return arrays

    def to_record(self) -> RunRecord:
        """Refresh the record's tables and arrays from the rows gathered so far."""
        record = self.record
        record.meta["probe_seconds"] = {k: round(v, 4) for k, v in self.probe_seconds.items()}
        for name, (columns, rows) in self.table_rows().items():
            frame = pd.DataFrame.from_records(rows, columns=columns)
            if name == "curves":
                frame = frame.set_index("epoch").sort_index()
            setattr(record, name, frame)
        record.arrays = self.current_arrays()
        return record
