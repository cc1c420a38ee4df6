"""Learned widths in training (model.learned): the resource term of the loss, its warm-up, the
guard against a beta that prunes everything, and the per-layer summary for metrics.json.

The loss is cross entropy + beta * EBOPs (HGQ, arXiv 2405.00645), beta = 0 for the first
`warmup_epochs` epochs so the weights learn before the widths shrink. Checkpoints are chosen
on the validation loss with the resource term from the end of the warm-up on only (a warm-up
epoch, at full width and beta = 0, would otherwise always look best).
"""

from __future__ import annotations

import numpy as np

from model import builder, learned
from model import layers as L


def learned_layers(model) -> list:
    """The layers of `model` whose kernels have learned widths."""
    return [
        layer
        for layer in model.layers
        if isinstance(layer, L._FxLayer) and layer.learned is not None and layer._fbits
    ]


def ebops(model, cfg):
    """The model's differentiable EBOPs of the learned kernels (float64 scalar tensor)."""
    import tensorflow as tf

    terms = [
        layer.ebops(
            builder.layer_learned_widths(cfg, builder.input_type_key(layer.name))["input_bits"]
        )
        for layer in learned_layers(model)
    ]
    return tf.add_n(terms) if terms else tf.constant(0.0, tf.float64)


def all_pruned(model) -> bool:
    """Every learned weight is exactly zero."""
    return all(
        not np.any(q) for layer in learned_layers(model) for _, q in layer.quantized_kernels()
    )


def attach(model, cfg, checkpoint=None):
    """Add beta * EBOPs to `model`'s loss; returns the callback that schedules beta (first in
    the callback list), restarts `checkpoint`'s best at the end of the warm-up and stops
    training when every width has collapsed to zero (its `collapsed_epoch` says when)."""
    import tensorflow as tf

    lw = cfg["quantization"]["learned_widths"]
    beta = tf.Variable(0.0, dtype=tf.float64, trainable=False, name="ebops_beta")
    model.add_loss(lambda: beta * ebops(model, cfg))

    class WidthSchedule(tf.keras.callbacks.Callback):
        collapsed_epoch = None

        def on_epoch_begin(self, epoch, logs=None):
            beta.assign(0.0 if epoch < lw["warmup_epochs"] else lw["beta"])
            if epoch == lw["warmup_epochs"] and checkpoint is not None:
                checkpoint.best = np.inf  # monitor val_loss, mode min

        def on_epoch_end(self, epoch, logs=None):
            if all_pruned(self.model):
                self.collapsed_epoch = epoch + 1
                self.model.stop_training = True

    return WidthSchedule()


def summary(model, cfg) -> dict:
    """Where the bits went, per layer: the learned widths' mean (pruned weights count 0) and
    mean over the kept weights, their histogram {bits: weights}, the fraction pruned (exactly
    zero), the firmware weight type and the EBOPs of the weight products."""
    lw = cfg["quantization"]["learned_widths"]
    rows, all_widths = [], []
    for layer in learned_layers(model):
        widths = np.concatenate(
            [
                learned.widths_np(q, f, layer.weight_integer, layer.learned).ravel()
                for (_, q), (_, _, f) in zip(layer.quantized_kernels(), layer.learned_kernels())
            ]
        )
        all_widths.append(widths)
        kept = widths[widths > 0]
        in_bits = builder.layer_learned_widths(cfg, builder.input_type_key(layer.name))
        rows.append(
            {
                "layer": layer.name,
                "weights": int(widths.size),
                "mean_bits": round(float(widths.mean()), 4),
                "mean_bits_kept": round(float(kept.mean()), 4) if kept.size else 0.0,
                "pruned_fraction": round(float(np.mean(widths == 0)), 4),
                "histogram": {
                    str(b): int(n) for b, n in zip(*np.unique(widths, return_counts=True))
                },
                "weight_t": str(layer.weight_t),
                "ebops": int(round(layer.ebops_value(in_bits["input_bits"]))),
            }
        )
    widths = np.concatenate(all_widths) if all_widths else np.zeros(0, np.int64)
    return {
        "granularity": lw["granularity"],
        "beta": lw["beta"],
        "warmup_epochs": lw["warmup_epochs"],
        "max_bits": lw["max_bits"],
        "weights": int(widths.size),
        "mean_bits": round(float(widths.mean()), 4) if widths.size else 0.0,
        "pruned_fraction": round(float(np.mean(widths == 0)), 4) if widths.size else 0.0,
        "ebops": int(sum(r["ebops"] for r in rows)),
        "layers": rows,
    }
