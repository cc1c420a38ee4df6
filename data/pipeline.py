"""tf.data input pipelines: batches of (particles, pairs or kinematics, mask) -> labels.

`pairs` says what the model reads beside the particle features: "host", the (N, N, 4) pair
features computed per batch in numpy (data.features.pair_inputs, weaver-core's formulas: too
large to hold for a big sample, N=128: 256 kB a jet); "onchip", the (N, 3) per-particle
kinematics from which the model computes them (model.layers.PairFeatures, as the firmware
does); "none", nothing. Two paths:
- `in_memory`: a small sample already read (data.reader.load_arrays), reshuffled every epoch;
- `streaming`: reads ROOT files chunk by chunk through a shuffle buffer (the real dataset).
"""

from __future__ import annotations

import numpy as np

from data import features as F
from data import reader

PAIR_MODES = ("host", "onchip", "none")


def _batch(arrays, idx, pairs):
    x = arrays["features"][idx]
    mask = arrays["mask"][idx]
    inputs = [x]
    if pairs == "host":
        inputs.append(F.pair_inputs(arrays["vectors"][idx], mask))
    elif pairs == "onchip":
        inputs.append(arrays["kinematics"][idx])
    inputs.append(mask)
    return tuple(inputs), arrays["labels"][idx].astype(np.int32)


def with_kinematics(arrays, feature_set: str) -> dict:
    """arrays plus "kinematics" (data.features.particle_kinematics), computed once."""
    if "kinematics" not in arrays:
        arrays = dict(
            arrays,
            kinematics=F.particle_kinematics(
                arrays["features"], feature_set, arrays["vectors"], arrays["mask"]
            ),
        )
    return arrays


def batches(arrays, batch_size, shuffle=True, seed=0, pairs="host", epoch=0):
    """Python generator over one epoch; the order depends only on (seed, epoch). With
    pairs="onchip" the arrays hold "kinematics" (with_kinematics)."""
    n = len(arrays["mask"])
    order = np.random.default_rng([seed, epoch]).permutation(n) if shuffle else np.arange(n)
    for start in range(0, n, batch_size):
        yield _batch(arrays, order[start : start + batch_size], pairs)


def _signature(n_particles, n_features, pairs):
    import tensorflow as tf

    spec = [tf.TensorSpec((None, n_particles, n_features), tf.float32)]
    if pairs == "host":
        spec.append(
            tf.TensorSpec((None, n_particles, n_particles, len(F.PAIR_FEATURES)), tf.float32)
        )
    elif pairs == "onchip":
        spec.append(tf.TensorSpec((None, n_particles, len(F.KINEMATICS)), tf.float32))
    spec.append(tf.TensorSpec((None, n_particles), tf.float32))
    return (tuple(spec), tf.TensorSpec((None,), tf.int32))


def in_memory(arrays, batch_size, shuffle=True, seed=0, pairs="host"):
    """A tf.data.Dataset over arrays in memory, reshuffled each time it is iterated."""
    import tensorflow as tf

    n_particles, n_features = arrays["features"].shape[1:]
    epoch = [0]

    def gen():
        yield from batches(arrays, batch_size, shuffle, seed, pairs, epoch[0])
        epoch[0] += 1

    ds = tf.data.Dataset.from_generator(
        gen, output_signature=_signature(n_particles, n_features, pairs)
    )
    return ds.prefetch(2)


def streaming(
    files,
    feature_set,
    n_particles,
    labels,
    batch_size,
    shuffle_buffer=100_000,
    seed=0,
    pairs="host",
    step_size=20_000,
):
    """A tf.data.Dataset that streams ROOT files: never more than a shuffle buffer in memory.

    Files are visited in a seeded random order per pass; jets are shuffled within a buffer
    of `shuffle_buffer` jets drawn from the chunks of several files.
    """
    import tensorflow as tf

    files = list(files)
    n_features = len(F.feature_names(feature_set))
    passes = [0]

    def gen():
        rng = np.random.default_rng([seed, passes[0]])
        passes[0] += 1
        order = [files[i] for i in rng.permutation(len(files))]
        buffer = None
        for chunk in reader.iterate(order, feature_set, n_particles, labels, step_size):
            if pairs == "onchip":
                chunk = with_kinematics(chunk, feature_set)
            buffer = (
                chunk
                if buffer is None
                else {k: np.concatenate([buffer[k], chunk[k]]) for k in chunk}
            )
            n = len(buffer["mask"])
            if n >= shuffle_buffer:
                # Emit all but half a buffer, which stays to mix with the next files.
                perm = rng.permutation(n)
                n_out = (n - shuffle_buffer // 2) // batch_size * batch_size
                for start in range(0, n_out, batch_size):
                    yield _batch(buffer, perm[start : start + batch_size], pairs)
                buffer = {k: v[perm[n_out:]] for k, v in buffer.items()}
        if buffer is not None:
            perm = rng.permutation(len(buffer["mask"]))
            for start in range(0, len(perm), batch_size):
                yield _batch(buffer, perm[start : start + batch_size], pairs)

    ds = tf.data.Dataset.from_generator(
        gen, output_signature=_signature(n_particles, n_features, pairs)
    )
    return ds.prefetch(2)
