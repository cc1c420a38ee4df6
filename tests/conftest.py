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
