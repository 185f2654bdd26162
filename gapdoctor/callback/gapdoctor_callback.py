"""``GapDoctor``: the Keras 3 callback that records a run and diagnoses its train/val gap."""

from __future__ import annotations

import os
import platform
import time
import warnings
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
from gapdoctor.callback.probes import default_probes
from gapdoctor.callback.samples import map_groups, take_samples
from gapdoctor.callback.state import RunState
from gapdoctor.record import RunRecord, save_record
from gapdoctor.record.appender import RecordAppender


class GapDoctor(keras.callbacks.Callback):
    """Records what explains a train/validation gap and diagnoses it when training ends.

    Every epoch it records the Keras logs, the learning rate in effect and the epoch time;
    eval-mode predictions on a bounded validation sample and a fixed, stratified train probe
    (loss, accuracy, calibration, per-class precision/recall/F1, confusion matrices,
    per-sample margins); and per-layer weight norms, update ratios, gradient norms, dead-unit
    fractions and non-finite flags. Once it records the model, loss, metrics, optimizer and a
    data summary. The record is written crash-safely to ``output_dir/<run_name>/`` after every
    epoch; at the end, ``diagnosis.json`` and ``report.pdf`` join it. A failing probe is
    warned about once and recorded; training is never interrupted.

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
        self._report_warned = False

    # -- guarded execution -------------------------------------------------------------
    def _guard(self, name: str, epoch: int | None, fn: Any, *args: Any) -> None:
        """Run ``fn``; on an exception record it, warn once per name, and go on."""
        state = self._state
        start = time.perf_counter()
        try:
            fn(*args)
        except Exception as exc:  # noqa: BLE001 - a probe must never break training
            error = f"{type(exc).__name__}: {exc}"
            state.record.failures.append({"probe": name, "epoch": epoch, "error": error})
            if name not in self._warned:
                self._warned.add(name)
                where = "at train begin" if epoch is None else f"at epoch {epoch}"
                warnings.warn(f"GapDoctor: probe '{name}' failed {where} ({error}). This is "
                              "recorded in the run's failures; training goes on.",
                              RuntimeWarning, stacklevel=3)
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

    def _write(self, seq: int, final: bool = False) -> None:
        """Write the record: per epoch appending (cheap), at the end compressed and fsynced."""
        state = self._state
        self._record_stale = True

        def write() -> None:
            if final:
                save_record(self.record, self.run_dir, seq=seq)
            else:
                state.meta["probe_seconds"] = {k: round(v, 4)
                                               for k, v in state.probe_seconds.items()}
                self._appender.write(state.meta, state.table_rows(), state.current_arrays(),
                                     state.record.failures, seq=seq)

        self._guard("record_write", None if seq == 0 else seq - 1, write)

    # -- setup -------------------------------------------------------------------------
    def _new_run_dir(self) -> Path:
        base = self.run_name or time.strftime("run-%Y%m%d-%H%M%S")
        for n in range(10_000):
            candidate = self.output_dir / (base if n == 0 else f"{base}-{n}")
            try:
                candidate.mkdir(parents=True, exist_ok=False)
                return candidate
            except FileExistsError:
                continue
        raise RuntimeError(f"no free run directory name under {self.output_dir} for {base}")

    def _base_meta(self) -> dict[str, Any]:
        import tensorflow as tf

        from gapdoctor import __version__

        return {"task": "unknown", "epochs_planned": self.params.get("epochs"),
                "completed": False, "epochs_completed": 0,
                "versions": {"python": platform.python_version(), "gapdoctor": __version__,
                             "keras": keras.__version__, "tensorflow": tf.__version__,
                             "numpy": np.__version__},
                "settings": {"max_probe_samples": self.max_probe_samples,
                             "max_val_samples": self.max_val_samples,
                             "groups": sorted(self.groups or {}),
                             "probes": [p.name for p in self._probes]}}

    # -- Keras hooks -------------------------------------------------------------------
    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        start = time.perf_counter()
        self.diagnosis, self.timings, self._warned = None, {}, set()
        self._probes = default_probes() + self.extra_probes
        self.run_dir = self._new_run_dir()
        self._appender = RecordAppender(self.run_dir)
        record = RunRecord.empty(source="gapdoctor", run_name=self.run_dir.name)
        record.meta.update(self._base_meta())
        self._state = RunState(model=self.model, record=record, run_dir=self.run_dir,
                               settings={"class_names": self.class_names})
        self._guard("data_sampling", None, take_samples, self._state, self.validation_data,
                    self.train_data, self.max_val_samples, self.max_probe_samples)
        self._guard("groups", None, map_groups, self._state, self.groups)
        for probe in self._probes:
            self._guard(probe.name, None, probe.on_train_begin, self._state)
        self._state.train_source = self._state.val_source = None  # free the copies
        self._write(seq=0)
        self._epoch_start = time.perf_counter()
        self.timings["train_begin"] = time.perf_counter() - start

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        start = time.perf_counter()
        self._state.epoch_time = start - self._epoch_start
        for probe in self._probes:
            self._guard(probe.name, epoch, probe.on_epoch_end, self._state, epoch, dict(logs or {}))
        self._state.meta["epochs_completed"] = int(epoch) + 1
        self._write(seq=int(epoch) + 1)
        self.timings["epochs"] = self.timings.get("epochs", 0.0) + time.perf_counter() - start

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        start = time.perf_counter()
        state = self._state
        for probe in self._probes:
            self._guard(probe.name, None, probe.on_train_end, state)
        state.meta["completed"] = True
        self._write(seq=int(state.meta.get("epochs_completed", 0)) + 1, final=True)
        self.timings["train_end_record"] = time.perf_counter() - start
        paths = {"record": self.run_dir}
        if self.diagnose:
            n_failures = len(self.record.failures)
            paths.update(self._analyze())
            if len(self.record.failures) > n_failures:  # keep the analysis failure on disk
                self._write(seq=int(state.meta.get("epochs_completed", 0)) + 2, final=True)
        if self.verbose:
            print(console.summary(self.record, self.diagnosis, paths))

    def _analyze(self) -> dict[str, Path]:
        """Diagnose the finished record; write diagnosis.json and (if asked) report.pdf."""
        paths: dict[str, Path] = {}
        start = time.perf_counter()

        def run() -> None:
            from gapdoctor import diagnose

            self.diagnosis = diagnose(self.record)
            self.diagnosis.to_json(self.run_dir / "diagnosis.json")
            paths["diagnosis"] = self.run_dir / "diagnosis.json"

        self._guard("diagnosis", None, run)
        self.timings["diagnosis"] = time.perf_counter() - start
        if self.report and self.diagnosis is not None:
            start = time.perf_counter()
            try:
                from gapdoctor.report import write_report

                paths["report"] = Path(write_report(self.record, self.diagnosis,
                                                    self.run_dir / "report.pdf"))
            except Exception as exc:  # noqa: BLE001 - the report is optional
                if not self._report_warned:
                    self._report_warned = True
                    warnings.warn(f"GapDoctor: report.pdf was not written "
                                  f"({type(exc).__name__}: {exc}); the record and "
                                  "diagnosis.json are complete.", RuntimeWarning, stacklevel=3)
            self.timings["report"] = time.perf_counter() - start
        return paths
