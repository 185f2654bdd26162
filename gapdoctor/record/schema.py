"""The in-memory shape of a run: what every importer produces and every rule reads.

A ``RunRecord`` holds one training run. Everything is plain pandas/numpy, so the
analysis side never needs TensorFlow.

Tables (``pandas.DataFrame``; any may be empty when its source did not record it):

- ``curves``: index ``epoch`` (0-based int). One column per Keras ``logs`` key
  (``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``, ...), plus ``lr`` (the learning
  rate in effect) and ``epoch_time`` (seconds) when known. Missing values are NaN
  (e.g. ``val_*`` on epochs skipped by ``validation_freq``).
- ``split_metrics``: columns ``epoch, split, loss, accuracy, ece, n``; computed by the
  callback in eval mode on ``split`` in {"val", "train"} ("train" is the train probe).
- ``per_class``: columns ``epoch, split, class_index, class_name, precision, recall, f1,
  support``.
- ``layers``: columns ``epoch, layer, weight_norm, update_ratio, grad_norm, dead_fraction,
  nonfinite`` (``nonfinite`` is 1.0 when any weight or gradient was NaN/inf). The callback
  records one row per layer with trainable weights: ``weight_norm`` is the L2 norm of all
  its trainable weights, ``update_ratio`` = ||W_t - W_{t-1}|| / ||W_t|| (epoch 0: against
  the initial weights; NaN when those were not available), ``grad_norm`` the L2 norm of the
  eval-mode gradient of the compiled loss on a fixed probe batch (``meta["gradient_batch"]``),
  ``dead_fraction`` the fraction of units (channels) of a ReLU-like layer that output zero
  for every sample of that batch (NaN for other layers).
- ``groups``: columns ``epoch, group, n, accuracy, loss`` for user-given validation slices.

Arrays (``arrays`` dict, see ``ARRAY_DOC``) hold per-sample training dynamics, the last
and best validation probabilities, score histograms and bounded feature samples.

``meta`` (dict) holds run metadata; the documented keys are in ``META_DOC``.
``failures`` lists what a probe or step could not do: ``{"probe", "epoch", "error"}`` and,
from the callback, ``"stage"`` ('train_begin' | 'epoch_end' | 'train_end'). Besides the
probes, "probe" names the callback's own steps: output_dir, validation_data, train_data,
groups, record_write, diagnosis, diagnosis_write, report.

``gapdoctor/record/validate.py`` declares the types ``record.json`` must hold; the reader
checks them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

RUN_SCHEMA = "gapdoctor.run"
RUN_SCHEMA_VERSION = "1.1"  # 1.1: optional static_arrays_file

TABLES = ("curves", "split_metrics", "per_class", "layers", "groups")

TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "split_metrics": ("epoch", "split", "loss", "accuracy", "ece", "n"),
    "per_class": ("epoch", "split", "class_index", "class_name", "precision", "recall", "f1",
                  "support"),
    "layers": ("epoch", "layer", "weight_norm", "update_ratio", "grad_norm", "dead_fraction",
               "nonfinite"),
    "groups": ("epoch", "group", "n", "accuracy", "loss"),
}

ARRAY_DOC: dict[str, str] = {
    "margins": "(E, P) float32: per epoch, margin of the given label on each train-probe "
               "sample (its probability minus the largest other class probability)",
    "correct": "(E, P) bool: whether each train-probe sample was predicted as its given label",
    "dyn_epochs": "(E',) int64: epochs at which every training sample was predicted",
    "dyn_margin": "(E', N) float32: margin of every training sample at those epochs",
    "dyn_p_given": "(E', N) float32: probability of the given label at those epochs",
    "dyn_proba_mean": "(N, K) float32: mean predicted probabilities over those epochs",
    "dyn_embedding": "(N, d) float16: a projection of the output layer's input (neighbours)",
    "dyn_val_embedding": "(V, d) float16: the same projection of the validation samples "
                         "(rows of val_labels), at the same epoch as dyn_embedding",
    "dyn_labels": "(N,) int64: the given label of every training sample",
    "dyn_ids": "(N,) int64: the sample id of every training sample",
    "probe_index": "(P,) int64: index of each train-probe sample in the training data",
    "probe_labels": "(P,) int64: given (possibly wrong) label of each train-probe sample",
    "probe_proba_last": "(P, C) float32: train-probe class probabilities at the last epoch",
    "val_labels": "(V,) int64: labels of the validation samples the callback evaluated",
    "val_proba_last": "(V, C) float32: validation class probabilities at the last epoch",
    "val_proba_best": "(V, C) float32: validation class probabilities at the epoch of "
                      "lowest validation loss",
    "confusion_val": "(E, C, C) int64: validation confusion matrix per epoch (rows = true)",
    "confusion_train": "(E, C, C) int64: train-probe confusion matrix per epoch",
    "score_hist_val": "(E, C, 2, B) int64: per epoch and class, histogram of p(class) over "
                      "B equal bins on [0, 1], for samples not of / of that class",
    "x_train": "(P, D) float32: flattened features of the train probe (projected to at most "
               "D columns for wide inputs)",
    "x_val": "(V', D) float32: flattened features of a bounded validation sample",
    "y_val_features": "(V',) int64: labels of the rows of x_val",
    "val_index": "(V,) int64: position of each evaluated validation sample in the validation "
                 "data (for a dataset: position in its stream)",
    "pred_epochs": "(E,) int64: the epoch of each row of margins, correct, confusion_val, "
                   "confusion_train and score_hist_val",
}

META_DOC: dict[str, str] = {
    "schema": "always 'gapdoctor.run'",
    "version": "'MAJOR.MINOR' of the record format",
    "source": "'gapdoctor' | 'keras_history' | 'csv_logger' | 'tensorboard' | 'hf_trainer'",
    "run_name": "a short name for the run",
    "task": "'multiclass' | 'binary' | 'multilabel' | 'regression' | 'unknown'",
    "n_classes": "number of classes (2 for a single sigmoid output)",
    "class_names": "list of class names (strings)",
    "label_format": "'sparse' | 'onehot' | 'binary'",
    "output": "'probabilities' | 'logits'",
    "monitor": "the main validation metric, e.g. 'val_accuracy' (falls back to 'val_loss')",
    "monitor_mode": "'max', 'min' or 'unknown' (see record/direction.py)",
    "followed_output": "{name, key, position, n_outputs}: the output the probes follow, for a "
                       "model with several outputs (GapDoctor(output=...))",
    "model": "{name, n_params, trainable_params, output_activation, layers: [...]}",
    "loss": "{name, from_logits, config}",
    "metrics": "[{name, class_name, config}]",
    "optimizer": "{class_name, config}",
    "data": "{n_train, n_val, n_train_probe, n_val_used, input_shape, train_label_counts, "
            "val_label_counts, duplicates_val_in_train, feature_summary: {train, val}}; the "
            "callback adds duplicate_label_conflicts (duplicates whose labels differ), "
            "duplicates_within_train (training rows equal to another one, over the "
            "duplicates_train_rows rows scanned), duplicates_scope, train_source/val_source ('numpy' | 'tf.data' | 'PyDataset'), "
            "probe_stratified, val_sampled and, for inputs wider than 256 features, "
            "feature_projection {method, seed, from_dim, to_dim}. n_train/n_val are None when "
            "a dataset was not read to its end (a stream found to repeat, e.g. .repeat(), "
            "counts its distinct samples). Label counts map str(label) -> count. A "
            "feature summary is {kind: 'per_feature' | 'per_channel' | 'projected', n, "
            "n_columns, nonfinite, mean, std, min, max, q05, q25, q50, q75, q95} (lists with "
            "one value per column). nonfinite_rows {train, val: {count, rows, scope}} counts "
            "rows with a NaN/inf input over all rows held in memory (rows: first 20 indices); "
            "collapsed_rows {train, val: {count, n, width, scope}} counts rows whose inputs "
            "take at most two distinct values (0 below 8 inputs)",
    "epochs_planned": "epochs passed to fit",
    "epochs_completed": "number of epochs recorded so far (the record is rewritten after each)",
    "completed": "True once on_train_end ran",
    "gradient_batch": "{n, split}: the fixed probe batch the layers' gradient norms use",
    "val_proba_best_epoch": "epoch at which val_proba_best was taken (lowest validation "
                            "cross-entropy on the evaluated validation samples)",
    "settings": "GapDoctor settings of the run: {max_probe_samples, max_val_samples, groups, "
                "probes}",
    "probe_seconds": "{probe name: seconds spent in it over the run} (GapDoctor's own cost)",
    "notes": "list of sentences about what could not be recorded",
    "versions": "{python, gapdoctor, keras, numpy, backend: name, <backend>: its version}",
    "dynamics": "{n, source, planned epochs, ...}: the whole-training-set dynamics probe "
                "(probes/dynamics.py); absent when it did not run",
    "fit": "arguments of the model.fit call (callback/fit_call.py): {validation_split, "
           "initial_epoch, steps_per_epoch, validation_steps, validation_freq, batch_size, "
           "validation_batch_size, shuffle, class_weight: {class: weight} | None, sample_weight: bool, "
           "validation_given: bool}; absent when the fit call could not be read",
    "batch_order": "the end-of-fit batch-order check (callback/probes/batch_order.py): "
                   "{checked: False, reason} for a model without batch normalisation, dropout, noise or "
                   "custom layers; else {checked: True, n, batch_size, shuffled_batch_size, "
                   "accuracy_stored, accuracy_shuffled, effect, low, high (95 % interval of the "
                   "paired difference, random batches minus stored order), output_change and "
                   "repeat_change (mean |change| of the outputs between the two orders and between "
                   "two predictions of the same batches), mechanism ('batch statistics' | "
                   "'randomness' | None), outcome, layers} and, when outputs are random, averaged "
                   "{passes, accuracy_single, accuracy_averaged, effect, low, high}: the mean of "
                   "5 predictions against one; absent without validation data or "
                   "for regression and multi-label runs",
    "first_epoch": "the first epoch recorded (fit's initial_epoch when resuming; 0 otherwise)",
}


@dataclass
class RunRecord:
    """One training run, as the rules see it.

    Example:
        >>> run = RunRecord.empty(source="keras_history")
        >>> run.has("curves")
        False
    """

    meta: dict[str, Any] = field(default_factory=dict)
    curves: pd.DataFrame = field(default_factory=pd.DataFrame)
    split_metrics: pd.DataFrame = field(default_factory=pd.DataFrame)
    per_class: pd.DataFrame = field(default_factory=pd.DataFrame)
    layers: pd.DataFrame = field(default_factory=pd.DataFrame)
    groups: pd.DataFrame = field(default_factory=pd.DataFrame)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)
    path: Path | None = None

    @classmethod
    def empty(cls, source: str = "gapdoctor", run_name: str = "run") -> RunRecord:
        """A record with only the schema fields in ``meta``."""
        meta = {"schema": RUN_SCHEMA, "version": RUN_SCHEMA_VERSION, "source": source,
                "run_name": run_name, "notes": []}
        return cls(meta=meta)

    # -- what is present --------------------------------------------------------------
    def has(self, name: str) -> bool:
        """Whether a named field holds data.

        Names: a table (``"curves"``, ``"per_class"``, ...), an array key (``"margins"``),
        ``"curve:<column>"`` for a curves column with at least one finite value,
        ``"meta:<key>"`` for a non-empty metadata entry, and ``"val_curves"`` (any val_*).
        """
        if name in TABLES:
            table = getattr(self, name)
            return isinstance(table, pd.DataFrame) and not table.empty
        if name.startswith("curve:"):
            col = name[len("curve:"):]
            return col in self.curves.columns and bool(
                np.isfinite(pd.to_numeric(self.curves[col], errors="coerce")).any())
        if name.startswith("meta:"):
            value = self.meta.get(name[len("meta:"):])
            return value not in (None, "", [], {})
        if name == "val_curves":
            return any(c.startswith("val_") for c in self.curves.columns)
        array = self.arrays.get(name)
        return array is not None and array.size > 0

    @property
    def n_epochs(self) -> int:
        """Number of epochs with at least one recorded curve value."""
        return int(len(self.curves.index))

    @property
    def monitor(self) -> str | None:
        """The main validation metric column, e.g. ``"val_accuracy"``, or None."""
        name = self.meta.get("monitor")
        if name and name in self.curves.columns:
            return str(name)
        return pick_monitor(self.curves.columns)

    @property
    def class_names(self) -> list[str]:
        names = self.meta.get("class_names")
        if names:
            return [str(n) for n in names]
        n = self.meta.get("n_classes")
        return [str(i) for i in range(int(n))] if n else []

    @property
    def name(self) -> str:
        return str(self.meta.get("run_name") or (self.path.name if self.path else "run"))


def pick_monitor(columns: Any) -> str | None:
    """The validation metric a user most likely watches: the first non-loss ``val_*`` metric
    (the total ``val_loss`` for a model with several outputs).

    Example:
        >>> pick_monitor(["loss", "accuracy", "val_loss", "val_accuracy"])
        'val_accuracy'
        >>> pick_monitor(["val_loss", "val_a_acc", "val_a_loss", "val_b_acc", "val_b_loss"])
        'val_loss'
    """
    cols = [str(c) for c in columns]
    val_metrics = [c for c in cols if c.startswith("val_") and c != "val_loss"]
    for preferred in ("val_accuracy", "val_acc", "val_sparse_categorical_accuracy",
                      "val_categorical_accuracy", "val_binary_accuracy"):
        if preferred in val_metrics:
            return preferred
    # A model with several outputs logs a loss per output ("val_<output>_loss"): one output's
    # metric says nothing of the others, and the total the optimiser minimises is val_loss.
    output_losses = [c for c in val_metrics if c.endswith("_loss")]
    if len(output_losses) >= 2 and "val_loss" in cols:
        return "val_loss"
    if val_metrics:
        return val_metrics[0]
    return "val_loss" if "val_loss" in cols else None


def follow_monitor(run: RunRecord, name: str) -> str:
    """Make the logged column ``name`` the one the diagnosis follows; returns the column. The
    followed value is a validation one: ``f1`` means ``val_f1`` when that is logged.

    Raises:
        RecordError: the run logs no such column (the message lists what it logs).

    Example:
        >>> run = RunRecord.empty(run_name="r")
        >>> run.curves = pd.DataFrame({"loss": [1.0], "val_loss": [1.1], "f1": [0.6],
        ...                            "val_f1": [0.5]})
        >>> follow_monitor(run, "f1"), run.monitor
        ('val_f1', 'val_f1')
    """
    from gapdoctor.errors import RecordError

    columns = [str(c) for c in run.curves.columns]
    column = f"val_{name}" if f"val_{name}" in columns else name if name in columns else None
    if column is None:
        logged = ", ".join(c for c in columns if c not in ("epoch", "epoch_time", "lr")) or \
            "nothing"
        raise RecordError(f"{run.name}: --monitor {name} is not logged by this run (it logs: "
                          f"{logged})")
    run.meta.update(monitor=column, monitor_mode=metric_mode(column, run.meta.get("metrics")))
    values = pd.to_numeric(run.curves[column], errors="coerce").to_numpy(float)
    if not np.isfinite(values).any():
        run.meta.setdefault("notes", []).append(
            f"{column}, followed as asked, is NaN in every epoch: no best value, and no rule "
            "can read it")
    return column


def metric_mode(name: str, metrics: list[Any] | None = None) -> str:
    """``'max'`` if a larger value is better, ``'min'`` if smaller, ``'unknown'`` otherwise.

    Decided by :func:`gapdoctor.record.direction.metric_direction` (recorded Keras metric
    class first, then a name table).

    Example:
        >>> metric_mode("val_f1_score"), metric_mode("val_mae"), metric_mode("val_foo")
        ('max', 'min', 'unknown')
    """
    from gapdoctor.record.direction import metric_direction

    return metric_direction(name, metrics) or "unknown"
