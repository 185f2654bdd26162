"""Validation columns that break the training data's schema (a failed parse, a byte order)
count for a pipeline bug and against a shift; noise on the inputs, a fair small sample or
a sparse column do not."""

from __future__ import annotations

import numpy as np
from scripts.tiny import digits, fit, mlp
from sklearn.datasets import load_wine

from gapdoctor import GapDoctor, load_run
from gapdoctor.analysis.integrity import integrity
from gapdoctor.lookalikes import tell_apart


def _evidence(diagnosis, cause: str, key: str) -> list:
    return [e for e in diagnosis.finding(cause).evidence if (e.rule or {}).get("key") == key]


def test_a_fair_split_of_a_real_table_breaks_nothing():
    x, _ = load_wine(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(x))
    found = integrity(x[order[:120]], x[order[120:]])
    assert found.checked == x.shape[1] and found.n_broken == 0


def test_noise_on_mostly_blank_pixels_is_not_out_of_range():
    x_tr, x_va, _, _ = digits()
    noisy = x_va + np.random.default_rng(0).normal(0, 0.1, x_va.shape)
    assert integrity(x_tr, noisy).n_broken == 0


def test_a_small_fair_sample_of_a_lopsided_flag_is_not_stuck():
    rng = np.random.default_rng(1)
    flag_train = (rng.random((500, 1)) < 0.9).astype(float)  # 90 % ones
    flag_val = np.ones((25, 1))                               # 0.9^25 = 7 %: chance
    assert integrity(flag_train, flag_val).n_broken == 0
    assert integrity(flag_train, np.ones((120, 1))).broken == {"stuck": [0]}  # 0.9^120: not


def test_a_failed_parse_on_the_validation_path_counts_for_a_pipeline_bug(tmp_path):
    x_tr, x_va, y_tr, y_va = digits()
    busy = np.flatnonzero((x_tr == 0).mean(axis=0) < 0.5)[:12]   # pixels mostly inked in training
    assert len(busy) == 12
    x_va = x_va.copy()
    x_va[:, busy] = -1.0   # the loader's parse failed on these columns: NaN, then fillna(-1)
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                       output_dir=tmp_path, verbose=0, report=False, background=False)
    fit(mlp(), (x_tr, x_va, y_tr, y_va), doctor, epochs=6)
    d = doctor.diagnosis
    counted = _evidence(d, "pipeline_bug", "pipeline_bug.integrity")
    assert counted and counted[0].supports
    assert "stuck" in str(counted[0].value) and f"{len(busy)} of 64 columns" in str(counted[0].value)
    assert "integrity" in d.finding("pipeline_bug").details["fix_tags"]
    assert f"{len(busy)} of 64 validation input columns break" in d.finding("pipeline_bug").summary
    against = _evidence(d, "distribution_shift", "distribution_shift.integrity")
    assert against and not against[0].supports
    # the check that tells the two apart is told with the columns found
    facts = {**d.finding("distribution_shift").details, **d.finding("pipeline_bug").details}
    assert tell_apart("distribution_shift", "pipeline_bug", facts=facts).startswith(
        "Validation columns that break what training shows: stuck (columns ")
    # the same record without those columns broken: nothing counted
    run = load_run(doctor.run_dir)
    run.arrays["x_val"][:, busy] = x_tr[:len(run.arrays["x_val"]), busy]
    from gapdoctor.engine import diagnose
    assert not _evidence(diagnose(run), "pipeline_bug", "pipeline_bug.integrity")


def test_a_shift_by_noise_counts_nothing_from_the_schema(tmp_path):
    x_tr, x_va, y_tr, y_va = digits()
    x_va = x_va + np.random.default_rng(0).normal(0, 0.15, x_va.shape).astype("float32")
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                       output_dir=tmp_path, verbose=0, report=False, background=False)
    fit(mlp(), (x_tr, x_va, y_tr, y_va), doctor, epochs=4)
    assert not _evidence(doctor.diagnosis, "pipeline_bug", "pipeline_bug.integrity")
    assert not _evidence(doctor.diagnosis, "distribution_shift", "distribution_shift.integrity")
    assert not _evidence(doctor.diagnosis, "pipeline_bug", "pipeline_bug.far_values")


def test_only_tables_are_checked_not_pixels_or_time_steps():
    """Content that moves in an image (a smaller wafer disc) leaves border pixels constant with
    nothing broken: only one value per feature is a schema column."""
    from gapdoctor.analysis.inputs import integrity_of
    from gapdoctor.record.schema import RunRecord

    x_tr, x_va, _, _ = digits()
    x_va = x_va.copy()
    x_va[:, np.flatnonzero((x_tr == 0).mean(axis=0) < 0.5)[:12]] = -1.0
    for shape, checked in (([64], True), ([8, 8, 1], False), ([64, 1], False)):
        run = RunRecord.empty(source="test")
        run.meta["data"] = {"input_shape": shape}
        run.arrays.update(x_train=x_tr, x_val=x_va)
        found = integrity_of(run, tokens=False)
        assert (found is not None and found.n_broken >= 12) if checked else found is None, shape


