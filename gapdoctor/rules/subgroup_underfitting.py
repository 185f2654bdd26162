"""subgroup_underfitting: some classes or slices never get learned while the rest do."""

from __future__ import annotations

import numpy as np

from gapdoctor.analysis.classes import label_counts
from gapdoctor.analysis.context import Context
from gapdoctor.record.schema import RunRecord
from gapdoctor.rules.base import Rule, Weighing, finite, ramp


class SubgroupUnderfittingRule(Rule):
    cause = "subgroup_underfitting"
    requires_any = ("per_class", "groups")

    def weigh(self, run: RunRecord, ctx: Context) -> Weighing:
        w = Weighing(prior=-3.0)
        k = ctx.classes
        if k is not None:
            names = [k.names.get(c, str(c)) for c in k.lagging]
            w.facts.update(lagging=", ".join(names) or "none", n_lagging=len(k.lagging),
                           typical_recall=k.typical_recall, lag=k.lag,
                           lagging_recall=float(k.recall.reindex(k.lagging).mean()) if k.lagging else float("nan"))
            w.add("typical (75th percentile) minus worst class recall (validation)", round(k.lag, 4),
                  "strong from 0.4; none below 0.15", 3.0 * ramp(k.lag, 0.15, 0.4))
            if k.lagging and len(k.lagging) < len(k.recall):
                share = len(k.lagging) / len(k.recall)
                w.add("share of classes lagging", round(share, 3),
                      "a few classes, not all: < 0.5", 0.8 if share <= 0.5 else -1.0)
            if finite(k.lagging_trend):
                w.add("recall trend of lagging classes (second half)", round(k.lagging_trend, 4),
                      "they do not improve: < 0.05", 0.8 * (1 - ramp(k.lagging_trend, 0.03, 0.15)))
            if finite(k.lagging_train_recall):
                w.add("training-probe recall of lagging classes", round(k.lagging_train_recall, 4),
                      "memorised in training, not generalised (> 0.9) or never learned (< 0.5)",
                      0.6 if k.lagging_train_recall > 0.9 or k.lagging_train_recall < 0.5 else 0.0)
            if finite(k.lagging_train_share_ratio):
                w.add("training share of lagging classes vs median class", round(k.lagging_train_share_ratio, 3),
                      "minority classes: < 0.5", 1.0 * (1 - ramp(k.lagging_train_share_ratio, 0.3, 0.7)))
            counts = label_counts(run, "train")
            if counts is not None and k.lagging and len(counts) == len(k.recall):
                per_class = float(np.median(counts))
                # With a few dozen samples per class, one class lags by chance alone.
                w.add("training samples per class (median)", per_class,
                      "against: too few for any class to be learned reliably (< 30)",
                      -1.5 * (1 - ramp(per_class, 20, 50)))
            small = k.support.reindex(k.lagging).dropna()
            if len(small) and float(small.mean()) < 10:
                w.add("validation samples per lagging class", round(float(small.mean()), 1),
                      "against: too few to trust a per-class recall (< 10)", -1.5)
            if finite(k.f1_best_threshold) and k.f1_best_threshold - k.f1_at_half > 0.1:
                w.add("F1 regained by tuning the threshold", round(k.f1_best_threshold - k.f1_at_half, 4),
                      "against: the lagging class is a threshold choice (> 0.1)", -3.0)
        self._other_explanations(w, ctx)
        self._groups(run, w)
        val_acc = ctx.val_accuracy_series()
        if len(val_acc) and finite(ctx.chance):
            above = (float(val_acc.max()) - ctx.chance) / max(1e-6, 1 - ctx.chance)
            w.add("best validation accuracy above chance (share of the possible)", round(above, 4),
                  "against: every class fails, not a subgroup (< 0.3)", -3.0 * (1 - ramp(above, 0.2, 0.4)))
        return w

    @staticmethod
    def _other_explanations(w: Weighing, ctx: Context) -> None:
        """Per-class gaps are a symptom of shifted inputs or scattered wrong labels too."""
        f, m = ctx.features, ctx.margins
        lag, how = ctx.train_val_lag
        if finite(lag) and how.startswith("eval"):
            w.add("validation accuracy ahead of training on the same weights", round(lag, 4),
                  "against: wrong training labels, not a slice (> 0.05)", -2.5 * ramp(lag, 0.03, 0.1))
        if ctx.run.meta.get("task") == "binary":
            w.add("task", "binary", "against: a lagging minority class is first a threshold or imbalance question", -1.5)
        if f is not None and finite(f.domain_auc):
            w.add("domain classifier AUC (train vs validation inputs)", round(f.domain_auc, 3),
                  "against: shifted inputs hurt some classes more than others (> 0.75)",
                  -2.5 * ramp(f.domain_auc, 0.65, 0.85))
        if m is not None and finite(ctx.noise_excess) and finite(m.flagged_class_concentration):
            spread = 1 - ramp(m.flagged_class_concentration, 0.45, 0.7)
            w.add("flagged training samples, excess over validation error, spread over classes",
                  round(ctx.noise_excess, 4),
                  "against: wrong labels everywhere, not one slice (> 0.08, spread)",
                  -2.5 * ramp(ctx.noise_excess, 0.04, 0.12) * spread)

    @staticmethod
    def _groups(run: RunRecord, w: Weighing) -> None:
        if not run.has("groups"):
            return
        g = run.groups
        last = g[g["epoch"] == g["epoch"].max()].set_index("group")["accuracy"].astype(float)
        if len(last) < 2:
            return
        gap = float(last.median() - last.min())
        w.facts["worst_group"] = str(last.idxmin())
        w.add(f"accuracy gap of slice '{last.idxmin()}' to the median slice", round(gap, 4),
              "user-given slices; strong from 0.25", 2.5 * ramp(gap, 0.1, 0.25))
