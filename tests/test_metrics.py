"""Tagging metrics against brute-force definitions."""

import json

import numpy as np

from model import metrics


def test_auc_is_the_pairwise_probability():
    rng = np.random.default_rng(0)
    sig = rng.integers(0, 2, 300).astype(bool)
    score = np.round(rng.normal(sig * 0.8, 1.0), 1)  # rounded: plenty of ties
    s, b = score[sig], score[~sig]
    brute = (np.sum(s[:, None] > b[None, :]) + 0.5 * np.sum(s[:, None] == b[None, :])) / (
        len(s) * len(b)
    )
    assert metrics.auc(sig, score) == brute


def test_rejection_at_half_efficiency():
    sig = np.array([1] * 4 + [0] * 10, bool)
    score = np.array([0.9, 0.8, 0.7, 0.6] + [0.75, 0.1, 0.2, 0.3, 0.65, 0.05, 0.0, 0.4, 0.5, 0.3])
    # Half of the signal is kept above 0.75 (median of the signal scores): 0.75 passes.
    thr = np.quantile(score[sig], 0.5)
    assert metrics.rejection_at(sig, score) == 1 / np.mean(score[~sig] >= thr)


def test_tagging_metrics_strict_json_when_nothing_passes():
    labels = np.array([0] * 5 + [1] * 5)
    logits = np.zeros((10, 3))
    logits[5:, 1] = 5.0  # class 1 perfectly separated from QCD
    out = metrics.tagging_metrics(labels, logits, ["QCD", "Hbb", "Hcc"])
    assert out["rejection_at_50pct"]["Hbb"] is None
    assert out["rejection_at_50pct_lower_bound"]["Hbb"] == 5
    assert "Hcc" not in out["rejection_at_50pct"]  # no Hcc jets
    json.dumps(out, allow_nan=False)
    assert out["accuracy"] == 1.0
    assert out["confusion"] == [[5, 0, 0], [0, 5, 0], [0, 0, 0]]
