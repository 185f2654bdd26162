"""``GapDoctor``: the Keras 3 callback that records a run and diagnoses its train/val gap."""

from __future__ import annotations

import os
import platform
import time
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any

import keras
import numpy as np

from gapdoctor.callback import console
from gapdoctor.callback.arguments import (
    check_arguments,
    check_count,
    check_groups,
    check_probes,
)
from gapdoctor.callback.outputs import OnDisk, fit_warning, never_raises, open_run_dir
from gapdoctor.callback.probes import default_probes
from gapdoctor.callback.samples import map_groups, take_train_probe, take_validation_sample
from gapdoctor.callback.state import RunState
from gapdoctor.record.appender import RecordAppender
from gapdoctor.record.atomic import atomic_path, atomic_write_text
from gapdoctor.record.schema import RunRecord
from gapdoctor.record.store import save_record


class GapDoctor(keras.callbacks.Callback):
    """Records what explains a train/validation gap and diagnoses it when training ends.

    Every epoch it records the Keras logs, the learning rate in effect and the epoch time;
    eval-mode predictions on a bounded validation sample and a fixed, stratified train probe
    (loss, accuracy, calibration, per-class precision/recall/F1, confusion matrices,
    per-sample margins); and per-layer weight norms, update ratios, gradient norms, dead-unit
    fractions and non-finite flags. Once it records the model, loss, metrics, optimizer and a
    data summary. The record is written crash-safely to ``output_dir/<run_name>/`` after every
    epoch; at the end, ``diagnosis.json`` and ``report.pdf`` join it. Every file is written
    atomically: a reader finds a complete version or none.

    GapDoctor never interrupts training. Whatever fails (a probe, a write on a full disk,
    unreadable data) is recorded in ``record.failures``, and when training ends ONE warning
    lists what failed and what is on disk. If ``output_dir`` cannot be created, the run is
    recorded in a temporary folder instead, which the warning names.

    Args:
        validation_data: ``(x_val, y_val)`` arrays, a ``tf.data.Dataset`` or a
            ``keras.utils.PyDataset`` of batches (Keras 3 does not show callbacks the data
            given to ``fit``). Defaults to None (only ``logs`` are recorded for validation).
        train_data: the training data, in the same forms; a fixed probe is drawn from it.
            Defaults to None (no train probe: no margins or train-split metrics).
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
        probes: extra probes (``gapdoctor.callback.Probe`` instances or functions
            ``fn(state, epoch, logs)``) run after the built-in ones. Defaults to None.

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
                 diagnose: bool = True, verbose: int = 1, probes: list[Any] | None = None
                 ) -> None:
        super().__init__()
        check_arguments(validation_data=validation_data, train_data=train_data,
                        output_dir=output_dir, run_name=run_name, class_names=class_names,
                        verbose=verbose)
        self.validation_data = validation_data
        self.train_data = train_data
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
        self.run_dir: Path | None = None
        self._state: RunState | None = None
        self._record_stale = False
        self.diagnosis: Any = None
        self.timings: dict[str, float] = {}
        self._on_disk = OnDisk()

    # -- guarded execution -------------------------------------------------------------
    def _guard(self, name: str, stage: str, epoch: int | None, fn: Any, *args: Any) -> bool:
        """Run ``fn``; on an exception record it and go on. Returns whether it succeeded."""
        state = self._state
        start = time.perf_counter()
        try:
            fn(*args)
            return True
        except Exception as exc:  # noqa: BLE001 - nothing of GapDoctor may break training
            state.record.failures.append({"probe": name, "epoch": epoch, "stage": stage,
                                          "error": f"{type(exc).__name__}: {exc}"})
            return False
        finally:
            elapsed = time.perf_counter() - start
            state.probe_seconds[name] = state.probe_seconds.get(name, 0.0) + elapsed

    @property
    def record(self) -> RunRecord | None:
        """The run record so far (None before the first ``fit``); tables built on access."""
        state = getattr(self, "_state", None)
        if state is None:
            return None
        if self._record_stale:
            state.to_record()
            self._record_stale = False
        return state.record

    def _write(self, seq: int, stage: str, epoch: int | None, final: bool = False) -> None:
        """Write the record: per epoch appending (cheap), at the end compressed and fsynced."""
        state = self._state
        self._record_stale = True
        if self.run_dir is None:
            return

        def write() -> None:
            if final:
                save_record(self.record, self.run_dir, seq=seq)
            else:
                state.meta["probe_seconds"] = {k: round(v, 4)
                                               for k, v in state.probe_seconds.items()}
                self._appender.write(state.meta, state.table_rows(), state.current_arrays(),
                                     state.record.failures, seq=seq)

        if self._guard("record_write", stage, epoch, write):
            self._on_disk.record_epochs = int(state.meta.get("epochs_completed", 0))
            self._on_disk.record_final = final

    # -- setup -------------------------------------------------------------------------
    def _base_meta(self) -> dict[str, Any]:
        import tensorflow as tf

        try:
            version = metadata.version("gapdoctor")
        except metadata.PackageNotFoundError:
            version = "unknown"
        return {"task": "unknown", "epochs_planned": (self.params or {}).get("epochs"),
                "completed": False, "epochs_completed": 0,
                "versions": {"python": platform.python_version(), "gapdoctor": version,
                             "keras": keras.__version__, "tensorflow": tf.__version__,
                             "numpy": np.__version__},
                "settings": {"max_probe_samples": self.max_probe_samples,
                             "max_val_samples": self.max_val_samples,
                             "groups": sorted(self.groups or {}),
                             "probes": [p.name for p in self._probes]}}

    def _open_run(self) -> None:
        """Choose the run folder (a temporary one if output_dir is unusable) and the state."""
        self.run_dir, problem = open_run_dir(self.output_dir, self.run_name)
        name = self.run_dir.name if self.run_dir is not None else (self.run_name or "run")
        record = RunRecord.empty(source="gapdoctor", run_name=name)
        self._state = RunState(model=self.model, record=record, run_dir=self.run_dir,
                               settings={"class_names": self.class_names})
        self._appender = RecordAppender(self.run_dir) if self.run_dir is not None else None
        if problem is not None:
            record.failures.append({"probe": "output_dir", "epoch": None,
                                    "stage": "train_begin", "error": problem})
            if self.verbose:
                print(f"GapDoctor: {problem}.")

    # -- Keras hooks -------------------------------------------------------------------
    @never_raises
    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        start = time.perf_counter()
        self.diagnosis, self.timings, self._on_disk, self._state = None, {}, OnDisk(), None
        self._probes = default_probes() + self.extra_probes
        self._open_run()
        state, begin = self._state, "train_begin"
        self._guard("setup", begin, None, lambda: state.meta.update(self._base_meta()))
        self._guard("validation_data", begin, None, take_validation_sample, state,
                    self.validation_data, self.max_val_samples)
        self._guard("train_data", begin, None, take_train_probe, state, self.train_data,
                    self.max_probe_samples)
        self._guard("groups", begin, None, map_groups, state, self.groups)
        for probe in self._probes:
            self._guard(probe.name, begin, None, probe.on_train_begin, state)
        state.train_source = state.val_source = None  # free the copies
        self._write(seq=0, stage=begin, epoch=None)
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
        state.epoch_time = start - self._epoch_start
        for probe in self._probes:
            self._guard(probe.name, "epoch_end", int(epoch), probe.on_epoch_end, state,
                        int(epoch), dict(logs or {}))
        state.meta["epochs_completed"] = int(epoch) + 1
        self._write(seq=int(epoch) + 1, stage="epoch_end", epoch=int(epoch))
        self.timings["epochs"] = self.timings.get("epochs", 0.0) + time.perf_counter() - start

    @never_raises
    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        start = time.perf_counter()
        state, end = self._state, "train_end"
        if state is None:
            return
        for probe in self._probes:
            self._guard(probe.name, end, None, probe.on_train_end, state)
        state.meta["completed"] = True
        seq = int(state.meta.get("epochs_completed", 0)) + 1
        self._write(seq=seq, stage=end, epoch=None, final=True)
        self.timings["train_end_record"] = time.perf_counter() - start
        if self.diagnose:
            n_failures = len(state.record.failures)
            self._analyze()
            if len(state.record.failures) > n_failures:  # keep the analysis failure on disk
                self._write(seq=seq + 1, stage=end, epoch=None, final=True)
        if self.verbose:
            self._guard("console", end, None, self._print_summary)
        message = fit_warning(state.record.failures, self._on_disk.describe(
            self.run_dir, int(state.meta.get("epochs_completed", 0)), self.diagnose,
            self.report and self.diagnose))
        if message is not None:
            warnings.warn(message, RuntimeWarning, stacklevel=2)

    def _print_summary(self) -> None:
        disk, paths = self._on_disk, {}
        if disk.record_epochs is not None:
            paths["record"] = self.run_dir
        if disk.diagnosis:
            paths["diagnosis"] = self.run_dir / "diagnosis.json"
        if disk.report:
            paths["report"] = self.run_dir / "report.pdf"
        print(console.summary(self.record, self.diagnosis, paths))

    def _analyze(self) -> None:
        """Diagnose the finished record; write diagnosis.json and (if asked) report.pdf."""
        end = "train_end"
        start = time.perf_counter()

        def run() -> None:
            from gapdoctor.engine import diagnose

            self.diagnosis = diagnose(self.record)

        self._guard("diagnosis", end, None, run)
        self.timings["diagnosis"] = time.perf_counter() - start
        if self.diagnosis is None or self.run_dir is None:
            return
        self._on_disk.diagnosis = self._guard(
            "diagnosis_write", end, None, lambda: atomic_write_text(
                self.run_dir / "diagnosis.json", self.diagnosis.to_json()))
        if not self.report:
            return
        start = time.perf_counter()

        def report() -> None:
            from gapdoctor.report import write_report

            with atomic_path(self.run_dir / "report.pdf") as tmp:
                write_report(self.record, self.diagnosis, tmp)

        self._on_disk.report = self._guard("report", end, None, report)
        self.timings["report"] = time.perf_counter() - start
