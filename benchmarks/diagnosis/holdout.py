"""Holdout check: other datasets, models and fault implementations than the benchmark's.

    python benchmarks/diagnosis/holdout.py

The rules were never tuned on these cases; they show whether the rules generalise.
Datasets: scikit-learn's wine, breast_cancer, and generated data of other shapes. Fault
implementations differ from ``gapdoctor.faults`` (e.g. asymmetric label noise, minority
classes, noise-corrupted validation, a from_logits mismatch, train/val leakage, a
learning rate far too low).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any

import numpy as np
import pandas as pd

from gapdoctor.faults.cases import Case

CASES = ("healthy-wine", "healthy-cancer", "overfitting-cancer", "label_noise-asymmetric",
         "metric_mismatch-recall", "distribution_shift-corrupted", "subgroup_underfitting-minority",
         "pipeline_bug-logits", "pipeline_bug-leakage", "pipeline_bug-train_shuffled",
         "small_validation_set-cancer", "optimization-too_low", "metric_saturation-blobs")


def _data(name: str, seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    from sklearn import datasets

    if name == "wine":
        x, y = datasets.load_wine(return_X_y=True)
    elif name == "cancer":
        x, y = datasets.load_breast_cancer(return_X_y=True)
    elif name == "blobs":
        x, y = datasets.make_blobs(1500, n_features=12, centers=3, cluster_std=1.0, random_state=seed)
    else:
        x, y = datasets.make_classification(3000, n_features=30, n_informative=12, n_classes=8,
                                            n_clusters_per_class=1, class_sep=1.2, random_state=seed)
    x = (x - x.mean(0)) / (x.std(0) + 1e-9)
    return x.astype("float32"), y.astype("int64"), int(y.max()) + 1


def build(name: str, seed: int = 0) -> tuple[Case, dict[str, Any]]:
    """A holdout case and model options (dropout, output activation, from_logits)."""
    from sklearn.model_selection import train_test_split

    fault, variant = name.split("-", 1)
    dataset = {"healthy-wine": "wine", "healthy-cancer": "cancer", "overfitting-cancer": "cancer",
               "small_validation_set-cancer": "cancer", "metric_saturation-blobs": "blobs"}.get(name, "gen8")
    x, y, k = _data(dataset, seed)
    rng = np.random.default_rng(seed)
    xt, xv, yt, yv = train_test_split(x, y, test_size=0.3, stratify=y, random_state=seed)
    case = Case(fault, dataset, "mlp", 1, seed, xt, yt, xv, yv, k, name, epochs=30, batch_size=32,
                class_names=[f"c{i}" for i in range(k)])
    opts: dict[str, Any] = {"dropout": 0.2, "logits": False, "optimizer": ("adam", 1e-3)}
    if variant == "cancer" and fault == "overfitting":
        case.x_train, _, case.y_train, _ = train_test_split(xt, yt, train_size=40, stratify=yt, random_state=seed)
        case.epochs, case.width, opts["dropout"] = 150, 4, 0.0
    elif variant == "asymmetric":  # each class mislabelled as the next one, 35% of the time
        flip = rng.random(len(yt)) < 0.35
        case.y_train = np.where(flip, (yt + 1) % k, yt)
        case.epochs, case.width = 40, 2
    elif variant == "recall":  # rare positives, Recall at 0.5 monitored
        pos = np.flatnonzero(y == 0)
        keep = np.r_[np.flatnonzero(y != 0), rng.choice(pos, len(pos) // 6, replace=False)]
        xb, yb = x[keep], (y[keep] == 0).astype("int64")
        case.x_train, case.x_val, case.y_train, case.y_val = train_test_split(xb, yb, test_size=0.3, stratify=yb, random_state=seed)
        case.n_classes, case.binary, case.metric, case.epochs = 2, True, "recall", 15
        opts["optimizer"] = ("adam", 2e-4)
    elif variant == "corrupted":  # validation inputs noisy and offset in a third of features
        cols = rng.choice(x.shape[1], x.shape[1] // 3, replace=False)
        case.x_val = xv.copy()
        case.x_val[:, cols] = xv[:, cols] * 1.3 + 1.0 + rng.normal(0, 0.8, (len(xv), len(cols)))
    elif variant == "minority":  # three classes with ~4% of their samples, in both splits
        for part in ("train", "val"):
            xs, ys = getattr(case, f"x_{part}"), getattr(case, f"y_{part}")
            drop = (ys < 3) & (rng.random(len(ys)) > 0.08)
            setattr(case, f"x_{part}", xs[~drop])
            setattr(case, f"y_{part}", ys[~drop])
    elif variant == "logits":  # softmax output but the loss expects logits
        opts["logits"] = "mismatch"
    elif variant == "leakage":  # 40% of validation copied from training
        n = int(0.4 * len(xv))
        case.x_val, case.y_val = np.r_[xv[n:], xt[:n]], np.r_[yv[n:], yt[:n]]
    elif variant == "train_shuffled":  # training labels shuffled apart from their inputs
        case.y_train = rng.permutation(yt)
    elif variant == "too_low":
        opts["optimizer"] = ("sgd", 1e-5)
    elif variant == "blobs":
        case.epochs = 40
    elif name == "small_validation_set-cancer":
        case.x_val, case.y_val = xv[:30], yv[:30]
    return case, opts


def _model(case: Case, opts: dict[str, Any]) -> Any:
    import keras

    keras.utils.set_random_seed(case.seed)
    inputs = keras.Input((case.x_train.shape[1],))
    h = keras.layers.Dense(64 * case.width, activation="relu")(inputs)
    h = keras.layers.BatchNormalization()(h) if opts["dropout"] else h
    h = keras.layers.Dropout(opts["dropout"])(h) if opts["dropout"] else h
    h = keras.layers.Dense(32 * case.width, activation="relu")(h)
    if case.binary:
        out = keras.layers.Dense(1, activation="sigmoid")(h)
        loss = keras.losses.BinaryCrossentropy()
        metric = keras.metrics.Recall(name="recall")
    else:
        out = keras.layers.Dense(case.n_classes, activation="softmax")(h)
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=opts["logits"] == "mismatch")
        metric = "accuracy"
    name, lr = opts["optimizer"]
    opt = keras.optimizers.Adam(lr) if name == "adam" else keras.optimizers.SGD(lr)
    model = keras.Model(inputs, out)
    model.compile(optimizer=opt, loss=loss, metrics=[metric])
    return model


def run_case(name: str) -> dict[str, Any]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from gapdoctor import GapDoctor

    case, opts = build(name)
    start = time.perf_counter()
    target = (lambda y: y.reshape(-1, 1).astype("float32")) if case.binary else (lambda y: y)
    with tempfile.TemporaryDirectory() as out:
        doctor = GapDoctor(validation_data=(case.x_val, target(case.y_val)),
                           train_data=(case.x_train, target(case.y_train)), output_dir=out,
                           run_name=name, report=False, verbose=0)
        _model(case, opts).fit(case.x_train, target(case.y_train),
                               validation_data=(case.x_val, target(case.y_val)),
                               epochs=case.epochs, batch_size=case.batch_size, verbose=0,
                               callbacks=[doctor])
    d = doctor.diagnosis
    ranked = [f.cause for f in d.findings]
    return {"case": name, "expected": case.fault, "verdict": d.verdict,
            "top3": ",".join(f"{f.cause}:{f.score:.2f}" for f in d.findings[:3]),
            "rank": ranked.index(case.fault) + 1 if case.fault in ranked else None,
            "seconds": round(time.perf_counter() - start, 1)}


def main() -> int:
    names = [a for a in sys.argv[1:] if a in CASES] or list(CASES)
    with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as pool:
        rows = list(pool.map(run_case, names))
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    ok = (table["verdict"] == table["expected"]).mean()
    print(f"\nholdout: {ok:.2f} of {len(table)} verdicts match the injected fault")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