def test_malformed_samples_give_no_finding_and_no_error():
    """NaN/inf values, text, mismatched widths, too few rows or no recorded shape: the check
    counts what it can and never raises."""
    from gapdoctor.analysis.inputs import integrity_of
    from gapdoctor.record.schema import RunRecord

    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, 5))
    nan_val = x.copy()
    nan_val[:, 0], nan_val[:, 1] = np.nan, np.inf   # columns with no finite value: not checked
    found = integrity(x, nan_val)
    assert found.checked == 3 and found.n_broken == 0

    def run(shape, x_train, x_val):
        r = RunRecord.empty(source="test")
        r.meta["data"] = {"input_shape": shape} if shape is not None else {}
        r.arrays.update(x_train=x_train, x_val=x_val)
        return integrity_of(r, tokens=False)

    assert run([5], x, x[:10]) is None                        # 10 validation rows: nothing checkable
    assert run([5], x, rng.normal(size=(50, 6))) is None      # other width
    assert run([5], np.array(["a b"] * 30), np.array(["c"] * 30)) is None   # text
    assert run(None, x, x) is None                            # shape not recorded
    assert run([5], x, x).share == 0.0


def _cancer_table():
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    x, y = load_breast_cancer(return_X_y=True)
    x = ((x - x.mean(0)) / x.std(0)).astype("float32")
    return train_test_split(x, y, test_size=0.35, random_state=0, stratify=y)


def test_one_field_carried_far_past_its_range_is_a_bug_not_a_shift(tmp_path):
    """A date read with the wrong origin on part of the validation files moves one field of 30
    far past anything training holds: one column is enough, whatever the other 29 do."""
    x_tr, x_va, y_tr, y_va = _cancer_table()
    x_va = x_va.copy()
    files = np.random.default_rng(0).random(len(x_va)) < 0.4
    span = float(np.ptp(x_tr[:, 3]))
    x_va[files, 3] += 4 * span   # the origin: every such value lies beyond max + span
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                       output_dir=tmp_path, verbose=0, report=False, background=False)
    fit(mlp(2, input_shape=(30,)), (x_tr, x_va, y_tr, y_va), doctor, epochs=8)
    d = doctor.diagnosis
    hard = _evidence(d, "pipeline_bug", "pipeline_bug.hard_break")
    assert hard and hard[0].supports and "out of range (column 3)" in str(hard[0].value)
    against = _evidence(d, "distribution_shift", "distribution_shift.hard_break")
    assert against and not against[0].supports
    assert d.finding("pipeline_bug").score > d.finding("distribution_shift").score


def test_a_field_moved_within_reach_of_training_is_no_hard_break():
    """The same rows moved by half the column's range: a changed world, nothing broken."""
    x_tr, x_va, _, _ = _cancer_table()
    x_va = x_va.copy()
    files = np.random.default_rng(0).random(len(x_va)) < 0.4
    x_va[files, 3] += 0.5 * float(np.ptp(x_tr[:, 3]))
    assert integrity(x_tr, x_va).n_hard == 0
    x_va[files, 3] += 4 * float(np.ptp(x_tr[:, 3]))
    assert integrity(x_tr, x_va).n_hard == 1


def test_images_read_with_the_wrong_byte_order_are_a_bug_not_a_shift(tmp_path):
    """16-bit pixels written little-endian and read big-endian: every inked pixel lands far
    past anything training holds (the images have no schema columns, but one range)."""
    from gapdoctor.analysis.integrity import far_values

    x_tr, x_va, y_tr, y_va = digits(image=True)
    stored = np.round(x_va * 255).astype("<u2")
    x_va = (stored.view(">u2").astype("float32") / 255.0)
    assert far_values(x_tr, x_va) > 0.4 and far_values(x_tr, x_tr[::2]) == 0.0
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                       output_dir=tmp_path, verbose=0, report=False, background=False)
    fit(mlp(input_shape=(8, 8, 1)), (x_tr, x_va, y_tr, y_va), doctor, epochs=6)
    d = doctor.diagnosis
    far = _evidence(d, "pipeline_bug", "pipeline_bug.far_values")
    assert far and far[0].supports and "of validation input values" in str(far[0].value)
    assert "far_values" in d.finding("pipeline_bug").details["fix_tags"]
    facts = {**d.finding("distribution_shift").details, **d.finding("pipeline_bug").details}
    assert "of the validation input values lie beyond twice" in tell_apart(
        "distribution_shift", "pipeline_bug", facts=facts)
    against = _evidence(d, "distribution_shift", "distribution_shift.far_values")
    assert against and not against[0].supports
    assert d.finding("pipeline_bug").score > d.finding("distribution_shift").score


def test_one_broken_column_of_thirty_is_told_with_its_name(tmp_path):
    """A single hard break (under the share where the share reading starts) still gives the
    finding its columns: the story, the fix and the close call name them."""
    x_tr, x_va, y_tr, y_va = _cancer_table()
    x_va = x_va.copy()
    x_va[np.random.default_rng(0).random(len(x_va)) < 0.4, 3] += 4 * float(np.ptp(x_tr[:, 3]))
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                       output_dir=tmp_path, verbose=0, report=False, background=False)
    fit(mlp(2, input_shape=(30,)), (x_tr, x_va, y_tr, y_va), doctor, epochs=4)
    bug = doctor.diagnosis.finding("pipeline_bug")
    assert bug.details["integrity_columns"] == "out of range (column 3)"
    assert "1 of 30 validation input columns break" in bug.summary
    facts = {**doctor.diagnosis.finding("distribution_shift").details, **bug.details}
    assert "out of range (column 3)" in tell_apart("distribution_shift", "pipeline_bug", facts=facts)
