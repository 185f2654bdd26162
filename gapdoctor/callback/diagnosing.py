"""What ``GapDoctor`` does with a finished record: diagnose, report, summarise, confirm.

:class:`DiagnosingMixin` diagnoses the final record and writes ``diagnosis.json`` and
``report.pdf``, in a spawned process (:mod:`gapdoctor.callback.background`) or inside
``fit``; collects a background analysis when ``doctor.diagnosis`` is first read; prints the
end-of-fit summary; and is the entry point of the confirmation experiments
(:mod:`gapdoctor.callback.confirm`).
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

from gapdoctor.callback import console
from gapdoctor.callback.outputs import OnDisk, fit_warning
from gapdoctor.callback.state import RunState
from gapdoctor.record.atomic import atomic_path, atomic_write_text


class DiagnosingMixin:
    """The end of a ``GapDoctor`` fit: its diagnosis, report, summary and confirmation."""

    # Set by GapDoctor (__init__ and on_train_begin); ``_guard`` and ``record`` come from
    # RecordingMixin.
    run_dir: Path | None
    report: bool
    background: bool
    verbose: int
    timings: dict[str, float]
    _state: RunState | None
    _on_disk: OnDisk
    _pending: Any
    _diagnosis: Any

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
