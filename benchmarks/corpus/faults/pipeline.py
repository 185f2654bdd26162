"""pipeline_bug: the code is wrong (labels out of line, preprocessing differs, leakage,
train-mode evaluation, an activation/loss mismatch, non-finite inputs)."""

from __future__ import annotations

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.faults.registry import implementation, lerp

BOTH = "pipeline_bug;optimization"


@implementation("pipeline_bug/rolled_labels", count=6, knob="share of rows off by one "
                "0.5-1.0")
def rolled_labels(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Validation labels shifted by one row against their inputs (a dropped header row) over
    a share of the file."""
    n = len(case.y_val)
    start = int(round((1 - lerp(severity, 0.5, 1.0)) * n))
    order = rng.permutation(n)            # validation rows are not sorted by class
    case.keep("val", order)
    y = case.y_val.copy()
    y[start:] = np.roll(y[start:], 1)
    case.y_val = y
    case.description = f"validation labels off by one row from row {start} of {n}"


@implementation("pipeline_bug/remapped_labels", count=6, knob="classes remapped 2-all")
def remapped_labels(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Validation labels encoded with another class order (a label encoder fitted again on
    the validation split): a cycle over some of the classes."""
    m = max(2, int(round(lerp(severity, 2, case.n_classes))))
    moved = rng.permutation(case.n_classes)[:m]
    mapping = np.arange(case.n_classes)
    mapping[moved] = np.roll(moved, 1)
    case.y_val = mapping[case.y_val]
    case.description = f"{m} classes renumbered in the validation labels"


@implementation("pipeline_bug/unscaled_val", count=6, layouts=("vector", "image", "signal"),
                knob="share of columns left raw 0.3-1.0 (images: x 4-255)")
def unscaled_val(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Validation inputs skip the preprocessing training got: raw units for tabular columns
    and signals, 0-255 instead of 0-1 for images."""
    raw_val = case.x_val.copy()
    if case.layout == "vector":
        cols = rng.permutation(raw_val.shape[1])[: max(1, int(round(
            lerp(severity, 0.3, 1.0) * raw_val.shape[1])))]

        def hook(c: Case) -> None:
            c.x_val[:, cols] = raw_val[:, cols]
        case.description = f"{len(cols)} of {raw_val.shape[1]} validation columns left unscaled"
    elif case.layout == "image":
        factor = float(np.exp(lerp(severity, np.log(4), np.log(255))))

        def hook(c: Case) -> None:
            c.x_val = (c.x_val * factor).astype("float32")
        case.description = f"validation images scaled by {factor:.0f} (0-255 vs 0-1)"
    else:
        def hook(c: Case) -> None:
            c.x_val = raw_val
        case.description = "validation signals left in raw sensor counts"
    case.post.append(hook)


@implementation("pipeline_bug/permuted_columns", count=6, layouts=("vector",),
                exclude=("biopsy", "breast_cancer", "credit_default"),
                knob="share of columns shuffled 0.3-1.0")
def permuted_columns(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Validation columns in another order than training's (after scaling)."""
    d = case.x_val.shape[1]
    cols = rng.permutation(d)[: max(2, int(round(lerp(severity, 0.3, 1.0) * d)))]
    target = np.roll(cols, 1)

    def hook(c: Case) -> None:
        x = c.x_val.copy()
        x[:, cols] = c.x_val[:, target]
        c.x_val = x
    case.post.append(hook)
    case.description = f"{len(cols)} of {d} validation columns swapped"


@implementation("pipeline_bug/train_mode_eval", count=6, families=("mlp", "cnn2d", "cnn1d"),
                knob="share of validation sorted by class 0.5-1.0")
def train_mode_eval(case: Case, severity: float, rng: np.random.Generator) -> None:
    """BatchNormalization stuck in training mode (a custom layer forcing training=True) and
    a validation file sorted by class: evaluation normalises each batch by its own stats."""
    case.spec.batchnorm, case.spec.bn_always_training = True, True
    n = len(case.y_val)
    n_sorted = int(round(lerp(severity, 0.5, 1.0) * n))
    order = rng.permutation(n)
    head = order[:n_sorted][np.argsort(case.y_val[order[:n_sorted]], kind="stable")]
    case.keep("val", np.concatenate([head, order[n_sorted:]]))
    case.description = ("BatchNormalization forced into training mode; validation sorted by "
                        f"class over {n_sorted} of {n} rows")


@implementation("pipeline_bug/leakage", count=6, knob="share of validation copied into "
                "training 0.3-1.0")
def leakage(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Validation rows duplicated into the training split (a join or split bug)."""
    share = lerp(severity, 0.3, 1.0)
    rows = rng.permutation(len(case.y_val))[: int(round(share * len(case.y_val)))]
    case.x_train = np.concatenate([case.x_train, case.x_val[rows]])
    case.y_train = np.concatenate([case.y_train, case.y_val[rows]])
    case.spec.epochs = max(case.spec.epochs, 25)
    case.spec.width = max(case.spec.width, 2)
    case.description = f"{len(rows)} validation rows ({share:.0%}) also in training"


@implementation("pipeline_bug/logits_mismatch", count=5, acceptable=BOTH,
                knob="none (the double-softmax variant did not bite on easy data)")
def logits_mismatch(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The output layer has no activation (raw logits) but the loss is built with
    from_logits=False, so it reads logits as probabilities."""
    case.spec.output, case.spec.from_logits = "linear", False
    case.description = "raw logits fed to a loss built with from_logits=False"


@implementation("pipeline_bug/nan_rows", count=4, layouts=("vector", "image", "signal"),
                acceptable=BOTH, premise=True, knob="share of training rows with NaN "
                "0.2 %-3 %")
def nan_rows(case: Case, severity: float, rng: np.random.Generator) -> None:
    """NaN values in some training rows (a failed join / missing sensor): the loss turns NaN."""
    share = lerp(severity, 0.002, 0.03)
    rows = rng.permutation(len(case.y_train))[: max(1, int(round(share * len(case.y_train))))]
    x = case.x_train.astype("float32").copy()
    flat = x.reshape(len(x), -1)
    flat[rows, rng.integers(0, flat.shape[1], len(rows))] = np.nan
    case.x_train = flat.reshape(x.shape)
    case.description = f"{len(rows)} training rows contain a NaN"


# only a linear model on many rows and few columns stays at ln K (anything bigger memorises)
@implementation("pipeline_bug/random_labels", count=4, acceptable=BOTH, premise=True,
                families=("linear",), full_train=True, knob="none (labels fully random)",
                sources=("clf_binary_imb", "clf_k6", "clf_k12_imb", "blobs_k8_hard", "moons",
                         "circles", "blobs_k4"))
def random_labels(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Labels independent of the inputs in both splits (a join on the wrong key): a never-
    learning run whose loss stays at ln K."""
    case.y_train = rng.integers(0, case.n_classes, len(case.y_train))
    case.y_val = rng.integers(0, case.n_classes, len(case.y_val))
    s = case.spec
    s.width, s.depth, s.epochs, s.class_weight = 1, 1, 15, False
    case.description = "labels drawn independently of inputs in both splits"
