"""Train a small digits classifier with GapDoctor and print where the run record went.

Run:  python examples/quickstart.py  [--out gapdoctor-runs]
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from gapdoctor import GapDoctor, load_run  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="gapdoctor-runs", help="output directory")
    parser.add_argument("--epochs", type=int, default=15)
    args = parser.parse_args()

    x, y = load_digits(return_X_y=True)  # offline: ships with scikit-learn
    x = (x / 16.0).astype("float32")
    x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.25, random_state=0,
                                                      stratify=y)

    model = keras.Sequential([
        keras.Input((64,)),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])

    doctor = GapDoctor(validation_data=(x_val, y_val), train_data=(x_train, y_train),
                       output_dir=args.out)
    model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=args.epochs,
              batch_size=32, verbose=0, callbacks=[doctor])

    run = load_run(doctor.run_dir)  # what any later process (no TensorFlow needed) reads
    print(f"\nRun record:  {doctor.run_dir}")
    print(f"Epochs:      {run.n_epochs}; monitor {run.monitor}; "
          f"{run.arrays['margins'].shape[1]} train-probe samples followed per epoch")
    if doctor.diagnosis is not None:
        print(f"Verdict:     {doctor.diagnosis.verdict}")
    print(f"Re-analyse:  gapdoctor analyze {doctor.run_dir}")


if __name__ == "__main__":
    main()
