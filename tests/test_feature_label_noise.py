"""Feature-dependent label noise on a real Keras training: a region of three classes (the
brighter half of their images) relabelled consistently. The model learns the wrong region as
readily as the true rule, so the training-side checks see little, and the three classes lag
on validation like a subgroup the model cannot learn. The reverse reference (a model fitted
on validation data, scored on the training labels) sees the contradiction: label noise leads,
above subgroup underfitting and overfitting. Without it subgroup underfitting led (about
0.5) and label noise sat near 0.05; with it, over three splits, label noise 0.32-0.38 and
the disagreement 7.6-9.3 standard errors, 13-15 % of the training labels. Read per class at
the training shares (2026-11-27): 5.5 standard errors, label noise 0.42 first. With the
within- against cross-split neighbour agreement in the network's representation (4.6
standard errors; a clean run of the same split -1.7; 6.8 before both splits were drawn with
equal rows per class, which dilutes the three classes this relabelling inflates) label noise
reads 0.72, subgroup underfitting 0.18."""

from __future__ import annotations

import os

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from scripts.tiny import digits, mlp  # noqa: E402

from gapdoctor import GapDoctor  # noqa: E402

PAIRS = {9: 4, 3: 5, 7: 1}  # given class -> the label its brighter half gets


def _relabel_bright_half(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    y = y.copy()
    brightness = x.reshape(len(x), -1).mean(1)
    for given, wrong in PAIRS.items():
        rows = y == given
        y[rows & (brightness > np.median(brightness[rows]))] = wrong
    return y


def test_a_consistently_relabelled_region_leads_to_label_noise(tmp_path) -> None:
    x_tr, x_va, y_tr, y_va = digits()
    y_bad = _relabel_bright_half(x_tr, y_tr)
    assert 0.12 < (y_bad != y_tr).mean() < 0.18
    model = mlp(lr=0.003)
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_bad),
                       output_dir=tmp_path, verbose=0, report=False, background=False)
    model.fit(x_tr, y_bad, validation_data=(x_va, y_va), epochs=25, batch_size=64,
              callbacks=[doctor], verbose=0)
    d = doctor.diagnosis
    noise = d.finding("label_noise")
    disagree = [e for e in noise.evidence if e.key == "label_noise.disagree"]
    assert disagree and disagree[0].weight >= 2.0, [e.key for e in noise.evidence]
    # the network's own representation says it too: each split agrees with itself, the
    # two disagree (4.6 standard errors on this split, 2026-11-27; counted from 4)
    splits = [e for e in noise.evidence if e.key == "label_noise.splits_disagree"]
    assert splits and splits[0].weight >= 0.5, [e.key for e in noise.evidence]
    others = {f.cause: f.score for f in d.findings if f.cause != "label_noise"}
    assert noise.score > max(others.values()), others


def test_training_labels_drawn_at_random_hold_validation_at_chance_and_still_read_as_wrong(
        tmp_path) -> None:
    # every training label drawn at random: the network memorises them and validation sits
    # at chance, which alone points away from label noise (to a pipeline bug or a shift);
    # the reverse reference shows that validation's labels are learnable from the same
    # inputs and the training ones are not, so chance no longer counts against label noise
    from gapdoctor.analysis.context import Context

    x_tr, x_va, y_tr, y_va = digits()
    y_bad = np.random.default_rng(0).integers(0, 10, len(y_tr))
    model = mlp(lr=0.003)
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_bad),
                       output_dir=tmp_path, verbose=0, report=False, background=False)
    model.fit(x_tr, y_bad, validation_data=(x_va, y_va), epochs=25, batch_size=64,
              callbacks=[doctor], verbose=0)
    assert Context(doctor.record).val_above_chance < 0.15   # the premise: at chance
    d = doctor.diagnosis
    evidence = {e.key: e for e in d.finding("label_noise").evidence}
    assert evidence["label_noise.disagree"].weight == 2.5
    assert "label_noise.at_chance" not in evidence   # counted for nothing, so not listed
    # a pipeline bug (labels shuffled on the way in) and wrong labels are both fair reads,
    # and lead; since the label-consistency read (training labels learned at chance within
    # training, validation's well within validation) wrong labels lead
    assert {f.cause for f in d.findings[:2]} == {"pipeline_bug", "label_noise"}
    assert evidence["label_noise.self_consistency"].weight > 3.5
    assert d.score_of("label_noise") > 0.5
