"""Name the classes and define validation slices (``groups=``) so the report speaks your terms.

``class_names`` labels the per-class tables and heat maps; ``groups`` maps a slice name to a
boolean mask (or index array) over the validation samples, and accuracy and loss are then
recorded per slice every epoch. Here the slices are "faint strokes" (low ink) and
"bold strokes" (high ink) of scikit-learn's digits, and the digits carry their English names.

Run:  python examples/groups_and_class_names.py [--out gapdoctor-runs] [--epochs 12]
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from gapdoctor import GapDoctor  # noqa: E402

CLASS_NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="gapdoctor-runs", help="output directory")
    parser.add_argument("--epochs", type=int, default=12)
    args = parser.parse_args()

    x, y = load_digits(return_X_y=True)  # offline: ships with scikit-learn
    x = (x / 16.0).astype("float32")
    x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.3, random_state=0,
                                                      stratify=y)
    ink = x_val.sum(axis=1)  # how much of the 8x8 image is drawn
    groups = {"faint strokes": ink < np.quantile(ink, 0.25),
              "bold strokes": ink > np.quantile(ink, 0.75)}

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])

    doctor = GapDoctor(validation_data=(x_val, y_val), train_data=(x_train, y_train),
                       output_dir=args.out, class_names=CLASS_NAMES, groups=groups, verbose=0)
    model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=args.epochs,
              batch_size=32, verbose=0, callbacks=[doctor])

    from gapdoctor import load_run

    run = load_run(doctor.run_dir)  # the record holds the per-slice table
    last = run.groups[run.groups["epoch"] == run.groups["epoch"].max()]
    print(last.to_string(index=False))
    print(f"verdict: {doctor.diagnosis.verdict}; report: {doctor.run_dir / 'report.pdf'}")


if __name__ == "__main__":
    main()
