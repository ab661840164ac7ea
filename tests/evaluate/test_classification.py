"""Quality-classifier metrics on hand-computed cases (bad is the positive class)."""

from __future__ import annotations

import numpy as np
import pytest

from streamer.errors import DataError
from streamer.evaluate.classification import cohen_kappa, quality_metrics

IS_BAD = np.array([1, 1, 0, 0, 1, 0], dtype=bool)
P_BAD = np.array([0.9, 0.4, 0.6, 0.1, 0.8, 0.3])


def test_threshold_metrics_and_confusion() -> None:
    metrics = quality_metrics(IS_BAD, P_BAD, threshold=0.5)
    np.testing.assert_array_equal(metrics.confusion, [[2, 1], [1, 2]])  # rows truth good/bad
    assert metrics.accuracy == pytest.approx(4 / 6)
    assert metrics.precision == pytest.approx(2 / 3)
    assert metrics.recall == pytest.approx(2 / 3)
    assert metrics.f1 == pytest.approx(2 / 3)
    assert metrics.kappa == pytest.approx((4 / 6 - 0.5) / 0.5)


def test_threshold_is_inclusive() -> None:
    metrics = quality_metrics(IS_BAD, P_BAD, threshold=0.4)
    np.testing.assert_array_equal(metrics.confusion, [[2, 1], [0, 3]])


def test_roc_points_and_auc() -> None:
    roc = quality_metrics(IS_BAD, P_BAD).roc
    assert roc is not None
    np.testing.assert_allclose(roc.false_positive_rate, [0, 0, 0, 1 / 3, 1 / 3, 2 / 3, 1])
    np.testing.assert_allclose(roc.true_positive_rate, [0, 1 / 3, 2 / 3, 2 / 3, 1, 1, 1])
    np.testing.assert_array_equal(roc.thresholds, [np.inf, 0.9, 0.8, 0.6, 0.4, 0.3, 0.1])
    assert roc.auc == pytest.approx(8 / 9)  # 8 of the 9 bad/good pairs are ranked correctly


def test_tied_scores_make_one_roc_point() -> None:
    roc = quality_metrics(np.array([True, False]), np.array([0.5, 0.5])).roc
    assert roc is not None
    np.testing.assert_array_equal(roc.true_positive_rate, [0, 1])
    assert roc.auc == 0.5


def test_single_class_ground_truth_has_no_roc() -> None:
    metrics = quality_metrics(np.array([False, False, False]), np.array([0.1, 0.7, 0.2]))
    assert metrics.roc is None and metrics.auc is None
    assert metrics.recall == 0.0 and metrics.precision == 0.0 and metrics.f1 == 0.0
    assert metrics.to_json()["roc"] is None


def test_perfect_and_inverted_classifiers() -> None:
    perfect = quality_metrics(IS_BAD, IS_BAD.astype(float))
    assert (perfect.accuracy, perfect.f1, perfect.kappa, perfect.auc) == (1.0, 1.0, 1.0, 1.0)
    inverted = quality_metrics(IS_BAD, 1.0 - IS_BAD)
    assert inverted.kappa == -1.0 and inverted.auc == 0.0


def test_kappa_of_a_single_class_everywhere_is_zero() -> None:
    assert cohen_kappa(np.array([[5, 0], [0, 0]])) == 0.0


def test_json_report() -> None:
    report = quality_metrics(IS_BAD, P_BAD).to_json()
    assert report["confusion"]["counts"] == [[2, 1], [1, 2]]
    assert report["roc"][0] == {"fpr": 0.0, "tpr": 0.0, "threshold": None}
    assert report["n"] == 6 and report["auc"] == pytest.approx(8 / 9)


def test_no_frames_is_a_data_error() -> None:
    with pytest.raises(DataError, match="no frames"):
        quality_metrics(np.zeros(0, bool), np.zeros(0))
