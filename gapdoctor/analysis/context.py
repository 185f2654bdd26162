"""Per-diagnosis cache of shared measurements, so no two rules compute the same thing."""

from __future__ import annotations

import math
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from gapdoctor.analysis.alignment import RowOffset, row_offset
from gapdoctor.analysis.classes import ClassFacts, class_facts, label_counts
from gapdoctor.analysis.curves import CurveFacts, curve_facts, series
from gapdoctor.analysis.duplicates import within_duplicate_share
from gapdoctor.analysis.features import (
    AUC_DIFFERENT,
    AUC_SAME,
    FeatureFacts,
    feature_facts,
    ovr_auc,
)
from gapdoctor.analysis.label_dynamics import DynamicsFacts, dynamics_of
from gapdoctor.analysis.margins import MarginFacts, margin_facts
from gapdoctor.analysis.premise import Premise, premise_facts
from gapdoctor.analysis.ramps import ramp
from gapdoctor.analysis.reorder import Reorder, column_reorder
from gapdoctor.analysis.spectra import spectral_view
from gapdoctor.analysis.tokens import are_ids, embeds_ids, token_views
from gapdoctor.record.schema import RunRecord, metric_mode


def finite_number(value: object) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


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
    def premise(self) -> Premise:
        """Did the run train at all (diverged / never learned)? Read before any gap story."""
        counts = label_counts(self.run, "val")
        chance = float(counts.max() / counts.sum()) if counts is not None and counts.sum() else float("nan")
        return premise_facts(self.run.curves, chance, self.val_accuracy_series(), self.loss_scale,
                             self.probe_auc)

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
        """Rows with NaN/inf inputs per split: ``{split: {count, rows, scope}}``, from the
        whole data when the callback counted it, else from the feature samples."""
        data = self.run.meta.get("data") or {}
        counted = data.get("nonfinite_rows")
        out: dict[str, Any] = {}
        if isinstance(counted, dict):
            out = {k: v for k, v in counted.items()
                   if isinstance(v, dict) and finite_number(v.get("count")) and v["count"] > 0}
        for split in ("train", "val"):
            x = self.run.arrays.get(f"x_{split}")
            if split not in out and isinstance(x, np.ndarray) and x.size:
                bad = ~np.isfinite(x.reshape(len(x), -1)).all(axis=1)
                if bad.any():
                    out[split] = {"count": int(bad.sum()), "rows": [], "scope": "the feature sample"}
        return out

    @cached_property
    def train_duplicate_share(self) -> float:
        """Share of the recorded training rows that equal another one exactly: the rate at
        which the data repeats itself (validation rows in training beyond it are a leak)."""
        return within_duplicate_share(self.run.arrays.get("x_train"))

    @cached_property
    def n_val(self) -> int | None:
        """Validation samples behind the metric: from metadata, else the callback's count."""
        data = self.run.meta.get("data") or {}
        for key in ("n_val", "n_val_used"):
            if isinstance(data.get(key), (int, float)) and data[key] > 0:
                return int(data[key])
        if self.run.has("split_metrics"):
            val = self.run.split_metrics[self.run.split_metrics["split"] == "val"]
            if len(val) and np.isfinite(val["n"]).any():
                return int(val["n"].max())
        return None

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
        a = self.run.arrays
        if not (self.run.has("x_train") and self.run.has("x_val") and self.run.has("probe_labels")):
            return None
        labels = a["probe_labels"]
        if len(labels) != len(a["x_train"]):
            return None
        x_train, x_val = a["x_train"], a["x_val"]
        views, raw_name = {}, "raw"
        if self.token_inputs:
            x_train, x_val = token_views(x_train, x_val)
            raw_name = "bags of tokens"
        elif not (self.run.meta.get("data") or {}).get("feature_projection"):
            shape = (self.run.meta.get("data") or {}).get("input_shape")
            spectra = (spectral_view(x_train, shape), spectral_view(x_val, shape))
            if spectra[0] is not None and spectra[1] is not None:
                views["spectra"] = spectra
        return feature_facts(x_train, labels, x_val, a.get("y_val_features"), views=views,
                             raw_name=raw_name)

    @cached_property
    def token_inputs(self) -> bool:
        """Whether the recorded inputs are token ids that the model embeds (see
        :mod:`gapdoctor.analysis.tokens`): compared as bags of tokens, not as numbers."""
        a = self.run.arrays
        return (embeds_ids(self.run.meta) and self.run.has("x_train") and self.run.has("x_val")
                and are_ids(a["x_train"], a["x_val"]))

    @cached_property
    def column_reorder(self) -> Reorder | None:
        """Whether validation's columns are training's in another order (see
        :mod:`gapdoctor.analysis.reorder`), when the recorded features are the raw columns
        (not a random projection, not token ids: positions in a sequence are no columns)."""
        a, data = self.run.arrays, self.run.meta.get("data") or {}
        x_tr, x_va = a.get("x_train"), a.get("x_val")
        if (data.get("feature_projection") or self.token_inputs or not isinstance(x_tr, np.ndarray)
                or not isinstance(x_va, np.ndarray) or x_tr.ndim != 2 or x_va.ndim != 2
                or x_tr.shape[1] != x_va.shape[1] or not 2 <= x_tr.shape[1] <= 256
                or min(len(x_tr), len(x_va)) < 20):
            return None
        return column_reorder(x_tr, x_va, a.get("probe_labels"), a.get("y_val_features"))

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
    def chance(self) -> float:
        """Accuracy of always predicting the most common validation class."""
        counts = label_counts(self.run, "val")
        if counts is not None and counts.sum() > 0:
            return float(counts.max() / counts.sum())
        return 1.0 / self.n_classes if self.n_classes else float("nan")

    @cached_property
    def val_above_chance(self) -> float:
        """How far validation is above chance, as a share of the possible gain (NaN if
        unknown): 0 = at chance, 1 = perfect. The larger of the best accuracy's share above
        the majority rate and the network's ROC AUC's share above 0.5: with a rare class,
        accuracy stays near the majority rate although the model ranks well."""
        acc = self.val_accuracy_series()
        if not len(acc) or not finite_number(self.chance):
            return float("nan")
        share = (float(acc.max()) - self.chance) / max(1e-6, 1 - self.chance)
        auc = self.val_auc
        return max(share, 2 * (auc - 0.5)) if finite_number(auc) else share

    @cached_property
    def train_above_chance(self) -> float:
        """Recent training accuracy (last 3 epochs) as a share of the possible above chance."""
        acc = self.train_accuracy_series()
        if not len(acc) or not finite_number(self.chance):
            return float("nan")
        return (float(acc.iloc[-3:].mean()) - self.chance) / max(1e-6, 1 - self.chance)

    def val_accuracy_series(self) -> pd.Series:
        """Validation accuracy per epoch: the callback's own (argmax), else an accuracy log."""
        return self._accuracy_series("val", "val_")

    def _accuracy_series(self, split: str, prefix: str) -> pd.Series:
        sm = self.run.split_metrics
        if self.run.has("split_metrics"):
            values = sm[sm["split"] == split].set_index("epoch")["accuracy"].astype(float)
            if np.isfinite(values).any():
                return values.dropna()
        for name in ("accuracy", "acc", "sparse_categorical_accuracy", "categorical_accuracy",
                     "binary_accuracy"):
            if self.run.has(f"curve:{prefix}{name}"):
                return series(self.run.curves, prefix + name)
        return pd.Series(dtype=float)

    @cached_property
    def train_val_lag(self) -> tuple[float, str]:
        """How far validation accuracy is ahead of training accuracy late in training.

        Uses the callback's eval-mode accuracy on the train probe when recorded (the same
        weights as validation; the mean over the first half of the run); otherwise Keras's
        logged metrics, whose training value is a running average over the epoch, so only
        the last epochs are compared.
        """
        # Eval mode, same weights: a model is not more accurate on held-out samples than on
        # the ones it was fitted to, unless those carry wrong labels.
        sm = self.run.split_metrics
        if self.run.has("split_metrics"):
            table = sm.pivot_table(index="epoch", columns="split", values="accuracy")
            if {"train", "val"} <= set(table.columns):
                lag = (table["val"] - table["train"]).dropna()
                if len(lag) >= 2:
                    # skip the unsettled first epoch; stop at mid-run, since a large model
                    # later memorises wrong labels and the lead turns into a training lead
                    lag = lag.iloc[1: max(2, (len(lag) + 1) // 2)]
                if len(lag):
                    return float(lag.mean()), "eval-mode accuracy, train probe vs validation"
        c = self.curves
        if finite_number(c.gap_epoch_end) and c.mode == "max":
            return -c.gap_epoch_end, "logged training vs validation metric"
        return float("nan"), ""

    @cached_property
    def val_lead_peak(self) -> tuple[float, float]:
        """(peak, peak in standard errors) of validation minus train-probe accuracy, both in
        eval mode on the same weights, as a 3-epoch running mean; NaN without split metrics.

        Same weights, same mode: a model is not more accurate on held-out samples than on
        the ones it was fitted to, unless their labels are wrong. The *peak* because a large
        model memorises wrong labels within a few epochs and the lead then turns into a
        training lead; the running mean because the peak of a noisy series is biased up.
        """
        if not self.run.has("split_metrics"):
            return float("nan"), float("nan")
        table = self.run.split_metrics.pivot_table(index="epoch", columns="split", values="accuracy")
        if not {"train", "val"} <= set(table.columns):
            return float("nan"), float("nan")
        lead = (table["val"] - table["train"]).dropna()
        lead = lead.iloc[1:] if len(lead) > 2 else lead  # the first epoch is unsettled
        if not len(lead):
            return float("nan"), float("nan")
        peak = float(lead.rolling(3, min_periods=1).mean().max())
        se = self.lag_noise
        return peak, (peak / se if finite_number(se) and se > 0 else float("nan"))

    @cached_property
    def loss_lag_at_best(self) -> float:
        """Eval-mode loss on the train probe / validation loss, at the epoch of the lowest
        validation loss (NaN without the callback's split metrics).

        Same weights, same mode, before memorisation sets in: a model is not worse on the
        samples it was fitted to than on held-out ones, unless their labels are wrong.
        """
        if not self.run.has("split_metrics"):
            return float("nan")
        table = self.run.split_metrics.pivot_table(index="epoch", columns="split", values="loss")
        if not {"train", "val"} <= set(table.columns):
            return float("nan")
        both = table[["train", "val"]].dropna()
        both = both[(both["val"] > 0) & np.isfinite(both).all(axis=1)]
        if both.empty:
            return float("nan")
        best = both["val"].idxmin()
        return float(both.loc[best, "train"] / both.loc[best, "val"])

    @cached_property
    def lag_noise(self) -> float:
        """Standard error of a difference between validation and train-probe accuracy."""
        acc, n_val = self.val_accuracy_series(), self.n_val
        n_probe = (self.run.meta.get("data") or {}).get("n_train_probe") or (
            len(self.run.arrays["probe_labels"]) if self.run.has("probe_labels") else None)
        if not len(acc) or not n_val or not n_probe:
            return float("nan")
        p = min(max(float(acc.iloc[-3:].mean()), 0.05), 0.95)
        return float(np.sqrt(p * (1 - p) / n_val + p * (1 - p) / n_probe))

    @cached_property
    def val_interval(self) -> tuple[int, float, float, float] | None:
        """(n, accuracy, low, high): 95% Wilson interval of recent validation accuracy."""
        acc, n = self.val_accuracy_series(), self.n_val
        if not len(acc) or not n:
            return None
        from scipy import stats  # lazy: keeps `import gapdoctor` fast

        p = min(max(float(acc.iloc[-3:].mean()), 0.0), 1.0)
        ci = stats.binomtest(int(round(p * n)), n).proportion_ci(confidence_level=0.95, method="wilson")
        return n, p, float(ci.low), float(ci.high)

    @cached_property
    def val_error(self) -> float:
        """Lowest validation error rate of the run (1 - best accuracy), NaN if unknown.

        The best epoch, because memorising wrong labels later degrades validation too.
        """
        acc = self.val_accuracy_series()
        return float(1 - acc.rolling(3, min_periods=1).mean().max()) if len(acc) else float("nan")

    @cached_property
    def noise_excess(self) -> float:
        """Share of train-probe samples with AUM < 0 minus the validation error rate.

        Samples that are merely hard are misclassified on validation as often as they are
        flagged in training; wrong training labels are flagged far more often, although the
        model was fitted to them.
        """
        m = self.margins
        if m is None or not finite_number(self.val_error):
            return float("nan")
        return m.flagged_fraction - self.val_error

    @cached_property
    def noise_excess_z(self) -> float:
        """:attr:`noise_excess` in standard errors of a difference of two proportions (train
        probe of size P, validation of size N): sizes run from 50 to 20,000 samples, so a
        difference is only read against the noise its two sample sizes allow."""
        m, n_val = self.margins, self.n_val
        if m is None or not finite_number(self.noise_excess) or not n_val or not m.n:
            return float("nan")
        p1, p2 = min(max(m.flagged_fraction, 0.01), 0.99), min(max(self.val_error, 0.01), 0.99)
        se = float(np.sqrt(p1 * (1 - p1) / m.n + p2 * (1 - p2) / n_val))
        return self.noise_excess / se

    @cached_property
    def label_disagreement(self) -> tuple[float, float, float, str]:
        """How much more a reference model fitted on validation data disagrees with the
        training labels than with held-out validation labels: ``(excess, excess in standard
        errors, trust 0..1, why the trust)``; NaNs without the reverse reference.

        Trust fades as the domain classifier tells the inputs apart (a model extrapolating to
        other inputs disagrees too) and below 200 samples a side (none below 60: a model
        fitted on a few dozen validation samples is too unsteady)."""
        f, nan = self.features, float("nan")
        if f is None or not (finite_number(f.rev_cv_accuracy) and finite_number(f.rev_train_agreement)):
            return nan, nan, 0.0, "no reverse reference"
        excess = f.rev_cv_accuracy - f.rev_train_agreement
        se = self.proportion_se(f.rev_cv_accuracy, f.n_train, f.n_val)
        same = 1.0 - ramp(f.domain_auc, AUC_SAME, AUC_DIFFERENT) if finite_number(f.domain_auc) else 1.0
        sizes = ramp(min(f.n_train, f.n_val), 60, 200)
        why = (f"domain classifier AUC {f.domain_auc:.2f} (none from {AUC_DIFFERENT}); "
               f"{min(f.n_train, f.n_val)} samples on the smaller side (full from 200)")
        return excess, excess / se if finite_number(se) and se > 0 else nan, same * sizes, why

    def proportion_se(self, p: float, n_a: int | None, n_b: int | None) -> float:
        """Standard error of a difference of two accuracies near ``p`` measured on ``n_a``
        and ``n_b`` samples (NaN when a size is unknown)."""
        if not n_a or not n_b or not finite_number(p):
            return float("nan")
        p = min(max(p, 0.02), 0.98)
        return float(np.sqrt(p * (1 - p) / n_a + p * (1 - p) / n_b))

    def train_accuracy_series(self) -> pd.Series:
        """Training accuracy per epoch: eval-mode on the train probe, else an accuracy log."""
        return self._accuracy_series("train", "")

    def run_summary(self) -> dict[str, Any]:
        """Headline numbers: epochs, monitored metric, its best value and epoch."""
        run, monitor = self.run, self.monitor
        out: dict[str, Any] = {"epochs": run.n_epochs, "monitor": monitor,
                               "monitor_mode": self.curves.mode}
        c = self.curves
        if c.best_epoch is not None:
            out.update(best_value=c.best_value, best_epoch=c.best_epoch,
                       last_value=float(series(run.curves, monitor).iloc[-1]))
        if run.has("curve:loss"):
            losses = series(run.curves, "loss")
            out.update(first_loss=float(losses.iloc[0]), last_loss=float(losses.iloc[-1]))
        out["nonfinite_loss"] = bool("loss" in run.curves and not np.isfinite(
            pd.to_numeric(run.curves["loss"], errors="coerce")).all())
        return out
