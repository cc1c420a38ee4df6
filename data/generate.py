"""Local JetClass-format generator: Pythia8 (pythia8mc) + FastJet, written with uproot.

Why: the real JetClass release is large and not reachable from every machine; this writes files
with the same tree, branches and file names (data/schema.py) so the rest of the project reads
either without change.  Physics choices are in data/processes.py (processes, forced decays),
data/detector.py (the detector between the particles and the jets, its card named by
--detector; "none" clusters the particles themselves), data/jets.py (jet definition,
substructure, generator-level impact parameters) and data/truth.py (the "resonance and all
visible decay products within Delta R < 0.8 of the jet axis" rule, on the true particles).

Layout: <out>/{train,val,test}/<Stem>_<k:03d>.root, Stem from schema.FILE_STEMS.  Work is cut
into (class, chunk) tasks of at most JETS_PER_CHUNK jets; chunk k becomes file k of each split,
its jets divided in consecutive blocks (80/10/10 by default), so jets of one event stay together.
Each task seeds Pythia and the detector from (seed, class index, chunk index) only, so the files
do not depend on the number of workers.  Workers are spawned processes: a script that calls
generate() with workers > 1 needs the usual ``if __name__ == "__main__":`` guard.  Files hold one
TTree "tree": part_* jagged float32 (plus the counter branch "npart" that uproot writes for
jagged data), jet_* float32, label_* one-hot bool, and the string "detector" (data/schema.py).
"""

import argparse
import json
import math
import multiprocessing
import os
import queue
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import awkward as ak
import numpy as np
import uproot
from tqdm import tqdm

from data import detector as D
from data import jets as J
from data import truth
from data.processes import COMMON, PROCESSES
from data.schema import CLASS_NAMES, DETECTOR_KEY, FILE_STEMS, LABEL_BRANCHES, TREE
from infra.errors import QpartError

JETS_PER_CHUNK = 1000
SPLITS = ("train", "val", "test")
QCD_JETS_PER_EVENT = 2  # the two leading jets passing the cuts
MIN_BATCH, MAX_BATCH = 10, 100
MAX_EVENTS_PER_JET = 100  # give up below 1% jets per event...
MIN_EVENTS_BEFORE_GIVING_UP = 2000  # ...but only after this many events
PYTHIA_SEED_MAX = 900_000_000  # Pythia accepts seeds 1..900000000
DETECTOR_STREAM = 0xDE7  # the detector's seed-sequence entry, apart from Pythia's

_PART = "part"


class GenerateError(QpartError, ValueError):
    """A generation request that cannot be met (unknown class, bad split or count)."""


@dataclass(frozen=True)
class Task:
    cls: str
    chunk: int
    n_jets: int
    seed: int
    out_dir: str
    split: tuple
    detector: str = D.DEFAULT  # card name or path, or "none"


# ----------------------------------------------------------------------------- Pythia


def task_seeds(seed, cls, chunk, n):
    """Pythia seeds for a (class, chunk): a function of (seed, class index, chunk) only."""
    ss = np.random.SeedSequence([seed, CLASS_NAMES.index(cls), chunk])
    return [int(s) % PYTHIA_SEED_MAX + 1 for s in ss.generate_state(n, dtype=np.uint64)]


def make_pythia(settings, seed):
    from pythia8mc import Pythia  # imported here: the pythia8mc module is only needed in workers

    pythia = Pythia("", False)
    for s in tuple(settings) + ("Random:setSeed = on", f"Random:seed = {seed}"):
        if not pythia.readString(s):
            raise RuntimeError(f"Pythia rejected setting {s!r}")
    if not pythia.init():
        raise RuntimeError("Pythia initialisation failed for settings: " + "; ".join(settings))
    return pythia


class ChargeTable:
    """Electric charge by PDG id, looked up in Pythia's particle data once per id."""

    def __init__(self, pythia):
        self._data, self._cache = pythia.particleData, {}

    def __call__(self, pid):
        uniq, inv = np.unique(pid, return_inverse=True)
        for u in uniq.tolist():
            if u not in self._cache:
                self._cache[u] = float(self._data.charge(u))
        return np.array([self._cache[u] for u in uniq.tolist()])[inv]


