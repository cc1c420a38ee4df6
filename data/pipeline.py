"""tf.data input pipelines: batches of (particles, pairs or kinematics, mask) -> labels.

`pairs` (a mode name or data.pairmode.PairMode) says what the model reads beside the particle
features: host, the (N, N, 4) pair features computed per batch in numpy (too large to hold for
a big sample, N=128: 256 kB a jet); onchip, the (N, 3) per-particle kinematics from which the
model computes them; none, nothing (data.pairmode). Two paths:
- `in_memory`: a small sample already read (data.reader.load_arrays), reshuffled every epoch;
- `streaming`: reads ROOT files chunk by chunk, several in parallel, through a shuffle buffer
  (the real dataset: tf.data interleave, shuffle, batch, prefetch);
- data.shards.dataset: the same from TFRecord shards made once (`make shards`), decoded in C++.
"""

from __future__ import annotations

import numpy as np

from data import features as F
from data import reader
from data.pairmode import DEFAULT, MODES, host_pair_features, pair_mode, with_kinematics

__all__ = [
    "PAIR_MODES",
    "batches",
    "host_pair_features",
    "in_memory",
    "streaming",
    "with_kinematics",
]

PAIR_MODES = tuple(MODES)


def _batch(arrays, idx, pairs):
    return pair_mode(pairs).batch_inputs(arrays, idx), arrays["labels"][idx].astype(np.int32)


def batches(arrays, batch_size, shuffle=True, seed=0, pairs=DEFAULT, epoch=0):
    """Python generator over one epoch; the order depends only on (seed, epoch). The arrays
    hold the mode's side array (data.pairmode.PairMode.prepare)."""
    n = len(arrays["mask"])
    order = np.random.default_rng([seed, epoch]).permutation(n) if shuffle else np.arange(n)
    for start in range(0, n, batch_size):
        yield _batch(arrays, order[start : start + batch_size], pairs)


def _signature(n_particles, n_features, pairs):
    import tensorflow as tf

    spec = pair_mode(pairs).signature(n_particles, n_features)
    return (spec, tf.TensorSpec((None,), tf.int32))


def in_memory(arrays, batch_size, shuffle=True, seed=0, pairs=DEFAULT):
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
    pairs=DEFAULT,
    step_size=20_000,
    readers=4,
):
    """A tf.data.Dataset that streams ROOT files: never more than a shuffle buffer in memory.

    Each pass visits the files in a new seeded order, `readers` of them at a time in parallel
    (tf.data interleave: chunk by chunk, jets taken from each in turn, so the classes of a
    one-class-per-file release mix from the first batch), through a shuffle buffer of
    `shuffle_buffer` jets, batched and prefetched. The host's pair features are computed per
    batch in parallel map calls; the on-chip mode's per-particle kinematics come from the
    reader and the model computes the rest. The order depends only on the seed and the pass.
    """
    import tensorflow as tf

    files = [str(f) for f in files]
    n_features = len(F.feature_names(feature_set))
    mode = pair_mode(pairs)

    def chunks(path):
        for chunk in reader.iterate([path.decode()], feature_set, n_particles, labels, step_size):
            chunk = mode.prepare(chunk, feature_set)
            side = [chunk[mode.side]] if mode.side else []
            out = [chunk["features"], *side, chunk["mask"]]
            yield tuple(np.asarray(a, np.float32) for a in out) + (
                chunk["labels"].astype(np.int32),
            )

    spec = mode.side_signature(n_particles, n_features) + (tf.TensorSpec((None,), tf.int32),)

    def one_file(path):
        ds = tf.data.Dataset.from_generator(chunks, output_signature=tuple(spec), args=(path,))
        return ds.unbatch()

    def to_inputs(*t):
        *x, y = t
        if mode.side:
            x = [x[0], mode.tf_pair_input(x[1], x[2], n_particles), x[2]]
        return tuple(x), y

    lanes = max(1, min(readers, len(files)))
    ds = tf.data.Dataset.from_tensor_slices(files).shuffle(
        len(files), seed=seed, reshuffle_each_iteration=True
    )
    ds = ds.interleave(one_file, cycle_length=lanes, num_parallel_calls=lanes, deterministic=True)
    ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True).batch(batch_size)
    ds = ds.map(to_inputs, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)
