"""subgroup_underfitting: some classes or slices never get learned while the rest do."""

from __future__ import annotations

import numpy as np

from gapdoctor.analysis.classes import ClassFacts, label_counts
from gapdoctor.analysis.context import Context
from gapdoctor.analysis.features import AUC_DIFFERENT, AUC_SAME
from gapdoctor.analysis.label_agreement import (
    DISAGREE_FACT,
    DISAGREE_RANGE,
    DISAGREE_WHY,
    SPLITS_FACT,
    SPLITS_RANGE,
    SPLITS_WHY,
)
from gapdoctor.record.schema import RunRecord
from gapdoctor.rules.base import (
    Rule,
    Weighing,
    finite,
    ramp,
    use_disagreement,
    use_split_disagreement,
)
from gapdoctor.rules.evidence import Ramp

E = "subgroup_underfitting."
LAG = Ramp(E + "lag", "typical (75th percentile) minus worst class recall (validation)", 0.15, 0.4, 3.0,
           "a class 40 points behind the typical one is not learned; 15 points is ordinary spread")
FEW_LAG = Ramp(E + "few_lag", "share of classes lagging", 0.5, 0.5, -1.0,
               "a subgroup is a few classes, not most of them")
SOME_LAG = Ramp(E + "some_lag", "share of classes lagging (a few)", 0.5, 0.49, 0.8,
                "a few classes, not all")
TOO_EARLY = Ramp(E + "too_early", "epochs trained", 4, 2, -2.0,
                 "after one or two epochs a class not yet learned may simply come later: "
                 "its trend needs two epochs in each half of the run")
FLAT_TREND = Ramp(E + "flat_trend", "recall trend of lagging classes (second half)", 0.15, 0.03, 0.8,
                  "they do not improve")
STILL_LEARNING = Ramp(E + "still_learning", "recall gain of lagging classes in the second half", 0.05, 0.15, -2.0,
                      "classes still being learned are slow, not unlearnable")
MINORITY = Ramp(E + "minority", "training share of lagging classes vs median class", 0.7, 0.3, 1.0,
                "minority classes")
FEW_SAMPLES = Ramp(E + "few_samples", "training samples per class (median)", 50, 20, -1.5,
                   "with a few dozen samples per class one class lags by chance alone")
TINY_SUPPORT = Ramp(E + "tiny_support", "validation samples per lagging class", 10, 9.99, -1.5,
                    "too few to trust a per-class recall")
THRESHOLD = Ramp(E + "threshold", "F1 regained by tuning the threshold", 0.1, 0.1, -3.0,
                 "the lagging class is a threshold choice")
AT_CHANCE = Ramp(E + "at_chance", "validation above chance: best accuracy or ROC AUC, the further (share of the possible)", 0.4, 0.2, -3.0,
                 "every class fails, not a subgroup")
VAL_AHEAD = Ramp(E + "val_ahead", "validation accuracy ahead of training on the same weights", 0.03, 0.1, -2.5,
                 "wrong training labels, not a slice")
BINARY = Ramp(E + "binary", "task is binary", 1, 1, -1.5,
              "a lagging minority class is first a threshold or imbalance question")
DOMAIN = Ramp(E + "domain", "domain classifier AUC (train vs validation inputs)", AUC_SAME, AUC_DIFFERENT, -2.5,
              "shifted inputs hurt some classes more than others")
SPREAD_NOISE = Ramp(E + "spread_noise", "flagged training share minus validation error, spread over classes",
                    0.04, 0.12, -2.5, "wrong labels everywhere, not one slice")
DISAGREE = Ramp(E + "disagree", DISAGREE_FACT, *DISAGREE_RANGE, -2.0,
                "classes that fail on validation because their training labels contradict it are "
                "wrong labels, not a subgroup the model cannot learn; " + DISAGREE_WHY)
EQUAL_FIT = Ramp(E + "equal_fit", "lagging classes' recall in training minus on validation", 0.10, 0.03, -2.0,
                 "classes the model fits no better on the rows it trained on than on new ones, at their "
                 "usual share, overlap with other classes in the data itself: no slice left unlearned "
                 "(10 points is the binomial noise of a class of ~50 validation samples)")