# ----------------------------------------------------------------------------- selection


def _flat(x, dtype):
    return ak.to_numpy(ak.flatten(x)).astype(dtype)


def flatten_events(events):
    """Flat numpy columns of a nextBatch() result and the number of particles per event.

    Particles without a production vertex (vProd is None) are at the origin.
    """
    prt = events.prt
    rec = {
        k: _flat(v, np.int64)
        for k, v in (
            ("pid", prt.id),
            ("status", prt.status),
            ("d1", prt.daughter1),
            ("d2", prt.daughter2),
        )
    }
    for k in ("px", "py", "pz", "e"):
        rec[k] = _flat(prt.p[k], np.float64)
    for k, f in (("x", "px"), ("y", "py"), ("z", "pz")):
        rec[k] = _flat(ak.fill_none(prt.vProd[f], 0.0), np.float64)
    return rec, ak.to_numpy(ak.num(prt))


def select_jets(events, cls, charge_of, detector=None):
    """JetClass features of the jets of class cls in a batch of Pythia events (None if none).

    detector: None (jets of generator-level particles) or (card, numpy Generator): jets of the
    particle-flow candidates data.detector.respond makes of the particles.
    """
    proc = PROCESSES[cls]
    rec, n_prt = flatten_events(events)
    visible = (rec["status"] > 0) & ~np.isin(np.abs(rec["pid"]), truth.NEUTRINOS)
    vis_idx = np.nonzero(visible)[0]
    n_vis = np.bincount(np.repeat(np.arange(len(n_prt)), n_prt)[visible], minlength=len(n_prt))
    objs = {k: rec[k][vis_idx] for k in ("px", "py", "pz", "e", "pid", "x", "y", "z")}
    objs["charge"] = charge_of(objs["pid"])
    if detector is not None:
        objs, n_vis = D.respond(*detector, objs, n_vis)
    (jpx, jpy, jpz, _), n_jets, n_const, const_idx = J.cluster(
        objs["px"], objs["py"], objs["pz"], objs["e"], n_vis
    )

    jpt, jeta, jphi = J.pt_eta_phi(jpx, jpy, jpz)
    prt_start = np.r_[0, np.cumsum(n_prt)[:-1]]
    vis_start = np.r_[0, np.cumsum(n_vis)[:-1]]
    jet_start = np.r_[0, np.cumsum(n_jets)[:-1]]
    const_start = np.r_[0, np.cumsum(n_const)[:-1]]

    chosen = []  # flat visible-particle indices of each selected jet's constituents
    for ev in np.nonzero(n_jets)[0]:
        js = np.arange(jet_start[ev], jet_start[ev] + n_jets[ev])
        js = js[np.argsort(-jpt[js], kind="stable")]
        js = js[np.abs(jeta[js]) < J.JET_ABS_ETA_MAX]
        if not len(js):
            continue
        if proc.resonance is None:
            keep = js[:QCD_JETS_PER_EVENT]
        else:
            sl = slice(prt_start[ev], prt_start[ev] + n_prt[ev])
            record = truth.EventRecord(
                rec["pid"][sl],
                rec["d1"][sl],
                rec["d2"][sl],
                rec["px"][sl],
                rec["py"][sl],
                rec["pz"][sl],
            )
            keep = js[
                truth.contained_jets(
                    record, proc.resonance, proc.n_visible, jeta[js], jphi[js], J.JET_R
                )
            ]
        for j in keep:
            local = const_idx[const_start[j] : const_start[j] + n_const[j]]
            chosen.append(vis_start[ev] + local)
    if not chosen:
        return None
    idx = np.concatenate(chosen)
    return J.jet_features({k: v[idx] for k, v in objs.items()}, [len(c) for c in chosen])


# ----------------------------------------------------------------------------- one task

_report = None  # progress callback of this process: report(cls, n_jets)


def _next_batch_size(remaining, jets, events):
    eff = jets / events if jets else 0.2
    return int(min(MAX_BATCH, max(MIN_BATCH, math.ceil(1.2 * remaining / max(eff, 0.01)))))


