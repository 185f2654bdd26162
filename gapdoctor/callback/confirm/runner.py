"""Runs the confirmation experiments for one diagnosis within a time budget.

Cheap experiments (predictions of the trained model) run first, then the retraining ones,
seed 0 for every cause before any second seed, so a tight budget still tests every cause
once. Ctrl-C stops the experiments and keeps what was measured; a failing experiment is
recorded, never raised.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from gapdoctor.callback.confirm.arms import ArmResult, Recipe, train_arm
from gapdoctor.callback.confirm.arms import progress as _progress
from gapdoctor.callback.confirm.data import as_arrays, class_ids, n_rows
from gapdoctor.callback.confirm.quiet import quiet_retracing
from gapdoctor.confirm import checks
from gapdoctor.confirm.domain import domain_classifier, restandardized
from gapdoctor.confirm.outcome import Confirmation, paired_effect
from gapdoctor.confirm.plan import plan_experiments
from gapdoctor.diagnosis import Diagnosis

SEEDS = (0, 1)
# The epochs at which the control run predicts the whole training set for the area under
# the margin: five points spread over the run are enough for a stable average.
DYNAMICS_POINTS = 5


class Confirmer:
    """Plans, runs and reads the experiments. ``budget`` is a multiple of the original
    training's wall time; ``max_seconds``/``epochs`` override it."""

    def __init__(self, model: keras.Model, diagnosis: Diagnosis, record: Any,
                 train_data: Any, validation_data: Any,
                 model_fn: Callable[[], keras.Model] | None = None, budget: float = 3.0,
                 max_seconds: float | None = None, epochs: int | None = None,
                 seeds: int = 2, verbose: int = 1, causes: list[str] | None = None,
                 labels: Callable[[Any], Any] | None = None) -> None:
        self.model, self.diagnosis, self.record = model, diagnosis, record
        self.pick_labels = labels   # a several-output model's followed labels (Head.labels)
        self.train_data, self.validation_data = train_data, validation_data
        self.model_fn, self.verbose, self.only = model_fn, verbose, causes
        self.seeds = SEEDS[: max(1, min(int(seeds), len(SEEDS)))]
        curves = record.curves if record is not None else None
        times = curves["epoch_time"] if curves is not None and "epoch_time" in curves else None
        # the fit as the user waited for it: the epochs plus GapDoctor's own probes
        probes = (record.meta.get("probe_seconds") or {}) if record is not None else {}
        self.original_seconds = (float(np.nansum(times)) + float(sum(probes.values()))
                                 if times is not None else None)
        self.original_epochs = max(1, int(record.n_epochs)) if record is not None else 1
        self.epochs = int(epochs) if epochs else self.original_epochs
        self.budget_seconds = max_seconds if max_seconds is not None else (
            budget * self.original_seconds if self.original_seconds else math.inf)
        self.results: list[Confirmation] = []
        self._done: set[tuple[str, str]] = set()   # (cause, "check" | "retraining") recorded
        self.started = time.perf_counter()

    # -- helpers ----------------------------------------------------------------------
    def _left(self) -> float:
        return self.budget_seconds - (time.perf_counter() - self.started)

    def _guarded(self, cause: str, experiment: str, fn: Callable[[], Confirmation | None]) -> None:
        start = time.perf_counter()
        try:
            result = fn()
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # noqa: BLE001 - an experiment never breaks the user's run
            result = Confirmation(cause, experiment, "failed",
                                  text=f"The experiment failed: {type(exc).__name__}: {exc}")
        if result is not None:
            self._done.add((cause, experiment))
            result.seconds = result.seconds or time.perf_counter() - start
            self.results.append(result)
            _progress(self.verbose, f"{cause}: {result.outcome}. {result.text}")

    # -- the run ----------------------------------------------------------------------
    def run(self) -> list[Confirmation]:
        cheap, retrain = plan_experiments(self.diagnosis, only=self.only)
        causes = list(dict.fromkeys(cheap + retrain))
        if not causes:
            return []
        try:
            self.train = as_arrays(self.train_data, "train_data", self.pick_labels)
            self.val = as_arrays(self.validation_data, "validation_data", self.pick_labels)
        except Exception as exc:  # noqa: BLE001 - say why nothing was tested
            return [Confirmation(c, "data", "skipped", text=str(exc)) for c in causes]
        self.labels = class_ids(self.val[1])
        self.train_labels = class_ids(self.train[1])
        self.batch_size = self._batch_size()
        _progress(self.verbose, f"testing {', '.join(causes)} (budget "
                  f"{self.budget_seconds:.0f} s)" if math.isfinite(self.budget_seconds)
                  else f"testing {', '.join(causes)}")
        try:
            with quiet_retracing():
                self.base_probs = np.asarray(self.model.predict(
                    self.val[0], batch_size=max(self.batch_size, 256), verbose=0))
                for cause in cheap:
                    self._guarded(cause, "check", lambda c=cause: self._cheap(c))
                if retrain:
                    self._guarded(retrain[0], "retraining", lambda: self._retrain(retrain))
        except KeyboardInterrupt:
            planned = [(c, "check") for c in cheap] + [(c, "retraining") for c in retrain]
            self.results += [Confirmation(c, "interrupted", "skipped",
                                          text="Stopped by Ctrl-C before this experiment ran.")
                             for c, phase in planned if (c, phase) not in self._done]
            _progress(self.verbose, "interrupted: keeping what was measured so far")
        return self.results

    def _batch_size(self) -> int:
        steps = (self.model.history.params or {}).get("steps") if getattr(
            self.model, "history", None) is not None else None
        n = n_rows(self.train[0])
        return int(math.ceil(n / steps)) if steps else min(32, n)

    # -- experiments without retraining --------------------------------------------------
    def _cheap(self, cause: str) -> Confirmation | None:
        probs, labels = self.base_probs, self.labels
        if cause == "small_validation_set":
            return checks.bootstrap_accuracy(checks.predicted_class(probs) == labels)
        if cause == "metric_mismatch":
            return checks.threshold_tuning(probs, labels)
        if cause == "distribution_shift":
            if not isinstance(self.train[0], np.ndarray):
                return Confirmation(cause, "domain_classifier", "skipped",
                                    text="Several model inputs: the domain check needs one array.")
            return domain_classifier(self.train[0], self.val[0])
        if cause == "pipeline_bug":
            return self._pipeline()
        return None

    def _pipeline(self) -> Confirmation:
        """Three independent checks; one confirmation confirms, all three must refute."""
        from gapdoctor.callback.confirm.evalmode import evaluation_mode_check

        mode, p = evaluation_mode_check(self.model, self.val, self.labels, self.validation_data,
                                        self.record, self.batch_size)
        # with batch statistics at inference, random batches give the model's real predictions
        probs = p.shuffled if mode.details["mechanism"] == "batch statistics" else self.base_probs
        parts = [mode, checks.label_alignment(probs, self.labels)]
        if isinstance(self.train[0], np.ndarray):
            scaled = restandardized(self.train[0], self.val[0])
            if scaled is not None:
                probs = self.model.predict(scaled, batch_size=256, verbose=0)
                fixed = (checks.predicted_class(probs) == self.labels).astype(float)
                base = (checks.predicted_class(self.base_probs) == self.labels).astype(float)
                e = paired_effect(fixed[None], base[None])
                from gapdoctor.confirm.outcome import decide, describe

                outcome = decide(e.low, e.high, e.effect)
                parts.append(Confirmation(
                    "pipeline_bug", "reapply_training_scaling", outcome, before=float(base.mean()),
                    after=float(fixed.mean()), effect=e.effect, interval=(e.low, e.high),
                    specific=True, text=describe(outcome, "Re-applying the training inputs' "
                                                 "scaling to the validation inputs", e.effect,
                                                 e.low, e.high)))
        return combine(parts)

    # -- retraining ---------------------------------------------------------------------
    def _retrain(self, causes: list[str]) -> None:
        from gapdoctor.callback.confirm.schedule import RetrainPlan

        RetrainPlan(self, causes).run()


def combine(parts: list[Confirmation]) -> Confirmation:
    """One outcome from alternative checks of one cause: confirmed when any confirms (each
    tests one way the cause happens), refuted only when all refute."""
    outcomes = [p.outcome for p in parts]
    if "confirmed" in outcomes:
        lead = next(p for p in parts if p.outcome == "confirmed")
        outcome = "confirmed"
    else:
        lead = max(parts, key=lambda p: p.effect if p.effect is not None else -math.inf)
        outcome = "refuted" if all(o == "refuted" for o in outcomes) else "inconclusive"
    out = Confirmation(lead.cause, lead.experiment, outcome, metric=lead.metric,
                       before=lead.before, after=lead.after, effect=lead.effect,
                       interval=lead.interval, min_effect=lead.min_effect,
                       specific=lead.specific, partial=True,
                       text=" ".join(p.text for p in parts),
                       details={"checks": [p.to_dict() for p in parts]})
    return out


__all__ = ["ArmResult", "Confirmer", "Recipe", "combine", "train_arm"]