SLICE = Ramp(E + "slice", "accuracy gap of the worst user-given slice to the median slice", 0.1, 0.25, 2.5,
             "a slice 25 points below the median one is not learned")
SPLITS = Ramp(E + "splits_disagree", SPLITS_FACT, *SPLITS_RANGE, -2.0,
              "classes that fail on validation because the splits label one region differently are wrong labels, not a subgroup the model cannot learn; " + SPLITS_WHY)


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
            w.use(LAG, k.lag)
            if k.lagging and len(k.lagging) < len(k.recall):
                share = len(k.lagging) / len(k.recall)
                w.use(SOME_LAG, share)
                w.use(FEW_LAG, share)
            if k.lagging:
                w.use(TOO_EARLY, ctx.curves.n_epochs)
            w.use(FLAT_TREND, k.lagging_trend)
            w.use(STILL_LEARNING, k.lagging_trend)
            w.use(MINORITY, k.lagging_train_share_ratio)
            counts = label_counts(run, "train")
            if counts is not None and k.lagging and len(counts) == len(k.recall):
                w.use(FEW_SAMPLES, float(np.median(counts)))
            small = k.support.reindex(k.lagging).dropna()
            if len(small):
                w.use(TINY_SUPPORT, float(small.mean()))
            self._equal_fit(w, k)
            if finite(k.f1_best_threshold):
                w.use(THRESHOLD, k.f1_best_threshold - k.f1_at_half)
        self._other_explanations(w, ctx)
        self._groups(run, w)
        w.use(AT_CHANCE, ctx.val_above_chance)
        return w

    @staticmethod
    def _equal_fit(w: Weighing, k: ClassFacts) -> None:
        """A lagging class fitted as poorly in training as on validation is hard in the data,
        unless it is a minority or ignored outright (those a model can be made to learn)."""
        if not k.lagging or not finite(k.lagging_train_recall):
            return
        val = float(k.recall.reindex(k.lagging).mean())
        share = k.lagging_train_share_ratio if finite(k.lagging_train_share_ratio) else 1.0
        # a minority (under half the median class) or a class at zero recall: the model can
        # be pushed to it by weights or sampling, so equal fit says nothing about the data
        gate = ramp(share, 0.5, 0.8) * ramp(val, 0.05, 0.15)
        w.use(EQUAL_FIT, k.lagging_train_recall - val, gate=gate,
              gate_reason=f"lagging classes' training share {share:.2f} of the median, validation recall {val:.2f}")

    @staticmethod
    def _other_explanations(w: Weighing, ctx: Context) -> None:
        """Per-class gaps are a symptom of shifted inputs or scattered wrong labels too."""
        f, m = ctx.features, ctx.margins
        lag, how = ctx.train_val_lag
        if how.startswith("eval"):
            w.use(VAL_AHEAD, lag)
        if ctx.run.meta.get("task") == "binary":
            w.use(BINARY, 1.0, shown="binary")
        if f is not None:
            w.use(DOMAIN, f.domain_auc)
        use_disagreement(w, DISAGREE, ctx)
        use_split_disagreement(w, SPLITS, ctx)
        if m is not None and finite(m.flagged_class_concentration):
            spread = 1 - ramp(m.flagged_class_concentration, 0.45, 0.7)
            w.use(SPREAD_NOISE, ctx.noise_excess, gate=spread,
                  gate_reason=f"flagged samples' class concentration {m.flagged_class_concentration:.2f} "
                              "(full below 0.45)")

    @staticmethod
    def _groups(run: RunRecord, w: Weighing) -> None:
        if not run.has("groups"):
            return
        g = run.groups
        last = g[g["epoch"] == g["epoch"].max()].set_index("group")["accuracy"].astype(float)
        if len(last) < 2:
            return
        w.facts["worst_group"] = str(last.idxmin())
        w.use(SLICE, float(last.median() - last.min()),
              name=f"accuracy gap of slice '{last.idxmin()}' to the median slice")
