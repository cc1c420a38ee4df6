"""Reads JetClass-format ROOT files (the real release or ours) into padded model inputs.

The real dataset is 100 GB, so reading is chunked (`TTree.iterate`) file by file; every file is
checked up front (opens, has the tree, has the branches, is not empty) so that a bad file fails
before hours of training, with a message that names the file and the branch.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path

import awkward as ak
import numpy as np
import uproot

from data import features as F
from data.schema import DETECTOR_KEY, TREE
from infra.errors import QpartError
from infra.yamlconfig import REQUIRED, ConfigError, load

LABEL_SCHEME_DIR = Path(__file__).parent / "label_schemes"


class DataError(QpartError, ValueError):
    """Input data that cannot be read: names the file and the branch or key at fault."""


@dataclass(frozen=True)
class LabelScheme:
    """How class labels are stored: ten one-hot branches, or one integer branch."""

    type: str
    names: tuple
    branches: tuple = ()
    branch: str = ""

    @property
    def label_branches(self) -> list[str]:
        return list(self.branches) if self.type == "one_hot" else [self.branch]


_LABEL_SCHEMA = {
    "type": (str, REQUIRED),
    "names": (list, REQUIRED),
    "branches": (list, []),
    "branch": (str, ""),
}


def load_label_scheme(name_or_path="jetclass") -> LabelScheme:
    """A label scheme by name (data/label_schemes/<name>.yml) or by YAML path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = LABEL_SCHEME_DIR / f"{name_or_path}.yml"
    cfg = load(path, _LABEL_SCHEMA)
    if cfg["type"] == "one_hot":
        if len(cfg["branches"]) != len(cfg["names"]):
            raise ConfigError(f"{path}: 'branches' and 'names' must have the same length")
    elif cfg["type"] == "index":
        if not cfg["branch"]:
            raise ConfigError(f"{path}: type 'index' needs key 'branch'")
    else:
        raise ConfigError(f"{path}: key 'type' must be 'one_hot' or 'index', got {cfg['type']!r}")
    return LabelScheme(cfg["type"], tuple(cfg["names"]), tuple(cfg["branches"]), cfg["branch"])


def resolve_files(patterns) -> list[str]:
    """Glob pattern(s) or paths -> sorted list of files; an empty result is an error."""
    if isinstance(patterns, (str, Path)):
        patterns = [patterns]
    files = []
    for pattern in patterns:
        matched = sorted(glob.glob(str(pattern)))
        if not matched:
            raise DataError(f"no ROOT files match {str(pattern)!r}")
        files.extend(matched)
    return files


def _open_tree(path: str, branches):
    try:
        return _checked_tree(path, branches)
    except DataError:
        raise
    except Exception as err:  # uproot raises many types for truncated / non-ROOT files
        raise DataError(
            f"{path}: not a readable ROOT file ({type(err).__name__}: "
            f"{str(err).splitlines()[0]})"
        ) from None


def _checked_tree(path, branches):
    f = uproot.open(path)
    if TREE not in f:
        raise DataError(f"{path}: no TTree named {TREE!r} (keys: {list(f.keys())})")
    tree = f[TREE]
    if not isinstance(tree, uproot.behaviors.TTree.TTree):
        raise DataError(f"{path}: {TREE!r} is a {type(tree).__name__}, not a TTree")
    missing = [b for b in branches if b not in tree]
    if missing:
        raise DataError(f"{path}: tree {TREE!r} is missing branch(es) {', '.join(missing)}")
    if tree.num_entries == 0:
        raise DataError(f"{path}: tree {TREE!r} is empty")
    return tree


def detector_of(path: str) -> str | None:
    """The detector record a generated file carries (data/schema.DETECTOR_KEY), None if it has
    none (the real release, older samples)."""
    try:
        with uproot.open(path) as f:
            return str(f[DETECTOR_KEY]) if DETECTOR_KEY in f else None
    except Exception:
        return None  # an unreadable file is reported by _open_tree


def check_same_detector(files) -> None:
    """Files made with different detector settings must not be mixed: one line names two of
    them. Files without a record are not compared."""
    seen = {}
    for path in files:
        record = detector_of(path)
        if record is not None:
            seen.setdefault(record, path)
            if len(seen) > 1:
                (ra, fa), (rb, fb) = list(seen.items())[:2]
                raise DataError(
                    f"{fa} was made with detector {ra!r} but {fb} with {rb!r}: one sample must "
                    "come from one detector setting (make data DETECTOR=... into its own DATA_DIR)"
                )


def check_files(files, branches) -> int:
    """Open every file and check its tree and branches, and that they come from one detector
    setting; returns the total number of jets."""
    n = sum(_open_tree(path, branches).num_entries for path in files)
    check_same_detector(files)
    return n


def labels_from(arrays, scheme: LabelScheme, path: str) -> np.ndarray:
    """Integer class indices from one chunk; non one-hot rows or out-of-range indices are errors."""
    if scheme.type == "index":
        y = ak.to_numpy(arrays[scheme.branch]).astype(np.int64)
        bad = (y < 0) | (y >= len(scheme.names))
        if bad.any():
            raise DataError(
                f"{path}: branch {scheme.branch!r} has class index "
                f"{y[bad][0]} outside 0..{len(scheme.names) - 1}"
            )
        return y
    onehot = np.stack([ak.to_numpy(arrays[b]).astype(np.float64) for b in scheme.branches], -1)
    ok = np.isin(onehot, (0.0, 1.0)).all(axis=1) & (onehot.sum(axis=1) == 1.0)
    if not ok.all():
        row = int(np.flatnonzero(~ok)[0])
        raise DataError(
            f"{path}: labels {', '.join(scheme.branches)} are not one-hot "
            f"(entry {row}: {onehot[row].tolist()})"
        )
    return onehot.argmax(axis=1)


def iterate(
    files,
    feature_set: str,
    n_particles: int,
    labels: LabelScheme | None = None,
    step_size: int = 20000,
    extra_branches=(),
    max_per_file: int | None = None,
):
    """Yield chunks {features, mask, vectors, [labels], extra...} of at most `step_size` jets.

    `labels=None` reads files without label branches (inference). `max_per_file` reads only the
    first jets of each file, so a small sample still covers every file (JetClass has one class
    per file).
    """
    branches = F.required_branches(feature_set) + list(extra_branches)
    if labels is not None:
        branches += labels.label_branches
    check_files(files, branches)
    for path in files:
        tree = _open_tree(path, branches)
        try:
            stop = None if max_per_file is None else min(max_per_file, tree.num_entries)
            for arrays in tree.iterate(
                branches, step_size=step_size, entry_stop=stop, library="ak"
            ):
                x, mask, vectors = F.particle_inputs(arrays, feature_set, n_particles)
                chunk = {"features": x, "mask": mask, "vectors": vectors}
                if labels is not None:
                    chunk["labels"] = labels_from(arrays, labels, path)
                for b in extra_branches:
                    chunk[b] = ak.to_numpy(arrays[b])
                yield chunk
        except DataError:
            raise
        except Exception as err:
            raise DataError(f"{path}: failed while reading ({type(err).__name__}: {err})") from None


def load_arrays(
    files,
    feature_set: str,
    n_particles: int,
    labels: LabelScheme | None = None,
    max_per_file: int | None = None,
    extra_branches=(),
) -> dict:
    """Read every chunk into one dict of arrays (small samples that fit in memory)."""
    parts = list(
        iterate(
            files,
            feature_set,
            n_particles,
            labels,
            extra_branches=extra_branches,
            max_per_file=max_per_file,
        )
    )
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
