"""Training on more than one device with TensorFlow's own strategies, chosen by name.

    default      one device (TensorFlow's default strategy): what training always did
    mirrored     every local GPU, one replica each, gradients all-reduced every step
                 (tf.distribute.MirroredStrategy); on a machine without a GPU it stops and
                 says so rather than run one replica under another name
    multiworker  several machines, each with its local GPUs (MultiWorkerMirroredStrategy),
                 configured by TF_CONFIG, one process per machine (docs/model.md: Slurm)

The batch size of a config is the global batch: each of R replicas gets batch_size / R jets per
step and the gradients are averaged over all of them, so a fixed seed and batch give the same
training on one device or several (tests/test_distribute.py measures how close).
"""

from __future__ import annotations

import json
import os

from infra.errors import QpartError

STRATEGIES = ("default", "mirrored", "multiworker")


class StrategyError(QpartError, RuntimeError):
    """A strategy that does not exist, or cannot run on this machine; says what to use."""


def make_strategy(name: str = "default", devices=None):
    """The tf.distribute strategy called `name`; `devices` (mirrored only) overrides the local
    GPUs, e.g. two logical CPU devices in a test."""
    import tensorflow as tf

    if name not in STRATEGIES:
        raise StrategyError(f"unknown strategy {name!r}; one of {', '.join(STRATEGIES)}")
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        if devices is None:
            devices = [d.name for d in tf.config.list_logical_devices("GPU")]
            if not devices and not tf.test.is_built_with_cuda():
                raise StrategyError(
                    "STRATEGY=mirrored: this machine has no GPU that TensorFlow can use: the "
                    "installed TensorFlow is the CPU-only build (tensorflow-cpu); on a GPU "
                    "machine run make setup GPU=1 (tensorflow[and-cuda]==2.15.1 and its CUDA "
                    "libraries, pinned in requirements.lock), else train with STRATEGY=default"
                )
            if not devices:
                raise StrategyError(
                    "STRATEGY=mirrored: this machine has no GPU that TensorFlow can use "
                    "(tf.config.list_logical_devices('GPU') is empty; check the NVIDIA driver "
                    "and CUDA_VISIBLE_DEVICES); train without it (STRATEGY=default)"
                )
        return tf.distribute.MirroredStrategy(list(devices))
    config = os.environ.get("TF_CONFIG")
    if not config:
        raise StrategyError(
            "STRATEGY=multiworker needs TF_CONFIG (every worker's host:port and this "
            'process\'s index), e.g. TF_CONFIG=\'{"cluster": {"worker": ["node1:12345", '
            '"node2:12345"]}, "task": {"type": "worker", "index": 0}}\' (docs/model.md)'
        )
    try:
        json.loads(config)
    except json.JSONDecodeError as err:
        raise StrategyError(f"TF_CONFIG is not valid JSON: {err}") from None
    return tf.distribute.MultiWorkerMirroredStrategy()


def distribute_options(dataset):
    """Shard a generator-fed dataset by batches across workers (it has no files to split)."""
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)
