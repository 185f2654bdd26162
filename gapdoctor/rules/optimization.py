"""optimization: the optimiser, not the data — divergence, a run that never learned, learning
rate, oscillation, exploding or vanishing gradients, dead units."""

from __future__ import annotations

import numpy as np

from gapdoctor.analysis.accuracy import UNLEARNED_FACT, UNLEARNED_RANGE
from gapdoctor.analysis.classes import label_counts
from gapdoctor.analysis.context import Context
from gapdoctor.record.schema import RunRecord
from gapdoctor.rules.base import Rule, Weighing, finite, ramp
from gapdoctor.rules.evidence import Ramp

E = "optimization."
DIVERGED = Ramp(E + "diverged", "the training loss diverged (NaN/inf, or 10x above its minimum)", 1, 1, 7.0,
                "a run that diverged is the finding, whatever else is seen")
NEVER_LEARNED = Ramp(E + "never_learned", "the training loss never left a constant prediction's level",
                     0.0, 1.0, 7.0, "no falling training loss: there is no gap story to tell")
LOSS_UP = Ramp(E + "loss_up", "epochs on which the training loss rose", 0.1, 0.3, 2.0,
               "a working optimiser lowers its epoch loss almost every epoch; 1 in 3 rising is oscillation")
SPIKE = Ramp(E + "spike", "largest epoch-to-epoch training loss ratio", 1.2, 2.0, 1.0,
             "a loss that jumps by half in one epoch overshot")
VAL_JUMP = Ramp(E + "val_jump", "largest one-epoch jump of the validation loss above its best so far, "
                "beyond the training loss's own rise", 3.0, 10.0, 5.0,
                "memorisation lifts the validation loss a few percent an epoch; several times its best "
                "within one epoch while the training loss holds is the evaluated model jumping (steps "
                "too large for its weights or batch statistics); healthy real runs stay below 1.6x, "
                "and at 10x it names the cause on its own",
                log=True)
REBOUND = Ramp(E + "rebound", "share of the training loss's drop (from a constant prediction's loss) "
               "undone after its minimum", 0.05, 0.3, 2.5,
               "an epoch-average training loss that gives back a third of what it had gained: the "
               "optimiser overshot (converged runs wobble by 2-5%)")
LOSS_ROSE = Ramp(E + "loss_rose", "training loss at the end relative to the start, minus 1", 0.02, 0.2, 3.0,
                  "a training loss that ends above where it started: the optimiser made the fit worse")
SMALL_DROP = Ramp(E + "small_drop", "training loss drop over the run", 0.3, 0.1, 2.5,
                  "the optimiser barely moves the loss")
NONFINITE_LAYERS = Ramp(E + "nonfinite_layers", "layers whose weights or gradients became NaN/inf", 1, 1, 2.5,
                        "the weights diverged")
PRIOR_LOSS = Ramp(E + "prior_loss", "final training loss / loss of predicting class frequencies",
                  0.8, 0.95, 2.5, "at 90% of the label entropy the network predicts little beyond class frequencies")
FAR_ABOVE_PRIOR = Ramp(E + "far_above_prior", "lowest training loss of the run / loss of predicting "
                       "class frequencies", 4.0, 10.0, 5.0,
                       "a per-sample mean cross-entropy drops below a constant prediction's as soon as "
                       "anything is learned (class weights on a rare class lifted it to 3.9x in our "
                       "corpus, healthy runs stay below 1.4x); 4x and more at its best means outputs "
                       "confidently wrong all run (saturated units) or a loss that is no per-sample "
                       "mean (summed over the batch, a large loss weight), which scales every step; "
                       "at 10x it names the cause on its own", log=True)
START_LOSS = Ramp(E + "start_loss", "first epoch's training loss / ln K (a uniform prediction's loss)",
                  2.0, 10.0, 5.0,
                  "a network at initialisation predicts near uniformly and its first epoch averages the "
                  "descent from there (the healthy runs of the corpus and fresh2-fresh16 start at 1.62x at most); twice "
                  "that or more means outputs that start far from uniform - an initialisation, output bias, "
                  "input scale or penalty the optimiser must first undo; at 10x it names the cause on its "
                  "own, as a best loss 10x a constant prediction's does", log=True)
HIGH_LR = Ramp(E + "high_lr", "learning rate in effect / usual upper end for the optimiser", 1.0, 5.0, 0.8,
               "above 1e-2 for adaptive optimisers, or for SGD a step of lr / (1 - momentum) above "
               "1 (0.1 with momentum 0.9, the large end of common recipes), steps are large",
               log=True)
