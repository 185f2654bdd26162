"""Fault implementations of the fourteenth fresh test set (a twelfth independent
implementation of every cause), written apart from the corpus's and fresh2's to fresh13's.

Each implementation is a function ``inject(case, severity, rng)`` that changes a case's raw
data and recipe in place (``severity`` in [0, 1] mapped to the implementation's own knob),
registered by id ("cause/variant") with the corpus's ``Impl`` dataclass in this module's own
``IMPLEMENTATIONS`` (``faults2.py`` and ``faults3.py`` register the rest into the same dict;
nothing goes into an earlier set's registry). Model changes the corpus's ``Spec`` has no
field for go into ``case.spec.extra`` and are built by ``benchmarks/fresh14/models.py``.

This file: label_noise, overfitting, metric_mismatch.
"""

from __future__ import annotations

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.faults.registry import Impl, lerp, registrar
from benchmarks.fresh5.faults import bare, shrink_train  # the same recipe helpers
from benchmarks.fresh8.faults import memorise  # the same recipe helper
from benchmarks.fresh14.sources import API, STALL, TABLES, a1c_class, cgm_traces, draw_a1c

IMPLEMENTATIONS: dict[str, Impl] = {}
MEMORISERS = ("mlp", "cnn2d", "cnn1d", "embed")
NO_GRU = ("linear", "mlp", "cnn2d", "cnn1d", "embed")

implementation = registrar(IMPLEMENTATIONS)  # registers into this set's own registry


# == label_noise: wrong training labels, validation labels clean =============================

@implementation("label_noise/point_of_care_hba1c", count=3, sources=("cgm_glucose",),
                families=MEMORISERS, knob="point-of-care assay error SD 0.4-1.0 %-points")
def point_of_care_hba1c(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The glycaemic category of the training participants was read from a point-of-care
    HbA1c device at enrolment (reads 0.25 %-points high on average, with a per-test error
    of SD ``s``), while the validation participants' category comes from the laboratory
    assay. The category is a band of HbA1c, so every training participant near a band edge
    may land in the neighbouring category. Training recordings re-drawn from a latent
    HbA1c per participant (in the band of its label); roomy unregularised model, 45 epochs,
    720 training rows (fresh8's ``memorise``)."""
    sd = lerp(severity, 0.4, 1.0)
    shrink_train(case, 720, rng)
    a1c = draw_a1c(case.y_train, rng)
    case.x_train = cgm_traces(a1c, rng)
    y = a1c_class(a1c + 0.25 + rng.normal(0, sd, len(a1c)))
    wrong = float(np.mean(y != case.y_train))
    case.y_train = y
    memorise(case)
    case.description = f"training labels from a point-of-care HbA1c (SD {sd:.2f}; {wrong:.0%} wrong)"


@implementation("label_noise/sandbox_timeout_benign", count=3, sources=("tokens_apicall",),
                families=("embed",), knob="share of stalling samples the sandbox timed out on 0.6-1.0")
def sandbox_timeout_benign(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The training labels are the verdicts of an automated sandbox with a 30-s detonation
    timeout: malicious samples that stall first (sleep loops, tick-count checks: a third of
    them) showed nothing within 30 s and were labelled benign, although the traces (from
    the full five-minute detonation) show their behaviour. Validation labels are analysts'.
    Roomy unregularised model, 45 epochs, 720 training rows."""
    r = lerp(severity, 0.6, 1.0)
    shrink_train(case, 720, rng)
    stalls = np.isin(case.x_train[:, 0], [API[a] for a in STALL])
    hit = stalls & (case.y_train > 0) & (rng.random(len(stalls)) < r)
    y = case.y_train.copy()
    y[hit] = 0
    case.y_train = y.astype("int64")
    memorise(case)
    case.description = f"{hit.mean():.0%} of training rows labelled benign by a timed-out sandbox"


# == overfitting ===============================================================================

@implementation("overfitting/stacked_in_sample_forest", count=3, sources=TABLES,
                families=("mlp",), knob="training rows 600-200")
def stacked_in_sample_forest(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Stacking without out-of-fold predictions: a fully grown random forest is fit on the
    training rows and its class probabilities are appended as input columns for the
    network; on the training rows they are the forest's in-sample predictions (it has
    memorised them: near one-hot and right), on validation rows honest ones. The
    unregularised MLP (60 epochs) learns to trust those columns and little else."""
    from sklearn.ensemble import RandomForestClassifier

    shrink_train(case, int(lerp(severity, 600, 200)), rng)
    forest = RandomForestClassifier(n_estimators=100, random_state=int(rng.integers(1 << 30)))
    forest.fit(case.x_train, case.y_train)
    case.x_train = np.column_stack([case.x_train, forest.predict_proba(case.x_train)]).astype("float32")
    case.x_val = np.column_stack([case.x_val, forest.predict_proba(case.x_val)]).astype("float32")
    bare(case, width=2, epochs=60, batch=16)
    case.description = f"in-sample forest probabilities as inputs, {len(case.y_train)} training rows"


@implementation("overfitting/debug_subset_left_on", count=3,
                sources=("lattice16", "cgm_glucose", "tokens_apicall"), families=MEMORISERS,
                knob="subset 15 %-6 % of the training rows")
def debug_subset_left_on(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A ``--subset`` flag for quick debugging runs was left in the launch script: only a
    random 6-15 % of the training rows are loaded, and the script scales the epochs by
    ``1 / subset`` to keep the number of steps (capped at 80 epochs). A roomy,
    unregularised model sees the same few rows over and over."""
    frac = lerp(severity, 0.15, 0.06)
    shrink_train(case, max(60, int(frac * len(case.y_train))), rng)
    bare(case, width=3, epochs=min(80, int(round(6 / frac))), batch=16)
    case.description = (f"debug subset {frac:.0%} ({len(case.y_train)} rows), "
                        f"{case.spec.epochs} epochs")


# == metric_mismatch ===========================================================================

def _sparse_metric(case: Case, name: str, epochs: int) -> None:
    s = case.spec
    s.set_binary(False)
    s.labels = "sparse"
    s.metrics = [name]
    s.epochs, s.early_stopping = epochs, False


@implementation("metric_mismatch/max_for_argmax", count=3, families=NO_GRU,
                knob="epochs 12-25")
def max_for_argmax(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A hand-written accuracy takes the predicted class as ``cast(reduce_max(y_pred),
    'int32')`` where ``argmax`` was meant: the largest probability (below 1) casts to 0,
    so every row counts as 'predicted class 0' and the figure is the share of class 0
    among the labels, whatever the model learns. Loss and data are right."""
    epochs = int(round(lerp(severity, 12, 25)))
    _sparse_metric(case, "max_for_argmax_accuracy", epochs)
    case.description = f"accuracy with reduce_max for argmax (always class 0), {epochs} epochs"


@implementation("metric_mismatch/argmin_typo", count=3, families=NO_GRU,
                knob="epochs 12-25")
def argmin_typo(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A hand-written accuracy with ``argmin`` where ``argmax`` belongs (an autocomplete
    slip): a hit is a row whose LEAST likely class is its true class, so the figure falls
    towards 0 as the model gets better. Loss and data are right."""
    epochs = int(round(lerp(severity, 12, 25)))
    _sparse_metric(case, "argmin_accuracy", epochs)
    case.description = f"accuracy with argmin for argmax, {epochs} epochs"