def generate_jets(cls, n_jets, seeds, report=None, detector=None):
    """Exactly n_jets jets of class cls (concatenated feature dict) and the events used.

    detector: None or (card, numpy Generator), as in select_jets."""
    proc = PROCESSES[cls]
    pythias = [
        make_pythia(COMMON + proc.settings + tuple(v), s) for v, s in zip(proc.variants, seeds)
    ]
    charge_of = ChargeTable(pythias[0])
    batches, have, events, turn = [], 0, 0, 0
    while have < n_jets:
        if events >= max(MIN_EVENTS_BEFORE_GIVING_UP, MAX_EVENTS_PER_JET * n_jets):
            raise RuntimeError(
                f"{cls}: only {have} of {n_jets} jets after {events} Pythia events "
                f"({100 * have / events:.2f}% per event, below {100 / MAX_EVENTS_PER_JET:g}%); "
                "check the process settings in data/processes.py"
            )
        size = _next_batch_size(n_jets - have, have, events)
        batch = pythias[turn % len(pythias)].nextBatch(size)
        events, turn = events + size, turn + 1
        got = select_jets(batch, cls, charge_of, detector) if len(batch) else None
        if got is None:
            continue
        take = min(len(got["part"]), n_jets - have)
        batches.append({k: v[:take] for k, v in got.items()})
        have += take
        if report:
            report(cls, take)
    out = {
        k: (
            ak.concatenate([b[k] for b in batches])
            if k == _PART
            else np.concatenate([b[k] for b in batches])
        )
        for k in batches[0]
    }
    return out, events


def split_sizes(n, split):
    """Jets per split for n jets: rounded consecutive blocks summing to n."""
    edges = np.round(np.cumsum((0,) + tuple(split)) / sum(split) * n).astype(int)
    return np.diff(edges)


def write_tree(path, data, cls, detector=None):
    """Write one JetClass tree atomically: a hidden temp file renamed when complete.

    detector: the record of the detector that made the jets (data.detector.record_of), written
    beside the tree as the string DETECTOR_KEY; real JetClass files have none."""
    n = len(data["jet_pt"])
    branches = dict(data)
    for label in LABEL_BRANCHES:
        branches[label] = np.full(n, label == f"label_{cls}", dtype=np.bool_)
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        with uproot.recreate(tmp) as f:
            if detector is not None:
                f[DETECTOR_KEY] = detector
            tree = f.mktree(
                TREE, {k: (v.type.content if k == _PART else v.dtype) for k, v in branches.items()}
            )
            tree.extend(branches)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return str(path)


def detector_rng(seed, cls, chunk):
    """The detector's random numbers for a (class, chunk): a function of those only."""
    return np.random.default_rng([seed, CLASS_NAMES.index(cls), chunk, DETECTOR_STREAM])


def run_task(task):
    """Generate one (class, chunk) and write its train/val/test files."""
    seeds = task_seeds(task.seed, task.cls, task.chunk, len(PROCESSES[task.cls].variants))
    card = D.load_card(task.detector)
    det = None if card is None else (card, detector_rng(task.seed, task.cls, task.chunk))
    t0 = time.perf_counter()
    data, events = generate_jets(task.cls, task.n_jets, seeds, _report, det)
    files, start = [], 0
    for name, size in zip(SPLITS, split_sizes(task.n_jets, task.split)):
        if size:
            part = {k: v[start : start + size] for k, v in data.items()}
            path = Path(task.out_dir) / name / f"{FILE_STEMS[task.cls]}_{task.chunk:03d}.root"
            files.append(write_tree(path, part, task.cls, D.record_of(card)))
        start += size
    return {
        "cls": task.cls,
        "chunk": task.chunk,
        "jets": task.n_jets,
        "events": events,
        "files": files,
        "seconds": time.perf_counter() - t0,
    }


# ----------------------------------------------------------------------------- driver


def _init_worker(q):
    global _report
    J.silence_fastjet_banner()
    _report = lambda cls, n: q.put((cls, n))  # noqa: E731


