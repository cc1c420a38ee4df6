import os
import sys

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(__file__))

# One generated JetClass-format sample for every test that needs real jets: all ten classes,
# 100 jets each (80/10/10 train/val/test), fixed seed.
SAMPLE_JETS_PER_CLASS = 100
SAMPLE_SEED = 7


@pytest.fixture(scope="session")
def jet_sample(tmp_path_factory):
    from data.generate import generate

    out = tmp_path_factory.mktemp("jetclass_sample")
    generate(str(out), SAMPLE_JETS_PER_CLASS, seed=SAMPLE_SEED, workers=2)
    return out


def _train_tiny(name, jet_sample, tmp_path_factory):
    from model.train import train

    build = tmp_path_factory.mktemp("build")
    # 80 training jets per class: small batches give enough optimiser steps.
    result = train(name, jet_sample, epochs=20, root=build / "models", verbose=0, batch_size=32)
    return build, result


@pytest.fixture(scope="session")
def trained_tiny(jet_sample, tmp_path_factory):
    """part_tiny (pair features on chip) trained on the sample into <build>/models: (build
    root, metrics)."""
    return _train_tiny("part_tiny", jet_sample, tmp_path_factory)


@pytest.fixture(scope="session")
def trained_tiny_host(jet_sample, tmp_path_factory):
    """part_tiny_host (weaver-core's pair features from the host), trained the same way."""
    return _train_tiny("part_tiny_host", jet_sample, tmp_path_factory)


# Opt-in tests that need a vendor tool (QPART_RUN_SYNTH=1 with Vitis/Vivado HLS on PATH):
# without the variable they are deselected (not collected as skipped passes).
def pytest_collection_modifyitems(config, items):
    if os.environ.get("QPART_RUN_SYNTH") == "1":
        return
    keep = [item for item in items if "synth" not in item.keywords]
    dropped = [item for item in items if "synth" in item.keywords]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def need_tool(*names, how):
    """A test of a tool's output needs the tool: `make test` installs it (Makefile: browser,
    rtl-tools), so a missing one is a failure that says how to get it, never a skip."""
    import shutil

    if not any(shutil.which(n) for n in names):
        pytest.fail(f"{' or '.join(names)} is not on PATH: {how}", pytrace=False)


def pytest_configure(config):
    config.addinivalue_line("markers", "synth: runs Vitis/Vivado HLS (opt in: QPART_RUN_SYNTH=1)")
