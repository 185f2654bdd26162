"""``doctor.confirm(...)``: run the experiments for a finished fit and update its diagnosis,
``diagnosis.json`` and ``report.pdf``."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import keras

from gapdoctor.errors import GapDoctorError


def confirm_run(doctor: Any, train_data: Any = None, validation_data: Any = None,
                model_fn: Callable[[], keras.Model] | None = None, budget: float = 3.0,
                max_seconds: float | None = None, epochs: int | None = None, seeds: int = 2,
                verbose: int | None = None, causes: list[str] | None = None) -> Any:
    """Run the confirmation experiments of ``doctor``'s last fit; returns the diagnosis."""
    from gapdoctor.callback.confirm.runner import Confirmer
    from gapdoctor.callback.confirm.split import fit_rows
    from gapdoctor.confirm import apply_confirmations

    if doctor.model is None or doctor.record is None:
        raise GapDoctorError("confirm() needs a finished fit: call it after model.fit(..., "
                             "callbacks=[doctor])")
    model, labels, scope = doctor.model, None, None
    followed = doctor.record.meta.get("followed_output")
    if followed:
        from gapdoctor.callback.confirm.followed_view import followed_view, scope_note

        model, head = followed_view(doctor.model, followed)
        labels, scope = head.labels, scope_note(head)
    diagnosis = doctor.diagnosis
    if diagnosis is None:
        from gapdoctor.engine import diagnose

        diagnosis = diagnose(doctor.record)
    verbose = doctor.verbose if verbose is None else verbose
    if causes is not None:
        from gapdoctor.diagnosis import CAUSES

        unknown = sorted(set(causes) - set(CAUSES))
        if unknown:
            raise GapDoctorError(f"unknown cause(s) {unknown}; expected some of {list(CAUSES)}")
    start = time.perf_counter()
    adopted = getattr(doctor, "fit_data", None) or {}   # fit's own, when GapDoctor had none
    train, val, note = fit_rows(doctor, next(
        (d for d in (train_data, doctor.train_data, adopted.get("train")) if d is not None), None),
        next((d for d in (validation_data, doctor.validation_data, adopted.get("validation"))
              if d is not None), None))
    note = "; ".join(n.rstrip(".") for n in (scope, note) if n) or None
    if note and verbose:
        print(f"GapDoctor confirm: {note}.")
    confirmer = Confirmer(model, diagnosis, doctor.record, train, val, labels=labels,
                          model_fn=model_fn or doctor.model_fn, budget=budget,
                          max_seconds=max_seconds, epochs=epochs, seeds=seeds, verbose=verbose,
                          causes=causes)
    results = confirmer.run()
    apply_confirmations(diagnosis, results)
    if scope:
        diagnosis.summary["confirmation_scope"] = scope
    diagnosis.summary["confirmation_seconds"] = round(time.perf_counter() - start, 2)
    if confirmer.original_seconds:
        diagnosis.summary["confirmation_cost"] = round(
            (time.perf_counter() - start) / confirmer.original_seconds, 2)
    doctor.diagnosis = diagnosis
    _rewrite(doctor, diagnosis)
    if verbose:
        print(console_line(diagnosis))
    return diagnosis


def console_line(diagnosis: Any) -> str:
    """What the experiments showed, in one line."""
    done = [c for c in diagnosis.confirmations if c["outcome"] in ("confirmed", "refuted")]
    if not diagnosis.confirmations:
        return "GapDoctor confirm: nothing to test (no cause in contention)."
    confirmed = [c["cause"] for c in done if c["outcome"] == "confirmed"]
    refuted = [c["cause"] for c in done if c["outcome"] == "refuted"]
    parts = []
    if confirmed:
        parts.append("confirmed " + ", ".join(dict.fromkeys(confirmed)))
    if refuted:
        parts.append("refuted " + ", ".join(dict.fromkeys(refuted)))
    if not parts:
        parts.append("no experiment was conclusive")
    return (f"GapDoctor confirm: {'; '.join(parts)}. Verdict now: {diagnosis.verdict}"
            + (f" (cost {diagnosis.summary['confirmation_cost']:.1f}x the training)"
               if "confirmation_cost" in diagnosis.summary else "."))


def _rewrite(doctor: Any, diagnosis: Any) -> None:
    """diagnosis.json and report.pdf again, now with what was tested (atomically: a reader
    finds the old complete file or the new one)."""
    from gapdoctor.record.atomic import atomic_path, atomic_write_text

    run_dir = getattr(doctor, "run_dir", None)
    if run_dir is None:
        return
    try:
        atomic_write_text(run_dir / "diagnosis.json", diagnosis.to_json())
        if doctor.report:
            from gapdoctor.report import write_report

            with atomic_path(run_dir / "report.pdf") as tmp:
                write_report(doctor.record, diagnosis, tmp)
    except Exception as exc:  # noqa: BLE001 - the results are in memory; say what is not on disk
        import warnings

        warnings.warn(f"GapDoctor confirm: the results could not be written to {run_dir} "
                      f"({type(exc).__name__}: {exc}); doctor.diagnosis holds them",
                      RuntimeWarning, stacklevel=3)
