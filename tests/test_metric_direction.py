"""Which way is better for a logged metric: the recorded Keras class first, then the name
table; a name neither knows is unknown (None), never "lower is better"."""

from __future__ import annotations

import pytest

from gapdoctor.record.direction import metric_direction


@pytest.mark.parametrize("name, expected", [
    # Keras names
    ("val_accuracy", "max"), ("val_sparse_categorical_accuracy", "max"), ("val_auc", "max"),
    ("val_auc_1", "max"), ("val_mean_io_u", "max"), ("val_f1_score", "max"),
    ("val_loss", "min"), ("val_mae", "min"), ("val_msle", "min"), ("val_kl_divergence", "min"),
    ("val_categorical_hinge", "min"),
    # ranking and retrieval metrics (TF-Ranking, torchmetrics)
    ("val_mrr", "max"), ("val_mean_reciprocal_rank", "max"), ("val_ndcg", "max"),
    ("val_ndcg_at_10", "max"), ("val_hits_at_5", "max"), ("val_hit_rate", "max"),
    ("val_auroc", "max"), ("val_auprc", "max"), ("val_top5", "max"), ("val_mean_rank", "min"),
    # calibration and robust regression errors
    ("val_brier", "min"), ("val_ece", "min"), ("val_huber", "min"), ("val_smape", "min"),
    ("val_rmsle", "min"), ("val_cross_entropy", "min"), ("val_explained_variance", "max"),
    # lower-is-better words win over a higher-is-better one: a dice loss is a loss
    ("val_dice_loss", "min"), ("val_iou_error", "min"),
    # names nobody can read
    ("val_foo", None), ("val_positive_rate", None), ("val_class_distance", "min"),
])
def test_the_name_table(name, expected):
    assert metric_direction(name) == expected


def test_the_recorded_keras_class_decides_before_the_name():
    metrics = [{"name": "score", "class_name": "MeanSquaredError"}]
    assert metric_direction("val_score", metrics) == "min"
    assert metric_direction("val_score") == "max"
