"""Training-time overhead of GapDoctor (default settings) on a digits MLP and a small CNN.

Trains the same model (same seed) with and without ``GapDoctor``, alternating, several
repetitions, and prints the median ratio of ``fit`` wall times. GapDoctor's train-end
analysis (diagnosis + PDF report, which run once after the last epoch) is timed separately:
the first ratio counts everything ``fit`` took, the second leaves that analysis out, i.e.
the cost of recording.

Run:  .venv/bin/python benchmarks/overhead.py [--reps 5] [--epochs 20]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import tempfile
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from gapdoctor.callback import GapDoctor  # noqa: E402


def digits(image: bool) -> tuple[np.ndarray, ...]:
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    if image:
        x = x.reshape(-1, 8, 8, 1)
    return tuple(train_test_split(x, y, test_size=0.2, random_state=0, stratify=y))


def build(arch: str) -> keras.Model:
    keras.utils.set_random_seed(0)
    if arch == "mlp":
        layers = [keras.Input((64,)), keras.layers.Dense(64, activation="relu"),
                  keras.layers.Dense(64, activation="relu"),
                  keras.layers.Dense(10, activation="softmax")]
    else:
        layers = [keras.Input((8, 8, 1)),
                  keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
                  keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
                  keras.layers.MaxPooling2D(), keras.layers.Flatten(),
                  keras.layers.Dense(64, activation="relu"),
                  keras.layers.Dense(10, activation="softmax")]
    model = keras.Sequential(layers)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def one_fit(arch: str, data: tuple[np.ndarray, ...], epochs: int, out: str | None
            ) -> tuple[float, float]:
    """(fit seconds, seconds of GapDoctor's train-end analysis inside it)."""
    x_tr, x_va, y_tr, y_va = data
    model = build(arch)
    callbacks, doctor = [], None
    if out is not None:
        doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                           output_dir=out)
        callbacks.append(doctor)
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(x_tr, y_tr, validation_data=(x_va, y_va), epochs=epochs, batch_size=32,
                  verbose=0, callbacks=callbacks)
    total = time.perf_counter() - start
    analysis = 0.0
    if doctor is not None:
        analysis = doctor.timings.get("diagnosis", 0.0) + doctor.timings.get("report", 0.0)
    return total, analysis


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--arch", choices=["mlp", "cnn", "both"], default="both")
    args = parser.parse_args(argv)
    archs = ["mlp", "cnn"] if args.arch == "both" else [args.arch]
    print(f"GapDoctor overhead: {args.epochs} epochs, {args.reps} alternating repetitions, "
          f"median ratios (with / without)")
    with tempfile.TemporaryDirectory() as out:
        for arch in archs:
            data = digits(image=arch == "cnn")
            one_fit(arch, data, 2, None)  # warm-up: first-use costs of TF and the libraries
            one_fit(arch, data, 2, out)
            ratios, ratios_rec, base, analysis = [], [], [], []
            for rep in range(args.reps):
                order = (None, out) if rep % 2 == 0 else (out, None)
                times = {}
                for target in order:
                    times[target is not None] = one_fit(arch, data, args.epochs, target)
                (without, _), (with_gd, spent) = times[False], times[True]
                ratios.append(with_gd / without)
                ratios_rec.append((with_gd - spent) / without)
                base.append(without)
                analysis.append(spent)
            print(f"{arch}: fit without {statistics.median(base):.2f}s | ratio incl. train-end "
                  f"analysis {statistics.median(ratios):.3f} | recording only "
                  f"{statistics.median(ratios_rec):.3f} | train-end diagnosis+report "
                  f"{statistics.median(analysis):.2f}s | all recording ratios "
                  f"{', '.join(f'{r:.3f}' for r in ratios_rec)}")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
