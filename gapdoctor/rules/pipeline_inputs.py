"""pipeline_bug's input-side breaks: validation rows or columns that a loader step broke
rather than a changed world moved (rows erased to one or two values, columns that break the
training data's schema, values carried past twice training's range, token sequences filled
with an id training's are not). Counted, not inferred; :mod:`gapdoctor.rules.pipeline_bug` weighs
these, and :mod:`gapdoctor.rules.distribution_shift` counts them against a shift."""

from __future__ import annotations

from gapdoctor.analysis.context import Context
from gapdoctor.analysis.integrity import (
    FAR_FACT,
    FAR_RANGE,
    HARD_FACT,
    INTEGRITY_FACT,
    INTEGRITY_RANGE,
)
from gapdoctor.analysis.tokens import NEW_FILL_FACT, NEW_FILL_RANGE
from gapdoctor.rules.base import Tags, Weighing, finite
from gapdoctor.rules.evidence import Ramp

E = "pipeline_bug."
COLLAPSED = Ramp(E + "collapsed", "validation rows whose inputs take at most two distinct values, "
                 "share beyond the training share", 0.02, 0.1, 5.0,
                 "counted, not inferred: such a row carries almost nothing (a blank image from a failed "
                 "decode, a float image cast to uint8, a zero-filled join); a real shift moves inputs, "
                 "it does not erase them; 10% of validation so is a broken step, not the data")
INTEGRITY = Ramp(E + "integrity", INTEGRITY_FACT, *INTEGRITY_RANGE, 2.5,
                 "counted, not inferred, like erased rows, but a coarse instrument or a dead sensor "
                 "also piles values on one: half their weight. A parse, cast, byte order or unit "
                 "on the validation path breaks columns; a changed world moves their values")

HARD_BREAK = Ramp(E + "hard_break", HARD_FACT, 0, 1, 3.0,
                  "one field stuck, or moved past twice its training range, is a step of the "
                  "validation path (a flag parsed to one value, a unit, a date origin, a byte "
                  "order) whatever the other columns do; a changed world keeps values within "
                  "reach of training's")

FAR_VALUES = Ramp(E + "far_values", FAR_FACT, *FAR_RANGE, 3.0,
                  "a byte order, a decode into the wrong type or a scale applied twice carries most "
                  "values past twice training's range; a changed world lifts some values there "
                  "(fluorescence, a brighter baseline), not a fifth of them")

NEW_FILL = Ramp(E + "new_fill", NEW_FILL_FACT, *NEW_FILL_RANGE, 3.0,
                "padding is the loader's, not the world's: sequences filled with an id training's "
                "never are had their pad id changed, were truncated or de-duplicated, or mapped to "
                "the unknown id on the validation path; shorter texts alone pad with the usual id")


def weigh_collapsed(w: Weighing, ctx: Context, tags: Tags) -> None:
    share, (excess, trust, why) = ctx.collapsed_inputs, ctx.collapsed_excess
    if not finite(excess):
        return
    w.facts.update(collapsed_val=share["val"], collapsed_train=share["train"])
    shown = f"{share['val']:.1%} of validation rows, {share['train']:.1%} of training rows"
    if w.use(COLLAPSED, excess, shown=shown, gate=trust, gate_reason=why) * trust > 0:
        tags.add(w, "collapsed")


def weigh_integrity(w: Weighing, ctx: Context, tags: Tags) -> None:
    """Validation columns that break what training shows (analysis/integrity.py)."""
    found = ctx.integrity
    if found is None:
        return
    described = found.describe()
    counted = w.use(INTEGRITY, found.share, shown=described)
    if counted:
        tags.add(w, "integrity")
    if found.n_hard and w.use(HARD_BREAK, found.n_hard, shown=described):
        tags.add(w, "integrity")
        counted = True
    if counted:
        w.facts.update(integrity_columns=found.kinds(), integrity_broken=found.n_broken,
                       integrity_checked=found.checked)


def weigh_far_values(w: Weighing, ctx: Context, tags: Tags) -> None:
    """Images, signals and projected columns carried past twice training's range."""
    far = ctx.far_values
    if far is not None and w.use(FAR_VALUES, far, shown=f"{far:.1%} of validation input values"):
        tags.add(w, "far_values")
        w.facts["far_values"] = far


def weigh_new_fill(w: Weighing, ctx: Context, tags: Tags) -> None:
    """Token sequences padded (or filled) with an id training's are not."""
    share = ctx.new_fill
    if share is not None and w.use(NEW_FILL, share, shown=f"{share:.1%} of validation sequences"):
        tags.add(w, "new_fill")
        w.facts["new_fill"] = share
