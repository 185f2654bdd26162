"""The predictions and the dynamics share one compiled forward pass (one TensorFlow trace for
their chunks of different lengths), and a model whose output layer has several inputs still
gets its predictions from its own forward pass."""

from __future__ import annotations

import inspect

import keras
import numpy as np
from scripts.tiny import digits, mlp

from gapdoctor import load_run
from gapdoctor.callback import GapDoctor


def _doctor(tmp_path, data, name: str) -> GapDoctor:
    x_tr, x_va, y_tr, y_va = data
    return GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                     output_dir=tmp_path, run_name=name, max_probe_samples=200,
                     diagnose=False, report=False, verbose=0)


def test_one_trace_serves_predictions_and_dynamics(tmp_path):
    data = digits(n_train=500)
    x_tr, x_va, y_tr, y_va = data
    doctor = _doctor(tmp_path, data, "shared")
    model = mlp()
    history = model.fit(x_tr, y_tr, validation_data=(x_va, y_va), epochs=3, batch_size=64,
                        verbose=0, callbacks=[doctor])
    shared = doctor._state.compiled["features"]
    assert shared.has_embedding
    if keras.backend.backend() == "tensorflow":
        compiled = inspect.getclosurevars(shared.fn).nonlocals["compiled"]
        assert compiled.experimental_get_tracing_count() == 1  # 200+360 rows and 500 rows
    run = load_run(tmp_path / "shared")
    assert not run.failures, run.failures
    val = run.split_metrics[run.split_metrics.split == "val"]
    np.testing.assert_allclose(val["accuracy"], history.history["val_accuracy"], atol=1e-6)
    assert run.arrays["dyn_margin"].shape == (3, 500)
    assert run.arrays["dyn_embedding"].shape == (500, 32)
    # the validation rows' representation, from the same pass of the same function, in the
    # order of val_labels: the same rows through the same layers give the same numbers
    assert run.arrays["dyn_val_embedding"].shape == (len(run.arrays["val_labels"]), 32)
    if run.meta["dynamics"]["embedding_epoch"] == 2:  # the last epoch: today's weights
        features = keras.Model(model.inputs, model.layers[-1].input)
        expected = np.asarray(features([x_va[run.arrays["val_index"]]]))  # a list: one input
        np.testing.assert_allclose(run.arrays["dyn_val_embedding"].astype(np.float32),
                                   expected, rtol=1e-2, atol=1e-2)


def test_an_output_layer_with_several_inputs_keeps_its_predictions(tmp_path):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((64,))
    hidden = keras.layers.Dense(16, activation="relu")(inputs)
    logits = keras.layers.Add()([keras.layers.Dense(10)(hidden), keras.layers.Dense(10)(hidden)])
    model = keras.Model(inputs, logits)
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    data = digits(n_train=300)
    x_tr, x_va, y_tr, y_va = data
    doctor = _doctor(tmp_path, data, "add")
    history = model.fit(x_tr, y_tr, validation_data=(x_va, y_va), epochs=2, batch_size=64,
                        verbose=0, callbacks=[doctor])
    run = load_run(tmp_path / "add")
    assert not run.failures, run.failures
    val = run.split_metrics[run.split_metrics.split == "val"]
    np.testing.assert_allclose(val["accuracy"], history.history["val_accuracy"], atol=1e-6)
    assert run.arrays["dyn_margin"].shape == (2, 300)
    assert "dyn_embedding" not in run.arrays  # no single representation to record
    assert "dyn_val_embedding" not in run.arrays


def test_a_function_needing_a_known_batch_size_is_traced_per_shape():
    if keras.backend.backend() != "tensorflow":
        return
    import tensorflow as tf

    from gapdoctor.callback.backends import tensorflow_fns

    call = tensorflow_fns.eval_function(None, lambda x: tf.reshape(x, (x.shape[0] * 2, -1)),
                                        any_rows=True)
    call.warm(np.ones((4, 6), np.float32))
    assert call(np.ones((4, 6), np.float32)).shape == (8, 3)
    assert call(np.ones((5, 6), np.float32)).shape == (10, 3)
