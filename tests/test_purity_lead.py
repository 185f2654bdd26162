"""Within-split neighbour purity: memorising right labels makes training neighbourhoods
purer than validation's; wrong training labels make them less pure. A clean digits MLP
that memorises 300 rows reads below 0 and carries the evidence against overfitting at no
strength (the noisy side is tested on test_label_dynamics' runs)."""

from __future__ import annotations

import numpy as np
from scripts.tiny import digits

from gapdoctor import GapDoctor, diagnose, load_run
from gapdoctor.analysis.context import Context
from gapdoctor.analysis.split_neighbours import split_neighbours


def test_purity_lead_reads_which_split_is_less_pure():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1200, 4))
    y = (x[:, 0] > 0).astype(int) + 2 * (x[:, 1] > 0)
    clean = split_neighbours(x[:600], y[:600], x[600:], y[600:])
    assert abs(clean.purity_lead_z) < 3
    wrong = y[:600].copy()
    flip = rng.random(600) < 0.2
    wrong[flip] = (wrong[flip] + 1) % 4
    noisy = split_neighbours(x[:600], wrong, x[600:], y[600:])
    assert noisy.purity_lead > 0.1 and noisy.purity_lead_z > 5
    # the standard error is never below one neighbour step's
    assert noisy.within_se >= 1 / noisy.k / np.sqrt(2 * noisy.n)


def test_a_memorising_clean_model_reads_training_purer(tmp_path):
    import keras

    x_tr, x_va, y_tr, y_va = digits()
    x_tr, y_tr = x_tr[:300], y_tr[:300]
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr), output_dir=tmp_path,
                       diagnose=False, report=False, verbose=0)
    model.fit(x_tr, y_tr, validation_data=(x_va, y_va), epochs=60, batch_size=32, verbose=0,
              callbacks=[doctor])
    run = load_run(doctor.run_dir)
    lead, z, _, _ = Context(run, 0.5).purity_lead
    assert lead < 0 and z < -2, (lead, z)
    finding = next(f for f in diagnose(run).findings if f.cause == "overfitting")
    assert not any(e.key == "overfitting.purity_lead" and e.weight != 0 for e in finding.evidence)
