"""optimization: the optimiser, not the data (learning rate, momentum, init, dead units)."""

from __future__ import annotations

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.faults.registry import EASY, implementation, lerp

BOTH = "optimization;pipeline_bug"


def _plain(case: Case) -> None:
    """No safety nets that would hide the optimiser's problem."""
    s = case.spec
    s.schedule, s.early_stopping, s.batchnorm, s.clipnorm = "constant", False, False, 0.0


# (small near-separable sources still train at lr 0.1-0.2 with Adam)
@implementation("optimization/lr_high", count=6, exclude=EASY, knob="lr 10^-0.9 to 10^0 (Adam/RMSprop/AdamW)")
def lr_high(case: Case, severity: float, rng: np.random.Generator) -> None:
    """An adaptive optimiser with a learning rate far too high."""
    _plain(case)
    case.spec.optimizer = str(rng.choice(["adam", "rmsprop", "adamw"]))
    case.spec.lr = float(10 ** lerp(severity, -0.9, 0.0))
    case.description = f"{case.spec.optimizer} at lr={case.spec.lr:.2g}"


@implementation("optimization/lr_low", count=6, knob="lr 10^-5 to 10^-6.5")
def lr_low(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A learning rate far too low: the loss creeps down and the model stays near chance."""
    _plain(case)
    case.spec.optimizer = str(rng.choice(["adam", "sgd"]))
    case.spec.momentum = 0.0
    case.spec.lr = float(10 ** lerp(severity, -5.0, -6.5)) * (30 if case.spec.optimizer == "sgd"
                                                               else 1)
    case.description = f"{case.spec.optimizer} at lr={case.spec.lr:.2g}"


@implementation("optimization/exploding", count=6, families=("mlp",), acceptable=BOTH,
                knob="hidden init scale 2.5-7 x He, 4 layers")
def exploding(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A deep ReLU MLP initialised far above He scale, SGD with momentum and no clipping:
    activations and gradients explode."""
    _plain(case)
    s = case.spec
    s.depth, s.dropout = 4, 0.0
    s.init_scale = lerp(severity, 2.5, 7.0)
    s.optimizer, s.lr, s.momentum = "sgd", 0.02, 0.9
    case.description = f"4 ReLU layers at {s.init_scale:.1f}x He init, SGD lr 0.02, momentum 0.9"


@implementation("optimization/dead_relu", count=6, families=("mlp", "cnn2d", "cnn1d"),
                knob="hidden bias init -3 to -20")
def dead_relu(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Hidden Dense layers initialised with a large negative bias: most ReLUs are dead from
    the start and stay dead."""
    _plain(case)
    case.spec.hidden_bias = -lerp(severity, 3.0, 20.0)
    case.spec.dropout = 0.0
    case.description = f"hidden biases initialised at {case.spec.hidden_bias:.0f}"


# (embedding models shrug off SGD at lr 1: the fault does not bite there)
@implementation("optimization/sgd_lr1", count=6, acceptable=BOTH,
                families=("linear", "mlp", "cnn2d", "cnn1d"),
                knob="SGD lr 0.5-1.5 with momentum 0.9")
def sgd_lr1(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Plain SGD with lr around 1 and momentum 0.9 (a copied recipe meant for another loss)."""
    _plain(case)
    case.spec.optimizer, case.spec.momentum = "sgd", 0.9
    case.spec.lr = lerp(severity, 0.5, 1.5)
    case.description = f"SGD lr={case.spec.lr:.2f}, momentum 0.9"


@implementation("optimization/lr_zero", count=4, acceptable=BOTH, premise=True,
                knob="lr 1e-8 to 0")
def lr_zero(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A learning rate of (nearly) zero: a never-learning run, loss flat from epoch 1."""
    _plain(case)
    case.spec.lr = 1e-8 * (1 - severity)
    case.description = f"{case.spec.optimizer} at lr={case.spec.lr:.1g}"


@implementation("optimization/divergence", count=4, acceptable=BOTH, premise=True,
                knob="SGD lr 10^1 to 10^3")
def divergence(case: Case, severity: float, rng: np.random.Generator) -> None:
    """SGD with an absurd learning rate: the loss blows up to NaN within a few epochs."""
    _plain(case)
    case.spec.optimizer, case.spec.momentum = "sgd", 0.9
    case.spec.lr = float(10 ** lerp(severity, 1.0, 3.0))
    case.description = f"SGD lr={case.spec.lr:.0f}: divergence"
