"""Write small, realistic Keras training logs to try the offline CLI on (no TensorFlow).

The curves are generated, not downloaded: a classifier that overfits (training loss keeps
falling, validation loss turns up after epoch ~10). The same run is written in the three
formats Keras produces, plus a small learning-rate sweep:

    OUT/history.json                 json.dump(model.fit(...).history, f)
    OUT/training.csv                 keras.callbacks.CSVLogger("training.csv")
    OUT/tb/train, OUT/tb/validation  keras.callbacks.TensorBoard("tb")
    OUT/sweep/lr-*/history.json      four runs of a sweep (one History JSON each)

Run:  python examples/make_sample_logs.py [OUT]      (OUT defaults to sample-logs)
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np

EPOCHS = 30


def overfitting_run(seed: int = 0, epochs: int = EPOCHS) -> dict[str, list[float]]:
    """Keras ``History.history`` of a model that memorises its training set."""
    rng = np.random.default_rng(seed)
    t = np.arange(epochs, dtype=float)
    noise = rng.normal(0.0, 0.008, (4, epochs))
    loss = 2.2 * np.exp(-t / 5.0) + 0.02 + noise[0].clip(-0.005, 0.005)
    val_loss = 1.2 * np.exp(-t / 3.0) + 0.35 + 0.035 * np.maximum(0.0, t - 10.0) + noise[1]
    accuracy = 1.0 - 0.88 * np.exp(-t / 4.0) + noise[2].clip(-0.004, 0.004)
    val_accuracy = 0.86 - 0.7 * np.exp(-t / 3.0) - 0.003 * np.maximum(0.0, t - 10.0) + noise[3]
    return {"accuracy": _r(accuracy.clip(0, 1)), "loss": _r(loss),
            "val_accuracy": _r(val_accuracy.clip(0, 1)), "val_loss": _r(val_loss)}


def learning_rate_run(lr: float, seed: int, epochs: int = 20) -> dict[str, list[float]]:
    """One run of a sweep: a sensible rate converges, a rate far too high oscillates."""
    rng = np.random.default_rng(seed)
    t = np.arange(epochs, dtype=float)
    if lr >= 0.05:  # diverging: the loss jumps up and down instead of falling
        loss = 1.6 + 0.5 * np.abs(np.sin(1.7 * t)) + rng.normal(0, 0.05, epochs)
        val_loss = 1.7 + 0.6 * np.abs(np.sin(1.3 * t + 1.0)) + rng.normal(0, 0.05, epochs)
        accuracy = 0.35 + 0.1 * np.abs(np.cos(1.7 * t)) + rng.normal(0, 0.01, epochs)
        val_accuracy = 0.33 + 0.12 * np.abs(np.cos(1.3 * t)) + rng.normal(0, 0.01, epochs)
    else:
        speed = 2.0 + 0.001 / lr  # smaller rates learn more slowly
        loss = 2.2 * np.exp(-t / speed) + 0.25 + rng.normal(0, 0.004, epochs)
        val_loss = 2.2 * np.exp(-t / speed) + 0.30 + rng.normal(0, 0.006, epochs)
        accuracy = 0.92 - 0.8 * np.exp(-t / speed) + rng.normal(0, 0.003, epochs)
        val_accuracy = 0.91 - 0.8 * np.exp(-t / speed) + rng.normal(0, 0.004, epochs)
    return {"accuracy": _r(accuracy.clip(0, 1)), "loss": _r(loss),
            "val_accuracy": _r(val_accuracy.clip(0, 1)), "val_loss": _r(val_loss)}


def _r(values: np.ndarray) -> list[float]:
    return [round(float(v), 5) for v in values]


def write_history_json(history: dict[str, list[float]], path: Path) -> Path:
    """What ``json.dump(model.fit(...).history, f)`` writes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(history), encoding="utf-8")
    return path


def write_csv_logger(history: dict[str, list[float]], path: Path) -> Path:
    """What ``keras.callbacks.CSVLogger`` writes: ``epoch``, then the sorted log keys."""
    keys = sorted(history)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["epoch", *keys])
        for epoch in range(len(history[keys[0]])):
            writer.writerow([epoch, *(history[k][epoch] for k in keys)])
    return path


def write_tensorboard(history: dict[str, list[float]], log_dir: Path) -> Path:
    """What ``keras.callbacks.TensorBoard`` writes: ``train/`` and ``validation/`` event
    files with one ``epoch_<metric>`` scalar tensor per epoch (the TF2 layout).

    Uses only the ``tensorboard`` package's protos and record framing: TensorBoard's own
    writer helpers would import TensorFlow (seconds) when it is installed.
    """
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.compat.proto.tensor_pb2 import TensorProto
    from tensorboard.compat.proto.types_pb2 import DT_FLOAT
    from tensorboard.summary.writer.record_writer import RecordWriter

    for n, (split, prefix) in enumerate((("train", ""), ("validation", "val_"))):
        names = [k for k in sorted(history) if k.startswith(prefix)
                 and (prefix or not k.startswith("val_"))]
        folder = log_dir / split
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / f"events.out.tfevents.1700000000.sample.0.v{n}").open("wb") as handle:
            writer = RecordWriter(handle)
            writer.write(Event(wall_time=1.7e9, file_version="brain.Event:2").SerializeToString())
            for epoch in range(len(history[names[0]])):
                values = [Summary.Value(tag=f"epoch_{k[len(prefix):]}",
                                        tensor=TensorProto(dtype=DT_FLOAT,
                                                           float_val=[history[k][epoch]]))
                          for k in names]
                event = Event(step=epoch, wall_time=1.7e9 + epoch, summary=Summary(value=values))
                writer.write(event.SerializeToString())
    return log_dir


def main(out: str = "sample-logs") -> Path:
    """Write every sample log under ``out``; returns that directory."""
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    history = overfitting_run()
    write_history_json(history, root / "history.json")
    write_csv_logger(history, root / "training.csv")
    write_tensorboard(history, root / "tb")
    for i, lr in enumerate((1e-4, 1e-3, 3e-3, 0.1)):
        write_history_json(learning_rate_run(lr, seed=i), root / "sweep" / f"lr-{lr:g}" / "history.json")
    return root


if __name__ == "__main__":
    written = main(*sys.argv[1:2])
    print(f"sample logs written to {written}/")
