"""tf.data input pipelines: batches of (particles, pairs, mask) -> labels.

Pair features are (N, N, 4) per jet, too large to hold for a big sample (N=128: 256 kB a jet),
so both paths keep the 4-vectors and compute pair features per batch with the one numpy
implementation in data.features. Two paths:
- `in_memory`: a small sample already read (data.reader.load_arrays), reshuffled every epoch;
- `streaming`: reads ROOT files chunk by chunk through a shuffle buffer (the real dataset).
"""

from __future__ import annotations

import numpy as np

from data import features as F
from data import reader


def _batch(arrays, idx, with_pairs):
    x = arrays["features"][idx]
    mask = arrays["mask"][idx]
    inputs = [x]
    if with_pairs:
        inputs.append(F.pair_inputs(arrays["vectors"][idx], mask))
    inputs.append(mask)
    return tuple(inputs), arrays["labels"][idx].astype(np.int32)


def batches(arrays, batch_size, shuffle=True, seed=0, with_pairs=True, epoch=0):
    """Python generator over one epoch; the order depends only on (seed, epoch)."""
    n = len(arrays["mask"])
    order = np.random.default_rng([seed, epoch]).permutation(n) if shuffle else np.arange(n)
    for start in range(0, n, batch_size):
        yield _batch(arrays, order[start : start + batch_size], with_pairs)


def _signature(n_particles, n_features, with_pairs):
    import tensorflow as tf

    spec = [tf.TensorSpec((None, n_particles, n_features), tf.float32)]
    if with_pairs:
        spec.append(
            tf.TensorSpec((None, n_particles, n_particles, len(F.PAIR_FEATURES)), tf.float32)
        )
    spec.append(tf.TensorSpec((None, n_particles), tf.float32))
    return (tuple(spec), tf.TensorSpec((None,), tf.int32))


def in_memory(arrays, batch_size, shuffle=True, seed=0, with_pairs=True):
    """A tf.data.Dataset over arrays in memory, reshuffled each time it is iterated."""
    import tensorflow as tf

    n_particles, n_features = arrays["features"].shape[1:]
    epoch = [0]

    def gen():
        yield from batches(arrays, batch_size, shuffle, seed, with_pairs, epoch[0])
        epoch[0] += 1

    ds = tf.data.Dataset.from_generator(
        gen, output_signature=_signature(n_particles, n_features, with_pairs)
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
    with_pairs=True,
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
                    yield _batch(buffer, perm[start : start + batch_size], with_pairs)
                buffer = {k: v[perm[n_out:]] for k, v in buffer.items()}
        if buffer is not None:
            perm = rng.permutation(len(buffer["mask"]))
            for start in range(0, len(perm), batch_size):
                yield _batch(buffer, perm[start : start + batch_size], with_pairs)

    ds = tf.data.Dataset.from_generator(
        gen, output_signature=_signature(n_particles, n_features, with_pairs)
    )
    return ds.prefetch(2)
