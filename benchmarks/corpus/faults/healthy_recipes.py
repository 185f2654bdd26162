"""More healthy runs: recipes practitioners use whose curves look unusual but are fine.

Registered after every other implementation (imported last), so the seeds of the cases
designed before them do not move. They run on development sources only: the held-out part
of the corpus stays exactly what it was.
"""

from __future__ import annotations

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.faults.healthy import _modest
from benchmarks.corpus.faults.registry import NO_GRU, implementation, lerp

# every source outside benchmarks/diagnosis/heldout.py's HELD_OUT_SOURCES and the big ones
DEV_SOURCES = ("digits", "shapes16", "waves", "tokens_motif", "breast_cancer", "iris",
               "glass", "biopsy", "clf_binary_imb", "clf_k12_imb", "blobs_k4",
               "blobs_k8_hard", "moons", "circles")
NOT_TOKENS = ("vector", "image", "signal")
# SGD with momentum at these rates memorises clf_binary_imb's 1 % flipped labels within 20
# epochs (training loss 0.01, validation loss 20 % above its minimum): not a healthy run
STEP_SOURCES = tuple(s for s in DEV_SOURCES if s != "clf_binary_imb")


@implementation("healthy/step_decay", count=7, full_train=True, layouts=NOT_TOKENS,
                sources=STEP_SOURCES, knob="epochs 15-30")
def step_decay(case: Case, severity: float, rng: np.random.Generator) -> None:
    """SGD with momentum and a x0.1 learning-rate step at two thirds of the run: the
    curves jump at the step (a classic vision recipe)."""
    _modest(case)
    s = case.spec
    s.optimizer, s.lr, s.momentum = "sgd", float(rng.uniform(0.02, 0.05)), 0.9
    s.schedule, s.epochs, s.early_stopping = "step", int(lerp(severity, 15, 30)), False
    case.description = f"SGD lr {s.lr:.3f} momentum 0.9, x0.1 at epoch {2 * s.epochs // 3}"


# A run still improving slowly at its end may fairly be called "learning rate too low" too.
@implementation("healthy/still_improving", count=7, full_train=True, families=NO_GRU,
                sources=DEV_SOURCES, acceptable="healthy;optimization",
                knob="Adam lr 1e-3 to 3e-4")
def still_improving(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A cautious learning rate: both curves still improve when the run ends."""
    _modest(case)
    s = case.spec
    s.optimizer, s.lr = "adam", float(10 ** lerp(severity, np.log10(1e-3), np.log10(3e-4)))
    s.schedule, s.epochs, s.early_stopping = "constant", int(rng.integers(12, 21)), False
    case.description = f"Adam lr {s.lr:.1e}, {s.epochs} epochs, still improving at the end"


@implementation("healthy/augmented", count=7, full_train=True, layouts=NOT_TOKENS,
                sources=DEV_SOURCES, knob="input noise std 0.1-0.5")
def augmented(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Gaussian-noise augmentation of the training inputs: the logged training metric
    (computed on noisy inputs) trails the validation one, a healthy sign."""
    _modest(case)
    s = case.spec
    s.input_noise = lerp(severity, 0.1, 0.5)
    s.schedule, s.epochs = "cosine", 20
    case.description = f"training inputs augmented with noise (std {s.input_noise:.2f})"
