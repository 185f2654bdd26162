"""Finding wrong training labels: gapdoctor (one training) against cleanlab + 5-fold CV.

For each dataset, noise kind and seed, the same noisy labels go through
  - a plain training (no callback): the time reference;
  - gapdoctor: the same training with ``GapDoctor(train_data=...)`` recording the dynamics
    of every sample (diagnosis and report off; suspects.csv is written), flagged set read
    from suspects.csv;
  - cleanlab: ``find_label_issues`` on out-of-fold probabilities of the same Keras model
    trained 5 times (5-fold cross-validation).
It prints precision, recall and F1 of each flagged set against the injected flips, and
each method's wall time as a ratio to the plain training. Noise: ``uniform`` (20 % of
labels moved to another class at random) and ``pairs`` (30 % of four classes moved to the
next class). Needs the ``bench`` extra (cleanlab).

Run:  .venv/bin/python benchmarks/label_noise.py [--datasets digits,clf_big,wine]
          [--seeds 0,1] [--noise uniform,pairs] [--epochs 30]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.datasets import load_digits, load_wine, make_classification  # noqa: E402
from sklearn.model_selection import StratifiedKFold, train_test_split  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from gapdoctor.callback import GapDoctor  # noqa: E402


def dataset(name: str) -> tuple[np.ndarray, ...]:
    """(x_train, y_train, x_val, y_val), standardised float32 features."""
    if name == "digits":  # 1,437 training samples
        x, y = load_digits(return_X_y=True)
        x = x / 16.0
    elif name == "wine":  # 142 training samples, 3 classes
        x, y = load_wine(return_X_y=True)
    elif name == "clf_big":  # 16,000 training samples, 10 classes
        x, y = make_classification(20000, 32, n_informative=18, n_classes=10,
                                   n_clusters_per_class=2, class_sep=2.2, random_state=0)
    else:
        raise SystemExit(f"unknown dataset {name!r}: expected digits, wine or clf_big")
    x_tr, x_va, y_tr, y_va = train_test_split(x, y, test_size=0.2, random_state=0, stratify=y)
    if name != "digits":
        scale = StandardScaler().fit(x_tr)
        x_tr, x_va = scale.transform(x_tr), scale.transform(x_va)
    return x_tr.astype("float32"), y_tr, x_va.astype("float32"), y_va


def add_noise(y: np.ndarray, kind: str, seed: int) -> np.ndarray:
    rng, k, noisy = np.random.default_rng(seed), int(y.max()) + 1, y.copy()
    if kind == "uniform":
        flip = rng.random(len(y)) < 0.2
        noisy[flip] = (y[flip] + rng.integers(1, k, flip.sum())) % k
    else:
        for c in rng.choice(k, min(4, k), replace=False):
            rows = np.flatnonzero(y == c)
            noisy[rng.choice(rows, int(round(0.3 * len(rows))), replace=False)] = (c + 1) % k
    return noisy


def model(d: int, k: int, seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    m = keras.Sequential([keras.Input((d,)), keras.layers.Dense(64, activation="relu"),
                          keras.layers.Dense(64, activation="relu"),
                          keras.layers.Dense(k, activation="softmax")])
    m.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


def scores(flagged: np.ndarray, wrong: np.ndarray) -> tuple[float, float, float]:
    tp = float((flagged & wrong).sum())
    p, r = tp / max(1, flagged.sum()), tp / max(1, wrong.sum())
    return p, r, 2 * p * r / max(1e-9, p + r)


def run_one(name: str, kind: str, seed: int, epochs: int, batch: int) -> list[dict]:
    x_tr, y_clean, x_va, y_va = dataset(name)
    y = add_noise(y_clean, kind, seed)
    wrong, k, d = y != y_clean, int(y_clean.max()) + 1, x_tr.shape[1]
    fit = dict(epochs=epochs, batch_size=batch, verbose=0)
    # warm-up so that the first timed training does not pay TensorFlow's start-up
    model(d, k, seed).fit(x_tr[:256], y[:256], epochs=1, verbose=0)
    start = time.perf_counter()
    model(d, k, seed).fit(x_tr, y, validation_data=(x_va, y_va), **fit)
    plain = time.perf_counter() - start
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y), output_dir=tmp,
                           diagnose=False, report=False, verbose=0)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model(d, k, seed).fit(x_tr, y, validation_data=(x_va, y_va), callbacks=[doctor],
                                  **fit)
        total = time.perf_counter() - start
        flagged = np.zeros(len(y), bool)
        flagged[pd.read_csv(doctor.run_dir / "suspects.csv")["index"].to_numpy()] = True
        dyn = doctor.record.meta["dynamics"]
        own = dyn.get("seconds", 0.0) + doctor.record.meta["probe_seconds"].get("suspects", 0)
        out.append(dict(method="gapdoctor", flagged=flagged, seconds=total,
                        dynamics_share=own / plain))
    from cleanlab.filter import find_label_issues

    start = time.perf_counter()
    proba = np.zeros((len(y), k), dtype=np.float32)
    for fold, (a, b) in enumerate(StratifiedKFold(5, shuffle=True, random_state=seed)
                                  .split(x_tr, y)):
        proba[b] = model(d, k, seed + fold).fit(x_tr[a], y[a], **fit).model.predict(
            x_tr[b], verbose=0, batch_size=1024)
    flagged = find_label_issues(y, proba)
    out.append(dict(method="cleanlab 5-fold CV", flagged=flagged,
                    seconds=time.perf_counter() - start, dynamics_share=float("nan")))
    rows = []
    for o in out:
        p, r, f = scores(o["flagged"], wrong)
        rows.append(dict(dataset=name, n_train=len(y), noise=kind, seed=seed,
                         method=o["method"], true_rate=round(wrong.mean(), 3),
                         flagged_rate=round(o["flagged"].mean(), 3), precision=round(p, 3),
                         recall=round(r, 3), f1=round(f, 3),
                         time_ratio=round(o["seconds"] / plain, 2),
                         dynamics_cost=round(o["dynamics_share"], 3)))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default="digits,wine,clf_big")
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--noise", default="uniform,pairs")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--batch", type=int, default=32)
    args = ap.parse_args()
    rows = []
    for name in args.datasets.split(","):
        for kind in args.noise.split(","):
            for seed in (int(s) for s in args.seeds.split(",")):
                rows += run_one(name, kind, seed, args.epochs, args.batch)
                print(pd.DataFrame(rows[-2:]).to_string(index=False, header=len(rows) == 2),
                      flush=True)
    table = pd.DataFrame(rows)
    print("\nmean over seeds (time_ratio: wall time / plain training; dynamics_cost: "
          "gapdoctor's dynamics probe + suspects / plain training)")
    print(table.groupby(["dataset", "noise", "method"])[
        ["precision", "recall", "f1", "time_ratio", "dynamics_cost"]].mean().round(3)
        .to_string())


if __name__ == "__main__":
    main()