def _check_classes(classes):
    if classes is None or classes == "all":
        return list(CLASS_NAMES)
    if isinstance(classes, str):
        classes = [c for c in classes.split(",") if c]
    bad = [c for c in classes if c not in CLASS_NAMES]
    if bad or not classes:
        raise GenerateError(f"unknown class name(s) {bad}; valid: {', '.join(CLASS_NAMES)}")
    return list(dict.fromkeys(classes))


def make_tasks(out_dir, jets_per_class, classes, seed, split, detector=D.DEFAULT):
    tasks = []
    for cls in classes:
        for chunk in range(math.ceil(jets_per_class / JETS_PER_CHUNK)):
            n = min(JETS_PER_CHUNK, jets_per_class - chunk * JETS_PER_CHUNK)
            tasks.append(Task(cls, chunk, n, seed, str(out_dir), tuple(split), str(detector)))
    # Lepton classes have the lowest yields: start them first so the pool's tail is short.
    slow = {"Tbl": 0, "Hqql": 1}
    return sorted(tasks, key=lambda t: (slow.get(t.cls, 2), t.chunk))


def _run_all(tasks, workers, bar):
    per_class = {}

    def progress(cls, n):
        per_class[cls] = per_class.get(cls, 0) + n
        bar.update(n)
        bar.set_postfix_str(" ".join(f"{c}:{k}" for c, k in per_class.items()), refresh=False)

    if workers == 1:
        global _report
        J.silence_fastjet_banner()
        _report = progress
        try:
            return [run_task(t) for t in tasks]
        finally:
            _report = None
    ctx = multiprocessing.get_context("spawn")
    q = ctx.Queue()
    with ctx.Pool(workers, initializer=_init_worker, initargs=(q,)) as pool:
        pending = [pool.apply_async(run_task, (t,)) for t in tasks]
        while not all(r.ready() for r in pending):
            for r in pending:
                if r.ready() and not r.successful():
                    r.get()  # re-raise the worker's error
            try:
                progress(*q.get(timeout=0.2))
            except queue.Empty:
                pass
        results = [r.get() for r in pending]
        while True:
            try:
                progress(*q.get(timeout=0.05))
            except queue.Empty:
                break
    return results


def _describe(files):
    """Compact listing such as 'train/HToBB_000-001 ...' of the files written."""
    groups = {}
    for f in map(Path, files):
        stem, k = f.stem.rsplit("_", 1)
        groups.setdefault((f.parent.name, stem), []).append(k)
    return " ".join(
        f"{split}/{stem}_{ks[0]}" + (f"-{ks[-1]}" if len(ks) > 1 else "")
        for (split, stem), ks in sorted(groups.items())
    )


