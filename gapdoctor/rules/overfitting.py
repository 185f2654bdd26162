"""overfitting: the model memorises the training set while validation stops improving."""

from __future__ import annotations

from gapdoctor.analysis.context import Context
from gapdoctor.analysis.features import AUC_DIFFERENT, AUC_SAME
from gapdoctor.analysis.gap import GAP_MEMORISED
from gapdoctor.analysis.label_agreement import (
    CONSISTENCY_FACT,
    CONSISTENCY_RANGE,
    DISAGREE_FACT,
    DISAGREE_RANGE,
    DISAGREE_WHY,
    PURITY_FACT,
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
    use_label_consistency,
    use_purity_lead,
    use_split_disagreement,
)
from gapdoctor.rules.evidence import Ramp

E = "overfitting."
GAP = Ramp(E + "gap", "train-minus-validation gap (last 3 epochs)", 0.03, GAP_MEMORISED, 2.5,
           "3 points is what a well-regularised model shows; 15 points is memorisation")
VAL_LOSS_RISE = Ramp(E + "val_loss_rise", "validation loss above its earlier minimum", 0.1, 0.4, 1.5,
                     "10-40% above its minimum: past the turning point, not noise")
LOSS_RATIO = Ramp(E + "loss_ratio", "validation loss / training loss (last epochs)", 3, 30, 1.5,
                  "healthy runs end with validation loss 1-2x the training loss", log=True)
DROP_AFTER_BEST = Ramp(E + "drop_after_best", "training loss drop after the best validation loss",
                       0.3, 0.7, 0.8, "training keeps improving after validation stopped")
TRAIN_FIT = Ramp(E + "train_fit", "training metric (last 3 epochs)", 0.95, 0.99, 0.7,
                 "a near-perfect fit of the training set")
PAST_BEST = Ramp(E + "past_best", "share of epochs after the best validation epoch", 0.2, 0.5, 0.6,
                 "validation stopped improving early")
CAPACITY = Ramp(E + "capacity", "parameters per training sample", 20, 100, 1.5,
                "capacity far beyond the data")
NOISE_EXCESS = Ramp(E + "noise_excess", "flagged training share minus validation error rate", 0.04, 0.12, -3.0,
                    "wrong training labels explain the gap better")
VAL_AHEAD = Ramp(E + "val_ahead", "validation accuracy ahead of training", 0.03, 0.08, -2.0,
                 "a memorising model is ahead on training, not behind")
PEAK_LEAD = Ramp(E + "peak_lead", "validation accuracy ahead of training at its peak (eval mode, same "
                 "weights, 3-epoch mean), in standard errors", 2.5, 5.0, -2.5,
                 "a memorising model is never behind on its own training samples; wrong training "
                 "labels put it behind before it memorises them")
DOMAIN = Ramp(E + "domain", "domain classifier AUC (train vs validation inputs)", AUC_SAME, AUC_DIFFERENT, -2.5,
              "the splits differ: a shift explains a gap without memorisation")
REF_DROP = Ramp(E + "ref_drop", "reference model: training CV accuracy minus validation accuracy", 0.06, 0.2,
                -2.0, "a simple model fitted on training data also drops on validation")
WITHIN_INTERVAL = Ramp(E + "within_interval", "train-validation gap / half-width of the validation 95% interval",
                       2.5, 1.0, -2.0, "a gap inside the validation metric's own interval is not established")
CONCENTRATED = Ramp(E + "concentrated", "share of the gap in the lagging classes beyond their share of classes",
                    0.2, 0.45, -3.0, "memorisation spreads over classes; a gap in a few classes is a slice")
AT_CHANCE = Ramp(E + "at_chance", "validation above chance: best accuracy or ROC AUC, the further (share of the possible)", 0.3, 0.1, -3.0,
                 "a model that never beats chance on validation is not overfitting")
STILL_IMPROVING = Ramp(E + "still_improving", "validation loss fall over the last third of the run",
                       0.01, 0.05, -2.0, "validation still improves: the gap is the price of fitting, "
                       "not memorisation that hurts validation")
