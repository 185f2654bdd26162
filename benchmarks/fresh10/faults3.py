"""Fault implementations of the tenth fresh test set, part 3: subgroup_underfitting,
metric_saturation and healthy runs. They register into
``benchmarks.fresh10.faults.IMPLEMENTATIONS`` (see that module's docstring).
"""

from __future__ import annotations

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.faults.registry import lerp
from benchmarks.fresh5.faults import bare, extra  # the same recipe helpers
from benchmarks.fresh6.faults2 import sized  # the same recipe helper
from benchmarks.fresh9.faults2 import brief  # the same recipe helper
from benchmarks.fresh10.faults import NO_GRU, implementation
from benchmarks.fresh10.sources import AA, WEAK, grid_signals, mitosis_images

# == subgroup_underfitting: a sub-group in both splits that a plain model under-fits =========

def _subgroup_recipe(case: Case, severity: float) -> None:
    case.spec.set_binary(False)
    case.spec.labels, case.spec.metrics = "sparse", ["accuracy"]
    brief(case, int(round(lerp(severity, 12, 6))))


@implementation("subgroup_underfitting/low_magnification", count=3, sources=("mitosis16",),
                families=("mlp", "cnn2d"), knob="share 25 %-12 %; epochs 12-6")
def low_magnification(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A share of the plates (both splits alike) were imaged on the screening microscope
    with a lower-magnification objective: the nuclei cover about half the pixels, so the
    foci and plates that tell the phases apart sit near the resolution limit (the phase is
    still visible). A plain model trained briefly fits the high-magnification cutouts and
    under-fits the low-magnification ones."""
    share = lerp(severity, 0.25, 0.12)
    for part in ("train", "val"):
        x = getattr(case, f"x_{part}").copy()
        y = getattr(case, f"y_{part}")
        rows = np.flatnonzero(rng.random(len(x)) < share)
        x[rows] = mitosis_images(y[rows], rng, scale=0.55)
        setattr(case, f"x_{part}", x)
    _subgroup_recipe(case, severity)
    case.description = f"{share:.0%} low-magnification cutouts in both splits; brief training"


@implementation("subgroup_underfitting/signal_peptide", count=2, sources=("tokens_protein",),
                families=("embed",), knob="share 25 %-12 %; epochs 12-6")
def signal_peptide(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A share of the proteins (both splits alike) are secreted: their window starts with
    a signal peptide (n-region of K/R, a hydrophobic h-region of 8-13 residues, an A-x-A
    cleavage site) that looks like a membrane helix to a composition model; the class is
    in the rest of the window. A plain model trained briefly under-fits them."""
    share = lerp(severity, 0.25, 0.12)
    for part in ("train", "val"):
        x = getattr(case, f"x_{part}").copy()
        for i in np.flatnonzero(rng.random(len(x)) < share):
            pep = ["M"] + list(rng.choice(list("KR"), int(rng.integers(2, 4))))
            pep += list(rng.choice(list("LLLAAVIF"), int(rng.integers(8, 14))))
            pep += ["A", str(rng.choice(list("SGTQ"))), "A"]
            x[i, :len(pep)] = [AA[a] for a in pep]
        setattr(case, f"x_{part}", x.astype("int32"))
    _subgroup_recipe(case, severity)
    case.description = f"{share:.0%} proteins with a signal peptide in both splits; brief training"


# == metric_saturation: genuinely easy targets, trained far past the ceiling ==================

def _target(case: Case, names: list[str], epochs: int) -> None:
    case.n_classes, case.class_names = len(names), names
    case.spec.labels, case.spec.output, case.spec.metrics = "sparse", "softmax", ["accuracy"]
    bare(case, epochs=epochs)


@implementation("metric_saturation/mains_frequency", count=3, sources=("grid_quality",),
                families=("cnn1d",), knob="epochs 30-60")
def mains_frequency(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Recordings pooled from European (50 Hz) and North American (60 Hz) utilities: half
    the windows of both splits are 60 Hz recordings of the same disturbances; the target is
    the grid frequency, physically evident in every window. Trained far past the ceiling."""
    epochs = int(round(lerp(severity, 30, 60)))
    for part in ("train", "val"):
        x = getattr(case, f"x_{part}").copy()
        y = getattr(case, f"y_{part}")
        sixty = rng.random(len(x)) < 0.5
        x[sixty] = grid_signals(y[sixty], rng, f0=60.0)
        setattr(case, f"x_{part}", x)
        setattr(case, f"y_{part}", sixty.astype("int64"))
    _target(case, ["50Hz", "60Hz"], epochs)
    case.description = f"50 vs 60 Hz, {epochs} epochs"


@implementation("metric_saturation/defocus_qc", count=3, sources=("mitosis16",),
                families=("cnn2d", "mlp"), knob="epochs 30-60")
def defocus_qc(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Autofocus quality control: half the cutouts of both splits are out of focus (the
    same nuclei imaged 4-6 um off the focal plane: a wide blur, same photon budget); the
    target is in focus vs defocused, an easy task trained far past its ceiling."""
    from scipy.ndimage import gaussian_filter

    epochs = int(round(lerp(severity, 30, 60)))
    for part in ("train", "val"):
        x = getattr(case, f"x_{part}").copy()
        bad = rng.random(len(x)) < 0.5
        for i in np.flatnonzero(bad):
            img = x[i, :, :, 0]
            bg = float(np.median(img))
            blurred = gaussian_filter(img - bg, rng.uniform(2.5, 3.5)) + bg
            x[i, :, :, 0] = blurred + rng.normal(0, 0.01, img.shape)
        setattr(case, f"x_{part}", np.clip(x, 0, 1).astype("float32"))
        setattr(case, f"y_{part}", bad.astype("int64"))
    _target(case, ["in_focus", "defocused"], epochs)
    case.description = f"in focus vs defocused, {epochs} epochs"


# == healthy ===================================================================================

def _healthy(case: Case, name: str, lr: float, epochs: int, **kwargs: object) -> None:
    sized(case)
    s = case.spec
    s.optimizer, s.lr, s.schedule, s.epochs, s.early_stopping = name, lr, "constant", epochs, False
    extra(case)["optimizer"] = (name, dict(kwargs))


@implementation("healthy/selu_network", count=3, full_train=True, exclude=WEAK,
                families=("mlp", "cnn2d", "cnn1d"), knob="lr 5e-4 - 1.5e-3")
def selu_network(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A self-normalising network: SELU activations with LeCun-normal kernels, Adam,
    constant rate, 15 epochs."""
    lr = lerp(severity, 5e-4, 1.5e-3)
    _healthy(case, "adam", lr, 15)
    extra(case).update(activation="selu", reinit="lecun_normal")
    case.description = f"SELU + LeCun normal, Adam {lr:.1e}, 15 epochs"


@implementation("healthy/orthogonal_init", count=3, full_train=True, exclude=WEAK, families=NO_GRU,
                knob="lr 7e-4 - 2e-3")
def orthogonal_init(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Orthogonal initialisation of every Dense/Conv kernel, Adam, constant, 15 epochs."""
    lr = lerp(severity, 7e-4, 2e-3)
    _healthy(case, "adam", lr, 15)
    extra(case)["reinit"] = "orthogonal"
    case.description = f"orthogonal init, Adam {lr:.1e}, 15 epochs"


@implementation("healthy/focal_loss", count=2, full_train=True, exclude=WEAK, families=NO_GRU,
                knob="gamma 1-2")
def focal_loss(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The focal loss (cross-entropy down-weighting well-classified rows, gamma 1-2) as the
    training loss, Adam 1e-3, 15 epochs."""
    gamma = lerp(severity, 1.0, 2.0)
    _healthy(case, "adam", 1e-3, 15)
    if case.spec.labels != "binary":
        case.spec.labels, case.spec.output, case.spec.from_logits = "onehot", "softmax", False
    case.spec.class_weight = False
    extra(case)["focal"] = gamma
    case.description = f"focal loss gamma {gamma:.1f}, Adam 1e-3, 15 epochs"


@implementation("healthy/rmsprop_momentum", count=2, full_train=True, exclude=WEAK, families=NO_GRU,
                knob="lr 3e-4 - 8e-4")
def rmsprop_momentum(case: Case, severity: float, rng: np.random.Generator) -> None:
    """RMSprop with momentum 0.9, constant rate, 15 epochs."""
    lr = lerp(severity, 3e-4, 8e-4)
    _healthy(case, "rmsprop", lr, 15, momentum=0.9)
    case.description = f"RMSprop {lr:.1e} momentum 0.9, 15 epochs"