UNLEARNED = Ramp(E + "unlearned", UNLEARNED_FACT, *UNLEARNED_RANGE, 2.0,
                 "the model lost on its own training rows what it had learned there: updates too "
                 "large, or a penalty that outweighs the data (5 of 721 benchmark runs reach the "
                 "ramp, all optimisation faults)")
SMOOTH = Ramp(E + "smooth", "training loss drop, when it rarely rises", 0.7, 0.9, -1.5,
              "a large, smooth decrease means the optimiser works")
UPDATE_BIG = Ramp(E + "update_big", "median per-epoch update ratio |dW|/|W|", 0.15, 0.6, 1.5,
                  "healthy updates move weights by 1e-3..1e-1 of their norm per epoch", log=True)
UPDATE_FROZEN = Ramp(E + "update_frozen", "median per-epoch update ratio |dW|/|W| (frozen)", 1e-5, 1e-6, 1.0,
                     "weights that move by a millionth per epoch do not learn", log=True)
GRAD_GROWTH = Ramp(E + "grad_growth", "gradient norm growth (last epoch / first)", 3.16, 31.6, 1.5,
                   "gradients 10x larger than at the start are exploding", log=True)
GRAD_NONFINITE = Ramp(E + "grad_nonfinite", "non-finite gradient norms", 1, 1, 2.0, "exploding gradients")
VANISHING = Ramp(E + "vanishing", "smallest / largest layer gradient norm (last epoch)", 1e-4, 1e-6, 1.5,
                 "a layer whose gradient is a millionth of another's no longer learns", log=True)
DEAD = Ramp(E + "dead", "dead ReLU units in the worst layer (mean over epochs)", 0.4, 0.8, 2.0,
            "over half the units of a layer never firing: capacity lost, usually after large steps")
ALL_DEAD = Ramp(E + "all_dead", "dead ReLU units in the worst layer, nearly all", 0.9, 0.99, 1.5,
                "a layer that passes no signal at all")
NO_SIGNAL = Ramp(E + "no_signal", "ROC AUC of reference models on the training labels (linear and "
                 "nearest-neighbour, CV), the better", 0.6, 0.55, -3.0,
                 "labels that no simple model predicts from the inputs: the labels, not the optimiser")
BEHIND_REFERENCE = Ramp(E + "behind_reference", "the network's training accuracy above the majority rate, "
                        "as a share of a simple model's cross-validated accuracy above it",
                        0.3, 0.1, 4.0,
                        "a network scored on the rows it trained on should at least match a logistic "
                        "regression scored on rows it never saw; at a tenth of its way or less (39 optimiser "
                        "faults, 6 broken losses or NaN inputs and 1 undertrained run of 535 benchmark runs) "
                        "the training, not the data, holds it back; healthy runs reached 0.43 at the least, "
                        "other causes 0.45 (a from_logits mismatch 0.31)")
UNMIXED = Ramp(E + "unmixed", "batches of one class under fit(shuffle=False), share beyond random order",
               0.1, 0.5, 3.0,
               "rows stored class by class and fed unshuffled make every step pull towards one class; "
               "in random order a batch of 32 is one class far under 1% of the time")
NAN_INPUTS = Ramp(E + "nan_inputs", "NaN or inf in the inputs", 1, 1, -4.0,
                  "the data, not the optimiser, explains these symptoms")


