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
                 model_fn: Any = None, dynamics: bool = True, sample_ids: Any = None) -> None:
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
        from gapdoctor.callback.backends import versions as backend_versions

        try:
            version = metadata.version("gapdoctor")
        except metadata.PackageNotFoundError:
            version = "unknown"
        return {"task": "unknown", "epochs_planned": (self.params or {}).get("epochs"),
                "completed": False, "epochs_completed": 0,
                "versions": {"python": platform.python_version(), "gapdoctor": version,
                             "keras": keras.__version__, **backend_versions(),
                             "numpy": np.__version__},
                "settings": {"max_probe_samples": self.max_probe_samples,
                             "max_val_samples": self.max_val_samples,
                             "groups": sorted(self.groups or {}),
                             "probes": [p.name for p in self._probes]}}

    def _open_run(self) -> None:
        """Choose the run folder (a temporary one if output_dir is unusable) and the state.
        A multi-worker training's non-chief workers record in memory and write nothing."""
        from gapdoctor.callback.distribute import is_chief

        self.run_dir, problem = (open_run_dir(self.output_dir, self.run_name)
                                 if is_chief(self.model) else (None, None))
        name = self.run_dir.name if self.run_dir is not None else (self.run_name or "run")
        record = RunRecord.empty(source="gapdoctor", run_name=name)
        self._state = RunState(model=self.model, record=record, run_dir=self.run_dir,
                               settings={"class_names": self.class_names, "dynamics": {
                                   "enabled": self.dynamics, "data": self.train_data,
                                   "sample_ids": self.sample_ids}})
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
            self.report and self.diagnose))
        if message is not None:
            warnings.warn(message, RuntimeWarning, stacklevel=2)
        if self.confirm_at_end and self.diagnose:
            self._guard("confirm", end, None, self.confirm)

    def confirm(self, train_data: Any = None, validation_data: Any = None,
                model_fn: Any = None, budget: float = 3.0, max_seconds: float | None = None,
                epochs: int | None = None, seeds: int = 2, verbose: int | None = None,
                causes: list[str] | None = None) -> Any:
        """Test the leading causes by experiment and update the diagnosis with the results.

        For each cause in contention it runs the cheapest experiment that would show its
        effect (e.g. retraining without the samples flagged as mislabelled, against as many
        random ones; a threshold tuned on half the validation set), each against a control
        with the same seeds. Every outcome (confirmed / refuted / inconclusive) carries its
        measured effect and 95 % interval; ``diagnosis.json`` and ``report.pdf`` are
        rewritten. Ctrl-C stops the experiments and keeps what was measured.

        Args:
            train_data, validation_data: as for ``GapDoctor``; default to the ones given there.
            model_fn: a function returning a new, same-architecture model, for a model
                ``keras.models.clone_model`` cannot clone (subclassed). Defaults to the
                ``model_fn`` given to ``GapDoctor``, else cloning.
            budget: at most this multiple of the original training's wall time. Defaults to 3.
            max_seconds: a budget in seconds instead. Defaults to None.
            epochs: epochs of each retraining. Defaults to the original run's.
            seeds: seeds per retraining (a second one when the budget allows). Defaults to 2.
            causes: test these causes whatever their score. Defaults to None: the causes in
                contention (score >= 0.2), at most two that need retraining.

        Returns:
            The updated ``Diagnosis`` (also in ``doctor.diagnosis``).

        Example:
            >>> d = doctor.confirm(budget=2.0)      # doctest: +SKIP
            >>> d.finding("label_noise").confirmation[0]["outcome"]   # doctest: +SKIP
            'confirmed'
        """
        from gapdoctor.callback.confirm import confirm_run

        return confirm_run(self, train_data, validation_data, model_fn, budget, max_seconds,
                           epochs, seeds, verbose, causes)

    def _print_summary(self) -> None:
        disk, paths = self._on_disk, {}
        if disk.record_epochs is not None:
            paths["record"] = self.run_dir
        if disk.diagnosis:
            paths["diagnosis"] = self.run_dir / "diagnosis.json"
        if disk.report:
            paths["report"] = self.run_dir / "report.pdf"
        if self._pending is not None:
            print(f"GapDoctor: run recorded in {self.run_dir}; diagnosing it in the background"
                  f" (diagnosis.json{', report.pdf' if self.report else ''} follow; the "
                  "summary prints when .diagnosis is first read, or at exit)")
            return
        print(console.summary(self.record, self._diagnosis, paths))

    @property
    def diagnosis(self) -> Any:
        """The last fit's Diagnosis (None if not diagnosed); the first read after a
        background analysis waits for it, prints the summary and warns of its failures."""
        if self._pending is not None:
            self._pending.finish()
        return self._diagnosis

    @diagnosis.setter
    def diagnosis(self, value: Any) -> None:
        if getattr(self, "_pending", None) is not None:  # a new fit: finish the last one
            self._pending.finish()
        self._diagnosis = value

    def _collect(self, result: dict[str, Any]) -> None:
        """Take over what the background analysis left (called once, by ``finish``)."""
        self._pending, self._diagnosis = None, result.get("diagnosis")
        self.timings.update(result.get("timings", {}))
        self._on_disk.pending = False
        self._on_disk.diagnosis = bool(result["on_disk"].get("diagnosis"))
        self._on_disk.report = bool(result["on_disk"].get("report"))
        failures = result.get("failures", [])
        if self._state is not None:
            self._state.record.failures.extend(failures)
        if self.verbose:
            try:
                self._print_summary()
            except Exception:  # noqa: BLE001, S110 - a summary must not break the caller
                pass
        for text in result.get("warnings", []):
            warnings.warn(text, RuntimeWarning, stacklevel=3)
        message = fit_warning(failures, self._on_disk.describe(
            self.run_dir, self._on_disk.record_epochs or 0, True, self.report))
        if message is not None:
            warnings.warn(message.replace("during this fit", "in the background analysis"),
                          RuntimeWarning, stacklevel=3)

    def _analyze(self, seq: int = 0) -> None:
        """Diagnose the finished record; write diagnosis.json and (if asked) report.pdf:
        in a spawned process when ``background`` and the final record is on disk."""
        end = "train_end"
        start = time.perf_counter()
        if self.background and self.run_dir is not None and self._on_disk.record_final:
            from gapdoctor.callback.background import BackgroundAnalysis

            def spawn() -> None:
                self._pending = BackgroundAnalysis(self.run_dir, self.report, seq,
                                                   self._collect)

            if self._guard("background_analysis", end, None, spawn):
                self._on_disk.pending = True
                self.timings["background_start"] = time.perf_counter() - start
                return
            start = time.perf_counter()  # it could not start: analyse here

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
