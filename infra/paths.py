"""The build tree's names. Every artefact qpart writes lives under one root (`build/`), and this
is the one place that spells a path inside it: the CLIs' defaults, the stages' output folders
and the dashboard's reading all come from `BUILD` (or a `BuildTree` on another root, as tests
and benchmarks use)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class BuildTree:
    root: Path = Path("build")

    def __post_init__(self):
        object.__setattr__(self, "root", Path(self.root))

    @property
    def data(self) -> Path:
        """make data: <split>/*.root"""
        return self.root / "data"

    @property
    def shards(self) -> Path:
        """make shards: <features>-n<N>-<pairs>/"""
        return self.root / "shards"

    @property
    def models(self) -> Path:
        """make train: <model>[-float]/"""
        return self.root / "models"

    @property
    def hls(self) -> Path:
        """make estimate / hls-csim / synth: <model>-<fw>/"""
        return self.root / "hls"

    @property
    def rtl(self) -> Path:
        """make rtl / rtl-sim / rtl-synth: <model>-<fw>/"""
        return self.root / "rtl"

    @property
    def scan(self) -> Path:
        """make scan: <model>-<fw>/scan.json"""
        return self.root / "scan"

    @property
    def search(self) -> Path:
        """make scan SPACE=: <space>/search.json"""
        return self.root / "search"

    @property
    def reports(self) -> Path:
        """make report: index.html and its plots"""
        return self.root / "reports"

    @property
    def bench(self) -> Path:
        """make bench: <bench>.json"""
        return self.root / "bench"


BUILD = BuildTree()
