"""The retraining arms of one confirmation, seed by seed, inside the time budget.

Per seed: a control (the user's recipe, unchanged) and one arm per intervention (the
re-split of distribution_shift brings its own control: see ``resplit``). Seed 0 of
every cause runs before any seed 1, and the epochs are shortened when even one seed of
every arm would not fit the budget.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from gapdoctor.callback.confirm import experiments as exp
from gapdoctor.callback.confirm import resplit
from gapdoctor.callback.confirm.arms import STRONG_L2, ArmResult, Recipe, progress, train_arm
from gapdoctor.callback.confirm.data import n_rows, stratified_sample, take
from gapdoctor.callback.confirm.reuse import ArmModels
from gapdoctor.confirm.outcome import Confirmation
from gapdoctor.confirm.phase import withhold_refutation

# The arms' cost per seed in trainings on every row: the half-data arm of overfitting trains
# half the rows; the two re-split arms of distribution_shift bring their own control.
ARMS_PER_CAUSE = {"label_noise": 2, "overfitting": 1.5, "subgroup_underfitting": 1,
                  "optimization": 3, "distribution_shift": 2}
OWN_CONTROL = ("distribution_shift",)
# Training accuracy of the half-data arm is read on at most this many of its rows: enough
# for a +-1.5 point interval, and a prediction pass that stays small next to a training.
MAX_SCORED_TRAIN = 5000
OPTIMIZATION_VARIANTS = {"the learning rate x0.1": {"lr_factor": 0.1},
                         "the learning rate x3": {"lr_factor": 3.0},
                         "gradient clipping (global norm 1)": {"clipnorm": 1.0}}
# How the dropped rows were chosen, as the report says it.
FLAGGED_BY = {"both": "their margin stayed negative in the control run, or their neighbours "
                      "in the trained model's representation carry another label",
              "margin": "their margin stayed negative in the control run"}
# Class weights from the control's errors: a class's weight follows its share of misses,
# bounded so that no class is silenced or dominates (a factor of 10 end to end).
WEIGHT_BOUNDS = (0.5, 5.0)


class RetrainPlan:
    """Trains the arms for ``causes`` and appends their confirmations to ``confirmer``."""

    def __init__(self, confirmer: Any, causes: list[str]) -> None:
        self.c, self.causes = confirmer, causes
        c = confirmer
        n_val = len(c.labels)
        order = np.random.default_rng(12345).permutation(n_val)
        self.half_a, self.half_b = np.sort(order[: n_val // 2]), np.sort(order[n_val // 2:])
        self.val_a = (take(c.val[0], self.half_a), c.val[1][self.half_a])
        self.n_train = n_rows(c.train[0])
        self.val_b = (take(c.val[0], self.half_b), c.val[1][self.half_b])
        rng = np.random.default_rng(12345)
        self.half_rows = stratified_sample(c.train_labels, np.arange(self.n_train),
                                           self.n_train // 2, rng)
        self.half_scored = np.sort(rng.choice(self.half_rows, min(
            len(self.half_rows), MAX_SCORED_TRAIN), replace=False))
        self.resplit_rows = resplit.choose_rows(c.train_labels, c.labels, self.half_a,
                                                self.half_b)
        self.epochs = c.epochs
        if c.original_seconds and math.isfinite(c.budget_seconds):
            # Below half the epochs a retraining no longer shows what the run showed: test
            # fewer causes before shortening the runs.
            while True:
                share = self._share(causes)
                if share >= 0.5 or len(causes) == 1:
                    break
                self.skipped, causes = [*getattr(self, "skipped", []), causes[-1]], causes[:-1]
            self.causes = causes
            if share < 1:
                self.epochs = max(1, int(c.epochs * share))
        self.arms: dict[str, list[ArmResult]] = {}
        self.arm_seconds: list[float] = []
        self.models = ArmModels(c.model, c.model_fn, (take(c.train[0], np.arange(1)),
                                                      c.train[1][:1]))

    def _share(self, causes: list[str]) -> float:
        """The share of the original epochs that one seed of every arm can afford."""
        c = self.c
        per_seed = self._per_seed(causes)
        # 0.8: a retraining costs more than its epochs (building, tracing, predicting)
        return 0.8 * c._left() / (c.original_seconds * per_seed * c.epochs / c.original_epochs)

    @staticmethod
    def _per_seed(causes: list[str]) -> float:
        shared = any(k not in OWN_CONTROL for k in causes)
        return shared + sum(ARMS_PER_CAUSE[k] for k in causes)

    def _rows_share(self, recipe: Recipe) -> float:
        """The arm's training rows as a share of the training set: its cost in trainings
        (``arm_seconds`` holds seconds per full training, so a half-data arm does not make
        the next full arm look cheap)."""
        n = len(recipe.rows) if recipe.rows is not None else self.n_train
        n += len(recipe.val_rows) if recipe.val_rows is not None else 0
        return max(n / max(self.n_train, 1), 0.01)

    def _recipe(self, name: str, seed: int, **kw: Any) -> Recipe:
        return Recipe(name, seed=seed, epochs=self.epochs, batch_size=self.c.batch_size,
                      **{"validation": self.val_a, **kw})

    def _train(self, key: str, recipe: Recipe, first: bool = False) -> ArmResult | None:
        """Train one arm; None when over budget (``first``: seed 0's first arm always runs)."""
        c = self.c
        share = self._rows_share(recipe)
        expected = float(np.mean(self.arm_seconds)) * share if self.arm_seconds else 0.0
        if expected > c._left() and not first:
            return None   # over budget: the cause is reported as not tested
        progress(c.verbose, f"retraining {key} (seed {recipe.seed}, {recipe.epochs} epochs)")
        start = time.perf_counter()
        result = train_arm(c.model, c.model_fn, recipe, c.train, c.val, self.models)
        self.arm_seconds.append((time.perf_counter() - start) / share)
        self.arms.setdefault(key, []).append(result)
        return result

    def _seed_arms(self, seed: int) -> bool:
        """All arms of one seed; False when the budget ran out before the control."""
        dyn = ()
        if seed == 0 and "label_noise" in self.causes:
            points = np.linspace(0, self.epochs - 1, min(self.epochs, 5))
            dyn = tuple(sorted({int(round(p)) for p in points}))
        shared = any(k not in OWN_CONTROL for k in self.causes)
        scored = self.half_scored if "overfitting" in self.causes else None
        if shared and self._train("control", self._recipe(
                "control", seed, dynamics_epochs=dyn, score_rows=scored), first=seed == 0) is None:
            return False
        rng = np.random.default_rng(seed + 99)
        for cause in self.causes:
            if cause == "label_noise":
                # left out by weight 0, not removed: both arms see the same batches, so
                # their difference is which rows count, not a reshuffled trajectory
                flagged = self.flagged()
                random = rng.choice(self.n_train, len(flagged), replace=False)
                if len(flagged) and self._train("drop_flagged", self._recipe(
                        "drop_flagged", seed, zero_rows=flagged)) is not None:
                    self._train("drop_random", self._recipe("drop_random", seed,
                                                             zero_rows=random))
            elif cause == "overfitting":
                self._train("regularised", self._recipe("regularised", seed, l2=STRONG_L2,
                                                         early_stopping=True))
                self._train("half_data", self._recipe("half_data", seed, rows=self.half_rows,
                                                      score_rows=self.half_scored))
            elif cause == "distribution_shift":
                if not resplit.train_pair(self, seed, first=seed == 0 and not shared) \
                        and not shared:
                    return False
            elif cause == "subgroup_underfitting":
                self._train("class_weights", self._recipe(
                    "class_weights", seed, class_weight=self.class_weights()))
            elif cause == "optimization":
                names = list(OPTIMIZATION_VARIANTS) if seed == 0 else [self.chosen_variant()]
                for name in names:
                    self._train(name, self._recipe(name, seed, **OPTIMIZATION_VARIANTS[name]))
        return True

    # -- choices made on the control of seed 0 (never on the scored half) ---------------
    def flagged(self) -> np.ndarray:
        """The rows to drop: those whose margin stayed negative in the control (kept being
        pulled to another class), and those the run's own dynamics flagged (their
        neighbours in the model's representation carry another label). The margins miss
        wrong labels a network memorises within a few epochs; the neighbours alone flag
        too few rows on clean data for their removal to show anything either way."""
        if not hasattr(self, "_flagged"):
            control = self.arms["control"][0]
            aum = np.mean(control.margins, axis=0) if control.margins else np.zeros(self.n_train)
            suspects = exp.original_suspects(self.c.record, self.n_train)
            self.flagged_by = "margin" if suspects is None else "both"
            self._flagged = np.union1d(np.flatnonzero(aum < 0),
                                       suspects if suspects is not None else [])
            self._flagged = self._flagged.astype(np.int64)
        return self._flagged

    def lagging(self) -> np.ndarray:
        probs = self.arms["control"][0].val_probs[self.half_a]
        return exp.lagging_classes(probs, self.c.labels[self.half_a])

    def class_weights(self) -> dict[int, float]:
        pred = exp.predicted_class(self.arms["control"][0].val_probs[self.half_a])
        labels = self.c.labels[self.half_a]
        classes = np.unique(self.c.train_labels)
        miss = np.array([np.mean(pred[labels == k] != k) if np.any(labels == k) else 0.0
                         for k in classes])
        weights = np.clip(miss / max(miss.mean(), 1e-9), *WEIGHT_BOUNDS)
        return {int(k): float(w) for k, w in zip(classes, weights, strict=True)}

    def chosen_variant(self) -> str:
        labels = self.c.labels
        return max(OPTIMIZATION_VARIANTS, key=lambda name: np.mean(
            exp.correct(self.arms[name][0], labels)[self.half_a]) if name in self.arms else -1)

    def half_data(self) -> dict | None:
        """The half-data arm against the control; None when it did not run."""
        half, control = self.arms.get("half_data", []), self.arms.get("control", [])
        n = min(len(half), len(control))
        return exp.half_data(half[:n], control[:n], self.half_scored, self.c.train_labels,
                             self.c.labels, len(self.half_rows)) if n else None

    # -- run and read -------------------------------------------------------------------
    def run(self) -> None:
        c = self.c
        per_seed = self._per_seed(self.causes)
        for seed in c.seeds:
            if seed > 0 and np.mean(self.arm_seconds) * per_seed > c._left():
                break   # a second seed would not fit: report one seed, and say so
            if not self._seed_arms(seed):
                break
        for cause in self.causes:
            c._guarded(cause, "retraining", lambda k=cause: self.read(k))
        for cause in getattr(self, "skipped", []):
            c.results.append(Confirmation(cause, "retraining", "skipped", text=(
                "Not tested: the time budget allowed retraining for a higher-ranked cause "
                "only (raise budget= to test it).")))

    def read(self, cause: str) -> Confirmation:
        labels, control = self.c.labels, self.arms.get("control", [])
        if cause == "distribution_shift":
            if not self.arms.get("original_split") or not self.arms.get("resplit"):
                return Confirmation(cause, "resplit_training", "skipped",
                                    text="Not tested: the time budget ran out (raise budget=).")
            return resplit.read(self.arms["original_split"], self.arms["resplit"],
                                self.resplit_rows, labels, self.c.train_labels)
        if not control:
            return Confirmation(cause, "retraining", "skipped",
                                text="The time budget ran out before the control run.")

        def paired(key: str) -> tuple[list[ArmResult], list[ArmResult]]:
            arms = self.arms.get(key, [])
            n = min(len(arms), len(control))
            return arms[:n], control[:n]

        if cause == "label_noise":
            flagged, random = self.arms.get("drop_flagged", []), self.arms.get("drop_random", [])
            n = min(len(flagged), len(random))
            if not n:
                # nothing flagged means nothing was tested: the diagnosis's own evidence
                # on the labels stands, an experiment adds nothing to it either way
                return Confirmation(cause, "drop_flagged_samples", "inconclusive" if not len(
                    self.flagged()) else "skipped", effect=0.0,
                    text=f"No training sample was flagged ({FLAGGED_BY[self.flagged_by]}): "
                    "nothing to drop, so nothing was tested." if not len(self.flagged())
                    else "The time budget ran out.")
            # not refuted when the control never reached the memorisation phase
            phase = exp.control_phase(control, labels, self.c.train_labels, self.flagged())
            return withhold_refutation(exp.label_noise(
                flagged[:n], random[:n], labels, len(self.flagged()), self.n_train,
                FLAGGED_BY[self.flagged_by]), phase,
                self.epochs, self.c.original_epochs)
        key = {"overfitting": "regularised", "subgroup_underfitting": "class_weights"}.get(cause)
        if key is not None and not self.arms.get(key) or cause == "optimization" and not any(
                k in self.arms for k in OPTIMIZATION_VARIANTS):
            return Confirmation(cause, "retraining", "skipped",
                                text="Not tested: the time budget ran out (raise budget=).")
        if cause == "overfitting":
            arms, ctrl = paired("regularised")
            phase = exp.control_phase(control, labels, self.c.train_labels, None,
                                      self.half_scored)
            return withhold_refutation(exp.overfitting(
                arms, ctrl, labels, self.half_b, self.half_data(), phase), phase, self.epochs,
                self.c.original_epochs)
        if cause == "subgroup_underfitting":
            arms, ctrl = paired("class_weights")
            return exp.subgroup(arms, ctrl, labels, self.lagging(), self.half_b, self.half_a)
        variants = {k: self.arms[k] for k in OPTIMIZATION_VARIANTS if k in self.arms}
        return exp.optimization(variants, control, labels, self.half_a, self.half_b)
