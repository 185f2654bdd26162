"""Training cases with a known, injected fault: the demo and the diagnosis benchmark.

Every case is a real dataset (scikit-learn's digits, or generated tabular data), a real
Keras model and one fault, so that a diagnosis can be checked against the truth.

Example:
    >>> case = build_case("label_noise", dataset="digits", severity=2)   # doctest: +SKIP
    >>> doctor = train_case(case, "gapdoctor-demo")                      # doctest: +SKIP
    >>> doctor.diagnosis.verdict                                         # doctest: +SKIP
    'label_noise'

TensorFlow/Keras are imported only when a model is built or trained.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gapdoctor.faults.data import DATASETS, load_dataset, subsample, take_rows

FAULTS = ("healthy", "overfitting", "label_noise", "metric_mismatch", "distribution_shift",
          "subgroup_underfitting", "pipeline_bug", "small_validation_set", "optimization",
          "metric_saturation")
ARCHS = ("mlp", "cnn")


@dataclass
class Case:
    """Data, model recipe and training settings of one run with a known fault."""

    fault: str
    dataset: str
    arch: str
    severity: int
    seed: int
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    n_classes: int
    description: str
    epochs: int = 25
    batch_size: int = 64
    width: int = 1
    optimizer: tuple[str, float] = ("adam", 1e-3)
    metric: str = "accuracy"
    binary: bool = False
    class_names: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.fault}-{self.dataset}-{self.arch}-s{self.severity}-r{self.seed}"


def build_case(fault: str, dataset: str = "digits", arch: str = "mlp", severity: int = 1,
               seed: int = 0) -> Case:
    """Make the data and settings of one faulty (or healthy) training run.

    Args:
        fault: one of ``FAULTS``.
        dataset: ``"digits"`` (scikit-learn, 8x8 images) or ``"tabular"`` (generated).
        arch: ``"mlp"`` or ``"cnn"``.
        severity: 1 (mild) or 2 (severe); for ``pipeline_bug`` it picks the bug variant.
        seed: seeds the data split, the fault and the model.
    """
    if fault not in FAULTS:
        raise ValueError(f"Unknown fault. Expected one of {FAULTS}. Received: fault={fault!r}")
    if dataset not in DATASETS:
        raise ValueError(f"Unknown dataset. Expected one of {DATASETS}. Received: dataset={dataset!r}")
    if arch not in ARCHS:
        raise ValueError(f"Unknown arch. Expected one of {ARCHS}. Received: arch={arch!r}")
    if severity not in (1, 2):
        raise ValueError(f"Expected severity 1 or 2. Received: severity={severity!r}")
    rng = np.random.default_rng(seed + 1000 * severity)
    x, y, n_classes = load_dataset(dataset, seed)
    case = Case(fault, dataset, arch, severity, seed, *_split(x, y, seed), n_classes=n_classes,
                description="a clean run", class_names=[str(i) for i in range(n_classes)])
    _INJECT[fault](case, rng)
    return case


def _split(x: np.ndarray, y: np.ndarray, seed: int, val_share: float = 0.3) -> tuple:
    from sklearn.model_selection import train_test_split

    x_tr, x_va, y_tr, y_va = train_test_split(x, y, test_size=val_share, stratify=y,
                                              random_state=seed)
    return x_tr, y_tr, x_va, y_va


def _healthy(case: Case, rng: np.random.Generator) -> None:
    case.epochs = 20


def _overfitting(case: Case, rng: np.random.Generator) -> None:
    n = {1: 18, 2: 9}[case.severity] * case.n_classes  # few samples per class, big model
    case.x_train, case.y_train = subsample(case.x_train, case.y_train, n, rng)
    case.width, case.epochs, case.batch_size = 4, 60, 16
    case.description = f"only {n} training samples for a wide model, 60 epochs"


def _label_noise(case: Case, rng: np.random.Generator) -> None:
    rate = {1: 0.25, 2: 0.4}[case.severity]
    flip = rng.random(len(case.y_train)) < rate
    shift = rng.integers(1, case.n_classes, size=int(flip.sum()))
    case.y_train = case.y_train.copy()
    case.y_train[flip] = (case.y_train[flip] + shift) % case.n_classes
    case.width, case.epochs = 2, 45
    case.description = f"{flip.mean():.0%} of training labels flipped to another class"


def _metric_mismatch(case: Case, rng: np.random.Generator) -> None:
    # One rare positive class, single sigmoid output, a threshold metric: the loss learns
    # the base rate and the ranking while F1 at 0.5 (or a metric that cannot move) stays put.
    positive = case.n_classes - 1
    for part in ("train", "val"):
        x, y = getattr(case, f"x_{part}"), getattr(case, f"y_{part}")
        pos, neg = np.flatnonzero(y == positive), np.flatnonzero(y != positive)
        keep = np.concatenate([neg, rng.choice(pos, max(4, int(0.05 * len(neg))), replace=False)])
        setattr(case, f"x_{part}", x[keep])
        setattr(case, f"y_{part}", (y[keep] == positive).astype("int64"))
    case.n_classes, case.binary, case.class_names = 2, True, ["other", f"class {positive}"]
    case.epochs, case.optimizer = 20, ("adam", 3e-4)
    if case.severity == 1:
        case.metric = "f1_at_0.5"
        case.description = "rare positive class (5%) monitored with F1 at threshold 0.5"
    else:
        case.metric = "f1_threshold_none"
        case.description = "F1Score(threshold=None) on a single sigmoid output: it cannot move"


def _distribution_shift(case: Case, rng: np.random.Generator) -> None:
    # Validation drawn from another region of input space: within each class, the samples
    # furthest along the first principal direction go to validation (covariate shift with
    # the label mix unchanged); severity 2 adds sensor noise to validation inputs.
    from sklearn.decomposition import PCA

    x = np.concatenate([case.x_train, case.x_val])
    y = np.concatenate([case.y_train, case.y_val])
    direction = PCA(n_components=1, random_state=case.seed).fit(x).transform(x)[:, 0]
    val_idx = []
    for c in range(case.n_classes):
        members = np.flatnonzero(y == c)
        order = members[np.argsort(direction[members])]
        val_idx.append(order[-int(0.3 * len(order)):])
    is_val = np.zeros(len(y), bool)
    is_val[np.concatenate(val_idx)] = True
    case.x_train, case.y_train, case.x_val, case.y_val = x[~is_val], y[~is_val], x[is_val], y[is_val]
    if case.severity == 2:
        case.x_val = case.x_val + rng.normal(0, 0.5 * case.x_train.std(), case.x_val.shape)
    case.epochs = 25
    case.description = "validation taken from one end of the input space" + (
        " with added input noise" if case.severity == 2 else "")


def _subgroup_underfitting(case: Case, rng: np.random.Generator) -> None:
    # A slice of classes whose inputs carry little signal (mostly replaced by values drawn
    # from other rows), in both splits alike: the model memorises them but cannot generalise.
    k = max(2, case.n_classes // 4)
    mix = {1: 0.8, 2: 0.95}[case.severity]
    for part in ("train", "val"):
        x, y = getattr(case, f"x_{part}").copy(), getattr(case, f"y_{part}")
        rows = np.flatnonzero(y < k)
        donors = take_rows(x, rng, len(rows))
        x[rows] = (1 - mix) * x[rows] + mix * donors
        setattr(case, f"x_{part}", x)
    case.width, case.epochs = 2, 35
    case.description = f"classes 0..{k - 1} carry {1 - mix:.0%} of their usual signal"


def _pipeline_bug(case: Case, rng: np.random.Generator) -> None:
    if case.severity == 1:
        d, sd = case.x_val.shape[1], case.x_train.std(0) + 1e-3
        case.x_val = case.x_val * rng.uniform(4.0, 12.0, d) + rng.uniform(1.0, 3.0, d) * sd
        case.description = "validation inputs scaled and offset by a preprocessing step train did not get"
    else:
        case.y_val = rng.permutation(case.y_val)
        case.description = "validation labels shuffled out of line with their inputs"
    case.epochs = 20


def _small_validation_set(case: Case, rng: np.random.Generator) -> None:
    n = {1: 40, 2: 20}[case.severity]
    case.x_val, case.y_val = subsample(case.x_val, case.y_val, n, rng)
    case.epochs = 25
    case.description = f"only {n} validation samples"


def _optimization(case: Case, rng: np.random.Generator) -> None:
    case.optimizer = {1: ("adam", 0.06), 2: ("sgd", 0.8)}[case.severity]
    case.epochs = 25
    case.description = f"learning rate far too high ({case.optimizer[0]} lr={case.optimizer[1]})"


def _metric_saturation(case: Case, rng: np.random.Generator) -> None:
    keep_classes = {1: 3, 2: 2}[case.severity]
    for part in ("train", "val"):
        x, y = getattr(case, f"x_{part}"), getattr(case, f"y_{part}")
        mask = y < keep_classes
        setattr(case, f"x_{part}", x[mask])
        setattr(case, f"y_{part}", y[mask])
    if case.dataset == "tabular":  # make the kept classes trivially separable
        for part in ("train", "val"):
            x, y = getattr(case, f"x_{part}"), getattr(case, f"y_{part}")
            x = x.copy()
            x[:, : keep_classes] += 6.0 * np.eye(keep_classes)[y]
            setattr(case, f"x_{part}", x)
    case.n_classes, case.class_names = keep_classes, [str(i) for i in range(keep_classes)]
    case.epochs = 30
    case.description = f"an easy {keep_classes}-class problem trained for 30 epochs"


_INJECT = {"healthy": _healthy, "overfitting": _overfitting, "label_noise": _label_noise,
           "metric_mismatch": _metric_mismatch, "distribution_shift": _distribution_shift,
           "subgroup_underfitting": _subgroup_underfitting, "pipeline_bug": _pipeline_bug,
           "small_validation_set": _small_validation_set, "optimization": _optimization,
           "metric_saturation": _metric_saturation}


def train_case(case: Case, output_dir: str, verbose: int = 0,
               callbacks: list[Any] | None = None, **gapdoctor_kwargs: Any) -> Any:
    """Train ``case`` with a ``GapDoctor`` attached; returns the callback (``.diagnosis``).

    ``callbacks`` are extra Keras callbacks, called before the ``GapDoctor`` in each hook
    (the demo's progress bar announces the diagnosis before it starts).
    """
    from gapdoctor.faults.models import build_model, fit_case

    model = build_model(case)
    kwargs = {"class_names": case.class_names, "run_name": case.name, "verbose": verbose,
              **gapdoctor_kwargs}
    from gapdoctor import GapDoctor

    doctor = GapDoctor(validation_data=(case.x_val, _targets(case, case.y_val)),
                       train_data=(case.x_train, _targets(case, case.y_train)),
                       output_dir=output_dir, **kwargs)
    fit_case(model, case, callbacks=[*(callbacks or []), doctor], verbose=0)
    return doctor


def _targets(case: Case, y: np.ndarray) -> np.ndarray:
    return y.reshape(-1, 1).astype("float32") if case.binary else y
