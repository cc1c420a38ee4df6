"""Distributed training (model/distribute.py): MirroredStrategy over two logical CPU devices
trains as one device does on a fixed seed and batch, and a strategy that cannot run says why.

The two devices must be configured before TensorFlow starts, so the comparison runs in a
fresh interpreter."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from model.distribute import StrategyError, make_strategy

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = """
import json, sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from model.train import train
data, root, name = sys.argv[1:4]
kw = dict(strategy="mirrored", devices=["/cpu:0", "/cpu:1"]) if name == "two" else {}
r = train("part_tiny", data, epochs=2, root=f"{root}/{name}", verbose=0, batch_size=64, **kw)
hist = open(f"{root}/{name}/part_tiny/history.csv").read().splitlines()
head = hist[0].split(",")
loss = [float(row.split(",")[head.index("loss")]) for row in hist[1:]]
print("RESULT " + json.dumps({"loss": loss, "accuracy": r["accuracy"]}))
"""

# Two replicas sum two half-batch gradients where one device takes one full-batch gradient:
# the same arithmetic in another order (float64 here), so the losses agree to rounding; measured
# on this machine: the training losses equal to the 7 digits the history keeps.
LOSS_RTOL = 1e-5


def test_mirrored_on_two_devices_trains_like_one(jet_sample, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="2")
    # One device and two replicas train side by side: each run is mostly graph tracing on one
    # core, so the pair takes the time of one.
    runs = {
        name: subprocess.Popen(
            [sys.executable, "-c", SCRIPT, str(jet_sample), str(tmp_path), name],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        for name in ("one", "two")
    }
    got, out = {}, {}
    for name, run in runs.items():
        out[name], err = run.communicate(timeout=900)
        assert run.returncode == 0, err[-3000:]
        line = next(x for x in out[name].splitlines() if x.startswith("RESULT "))
        got[name] = json.loads(line[len("RESULT ") :])
    assert "strategy mirrored: 2 replicas, 32 jets per replica" in out["two"]
    one, two = got["one"]["loss"], got["two"]["loss"]
    assert len(one) == len(two) == 2
    for a, b in zip(one, two):
        assert abs(a - b) <= LOSS_RTOL * abs(a), (one, two)
    assert one[1] < one[0]  # it trains


def test_strategy_errors():
    with pytest.raises(StrategyError, match=r"unknown strategy 'horovod'; one of default"):
        make_strategy("horovod")
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    if gpus:  # a GPU machine: one replica per GPU
        assert make_strategy("mirrored").num_replicas_in_sync == len(gpus)
    else:  # CI and this project's machines
        with pytest.raises(StrategyError, match=r"STRATEGY=mirrored: this machine has no GPU"):
            make_strategy("mirrored")
    if not tf.test.is_built_with_cuda():  # the pinned tensorflow-cpu: say how to get the GPU
        with pytest.raises(StrategyError, match=r"CPU-only build .*make setup GPU=1"):
            make_strategy("mirrored")
    os.environ.pop("TF_CONFIG", None)
    with pytest.raises(StrategyError, match=r"STRATEGY=multiworker needs TF_CONFIG"):
        make_strategy("multiworker")


def test_gpu_setup_installs_the_cuda_build_pinned():
    """make setup GPU=1 swaps tensorflow-cpu for the CUDA build of the same version, whose
    CUDA libraries requirements.lock pins (issue 21, item 8). Read from make's plan (-n):
    nothing is installed here."""
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    plan = subprocess.run(
        ["make", "-n", "setup", "GPU=1"], cwd=root, capture_output=True, text=True
    ).stdout
    assert "pip uninstall -q -y tensorflow-cpu" in plan
    assert "-c requirements.lock -e '.[dev,gpu]'" in plan
    lock = (root / "requirements.lock").read_text()
    assert "tensorflow==2.15.1" in lock and "nvidia-cudnn-cu12==8.9.4.25" in lock
