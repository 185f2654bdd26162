"""When ``fit`` returns: GapDoctor's train-end analysis in a spawned process vs inside ``fit``.

Trains the same digits MLP (same seed) without GapDoctor, with ``GapDoctor(background=False)``
(diagnosis and PDF inside ``fit``) and with the default ``background=True``, alternating, and
prints the median ``fit`` wall time of each, their ratios to the plain training, and, for the
background analysis, how long after ``fit`` returned ``doctor.diagnosis`` was ready (each
repetition waits for it, outside the timed ``fit``, so that it never competes with the next
training).

Run:  .venv/bin/python benchmarks/fit_return.py [--reps 3] [--epochs 20]
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
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from gapdoctor.callback import GapDoctor  # noqa: E402

MODES = ("without GapDoctor", "background=False", "background=True")


def fit_once(mode: str, data: tuple, epochs: int, out: str) -> tuple[float, float]:
    """(fit wall seconds, seconds from fit's return until the diagnosis was readable)."""
    x_tr, x_va, y_tr, y_va = data
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    callbacks = []
    if mode != MODES[0]:
        callbacks.append(GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                                   output_dir=out, background=mode == MODES[2]))
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        model.fit(x_tr, y_tr, validation_data=(x_va, y_va), epochs=epochs, batch_size=32,
                  verbose=0, callbacks=callbacks)
        returned = time.perf_counter()
        ready = callbacks and callbacks[0].diagnosis is not None
        waited = time.perf_counter() - returned
    if callbacks and not ready:
        raise SystemExit(f"{mode}: no diagnosis")
    return returned - start, waited


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    x, y = load_digits(return_X_y=True)
    data = tuple(train_test_split((x / 16.0).astype("float32"), y, test_size=0.2,
                                  random_state=0, stratify=y))
    times: dict[str, list[tuple[float, float]]] = {m: [] for m in MODES}
    with tempfile.TemporaryDirectory() as out:
        for mode in MODES:  # warm-up: first-use costs of TF and the libraries
            fit_once(mode, data, 2, out)
        for rep in range(args.reps):
            for mode in (MODES if rep % 2 == 0 else MODES[::-1]):
                times[mode].append(fit_once(mode, data, args.epochs, out))
    fit = {m: statistics.median(t for t, _ in v) for m, v in times.items()}
    print(f"digits MLP, {args.epochs} epochs, median of {args.reps} alternating repetitions:")
    for mode in MODES:
        print(f"  fit {mode:<18} {fit[mode]:6.2f} s  ({fit[mode] / fit[MODES[0]]:.2f}x)")
    wait = statistics.median(w for _, w in times[MODES[2]])
    print(f"  background=True: fit returns {fit[MODES[1]] - fit[MODES[2]]:.2f} s sooner than "
          f"with the analysis inside fit; doctor.diagnosis was ready {wait:.2f} s after fit "
          "returned")
    return 0


if __name__ == "__main__":
    sys.exit(main())
