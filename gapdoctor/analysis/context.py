"""Per-diagnosis cache of shared measurements, so no two rules compute the same thing.

``Context`` only caches: the measurements live in the analysis modules, e.g. accuracy
series, chance and intervals in :mod:`~gapdoctor.analysis.accuracy`, validation-ahead-of-
training lags in :mod:`~gapdoctor.analysis.lags`, label agreement in
:mod:`~gapdoctor.analysis.label_agreement`, facts of the input samples in
:mod:`~gapdoctor.analysis.inputs`.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from gapdoctor.analysis import accuracy, inputs, label_agreement, lags
from gapdoctor.analysis.alignment import RowOffset, row_offset
from gapdoctor.analysis.batch_mix import BatchMix, unshuffled_batches
from gapdoctor.analysis.classes import ClassFacts, class_facts, label_counts
from gapdoctor.analysis.curves import CurveFacts, curve_facts, series
from gapdoctor.analysis.duplicates import LeakShares, leak_shares
from gapdoctor.analysis.features import FeatureFacts, ovr_auc
from gapdoctor.analysis.gap import established_gap
from gapdoctor.analysis.integrity import Integrity
from gapdoctor.analysis.label_dynamics import DynamicsFacts, dynamics_of
from gapdoctor.analysis.margins import MarginFacts, margin_facts
from gapdoctor.analysis.off_support import OffSupport
from gapdoctor.analysis.premise import Premise, first_loss_vs_uniform, premise_facts
from gapdoctor.analysis.reference_fit import ReferenceFit, reference_fit
from gapdoctor.analysis.renaming import Renaming, class_renaming
from gapdoctor.analysis.reorder import Reorder
from gapdoctor.analysis.split_neighbours import SplitNeighbours, split_neighbours_of
from gapdoctor.record.schema import RunRecord, metric_mode


class Context:
    """Lazily computed measurements of one run, shared by every rule of one ``diagnose``."""

    def __init__(self, run: RunRecord, threshold: float = 0.5) -> None:
        self.run = run
        self.threshold = threshold  # the diagnosis's reporting threshold (templates pick by it)

    @cached_property
    def monitor(self) -> str | None:
        return self.run.monitor

    @cached_property
    def curves(self) -> CurveFacts:
        """Curve facts; the monitor's direction from its recorded Keras class, then its name,
        then the curves themselves (``CurveFacts.mode`` is ``"unknown"`` if none tells)."""
        mode = metric_mode(self.monitor, self.run.meta.get("metrics")) if self.monitor else None
        return curve_facts(self.run.curves, self.monitor, mode, self.loss_scale)

    @cached_property
    def loss_scale(self) -> float:
        """Loss of predicting the class frequencies (cross-entropy only; NaN otherwise): the
        yardstick of a classification loss, whatever the first epoch did."""
        name = str((self.run.meta.get("loss") or {}).get("name", "")).lower()
        if "crossentropy" not in name:
            return float("nan")
        counts = label_counts(self.run, "train")
        if counts is not None and counts.sum() > 0 and (counts > 0).sum() >= 2:
            p = counts[counts > 0] / counts.sum()
            return float(-(p * np.log(p)).sum())
        return float(np.log(self.n_classes)) if self.n_classes >= 2 else float("nan")

    @cached_property
    def first_loss_vs_uniform(self) -> float:
        """First epoch's training loss / ln K, for a cross-entropy on one output (NaN else)."""
        name = str((self.run.meta.get("loss") or {}).get("name", "")).lower()
        outputs = self.run.meta.get("n_outputs") or (self.run.meta.get("model") or {}).get("n_outputs")
        if "crossentropy" not in name or (outputs or 1) > 1:
            return float("nan")
        k = 2 if self.run.meta.get("task") == "binary" else self.n_classes
        return first_loss_vs_uniform(self.run.curves, k)

    @cached_property
    def premise(self) -> Premise:
        """Did the run train at all (diverged / never learned)? Read before any gap story."""
        counts = label_counts(self.run, "val")
        chance = float(counts.max() / counts.sum()) if counts is not None and counts.sum() else float("nan")
        return premise_facts(self.run.curves, chance, self.val_accuracy_series(), self.loss_scale,
                             self.probe_auc, self.logged_train_accuracy(), self.n_classes)

    def last_proba(self, prefix: str) -> tuple[np.ndarray, np.ndarray] | None:
        """(probabilities as (n, classes), labels) of the last epoch for ``"val"`` or
        ``"probe"`` (the training probe), or None when not recorded or inconsistent."""
        a = self.run.arrays
        if not (self.run.has(f"{prefix}_proba_last") and self.run.has(f"{prefix}_labels")):
            return None
        proba = np.asarray(a[f"{prefix}_proba_last"], float)
        if proba.ndim != 2 or len(proba) != len(a[f"{prefix}_labels"]):
            return None
        if proba.shape[1] == 1:  # one sigmoid output: the probability of class 1
            proba = np.column_stack([1 - proba[:, 0], proba[:, 0]])
        return proba, np.asarray(a[f"{prefix}_labels"])

    @cached_property
    def probe_auc(self) -> float:
        """Macro one-vs-rest ROC AUC of the last epoch's eval-mode predictions on the
        training probe (NaN without them): whether the model ranks what it trained on."""
        found = self.last_proba("probe")
        return ovr_auc(found[1], found[0]) if found is not None else float("nan")

    @cached_property
    def own_train_loss(self) -> float:
        """Mean cross-entropy of the last epoch's eval-mode predictions on the training probe,
        from the probabilities themselves (NaN without them): the loss the model's outputs
        earn, whatever reduction, weights or penalties the logged loss adds."""
        found = self.last_proba("probe")
        if found is None or found[1].ndim != 1:
            return float("nan")
        proba, labels = found
        labels = labels.astype(int)
        if not len(labels) or labels.min() < 0 or labels.max() >= proba.shape[1]:
            return float("nan")
        picked = proba[np.arange(len(labels)), labels]
        return float(-np.log(np.clip(picked, 1e-7, 1.0)).mean())

    @cached_property
    def n_classes(self) -> int:
        run = self.run
        if run.meta.get("n_classes"):
            return int(run.meta["n_classes"])
        for key in ("val_proba_last", "probe_proba_last"):
            if run.has(key) and run.arrays[key].ndim == 2:
                return int(run.arrays[key].shape[1])
        return 0

    @cached_property
    def nonfinite_inputs(self) -> dict[str, Any]:
        return inputs.nonfinite_inputs(self.run)

    @cached_property
    def collapsed_inputs(self) -> dict[str, float]:
        return inputs.collapsed_share(self.run)

    @cached_property
    def collapsed_excess(self) -> tuple[float, float, str]:
        """(validation share of collapsed rows beyond training, trust, why)."""
        return inputs.collapsed_excess(self.collapsed_inputs)

    @cached_property
    def leak(self) -> LeakShares:
        """Validation rows in training against the data's own repeat rate, counted among as
        many rows (validation rows in training beyond it are a leak)."""
        return leak_shares(self.run.meta.get("data") or {}, self.n_val,
                           self.run.arrays.get("x_train"), self.run.arrays.get("x_val"))

    @cached_property
    def n_val(self) -> int | None:
        return accuracy.n_val(self.run)

    @cached_property
    def margins(self) -> MarginFacts | None:
        a = self.run.arrays
        if not self.run.has("margins") or not self.run.has("probe_labels"):
            return None
        predicted = a["probe_proba_last"].argmax(1) if self.run.has("probe_proba_last") else None
        return margin_facts(a["margins"], a.get("correct"), a["probe_labels"],
                            max(self.n_classes, int(a["probe_labels"].max()) + 1),
                            index=a.get("probe_index"), predicted=predicted)

    @cached_property
    def dynamics(self) -> DynamicsFacts | None:
        """Scores of every training sample from the recorded dynamics (None if absent)."""
        return dynamics_of(self.run)

    @cached_property
    def features(self) -> FeatureFacts | None:
        return inputs.features_of(self.run, self.token_inputs)

    @cached_property
    def unshuffled_batches(self) -> BatchMix | None:
        """How fit(shuffle=False) filled the batches from the stored label order."""
        return unshuffled_batches(self.run)

    @cached_property
    def reference_fit(self) -> ReferenceFit | None:
        """The network's training accuracy against a simple model's held-out one."""
        return reference_fit(self.run, self.features)

    @cached_property
    def token_inputs(self) -> bool:
        return inputs.token_inputs(self.run)

    @cached_property
    def off_support(self) -> OffSupport | None:
        """Validation rows without a training row among their nearest neighbours."""
        return inputs.off_support_of(self.run, self.token_inputs)

    @cached_property
    def column_reorder(self) -> Reorder | None:
        return inputs.reorder_of(self.run, self.token_inputs)

    @cached_property
    def new_fill(self) -> float | None:
        """Share of validation sequences filled with an id training is not (token inputs only)."""
        return inputs.new_fill_of(self.run, self.token_inputs)

    @cached_property
    def far_values(self) -> float | None:
        """Share of validation values beyond twice training's range, for images, signals and
        projected columns (None: a table, token ids or no samples)."""
        return inputs.far_values_of(self.run, self.token_inputs)

    @cached_property
    def integrity(self) -> Integrity | None:
        """Validation columns that break the training data's schema (None: not checkable)."""
        return inputs.integrity_of(self.run, self.token_inputs)

    @cached_property
    def classes(self) -> ClassFacts | None:
        return class_facts(self.run, self.n_classes)

    @cached_property
    def val_auc(self) -> float:
        """Macro one-vs-rest ROC AUC of the network on validation at the last epoch."""
        found = self.last_proba("val")
        return ovr_auc(found[1], found[0]) if found is not None else float("nan")

    @cached_property
    def row_offset(self) -> RowOffset | None:
        """Validation labels shifted against their inputs from some row on (last epoch's
        predictions against their own and their neighbours' labels), or None."""
        found = self.last_proba("val")
        if found is None or not np.isfinite(found[0]).all():
            return None
        index = self.run.arrays["val_index"] if self.run.has("val_index") else None
        return row_offset(found[1], found[0].argmax(1), index)

    @cached_property
    def renaming(self) -> Renaming | None:
        """Whether validation predictions are a renaming of the validation labels."""
        return class_renaming(self.run)

    @cached_property
    def chance(self) -> float:
        return accuracy.chance(self.run, self.n_classes)

    @cached_property
    def val_above_chance(self) -> float:
        return accuracy.val_above_chance(self.val_accuracy_series(), self.chance, self.val_auc)

    @cached_property
    def train_above_chance(self) -> float:
        return accuracy.train_above_chance(self.train_accuracy_series(), self.chance)

    @cached_property
    def unlearned(self) -> float:
        """Training accuracy at the end above chance (share of the possible) after it had
        reached 30 % of the way; NaN for runs that never got that far."""
        return accuracy.unlearned(self.train_accuracy_series(), self.chance)

    @cached_property
    def fits_training(self) -> bool:
        """The model fits its training data: the loss more than halved and the training
        accuracy more than half the way from chance to perfect (on imbalanced data the loss
        also falls when only the base rate is learned, hence both)."""
        drop, above = self.curves.loss_drop, self.train_above_chance
        return bool(np.isfinite(drop) and drop > 0.5 and np.isfinite(above) and above > 0.5)

    def logged_train_accuracy(self) -> pd.Series:
        return accuracy.logged_accuracy_series(self.run)

    def val_accuracy_series(self) -> pd.Series:
        return accuracy.accuracy_series(self.run, "val")

    def train_accuracy_series(self) -> pd.Series:
        return accuracy.accuracy_series(self.run, "train")

    @cached_property
    def val_interval(self) -> tuple[int, float, float, float] | None:
        return accuracy.val_interval(self.val_accuracy_series(), self.n_val)

    @cached_property
    def established_gap(self) -> dict[str, Any] | None:
        """Training accuracy 15 points or more above validation, beyond its interval."""
        val = self.val_accuracy_series()
        interval = self.val_interval
        if interval is None and len(val):
            # an imported log holds no size: the steps of the accuracy curve bound it
            # (a gap of 15 points on 10 validation samples is not established)
            n = accuracy.estimate_n_from_steps(val.to_numpy())
            interval = accuracy.val_interval(val, n) if n else None
        return established_gap(self.train_accuracy_series(), val, interval)

    @cached_property
    def val_error(self) -> float:
        return accuracy.val_error(self.val_accuracy_series())

    @cached_property
    def mode_layers(self) -> list[str] | None:
        return accuracy.mode_dependent_layers(self.run)

    @cached_property
    def val_accuracy_drop(self) -> tuple[float, float]:
        return accuracy.val_accuracy_drop(self.val_accuracy_series(), self.n_val)

    @cached_property
    def train_val_lag(self) -> tuple[float, str]:
        return lags.train_val_lag(self.run, self.curves)

    @cached_property
    def val_lead_peak(self) -> tuple[float, float]:
        return lags.val_lead_peak(self.run, self.lag_noise)

    @cached_property
    def loss_lag_at_best(self) -> float:
        return lags.loss_lag_at_best(self.run)

    @cached_property
    def logged_cross_entropy(self) -> str | None:
        return lags.logged_cross_entropy(self.run)

    @cached_property
    def lag_noise(self) -> float:
        return lags.lag_noise(self.run, self.val_accuracy_series(), self.n_val)

    @cached_property
    def noise_excess(self) -> float:
        return label_agreement.noise_excess(self.margins, self.val_error)

    @cached_property
    def noise_excess_z(self) -> float:
        return label_agreement.noise_excess_z(self.margins, self.noise_excess, self.val_error,
                                              self.n_val)

    @cached_property
    def label_disagreement(self) -> tuple[float, float, float, str]:
        return label_agreement.label_disagreement(self.features)

    @cached_property
    def label_consistency(self) -> tuple[float, float, float, str]:
        """Which split's labels the reference model learns less well within that split."""
        return label_agreement.label_consistency(self.features)

    @cached_property
    def split_neighbours(self) -> SplitNeighbours | None:
        """Neighbour label agreement within and across the splits in the model's
        representation, and how well the neighbours tell the splits apart."""
        return split_neighbours_of(self.run)

    @cached_property
    def split_disagreement(self) -> tuple[float, float, float, str]:
        """Labels agreeing with neighbours within each split more than across them."""
        return label_agreement.split_disagreement(self.split_neighbours, self.features)

    @cached_property
    def purity_lead(self) -> tuple[float, float, float, str]:
        """Validation's labels agreeing with their neighbours more than training's, each
        within its own split (see :func:`label_agreement.purity_lead`)."""
        return label_agreement.purity_lead(self.split_neighbours, self.features)

    def run_summary(self) -> dict[str, Any]:
        """Headline numbers: epochs, monitored metric, its best value and epoch."""
        run, monitor = self.run, self.monitor
        out: dict[str, Any] = {"epochs": run.n_epochs, "monitor": monitor,
                               "monitor_mode": self.curves.mode}
        c = self.curves
        values = series(run.curves, monitor) if monitor else pd.Series(dtype=float)
        if len(values):
            out["last_value"] = float(values.iloc[-1])
        if c.best_epoch is not None:
            out.update(best_value=c.best_value, best_epoch=c.best_epoch)
        if run.has("curve:loss"):
            losses = series(run.curves, "loss")
            out.update(first_loss=float(losses.iloc[0]), last_loss=float(losses.iloc[-1]))
        out["nonfinite_loss"] = bool("loss" in run.curves and not np.isfinite(
            pd.to_numeric(run.curves["loss"], errors="coerce")).all())
        if run.meta.get("completed") is False:  # a gapdoctor record whose fit never ended
            out.update(completed=False, epochs_planned=run.meta.get("epochs_planned"))
        return out
