"""GapDoctor under every Keras backend: the same tiny training (digits MLP, 3 epochs) runs in
a fresh process per backend (KERAS_BACKEND must be set before keras is imported) and must give
a record with the same fields, and numbers that agree with Keras and with numpy.

Under jax and torch the child process makes ``import tensorflow`` fail: that proves GapDoctor
neither imports nor needs TensorFlow there (Keras itself then skips its optional TF uses).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gapdoctor import load_run

TESTS = Path(__file__).parent
BACKENDS = ("tensorflow", "jax", "torch")
EPOCHS = 3

CHILD = r'''
import json, os, sys
backend, out = sys.argv[1], sys.argv[2]
os.environ["KERAS_BACKEND"] = backend
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
if backend != "tensorflow":
    sys.modules["tensorflow"] = None  # `import tensorflow` now fails: TF is "not installed"
sys.path[:0] = [TESTS, ROOT]
import warnings  # noqa: E402

# a deprecation that gapdoctor's own code triggers fails its probe (and the test on its
# failures): numpy 2.4 deprecated np.result_type on JAX arrays, once a warning per call
warnings.filterwarnings("error", category=DeprecationWarning, module=r"gapdoctor\.")
import gapdoctor  # noqa: E402

heavy = sorted(m for m in ("tensorflow", "jax", "torch", "keras") if sys.modules.get(m))
import numpy as np  # noqa: E402
from scripts.tiny import digits, fit, mlp  # noqa: E402

from gapdoctor.callback import GapDoctor  # noqa: E402
from gapdoctor.callback.data_sampling import label_ints, stratified_rows  # noqa: E402

data = digits(n_train=600)
x_tr, x_va, y_tr, y_va = data
doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr), output_dir=out,
                   run_name=backend, max_probe_samples=300, report=False, verbose=0)
model = mlp()
history = fit(model, data, doctor, epochs=EPOCHS)
# the fixed gradient batch of the layers probe, drawn as the probe draws it
probe = doctor._state.train
rows, _ = stratified_rows(label_ints(probe.y), 64)
weights = [np.asarray(w) for w in model.get_weights()]
np.savez(os.path.join(out, backend + "-check.npz"), x=probe.x[rows], y=probe.y[rows],
         *weights)
# a model with two outputs (a list, the regression head first): the digit head is followed
from scripts.tiny import two_head_labels, two_heads  # noqa: E402

multi = two_heads("list")
multi_doctor = GapDoctor(validation_data=(x_va, two_head_labels("list", x_va, y_va)),
                         train_data=(x_tr, two_head_labels("list", x_tr, y_tr)), output_dir=out,
                         run_name=backend + "-multi", max_probe_samples=300, report=False,
                         diagnose=False, verbose=0)
multi.fit(x_tr, two_head_labels("list", x_tr, y_tr), epochs=2, batch_size=64, verbose=0,
          callbacks=[multi_doctor])
rows = multi_doctor.record.arrays["probe_index"]
np.save(os.path.join(out, backend + "-multi-digit.npy"), multi.predict(x_tr[rows], verbose=0)[1])
json.dump({"history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
           "heavy_after_import_gapdoctor": heavy, "backend": __import__("keras").backend.backend(),
           "tensorflow_loaded": sys.modules.get("tensorflow") is not None,
           "verdict": doctor.diagnosis.verdict if doctor.diagnosis else None,
           "deferred_seconds": doctor.timings.get("deferred_epochs", 0.0)},
          open(os.path.join(out, backend + ".json"), "w"))
'''


def _run_child(backend: str, out: Path) -> dict:
    script = out / "child.py"
    script.write_text(f"TESTS, ROOT, EPOCHS = {str(TESTS)!r}, {str(TESTS.parent)!r}, {EPOCHS}\n"
                      + CHILD)
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    proc = subprocess.run([sys.executable, str(script), backend, str(out)], env=env,
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads((out / f"{backend}.json").read_text())


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """{backend: (child summary, run record, check arrays)} for every installed backend."""
    out = tmp_path_factory.mktemp("backends")
    result = {}
    for backend in BACKENDS:
        if importlib.util.find_spec(backend) is None:  # CI installs all: .[backends]
            continue
        summary = _run_child(backend, out)
        check = np.load(out / f"{backend}-check.npz")
        result[backend] = (summary, load_run(out / backend), check)
        result[backend + "-multi"] = (load_run(out / f"{backend}-multi"),
                                      np.load(out / f"{backend}-multi-digit.npy"))
    return result


def _numpy_grad_norms(check) -> list[float]:
    """Gradient norms of Dense(relu) -> Dense(softmax) under mean sparse cross-entropy."""
    x, y = check["x"].astype(np.float64), check["y"].astype(np.int64)
    k0, b0, k1, b1 = (check[f"arr_{i}"].astype(np.float64) for i in range(4))
    pre = x @ k0 + b0
    hidden = np.maximum(pre, 0.0)
    logits = hidden @ k1 + b1
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    d_logits = (p - np.eye(p.shape[1])[y]) / len(y)
    d_k1, d_b1 = hidden.T @ d_logits, d_logits.sum(axis=0)
    d_pre = (d_logits @ k1.T) * (pre > 0)
    d_k0, d_b0 = x.T @ d_pre, d_pre.sum(axis=0)
    return [float(np.sqrt((d_k0 ** 2).sum() + (d_b0 ** 2).sum())),
            float(np.sqrt((d_k1 ** 2).sum() + (d_b1 ** 2).sum()))]


@pytest.mark.parametrize("backend", BACKENDS)
def test_record_is_complete_and_right(runs, backend):
    if backend not in runs:
        pytest.skip(f"{backend} is not installed (pip install -e '.[backends]')")
    summary, run, check = runs[backend]
    assert summary["backend"] == backend
    assert summary["heavy_after_import_gapdoctor"] == []  # import gapdoctor loads no backend
    if backend != "tensorflow":
        assert not summary["tensorflow_loaded"]
    versions = run.meta["versions"]
    assert versions["backend"] == backend and versions[backend], versions
    assert not run.failures, run.failures
    assert run.meta["completed"] and run.meta["epochs_completed"] == EPOCHS
    assert summary["verdict"] is not None  # the diagnosis ran on this backend's record
    # predictions are made with the weights training reached (a stale compiled copy of the
    # model would disagree with what Keras measured at the end of each epoch), also for the
    # epochs recorded on the worker thread while the next ones trained (epochs 1 and 2;
    # on torch every epoch is recorded on the training thread)
    assert (summary["deferred_seconds"] > 0) == (backend != "torch")
    val = run.split_metrics[run.split_metrics.split == "val"].set_index("epoch")
    np.testing.assert_allclose(val["accuracy"], summary["history"]["val_accuracy"], atol=1e-6)
    np.testing.assert_allclose(val["loss"], summary["history"]["val_loss"], rtol=2e-3)
    assert len(run.per_class) == EPOCHS * 2 * 10
    assert run.arrays["margins"].shape == (EPOCHS, 300)
    assert np.isfinite(run.arrays["margins"]).all()
    # layer statistics: finite, and the last epoch's equal numpy's on the final weights
    layers = run.layers
    assert list(layers.layer.unique()) == ["dense", "dense_1"]
    assert run.meta["gradient_batch"] == {"n": 64, "split": "train"}
    for column in ("weight_norm", "update_ratio", "grad_norm"):
        assert np.isfinite(layers[column]).all() and (layers[column] > 0).all(), column
    last = layers[layers.epoch == EPOCHS - 1].set_index("layer")
    k0, b0, k1, b1 = (check[f"arr_{i}"] for i in range(4))
    np.testing.assert_allclose(last.loc["dense", "weight_norm"],
                               np.sqrt((k0 ** 2).sum() + (b0 ** 2).sum()), rtol=1e-5)
    np.testing.assert_allclose(last.loc["dense_1", "weight_norm"],
                               np.sqrt((k1 ** 2).sum() + (b1 ** 2).sum()), rtol=1e-5)
    np.testing.assert_allclose(last["grad_norm"].tolist(), _numpy_grad_norms(check), rtol=2e-3)
    hidden = np.maximum(check["x"] @ k0 + b0, 0)
    np.testing.assert_allclose(last.loc["dense", "dead_fraction"],
                               np.mean((hidden <= 0).all(axis=0)), atol=1e-6)
    assert np.isnan(last.loc["dense_1", "dead_fraction"])  # softmax: not ReLU-like


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_followed_output_of_a_two_head_model(runs, backend):
    if backend not in runs:
        pytest.skip(f"{backend} is not installed (pip install -e '.[backends]')")
    run, digit = runs[backend + "-multi"]
    assert not run.failures, run.failures
    assert run.meta["followed_output"]["name"] == "digit" and run.meta["n_classes"] == 10
    np.testing.assert_allclose(run.arrays["probe_proba_last"], digit, atol=1e-5)
    assert set(run.layers["layer"]) == {"shared", "digit"}  # not the `ink` head
    assert np.isfinite(run.layers["grad_norm"]).all()


def test_every_backend_records_the_same_fields(runs):
    def fields(run) -> dict:
        tables = {name: sorted(getattr(run, name).columns) for name in
                  ("split_metrics", "per_class", "layers", "groups")}
        return {"meta": sorted(run.meta), "arrays": sorted(run.arrays),
                "curves": sorted(run.curves.columns), "tables": tables}

    if len([b for b in runs if b in BACKENDS]) < 2:
        pytest.skip(f"only {sorted(runs)} installed (pip install -e '.[backends]')")
    first, *others = [b for b in runs if b in BACKENDS]
    reference = fields(runs[first][1])
    assert reference["arrays"] and reference["tables"]["layers"]
    for backend in others:
        assert fields(runs[backend][1]) == reference, backend