VAL_JUMP = Ramp(E + "val_jump", "largest one-epoch jump of the validation loss above its best so far, "
                "beyond the training loss's own rise", 3.0, 10.0, -1.5,
                "memorisation lifts the validation loss gradually; several times its best from one "
                "epoch to the next is the evaluated model jumping, not memorising", log=True)
LOSS_LAG = Ramp(E + "loss_lag", "eval-mode loss on training samples / validation loss, at the best validation epoch",
                0.8, 1.2, -2.0, "a memorising model fits its own training labels better than held-out ones; "
                "worse on them means the labels disagree with the inputs")
DISAGREE = Ramp(E + "disagree", DISAGREE_FACT, *DISAGREE_RANGE, -2.0,
                "memorisation does not change labels: training labels that contradict validation are "
                "wrong labels; " + DISAGREE_WHY)
CONSISTENCY = Ramp(E + "self_consistency", CONSISTENCY_FACT, *CONSISTENCY_RANGE, -2.0,
                   "training labels that the same model learns less well from their own inputs than "
                   "validation's from theirs are wrong: the gap is their memorisation, not "
                   "memorisation of right ones; as much against as the other reads of wrong labels")
EVAL_ORDER = Ramp(E + "eval_order", "share of the gap that random validation batches close (the end-of-fit "
                  "batch-order check, same model)", 0.3, 0.7, -3.0,
                  "a gap the model closes when validation batches look like the population is how it "
                  "is evaluated, not memorisation; from a third to most of it")
NO_FIT = Ramp(E + "no_fit", "training loss drop over the run", 0.3, 0.25, -2.0,
              "the model barely fits the training set")
SPLITS = Ramp(E + "splits_disagree", SPLITS_FACT, *SPLITS_RANGE, -2.0,
              "labels that differ between the splits in one region are wrong labels, not memorised noise of right ones; " + SPLITS_WHY)

# memorising right labels makes training neighbourhoods purer than validation's: the 67
# overfitting runs of the corpus and fresh2-fresh9 read -0.96 s.e. or less (9 in 10) and
# 0.55 at most; from 0 (no purer) to 2 s.e. (validation purer) it counts against
PURITY = Ramp(E + "purity_lead", PURITY_FACT, 0.0, 2.0, -3.0,
              "memorised training labels leave training neighbourhoods purer than validation's; "
              "training no purer than validation is a gap of another kind (wrong labels, an "
              "unlearned region)")


