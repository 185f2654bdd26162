"""Training-time overhead of GapDoctor (default settings) on a digits MLP and a small CNN.

Trains the same model (same seed) with and without ``GapDoctor``, alternating, several
repetitions, and prints the median ratio of ``fit`` wall times. GapDoctor's train-end
analysis (diagnosis + PDF report, which run once after the last epoch) is timed separately:
"recording only" leaves it out, "incl." counts everything ``fit`` took. Ratios are given for
wall time and for process CPU time; on a machine shared with other jobs the CPU-time ratio
is the steadier of the two. "hooks" is 1 + the time GapDoctor's own hooks took during
training (``doctor.timings``: train begin and every epoch end, on the training thread) over the
plain fit of the same repetition: the steadiest figure under load, though it leaves out work
GapDoctor hands to a background thread (JAX compiles its probe functions there; epochs are
recorded on a worker thread while the next ones train, see gapdoctor/callback/deferred.py)
and any slowdown of Keras itself. "worker" is 1 + the worker thread's recording time over the
plain fit: what the wall ratio would be if that work ran on the training thread instead.

Run:  .venv/bin/python benchmarks/overhead.py [--reps 5] [--epochs 20] [--arch mlp]
      [--backend tensorflow|jax|torch]   (sets KERAS_BACKEND before Keras is imported)
      [--compare]    also GapDoctor with every epoch recorded on the training thread
      [--dynamics]   the whole-training-set dynamics' own cost (their probe clock / the plain fit)
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
BACKENDS = ("tensorflow", "jax", "torch")


def _backend_argument(argv: list[str]) -> str | None:
    """The value of --backend, read before argparse because Keras must not be imported yet."""
    for i, arg in enumerate(argv):
        if arg == "--backend" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--backend="):
            return arg.split("=", 1)[1]
    return None


if _backend_argument(sys.argv[1:]) in BACKENDS:
    os.environ["KERAS_BACKEND"] = _backend_argument(sys.argv[1:])

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


class _Clock(keras.callbacks.Callback):
    """Notes wall and CPU time when training ends (one runs before GapDoctor, one after)."""

    def on_train_end(self, logs=None):
        self.at = (time.perf_counter(), time.process_time())


def one_fit(arch: str, data: tuple[np.ndarray, ...], epochs: int, out: str | None,
            dynamics: bool = True, defer: bool = True
            ) -> tuple[float, float, float, float, float, float]:
    """(fit wall s, fit CPU s, wall s and CPU s of GapDoctor's train-end analysis in it,
    wall s of GapDoctor's hooks before train end on the training thread, wall s of its
    worker thread)."""
    x_tr, x_va, y_tr, y_va = data
    model = build(arch)
    before, after = _Clock(), _Clock()
    callbacks, doctor = [before], None
    if out is not None:
        # background=False: the train-end analysis is timed inside fit (below), and no
        # analysis process of one repetition competes with the next training
        doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                           output_dir=out, background=False, dynamics=dynamics)
        doctor._defer = defer
        callbacks.append(doctor)
    callbacks.append(after)
    wall, cpu = time.perf_counter(), time.process_time()
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(x_tr, y_tr, validation_data=(x_va, y_va), epochs=epochs, batch_size=32,
                  verbose=0, callbacks=callbacks)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    hooks = 0.0 if doctor is None else \
        doctor.timings.get("train_begin", 0.0) + doctor.timings.get("epochs", 0.0)
    worker = 0.0 if doctor is None else doctor.timings.get("deferred_epochs", 0.0)
    return wall, cpu, after.at[0] - before.at[0], after.at[1] - before.at[1], hooks, worker


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--arch", choices=["mlp", "cnn", "both"], default="both")
    parser.add_argument("--backend", choices=BACKENDS, default=keras.backend.backend(),
                        help="Keras backend (default: KERAS_BACKEND, else tensorflow)")
    parser.add_argument("--compare", action="store_true",
                        help="also time GapDoctor recording every epoch on the training "
                             "thread (no deferred epochs), side by side")
    parser.add_argument("--dynamics", action="store_true",
                        help="the whole-training-set dynamics' own cost: their probe clock "
                             "over the plain fit run beside it")
    args = parser.parse_args(argv)
    if args.backend != keras.backend.backend():
        parser.error(f"--backend {args.backend} must be chosen before Keras is imported; this "
                     f"process already runs Keras on {keras.backend.backend()} (run the script "
                     "with --backend on its command line)")
    archs = ["mlp", "cnn"] if args.arch == "both" else [args.arch]
    print(f"GapDoctor overhead on Keras {keras.__version__} / {args.backend}: {args.epochs} "
          f"epochs, {args.reps} alternating repetitions, median ratios (with / without)")
    if args.dynamics:
        return _dynamics_cost(archs, args.epochs, args.reps)
    with tempfile.TemporaryDirectory() as out:
        for arch in archs:
            data = digits(image=arch == "cnn")
            one_fit(arch, data, 2, None)  # warm-up: first-use costs of TF and the libraries
            one_fit(arch, data, 2, out)
            rows = []
            arms = ("plain", "deferred", "training thread") if args.compare else \
                ("plain", "deferred")
            for rep in range(args.reps):
                order = arms[rep % len(arms):] + arms[:rep % len(arms)]  # rotated
                times = {arm: one_fit(arch, data, args.epochs, None if arm == "plain" else out,
                                      defer=arm == "deferred") for arm in order}
                w0, c0, aw0, ac0, _, _ = times["plain"]
                row = {"base": w0}
                for arm in arms[1:]:
                    w1, c1, aw1, ac1, hooks, worker = times[arm]
                    row[arm] = {"wall": w1 / w0, "wall_rec": (w1 - aw1) / (w0 - aw0),
                                "cpu": c1 / c0, "cpu_rec": (c1 - ac1) / (c0 - ac0),
                                "hooks": 1 + hooks / w0, "worker": 1 + (hooks + worker) / w0,
                                "analysis": aw1}
                rows.append(row)
            print(f"{arch}: fit without GapDoctor "
                  f"{statistics.median(r['base'] for r in rows):.2f}s wall")
            for arm in arms[1:]:
                arm_rows = [r[arm] for r in rows]
                med = {k: statistics.median(r[k] for r in arm_rows) for k in arm_rows[0]}
                low, high = _median_interval([r["wall_rec"] for r in arm_rows])
                print(f"  epochs recorded on the {arm}{' worker' if arm == 'deferred' else ''}: "
                      f"median ratio recording only: wall {med['wall_rec']:.3f} (95 % "
                      f"interval {low:.3f}-{high:.3f}), CPU "
                      f"{med['cpu_rec']:.3f}, hooks {med['hooks']:.3f} (with the worker's "
                      f"time {med['worker']:.3f}) | incl. train-end diagnosis+report "
                      f"({med['analysis']:.2f}s): wall {med['wall']:.3f}, CPU {med['cpu']:.3f}")
                walls = ", ".join(f"{r['wall_rec']:.3f}" for r in arm_rows)
                cpus = ", ".join(f"{r['cpu_rec']:.3f}" for r in arm_rows)
                hooks = ", ".join(f"{r['hooks']:.3f}" for r in arm_rows)
                print(f"    per repetition, recording only: wall {walls}; CPU {cpus}; "
                      f"hooks {hooks}")
            sys.stdout.flush()
    return 0


def _median_interval(ratios: list[float]) -> tuple[float, float]:
    """Bootstrap 95 % interval of the median ratio: how far a few repetitions pin it."""
    from scipy.stats import bootstrap

    if len(ratios) < 3:
        return float("nan"), float("nan")
    res = bootstrap((np.asarray(ratios),), np.median, confidence_level=0.95,
                    method="percentile", random_state=0)
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def _dynamics_cost(archs: list[str], epochs: int, reps: int) -> int:
    """The dynamics' own cost: the seconds GapDoctor's dynamics probe took (its clock in the
    record, ``meta["probe_seconds"]["dynamics"]``) over the plain fit beside it. A difference
    of two whole fits is too noisy for a cost of a few percent on a shared machine."""
    with tempfile.TemporaryDirectory() as out:
        for arch in archs:
            data = digits(image=arch == "cnn")
            one_fit(arch, data, 2, None)
            one_fit(arch, data, 2, out)
            rows = []
            for rep in range(reps):
                order = (None, out) if rep % 2 == 0 else (out, None)
                t = {}
                for target in order:
                    wall, _, aw, _, _, _ = one_fit(arch, data, epochs, target)
                    t[target is not None] = wall - aw
                probe = _last_probe_seconds(out)
                rows.append({"dyn": 1 + probe.get("dynamics", float("nan")) / t[False],
                             "probes": 1 + sum(probe.values()) / t[False],
                             "all": t[True] / t[False], "base": t[False]})
            med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
            print(f"{arch}: plain fit {med['base']:.2f}s | dynamics alone (probe clock / plain "
                  f"fit + 1): {med['dyn']:.3f} | all probes: {med['probes']:.3f} | whole "
                  f"callback, recording only, wall: {med['all']:.3f}")
            sys.stdout.flush()
    return 0


def _last_probe_seconds(out: str) -> dict[str, float]:
    """Probe timings of the newest record under ``out``."""
    import json
    from pathlib import Path

    newest = max(Path(out).glob("*/record.json"), key=lambda p: p.stat().st_mtime)
    meta = json.loads(newest.read_text()).get("meta", {})
    return {k: float(v) for k, v in (meta.get("probe_seconds") or {}).items()}


if __name__ == "__main__":
    raise SystemExit(main())
