"""Builds bench/reference/jetclass_500.npz: the constituents of 500 real JetClass jets (Delphes,
all ten classes) for the detector bench's side-by-side plots.

Source: github.com/tim-legge/ParT_Interpretability at commit
81a563c6ed668e8c7dec1b54b2fd94e60e48b934, jc_full_data/SMALLpfVectors.npy (px, py, pz, E; 500 x 4
x 128, zero padded), SMALLpfMask.npy and SMALLlabels.npy (one-hot, JetClass label order): that
repository's sample of real JetClass jets, about 50 per class, read through ParT's JetClass
data config (no selection). Its per-particle feature file (d0, dz) is not in the public
snapshot, so the reference has no impact parameters.

    python -m bench.jetclass_reference <folder holding the three .npy files>
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

SOURCE = (
    "github.com/tim-legge/ParT_Interpretability@81a563c6ed668e8c7dec1b54b2fd94e60e48b934 "
    "jc_full_data/SMALLpfVectors.npy, SMALLpfMask.npy, SMALLlabels.npy"
)
REFERENCE = Path(__file__).parent / "reference" / "jetclass_500.npz"


def build(folder, out=REFERENCE):
    folder = Path(folder)
    vectors = np.load(folder / "SMALLpfVectors.npy")
    mask = np.load(folder / "SMALLpfMask.npy")[:, 0] > 0
    labels = np.load(folder / "SMALLlabels.npy").argmax(axis=1)
    counts = mask.sum(axis=1)
    # real constituents only, jet after jet: (n, 4) px, py, pz, E
    flat = np.concatenate([vectors[j, :, : counts[j]].T for j in range(len(counts))])
    np.savez_compressed(
        out, p4=flat.astype(np.float32), counts=counts, labels=labels, source=np.array(SOURCE)
    )
    return out


def load(path=REFERENCE):
    """(constituents (n, 4), counts, labels, source) of the reference jets."""
    with np.load(path) as z:
        return z["p4"].astype(np.float64), z["counts"], z["labels"], str(z["source"])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folder")
    print(build(p.parse_args(argv).folder))


if __name__ == "__main__":
    main()
