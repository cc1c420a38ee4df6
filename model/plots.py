"""Training plots: loss/accuracy curves, ROC curves against QCD, confusion matrix."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from model.metrics import roc_curve, softmax  # noqa: E402


def history_plot(history: dict, path: Path, title: str):
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    epochs = np.arange(1, len(history["loss"]) + 1)
    for ax, key in zip(axes, ("loss", "accuracy")):
        ax.plot(epochs, history[key], label="train")
        if f"val_{key}" in history:
            ax.plot(epochs, history[f"val_{key}"], label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def roc_plot(labels, logits, class_names, path: Path, title: str, background="QCD"):
    """Background rejection vs signal efficiency, each signal class against QCD."""
    probs = softmax(np.asarray(logits, np.float64))
    b = list(class_names).index(background)
    fig, ax = plt.subplots(figsize=(6.5, 5))
    for i, name in enumerate(class_names):
        sel = (labels == i) | (labels == b)
        if i == b or not (labels == i).any() or not (labels == b).any():
            continue
        disc = probs[sel, i] / np.maximum(probs[sel, i] + probs[sel, b], 1e-12)
        tpr, fpr = roc_curve(labels[sel] == i, disc)
        ok = fpr > 0
        ax.plot(tpr[ok], 1.0 / fpr[ok], label=f"{name} vs {background}")
    ax.set_yscale("log")
    ax.set_xlabel("signal efficiency")
    ax.set_ylabel(f"{background} rejection 1/eps_B")
    ax.set_xlim(0, 1)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, ncol=2)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def confusion_plot(matrix, class_names, path: Path, title: str):
    m = np.asarray(matrix, np.float64)
    norm = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(7, 6))
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(class_names)), class_names, rotation=45, ha="right")
    ax.set_yticks(range(len(class_names)), class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(len(class_names)):
        for j in range(len(class_names)):
            ax.text(
                j,
                i,
                f"{norm[i, j]:.2f}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if norm[i, j] > 0.5 else "black",
            )
    fig.colorbar(im, ax=ax, fraction=0.046)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