class OverfittingRule(Rule):
    cause = "overfitting"
    requires = ("curve:loss", "val_curves")

    def weigh(self, run: RunRecord, ctx: Context) -> Weighing:
        c = ctx.curves
        w = Weighing(prior=-3.0)
        w.facts.update(gap=c.gap, val_loss_rise=c.val_loss_rise, best_epoch=c.best_epoch,
                       epochs_past_best=c.epochs_past_best, monitor=c.monitor,
                       best_value=c.best_value, train_metric_last=c.train_metric_last,
                       val_loss_min_epoch=c.val_loss_min_epoch, n_epochs=c.n_epochs)
        w.use(GAP, c.gap)
        w.use(VAL_LOSS_RISE, c.val_loss_rise)
        if finite(c.loss_last) and c.loss_last > 0 and finite(c.val_loss_last):
            w.facts["loss_ratio"] = c.val_loss_last / c.loss_last
            w.use(LOSS_RATIO, w.facts["loss_ratio"])
        if finite(c.val_loss_rise) and c.val_loss_rise > 0.05:
            w.use(DROP_AFTER_BEST, c.loss_drop_after_val_best)
        gap_open = finite(c.gap) and c.gap > 0.03
        if c.mode == "max" and finite(c.train_metric_last) and c.train_metric_last <= 1.0 and gap_open:
            w.use(TRAIN_FIT, c.train_metric_last)
        if c.n_epochs >= 6 and c.best_epoch is not None and gap_open:
            w.use(PAST_BEST, c.epochs_past_best / c.n_epochs)
        data = run.meta.get("data") or {}
        n_params = (run.meta.get("model") or {}).get("n_params")
        if n_params and data.get("n_train"):
            w.facts["params_per_sample"] = n_params / max(1, data["n_train"])
            w.use(CAPACITY, w.facts["params_per_sample"])
        self._against(w, ctx)
        self._against_eval_order(w, run, c.gap)
        self._needs_harm(w, ctx)
        return w

    @staticmethod
    def _against_eval_order(w: Weighing, run: RunRecord, gap: float) -> None:
        check = run.meta.get("batch_order") or {}
        if not (check.get("checked") and finite(check.get("low")) and check["low"] > 0
                and finite(gap) and gap > 0.03):
            return
        closed = (check["accuracy_shuffled"] - check["accuracy_stored"]) / gap
        w.use(EVAL_ORDER, closed, shown=f"{closed:.0%} of a {gap:.3f} gap")

    @staticmethod
    def _needs_harm(w: Weighing, ctx: Context) -> None:
        """Memorisation is the cause of a stuck metric only when it hurts validation: the
        validation loss turns up, or the metric falls from its best beyond its own interval.
        A stable gap over a plateau is the price of fitting, not a fault."""
        c, interval = ctx.curves, ctx.val_interval
        rise = ramp(c.val_loss_rise, 0.05, 0.2)
        decline = float("nan")
        if interval is not None and finite(c.best_value) and finite(c.last_value) and c.mode == "max":
            half = max((interval[3] - interval[2]) / 2, 1e-6)
            decline = (c.best_value - c.last_value) / half
        # a gap of GAP_MEMORISED and more is memorisation that costs validation whether or not
        # it still grows (full at twice that: no plateau's price of fitting is that large)
        gap = ctx.established_gap
        memorised = ramp(gap["gap"], GAP_MEMORISED, 2 * GAP_MEMORISED) if gap else 0.0
        harm = max(rise, ramp(decline, 0.5, 1.5), memorised)
        w.facts["harm"] = harm
        if harm < 1:
            # 0.45 without any harm (below the reporting threshold), full confidence with it
            w.cap = 0.45 + 0.55 * harm
            w.facts["confidence_note"] = ("validation is not getting worse: the validation loss "
                                          f"rose {c.val_loss_rise:.0%} from its minimum")

    def _against(self, w: Weighing, ctx: Context) -> None:
        f, c = ctx.features, ctx.curves
        w.use(NOISE_EXCESS, ctx.noise_excess)
        peak, peak_z = ctx.val_lead_peak
        lag, how = ctx.train_val_lag
        if finite(peak_z):
            w.use(PEAK_LEAD, peak_z, shown=f"{peak:.3f} ({peak_z:.1f} s.e.)")
        else:
            w.use(VAL_AHEAD, lag, name=f"validation accuracy ahead of training ({how})")
        if f is not None:
            w.use(DOMAIN, f.domain_auc)
            if finite(f.ref_cv_accuracy) and finite(f.ref_val_accuracy):
                drop = f.ref_cv_accuracy - f.ref_val_accuracy
                w.use(REF_DROP, drop, shown=f.reference_read(f"{drop:.3f}"))
        interval = ctx.val_interval
        if interval is not None and finite(c.gap) and c.gap > 0 and c.mode == "max":
            half = max((interval[3] - interval[2]) / 2, 1e-6)
            w.use(WITHIN_INTERVAL, c.gap / half, shown=f"{c.gap / half:.2f} (n_val={interval[0]})")
        k = ctx.classes
        if k is not None and k.lagging and finite(k.lagging_gap_share):
            share = len(k.lagging) / max(1, len(k.recall))
            w.use(CONCENTRATED, k.lagging_gap_share - share,
                  shown=f"{k.lagging_gap_share:.2f} in {len(k.lagging)} of {len(k.recall)} classes")
        w.use(AT_CHANCE, ctx.val_above_chance)
        w.use(NO_FIT, c.loss_drop)
        w.use(STILL_IMPROVING, c.val_loss_fall_last_third)
        w.use(VAL_JUMP, c.val_loss_jump)
        w.use(LOSS_LAG, ctx.loss_lag_at_best)
        use_disagreement(w, DISAGREE, ctx)
        use_split_disagreement(w, SPLITS, ctx)
        use_label_consistency(w, CONSISTENCY, ctx)
        use_purity_lead(w, PURITY, ctx)

