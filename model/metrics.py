"""Tagging metrics as the ParT paper reports them, in plain numpy.

- accuracy, and macro one-vs-rest AUC over the classes;
- for each signal class, the background rejection 1/eps_B at a signal efficiency of 50%, with the
  discriminant p_sig / (p_sig + p_QCD) on signal and QCD jets only (the paper's Table 2); null
  when no background jet passes, with the number of background jets as its lower bound.
"""

from __future__ import annotations

import math

import numpy as np


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _ranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks with ties averaged (what the Mann-Whitney AUC needs)."""
    order = np.argsort(x, kind="mergesort")
    sx = x[order]
    first = np.r_[True, sx[1:] != sx[:-1]]
    starts = np.flatnonzero(first)
    ends = np.r_[starts[1:], len(x)] - 1
    ranks = np.empty(len(x), np.float64)
    ranks[order] = (0.5 * (starts + ends) + 1.0)[np.cumsum(first) - 1]
    return ranks


def auc(is_signal: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve: P(score_sig > score_bkg), ties counting half."""
    is_signal = np.asarray(is_signal, bool)
    n_s, n_b = int(is_signal.sum()), int((~is_signal).sum())
    if n_s == 0 or n_b == 0:
        return float("nan")
    r = _ranks(np.asarray(score, np.float64))
    return float((r[is_signal].sum() - n_s * (n_s + 1) / 2) / (n_s * n_b))


def roc_curve(is_signal: np.ndarray, score: np.ndarray):
    """(signal efficiency, background efficiency) for every threshold, highest score first."""
    order = np.argsort(-np.asarray(score, np.float64), kind="mergesort")
    s = np.asarray(is_signal, bool)[order]
    tpr = np.cumsum(s) / max(s.sum(), 1)
    fpr = np.cumsum(~s) / max((~s).sum(), 1)
    return tpr, fpr


def rejection_at(is_signal, score, signal_eff=0.5) -> float:
    """1 / background efficiency at the threshold that keeps `signal_eff` of the signal."""
    sig = np.sort(np.asarray(score, np.float64)[np.asarray(is_signal, bool)])
    bkg = np.asarray(score, np.float64)[~np.asarray(is_signal, bool)]
    if len(sig) == 0 or len(bkg) == 0:
        return float("nan")
    threshold = np.quantile(sig, 1.0 - signal_eff)
    eps_b = np.mean(bkg >= threshold)
    return float("inf") if eps_b == 0 else float(1.0 / eps_b)


def tagging_metrics(labels: np.ndarray, logits: np.ndarray, class_names, background="QCD"):
    """All figures for metrics.json from integer labels and (jets, classes) logits."""
    labels = np.asarray(labels)
    probs = softmax(np.asarray(logits, np.float64))
    pred = probs.argmax(axis=1)
    aucs = {
        name: auc(labels == i, probs[:, i])
        for i, name in enumerate(class_names)
        if (labels == i).any()
    }
    out = {
        "n_jets": int(len(labels)),
        "accuracy": float(np.mean(pred == labels)),
        "macro_auc": float(np.nanmean(list(aucs.values()))) if aucs else float("nan"),
        "auc": aucs,
        "rejection_at_50pct": {},
        "rejection_at_50pct_lower_bound": {},
        "confusion": confusion(labels, pred, len(class_names)).tolist(),
    }
    if background in class_names:
        b = list(class_names).index(background)
        for i, name in enumerate(class_names):
            sel = (labels == i) | (labels == b)
            if i == b or not (labels == i).any() or not (labels == b).any():
                continue
            disc = probs[sel, i] / np.maximum(probs[sel, i] + probs[sel, b], 1e-12)
            rej = rejection_at(labels[sel] == i, disc)
            if math.isinf(rej):
                # No background jet passed: the rejection is only known to exceed the number of
                # background jets. null keeps metrics.json strict JSON (no Infinity).
                out["rejection_at_50pct"][name] = None
                out["rejection_at_50pct_lower_bound"][name] = int((labels == b).sum())
            else:
                out["rejection_at_50pct"][name] = rej
    return out


def confusion(labels, pred, n_classes) -> np.ndarray:
    """Rows: true class, columns: predicted class (counts)."""
    m = np.zeros((n_classes, n_classes), np.int64)
    np.add.at(m, (np.asarray(labels), np.asarray(pred)), 1)
    return m


# ---------------------------------------------------------------------------- metrics.json
# Written by model/train.py: tagging_metrics() plus the run's figures. The validator and an
# example live here, with the computation they describe; the dashboard reads through them.

METRICS_NUMBERS = (
    "accuracy",
    "macro_auc",
    "parameters",
    "bops",
    "n_train",
    "n_jets",
    "epochs_run",
    "train_seconds",
)


def check_metrics_json(m, path) -> dict:
    """metrics.json as make train writes it; raises infra.checks.SchemaError naming the key."""
    from infra.checks import need, numbers

    need(m, "accuracy", path)
    numbers(m, METRICS_NUMBERS, path)
    for key in ("auc", "rejection_at_50pct"):
        if key in m:
            need(m, key, path, kind=dict)
            # null rejection: no background jet passed (a lower bound is given beside it)
            numbers(m[key], [c for c, v in m[key].items() if v is not None], path, f"{key}.")
    if "cost_per_layer" in m:
        for i, row in enumerate(need(m, "cost_per_layer", path, kind=list)):
            need(row, "layer", path, f"cost_per_layer[{i}].")
            numbers(row, ("params", "macs", "bops"), path, f"cost_per_layer[{i}].")
    return m
