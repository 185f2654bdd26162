"""``GapDoctor``: the Keras 3 callback that records a run and diagnoses its train/val gap.

This module holds its arguments and the Keras hooks, the order of one fit's work; the
record's folder, guarded steps and writes are in ``recording.py`` (:class:`RecordingMixin`),
the diagnosis, report, summary and ``confirm()`` in ``diagnosing.py``
(:class:`DiagnosingMixin`).
"""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path
from typing import Any

import keras

from gapdoctor.callback import interrupted
from gapdoctor.callback.arguments import (
    check_arguments,
    check_count,
    check_groups,
    check_probes,
)
from gapdoctor.callback.deferred import DeferredEpochs
from gapdoctor.callback.diagnosing import DiagnosingMixin
from gapdoctor.callback.fit_call import apply_fit_arguments
from gapdoctor.callback.outputs import OnDisk, fit_warning, never_raises
from gapdoctor.callback.probes import Probe, default_probes
from gapdoctor.callback.recording import RecordingMixin
from gapdoctor.callback.samples import map_groups, take_train_probe, take_validation_sample
from gapdoctor.callback.state import RunState


class GapDoctor(RecordingMixin, DiagnosingMixin, keras.callbacks.Callback):
    """Records what explains a train/validation gap and diagnoses it when training ends.

    Every epoch it records the Keras logs, the learning rate in effect and the epoch time;
    eval-mode predictions on a bounded validation sample and a fixed, stratified train probe
    (loss, accuracy, calibration, per-class precision/recall/F1, confusion matrices,
    per-sample margins); and per-layer weight norms, update ratios, gradient norms, dead-unit
    fractions and non-finite flags. Once it records the model, loss, metrics, optimizer and a
    data summary. The record is written crash-safely to ``output_dir/<run_name>/`` after every
    epoch; at the end, ``diagnosis.json`` and ``report.pdf`` join it. Every file is written
    atomically: a reader finds a complete version or none. An epoch's probes and write run on
    a worker thread while the next epoch trains, on a snapshot of that epoch's weights, so
    the record is the one the training thread would write (on torch, under a distribution
    strategy, with probes of your own, and for weights over 256 MiB, every epoch is
    recorded on the training thread).

    GapDoctor never interrupts training. Whatever fails (a probe, a write on a full disk,
    unreadable data) is recorded in ``record.failures``, and when training ends ONE warning
    lists what failed and what is on disk. If ``output_dir`` cannot be created, the run is
    recorded in a temporary folder instead, which the warning names.

    Args:
        validation_data: ``(x_val, y_val)`` arrays, a ``tf.data.Dataset`` or a
            ``keras.utils.PyDataset`` of batches. Defaults to None: ``fit``'s own validation
            data, read from its call frame (Keras 3 does not show callbacks the data), or
            only ``logs`` when that is a Python generator.
        train_data: the training data, in the same forms; a fixed probe is drawn from it.
            Defaults to None: ``fit``'s own ``x, y``, as for ``validation_data``.
        output_dir: directory under which each ``fit`` gets its own run directory.
            Defaults to ``"gapdoctor-runs"``.
        run_name: name of the run directory (``-N`` is appended if it exists). Defaults to
            None, meaning ``run-YYYYmmdd-HHMMSS``.
        max_probe_samples: size of the train probe. Defaults to 512.
        max_val_samples: at most this many validation samples are evaluated. Defaults to 2048.
        groups: dict of name to boolean mask or index array over the validation samples;
            accuracy and loss are recorded per group. Defaults to None.
        class_names: names of the classes, in label order. Defaults to None (indices).
        report: whether to write ``report.pdf`` at the end (needs ``diagnose``). Defaults to
            True.
        diagnose: whether to diagnose the run at the end and write ``diagnosis.json``.
            Defaults to True.
        verbose: 0 is silent, 1 prints a short summary at the end. Defaults to 1.
        confirm: run the confirmation experiments (``confirm()``) when training ends, at
            most 3x the training's time. Defaults to False.
        model_fn: a function returning a new model of the same architecture, for models
            ``keras.models.clone_model`` cannot clone; used by ``confirm``. Defaults to None.
        dynamics: record the training dynamics of every sample of ``train_data`` on a few
            scheduled epochs (at most ~3 % of the training time) and write every suspected
            wrong label to ``suspects.csv`` (plus ``label_dynamics.npz`` for cleanlab).
            Defaults to True.
        sample_ids: an id per training sample, in the order ``train_data`` yields them, or
            the name of an input of a dict ``x`` holding each sample's id (needed for a
            ``tf.data`` pipeline that reshuffles). Defaults to None (positions).
        probes: extra probes (``gapdoctor.callback.Probe`` instances or functions
            ``fn(state, epoch, logs)``) run after the built-in ones. Defaults to None.
        background: diagnose and write the report in a spawned process, so that ``fit``
            returns when training ends; ``diagnosis`` waits for it when first read, and the
            summary is printed then (or at exit). Defaults to True (False: inside ``fit``).
        monitor: the logged value the diagnosis follows, e.g. ``"val_f1_score"``
            (``"f1_score"`` means ``"val_f1_score"`` when that is logged); a name the fit
            does not log is reported in the warning at the end of ``fit`` (with the names
            it does log) and the default is used. Defaults to None: ``val_accuracy`` or the
            like when logged (for a model with several outputs, the followed output's),
            else ``val_loss``.
        output: for a model with several outputs, the one the probes follow (its name, the
            key of its labels, or its position in ``model.outputs``); its labels are taken
            from the dict or list of labels given. Defaults to None: the only output with
            a classification loss (e.g. ``"sparse_categorical_crossentropy"``).

    With ``fit(validation_split=...)`` and no ``validation_data`` here, GapDoctor evaluates
    the rows fit held out (a note in the record says so), and a ``train_data`` holding
    those rows has them left out of its train probe.

    Example:

    ```python
    doctor = GapDoctor(validation_data=(x_val, y_val), train_data=(x_train, y_train))
    model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=30,
              callbacks=[doctor])
    print(doctor.diagnosis.verdict, doctor.run_dir)
    ```
    """

    def __init__(self, validation_data: Any = None, train_data: Any = None,
                 output_dir: str | os.PathLike[str] = "gapdoctor-runs",
                 run_name: str | None = None, max_probe_samples: int = 512,
                 max_val_samples: int = 2048, groups: dict[str, Any] | None = None,
                 class_names: list[str] | None = None, report: bool = True,
                 diagnose: bool = True, verbose: int = 1, probes: list[Any] | None = None,
                 background: bool = True, confirm: bool = False,
                 model_fn: Any = None, dynamics: bool = True, sample_ids: Any = None,
                 monitor: str | None = None, output: str | int | None = None) -> None:
        super().__init__()
        check_arguments(validation_data=validation_data, train_data=train_data,
                        output_dir=output_dir, run_name=run_name, class_names=class_names,
                        verbose=verbose, monitor=monitor, output=output)
        self.monitor = monitor
        self.output = output
        self.validation_data = validation_data
        self.train_data = train_data
        self.fit_data: dict[str, Any] = {}   # set by each fit: the data the probes read
        self.output_dir = Path(output_dir)
        self.run_name = run_name
        self.max_probe_samples = check_count("max_probe_samples", max_probe_samples)
        self.max_val_samples = check_count("max_val_samples", max_val_samples)
        self.groups = check_groups(groups)
        self.class_names = [str(c) for c in class_names] if class_names is not None else None
        self.report = bool(report)
        self.diagnose = bool(diagnose)
        self.verbose = verbose
        self.extra_probes = check_probes(probes)
        self.dynamics, self.sample_ids = bool(dynamics), sample_ids
        self.run_dir: Path | None = None
        self._state: RunState | None = None
        self._record_stale = False
        self.background = bool(background)
        self.confirm_at_end = bool(confirm)
        self.model_fn = model_fn
        self._pending: Any = None  # the BackgroundAnalysis of the last fit, until collected
        self.diagnosis: Any = None
        self.timings: dict[str, float] = {}
        self._on_disk = OnDisk()
        self._deferred = DeferredEpochs()
        # record an epoch on the worker thread when it can be (see ``deferred.py``); False
        # records every epoch on the training thread, as the same weights give the same record
        self._defer = True

    @property
    def epochs_completed(self) -> int:
        """Epochs recorded on disk so far in this fit."""
        state = self._state
        return int(state.meta.get("epochs_completed", 0)) if state is not None else 0

    # -- Keras hooks -------------------------------------------------------------------
    @never_raises
    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        start = time.perf_counter()
        self.diagnosis, self.timings, self._on_disk, self._state = None, {}, OnDisk(), None
        self._deferred.close()  # a previous fit that ended without on_train_end
        self._deferred = DeferredEpochs()
        self._probes = default_probes() + self.extra_probes
        self._open_run()
        state, begin = self._state, "train_begin"
        state.settings["monitor"] = self.monitor
        self._guard("setup", begin, None, lambda: state.meta.update(self._base_meta()))
        self._guard("output", begin, None, self._follow_output, state)
        sources = {"validation": self.validation_data, "train": self.train_data}
        self._guard("fit_arguments", begin, None, apply_fit_arguments, state, self.model,
                    sources)
        self.fit_data = sources   # what the probes read: given, or fit's own (for confirm)
        if sources["train"] is not self.train_data:  # split rows left out, or fit's own data
            self._guard("fit_arguments", begin, None, self._trim_dynamics, state,
                        sources["train"])
        self._guard("validation_data", begin, None, take_validation_sample, state,
                    sources["validation"], self.max_val_samples)
        self._guard("train_data", begin, None, take_train_probe, state, sources["train"],
                    self.max_probe_samples)
        self._guard("groups", begin, None, map_groups, state, self.groups)
        for probe in self._probes:
            self._guard(probe.name, begin, None, probe.on_train_begin, state)
        state.train_source = state.val_source = None  # free the copies
        self._write(seq=0, stage=begin, epoch=None)
        interrupted.started(self)
        self._epoch_start = time.perf_counter()
        self.timings["train_begin"] = time.perf_counter() - start

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epoch_start = time.perf_counter()

    @never_raises
    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        start = time.perf_counter()
        state = self._state
        if state is None:  # on_train_begin failed before the run existed
            return
        epoch, logs = int(epoch), dict(logs or {})
        epoch_time = start - self._epoch_start
        captured = {}
        for probe in self._probes:
            if type(probe).capture is not Probe.capture:
                self._guard(probe.name, "epoch_end", epoch, _capture, captured, probe, state,
                            epoch, logs)
        values = self._snapshot(state) if self._defer else None
        if values is not None:
            self._deferred.submit(self._record_epoch, epoch, logs, epoch_time, captured,
                                  values)
        else:
            self._deferred.wait()
            self._record_epoch(epoch, logs, epoch_time, captured, None)
        self.timings["epochs"] = self.timings.get("epochs", 0.0) + time.perf_counter() - start

    def _snapshot(self, state: RunState) -> dict[int, Any] | None:
        """The weights for a deferred epoch, or None when this epoch is recorded now."""
        if not all(probe.deferrable(state) for probe in self._probes) or \
                not self._deferred.can_hold(self.model):
            return None
        from gapdoctor.callback import backends

        return backends.snapshot(self.model)

    @never_raises
    def _record_epoch(self, epoch: int, logs: dict[str, Any], epoch_time: float,
                      captured: dict[str, Any], values: dict[int, Any] | None) -> None:
        """Run the probes on the epoch's weights (``values``, else the model's) and write
        the record; on the worker thread for a deferred epoch (see ``deferred.py``)."""
        state = self._state
        state.epoch_time, state.captured, state.values = epoch_time, captured, values
        try:
            for probe in self._probes:
                self._guard(probe.name, "epoch_end", epoch, probe.on_epoch_end, state, epoch,
                            logs)
            state.meta["epochs_completed"] = epoch + 1
            self._write(seq=epoch + 1, stage="epoch_end", epoch=epoch)
        finally:
            state.values, state.captured = None, {}

    @never_raises
    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        start = time.perf_counter()
        interrupted.finished(self)
        self._deferred.close()  # every epoch recorded and on disk first
        self.timings["deferred_epochs"] = self._deferred.seconds
        state, end = self._state, "train_end"
        if state is None:
            return
        for probe in self._probes:
            self._guard(probe.name, end, None, probe.on_train_end, state)
        state.meta["completed"] = True
        seq = int(state.meta.get("epochs_completed", 0)) + 1
        self._write(seq=seq, stage=end, epoch=None, final=True)
        if self.run_dir is not None and state.record.has("dyn_margin"):
            from gapdoctor.callback.suspects import write_suspects

            self._guard("suspects", end, None, write_suspects, self.record, self.run_dir)
        self.timings["train_end_record"] = time.perf_counter() - start
        if self.diagnose:
            n_failures = len(state.record.failures)
            self._analyze(seq)
            if len(state.record.failures) > n_failures:  # keep the analysis failure on disk
                self._write(seq=seq + 1, stage=end, epoch=None, final=True)
        if self.verbose:
            self._guard("console", end, None, self._print_summary)
        message = fit_warning(state.record.failures, self._on_disk.describe(
            self.run_dir, int(state.meta.get("epochs_completed", 0)), self.diagnose,
            self.report and self.diagnose), state.meta.get("settings_problems") or ())
        if message is not None:
            warnings.warn(message, RuntimeWarning, stacklevel=2)
        if self.confirm_at_end and self.diagnose:
            self._guard("confirm", end, None, self.confirm)


def _capture(into: dict[str, Any], probe: Probe, state: RunState, epoch: int,
             logs: dict[str, Any]) -> None:
    into[probe.name] = probe.capture(state, epoch, logs)