def generate(
    out_dir,
    jets_per_class,
    classes=None,
    seed=42,
    workers=None,
    split=(0.8, 0.1, 0.1),
    detector=D.DEFAULT,
):
    """Generate jets_per_class jets of each class into out_dir; returns a summary dict.

    detector: a card name or path (data/detector_cards), or "none" for generator-level jets.
    Files of the same name in out_dir are overwritten; other files are left alone.
    """
    classes = _check_classes(classes)
    card = D.load_card(detector)  # a bad card fails here, before any worker starts
    if int(jets_per_class) < 1:
        raise GenerateError("jets_per_class must be >= 1")
    if len(split) != 3 or min(split) < 0 or sum(split) <= 0:
        raise GenerateError(f"split must be three non-negative fractions, got {split}")
    out_dir = Path(out_dir)
    for name in SPLITS:
        (out_dir / name).mkdir(parents=True, exist_ok=True)
    before = {p for p in out_dir.glob("*/*.root")}
    tasks = make_tasks(
        out_dir, int(jets_per_class), classes, int(seed), split, card.path if card else D.NONE
    )
    workers = max(1, min(workers or os.cpu_count() or 1, len(tasks)))

    t0 = time.perf_counter()
    with tqdm(
        total=len(classes) * int(jets_per_class),
        unit="jet",
        file=sys.stderr,
        desc="generate",
        dynamic_ncols=True,
        mininterval=0.5 if sys.stderr.isatty() else 15,
    ) as bar:  # quiet in logs
        results = _run_all(tasks, workers, bar)
    seconds = time.perf_counter() - t0

    results.sort(key=lambda r: (classes.index(r["cls"]), r["chunk"]))
    files = [f for r in results for f in r["files"]]
    jets = {c: sum(r["jets"] for r in results if r["cls"] == c) for c in classes}
    events = {c: sum(r["events"] for r in results if r["cls"] == c) for c in classes}
    total = sum(jets.values())
    others = before - {Path(f) for f in files}
    print(
        f"wrote {len(files)} files to {out_dir}: {_describe(files)}"
        + (f"; {len(others)} other .root files there left untouched" if others else ""),
        file=sys.stderr,
    )
    print(
        f"generated {total} jets ({', '.join(f'{c} {n}' for c, n in jets.items())}) in "
        f"{seconds:.1f} s, {total / seconds:.1f} jets/s, {workers} worker(s)",
        file=sys.stderr,
    )
    summary = {
        "out_dir": str(out_dir),
        "jets": jets,
        "events": events,
        "files": files,
        "seconds": seconds,
        "jets_per_second": total / seconds,
        "workers": workers,
        "seed": int(seed),
        "detector": D.record_of(card),
        "tasks": results,
    }
    _manifest(out_dir).write_text(
        json.dumps(
            {
                "request": _request(jets_per_class, classes, seed, split, card),
                "files": [str(Path(f).relative_to(out_dir)) for f in files],
                "jets": jets,
            },
            indent=1,
        )
    )
    return summary


MANIFEST = "manifest.json"


def _manifest(out_dir) -> Path:
    return Path(out_dir) / MANIFEST


def _request(jets_per_class, classes, seed, split, card):
    return {
        "jets_per_class": int(jets_per_class),
        "classes": list(classes),
        "seed": int(seed),
        "split": [float(x) for x in split],
        "detector": D.record_of(card),
    }


def already_generated(
    out_dir, jets_per_class, classes=None, seed=42, split=(0.8, 0.1, 0.1), detector=D.DEFAULT
):
    """True when out_dir holds exactly this request's files (its manifest says so and every
    file is there): `make data` then has nothing to do. The detector counts: another card, or
    the same card edited, regenerates."""
    path = _manifest(out_dir)
    try:
        manifest = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return False
    want = _request(jets_per_class, _check_classes(classes), seed, split, D.load_card(detector))
    return manifest.get("request") == want and all(
        (Path(out_dir) / f).is_file() for f in manifest.get("files", [])
    )


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m data.generate", description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--jets-per-class", type=int, required=True)
    ap.add_argument(
        "--classes",
        default=None,
        help=f"comma-separated subset of {','.join(CLASS_NAMES)} (default: all)",
    )
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument(
        "--split",
        default="0.8,0.1,0.1",
        help="train,val,test fractions (default 0.8,0.1,0.1; 0,0,1 writes a held-out test sample)",
    )
    ap.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    ap.add_argument(
        "--detector",
        default=D.DEFAULT,
        help=f"detector card: a name in data/detector_cards or a YAML path, or {D.NONE!r} for "
        f"generator-level particles (default {D.DEFAULT})",
    )
    ap.add_argument(
        "--force",
        action="store_true",
        help="regenerate even if the directory already holds this sample",
    )
    args = ap.parse_args(argv)
    try:
        split = tuple(float(x) for x in args.split.split(","))
    except ValueError:
        ap.error(f"--split must be three comma-separated fractions, got {args.split!r}")
    try:
        if not args.force and already_generated(
            args.out, args.jets_per_class, args.classes, args.seed, split, args.detector
        ):
            print(
                f"{args.out} already holds this sample ({MANIFEST} matches: "
                f"{args.jets_per_class} jets per class, seed {args.seed}); nothing to do "
                "(--force regenerates)",
                file=sys.stderr,
            )
            return
        generate(
            args.out,
            args.jets_per_class,
            args.classes,
            args.seed,
            args.workers,
            split,
            args.detector,
        )
    except QpartError as e:
        ap.error(str(e))


if __name__ == "__main__":
    main()