class OptimizationRule(Rule):
    cause = "optimization"
    requires = ("curves",)  # a loss that is NaN from the first epoch is the finding itself

    def missing(self, run: RunRecord) -> str | None:
        """The training loss column is needed, NaN or not: the optimiser is judged by it."""
        absent = super().missing(run)
        if absent is None and "loss" not in run.curves.columns:
            return "no training loss curve (loss)"
        return absent

    def weigh(self, run: RunRecord, ctx: Context) -> Weighing:
        w = Weighing(prior=-3.0)
        c, p = ctx.curves, ctx.premise
        lr = self._lr(run)
        w.facts.update(lr=lr, loss_up_fraction=c.loss_up_fraction, loss_spike=c.loss_spike,
                       loss_drop=c.loss_drop, premise_reason="; ".join(p.reasons),
                       # the story tells the share of rising epochs only when some rose
                       loss_up_told=c.loss_up_fraction if c.loss_up_fraction else None)
        if p.nonfinite_recovered:
            w.note("epochs whose training loss was NaN/inf, finite again after",
                   ", ".join(map(str, p.nonfinite_recovered[:5])),
                   "a batch's loss overflowed (e.g. log of 0), not the weights (NaN weights stay "
                   "NaN): not a divergence, but a loss worth clipping or a learning rate to lower")
        if p.diverged:
            w.use(DIVERGED, 1.0, shown=p.reasons[0])
            w.variant = "diverged"
        elif p.never_learned > 0:
            w.use(NEVER_LEARNED, p.never_learned, shown=round(p.never_learned, 3))
            if p.never_learned >= 0.5:
                w.variant = "not_learning"
        if finite(c.loss_up_fraction) and c.n_epochs >= 5:
            w.use(LOSS_UP, c.loss_up_fraction)
        w.use(SPIKE, c.loss_spike)
        if not p.diverged and w.use(VAL_JUMP, c.val_loss_jump) >= 0.5 and w.variant == "default":
            w.facts["val_loss_jump"] = c.val_loss_jump
            w.variant = "val_jump"
        w.use(UNLEARNED, ctx.unlearned)
        if not p.diverged:
            w.use(REBOUND, p.rebound)
            if finite(c.loss_drop):
                w.use(LOSS_ROSE, -c.loss_drop)
        if not p.diverged:
            w.use(SMALL_DROP, c.loss_drop)
        self._layers(w, run)
        self._learned_nothing(w, run, ctx)
        start = ctx.first_loss_vs_uniform
        started_far = finite(start) and w.use(
            START_LOSS, start, shown=f"{c.loss_first:.3g} ({start:.1f}x)") >= 0.5
        if started_far and w.variant == "default":
            w.variant = "start_loss"
            w.facts.update(first_loss=c.loss_first, start_vs_uniform=start)
        if not p.diverged:
            self._behind_reference(w, ctx)
        mix = ctx.unshuffled_batches
        if mix is not None and w.use(UNMIXED, mix.single_class - mix.expected, shown=(
                f"{mix.single_class:.0%} of {mix.n_batches} batches of {mix.batch_size} "
                f"(random order: {mix.expected:.1%})")) >= 0.5 and w.variant in ("default", "underfit"):
            w.variant = "unmixed"
            w.facts.update(single_class_batches=mix.single_class, batch_size=mix.batch_size)
        if w.variant in ("diverged", "not_learning", "val_jump", "loss_scale", "saturated", "underfit", "unmixed"):
            w.facts["fix_tags"] = [w.variant]
        f = ctx.features
        if f is not None and p.never_learned > 0:
            w.use(NO_SIGNAL, f.ref_cv_auc)
        if ctx.nonfinite_inputs:
            w.use(NAN_INPUTS, 1.0, shown="yes")
            # explained away: below the pipeline finding whatever else was seen
            w.cap = 0.6
            w.facts["confidence_note"] = "NaN/inf inputs explain the optimiser's symptoms"
        if finite(lr):
            optimizer = run.meta.get("optimizer") or {}
            opt = str(optimizer.get("class_name", "")).lower()
            if opt in ("adam", "adamw", "rmsprop", "nadam", "adamax"):
                w.use(HIGH_LR, lr / 0.01, shown=f"{lr:.3g} ({opt})")
            else:
                # momentum m repeats each step about 1 / (1 - m) times: that is the step taken
                momentum = (optimizer.get("config") or {}).get("momentum")
                m = float(momentum) if isinstance(momentum, (int, float)) and 0 <= momentum < 1 else 0.0
                w.use(HIGH_LR, lr / (1 - m), shown=f"{lr:.3g} ({opt or 'optimiser'}"
                      + (f", momentum {m:g}: step {lr / (1 - m):.3g})" if m else ")"))
        # a fall back from a first epoch that blew up, or from outputs that started far from
        # uniform, is no sign of a working optimiser
        if finite(c.loss_up_fraction) and c.loss_up_fraction < 0.1 and not p.blown_first_epoch \
                and not started_far:
            w.use(SMOOTH, c.loss_drop)
        return w

    @staticmethod
    def _behind_reference(w: Weighing, ctx: Context) -> None:
        """The network's fit of its own training rows against a simple model's held-out fit."""
        fit = ctx.reference_fit
        if fit is None:
            return
        shown = (f"{fit.network:.3f} ({fit.measured}) against {fit.reference:.3f} for the "
                 f"reference, majority rate {fit.majority:.3f}: {fit.share:.0%} of its way")
        if w.use(BEHIND_REFERENCE, fit.share, shown=shown) >= 0.5 and w.variant == "default":
            w.variant = "underfit"
            w.facts.update(train_fit=fit.network, reference_fit=fit.reference,
                           majority_rate=fit.majority, fit_share=fit.share,
                           train_fit_measured=fit.measured)

    @staticmethod
    def _learned_nothing(w: Weighing, run: RunRecord, ctx: Context) -> None:
        """Final training loss against the loss of predicting the class frequencies."""
        counts = label_counts(run, "train")
        c = ctx.curves
        # the label entropy of known training counts (ctx.loss_scale; NaN unless cross-entropy)
        if counts is None or (counts > 0).sum() < 2 or not finite(c.loss_last):
            return
        entropy = ctx.loss_scale
        if not finite(entropy) or entropy <= 0:
            return
        w.facts["loss_vs_prior"] = c.loss_last / entropy
        if not ctx.premise.diverged:
            OptimizationRule._far_above_prior(w, ctx, entropy)
        # class weights, dropout and label smoothing all raise the logged loss above the
        # prior entropy of a model that learned: a network that ranks validation well did
        auc = ctx.val_auc
        learned = ramp(auc, 0.6, 0.75) if finite(auc) else 0.0
        w.use(PRIOR_LOSS, c.loss_last / entropy, gate=1 - learned,
              gate_reason=f"validation ROC AUC {auc:.2f} (none from 0.75)" if finite(auc) else "")

    @staticmethod
    def _far_above_prior(w: Weighing, ctx: Context, entropy: float) -> None:
        """The run's best training loss many times a constant prediction's: say whether the
        logged loss is the model's own cross-entropy (confidently wrong outputs) or a multiple
        of it (a loss that is not a per-sample mean)."""
        logged = ctx.run.curves["loss"].to_numpy(float) if ctx.run.has("curve:loss") else np.array([])
        logged = logged[np.isfinite(logged)]
        if not len(logged):
            return
        lowest = float(logged.min())
        if w.use(FAR_ABOVE_PRIOR, lowest / entropy, shown=f"{lowest:.3g} ({lowest / entropy:.1f}x)") < 0.5:
            return
        own = ctx.own_train_loss
        w.facts.update(loss_vs_prior=lowest / entropy, own_train_loss=own, logged_loss=float(logged[-1]))
        if w.variant != "default":
            return
        # the model's own cross-entropy on training rows, from its predicted probabilities:
        # a logged loss several times it is scaled after the per-sample losses were taken
        if finite(own) and own > 0 and logged[-1] / own >= 4.0:
            w.facts["loss_multiple"] = float(logged[-1] / own)
            w.variant = "loss_scale"
        else:
            w.variant = "saturated"

    @staticmethod
    def _lr(run: RunRecord) -> float:
        for name in ("lr", "learning_rate"):
            if run.has(f"curve:{name}"):
                return float(run.curves[name].dropna().iloc[-1])
        value = ((run.meta.get("optimizer") or {}).get("config") or {}).get("learning_rate")
        return float(value) if isinstance(value, (int, float)) else float("nan")

    @staticmethod
    def _layers(w: Weighing, run: RunRecord) -> None:
        if not run.has("layers"):
            return
        t = run.layers
        # the first epoch moves weights away from their random initialisation, which says
        # nothing about the step size: judge the later epochs, and a 1-epoch run not at all
        steady = t[t["epoch"] > t["epoch"].min()] if "epoch" in t else t.iloc[0:0]
        ratio = steady["update_ratio"].astype(float)
        ratio = ratio[np.isfinite(ratio) & (ratio > 0)]
        if len(ratio):
            med = float(ratio.median())
            w.facts["update_ratio"] = med
            w.use(UPDATE_BIG, med, shown=f"{med:.2e}")
            w.use(UPDATE_FROZEN, med, shown=f"{med:.2e}")
        grad = t.pivot_table(index="epoch", columns="layer", values="grad_norm", aggfunc="mean")
        g = grad.to_numpy(float)
        if g.size and np.isfinite(g).any():
            first, last = np.nanmedian(g[0]), np.nanmedian(g[-1])
            if finite(first) and first > 0 and finite(last):
                w.use(GRAD_GROWTH, last / first)
            if not np.isfinite(g).all():
                w.use(GRAD_NONFINITE, 1.0, shown="yes")
            last_epoch = g[-1][np.isfinite(g[-1])]
            if len(last_epoch) >= 2 and last_epoch.max() > 0:
                smallest = float(last_epoch.min() / last_epoch.max())
                w.use(VANISHING, max(smallest, 1e-30), shown=f"{smallest:.1e}")
        dead = t.groupby("layer")["dead_fraction"].mean().astype(float).dropna()
        if len(dead):
            worst = float(dead.max())
            w.facts.update(dead_fraction=worst, dead_layer=str(dead.idxmax()))
            name = f"dead ReLU units in '{dead.idxmax()}' (mean over epochs)"
            w.use(DEAD, worst, name=name)
            w.use(ALL_DEAD, worst, name=name + ", nearly all")
        if "nonfinite" in t and (t["nonfinite"].astype(float) > 0).any():
            w.facts["nonfinite_layers"] = ", ".join(sorted(t.loc[t["nonfinite"] > 0, "layer"].astype(str).unique()))
            w.use(NONFINITE_LAYERS, 1.0, shown=w.facts["nonfinite_layers"])
