"""Detector bench: generator-level jets, detector-level jets (same seed) and real JetClass jets
side by side -> build/bench/detector.json and build/bench/detector/*.png.

Distributions: constituents per jet, candidate pT, jet mass (from the constituents), the
closest pair of constituents in (y, phi), the fraction of massive constituents, and for the two
generated samples d0/dz and their pulls (the real reference has no impact parameters:
bench/jetclass_reference.py says why).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import awkward as ak
import numpy as np
import uproot

from bench.common import write_json
from bench.jetclass_reference import load as load_reference
from data.generate import SPLITS, generate
from data.schema import CLASS_NAMES, FILE_STEMS, TREE
from infra.paths import BUILD

CLASSES = ("Tbqq", "QCD", "Hbb", "Wqq")
SAMPLES = ("generator", "detector", "jetclass")


def _jets_from_files(folder, cls):
    arrays = [
        uproot.open(Path(folder) / s / f"{FILE_STEMS[cls]}_000.root")[TREE].arrays()
        for s in SPLITS
        if (Path(folder) / s / f"{FILE_STEMS[cls]}_000.root").exists()
    ]
    a = ak.concatenate(arrays)
    counts = ak.to_numpy(ak.num(a["part_px"]))
    p4 = np.stack(
        [ak.to_numpy(ak.flatten(a[f"part_{k}"])) for k in ("px", "py", "pz", "energy")], 1
    ).astype(np.float64)
    ip = {
        k: ak.to_numpy(ak.flatten(a[f"part_{k}"])).astype(np.float64)
        for k in ("d0val", "d0err", "dzval", "dzerr", "charge")
    }
    return p4, counts, ip


def _closest_pair(p4, counts):
    out, start = [], 0
    for n in counts:
        px, py, pz, e = p4[start : start + n].T
        start += n
        y = 0.5 * np.log((e + pz) / (e - pz))
        phi = np.arctan2(py, px)
        d = np.hypot(
            y[:, None] - y[None], np.mod(phi[:, None] - phi[None] + np.pi, 2 * np.pi) - np.pi
        )
        d[np.diag_indices(n)] = np.inf
        out.append(d.min() if n > 1 else np.inf)
    return np.asarray(out)


def summarize(p4, counts, ip=None) -> dict:
    """Per-sample numbers (medians, fractions) and the raw per-jet / per-constituent arrays."""
    pt = np.hypot(p4[:, 0], p4[:, 1])
    jet = np.add.reduceat(p4, np.r_[0, np.cumsum(counts)[:-1]], axis=0)
    mass = np.sqrt(np.maximum(jet[:, 3] ** 2 - (jet[:, :3] ** 2).sum(1), 0))
    m2 = p4[:, 3] ** 2 - (p4[:, :3] ** 2).sum(1)
    closest = _closest_pair(p4, counts)
    out = {
        "jets": int(len(counts)),
        "constituents_median": float(np.median(counts)),
        "frac_jets_above_64": float(np.mean(counts > 64)),
        "frac_constituents_pt_below_0p5": float(np.mean(pt < 0.5)),
        "constituent_pt_median": float(np.median(pt)),
        "jet_mass_median": float(np.median(mass)),
        "frac_massive_constituents": float(np.mean(m2 > 1e-4 * p4[:, 3] ** 2)),
        "closest_pair_median": float(np.median(closest)),
        "frac_jets_closest_pair_below_1e-5": float(np.mean(closest < 1e-5)),
        "frac_jets_closest_pair_below_1e-3": float(np.mean(closest < 1e-3)),
    }
    raw = {"counts": counts, "pt": pt, "mass": mass, "closest": closest}
    if ip is not None:
        charged = ip["charge"] != 0
        d0, d0e = ip["d0val"][charged], ip["d0err"][charged]
        dz, dze = ip["dzval"][charged], ip["dzerr"][charged]
        with np.errstate(divide="ignore", invalid="ignore"):
            out.update(
                {
                    "frac_tracks_d0_exactly_0": float(np.mean(np.abs(d0) < 1e-9)),
                    "d0_abs_median_mm": float(np.median(np.abs(d0))),
                    "dz_abs_median_mm": float(np.median(np.abs(dz))),
                    "d0_pull_robust_width": float(np.median(np.abs(d0 / d0e)) / 0.6745),
                    "dz_pull_robust_width": float(np.median(np.abs(dz / dze)) / 0.6745),
                }
            )
        raw.update({"d0": d0, "dz": dz})
    return out, raw


def _plots(raw, out_dir):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [
        ("counts", "constituents per jet", np.arange(0, 161, 4), False),
        ("pt", "constituent pT (GeV)", np.logspace(-2, 3, 51), True),
        ("mass", "jet mass (GeV)", np.linspace(0, 300, 51), False),
        ("closest", "closest constituent pair, Delta(y, phi)", np.logspace(-7, 0, 50), True),
        ("d0", "track d0 (mm)", np.linspace(-0.5, 0.5, 51), False),
    ]
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for cls, samples in raw.items():
        fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.4))
        for ax, (key, label, bins, logx) in zip(axes, panels):
            for name, r in samples.items():
                if key in r:
                    x = np.clip(r[key], bins[0], bins[-1])
                    w = np.full(len(x), 1.0 / max(len(x), 1))  # fraction per bin
                    ax.hist(x, bins=bins, weights=w, histtype="step", label=name)
            ax.set_xlabel(label)
            if logx:
                ax.set_xscale("log")
        axes[0].legend(fontsize=8)
        axes[0].set_ylabel("fraction per bin (edges hold the overflow)")
        fig.suptitle(cls)
        fig.tight_layout()
        path = out_dir / f"{cls}.png"
        fig.savefig(path, dpi=80)
        plt.close(fig)
        files.append(str(path))
    return files


def run(jets_per_class, seed, out_json, plot_dir):
    ref_p4, ref_counts, ref_labels, source = load_reference()
    starts = np.r_[0, np.cumsum(ref_counts)]
    result, raw = {"classes": {}, "reference": source, "seed": seed}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for det in ("none", "cms"):
            generate(Path(tmp) / det, jets_per_class, list(CLASSES), seed, workers=1, detector=det)
        for cls in CLASSES:
            result["classes"][cls], raw[cls] = {}, {}
            for name, det in (("generator", "none"), ("detector", "cms")):
                p4, counts, ip = _jets_from_files(Path(tmp) / det, cls)
                result["classes"][cls][name], raw[cls][name] = summarize(p4, counts, ip)
            jets = np.flatnonzero(ref_labels == CLASS_NAMES.index(cls))
            p4 = np.concatenate([ref_p4[starts[j] : starts[j + 1]] for j in jets])
            s, r = summarize(p4, ref_counts[jets])
            result["classes"][cls]["jetclass"], raw[cls]["jetclass"] = s, r
    result["plots"] = _plots(raw, Path(plot_dir))
    write_json(out_json, result)
    return result


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(BUILD.bench / "detector.json"))
    p.add_argument("--plots", default=str(BUILD.bench / "detector"))
    p.add_argument("--jets-per-class", type=int, default=200)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    result = run(args.jets_per_class, args.seed, args.out, args.plots)
    keys = (
        "constituents_median",
        "frac_constituents_pt_below_0p5",
        "jet_mass_median",
        "closest_pair_median",
        "frac_massive_constituents",
    )
    for cls, samples in result["classes"].items():
        for name in SAMPLES:
            s = samples[name]
            print(
                f"{cls:5s} {name:9s} jets {s['jets']:4d} "
                + " ".join(f"{k} {s[k]:.4g}" for k in keys)
            )


if __name__ == "__main__":
    main()
