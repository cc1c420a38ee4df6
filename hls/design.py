"""One design: a model config on a firmware config, assembled once.

Every stage (`make estimate`, `make hls-csim`, `make synth`, a scan row, a search point) starts
from the same value: the two validated configs, the Keras model the firmware computes (the
trained weights, checked to be this config's architecture, rebuilt at the firmware's precision),
the folding resolved (`parallel: auto` -> per-layer factors, hls/autofold.py) and the project
directory. `design()` is the only place that assembles it, so the stages cannot drift apart.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from hls import autofold
from hls.firmware import convert_kwargs, firmware_model, load_firmware
from infra.errors import QpartError
from infra.paths import BUILD
from model import builder
from model.train import load_trained, model_dir

WEIGHTS = ("trained", "untrained", "if-trained")


class DesignError(QpartError, ValueError):
    """A model and firmware config that do not make a design (a float model, bad weights)."""


def file_sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def project_dir(model_name: str, fw_name: str, root=str(BUILD.hls)) -> Path:
    """build/hls/<model>-<fw>: where a design's project, estimate and reports live."""
    return Path(root) / f"{model_name}-{fw_name}"


@dataclass
class Design:
    """A model config on a firmware config: what every stage reads."""

    cfg: dict  # the model config (model.builder.load_config)
    fw: dict  # the firmware config, its folding resolved (no `parallel: auto` left)
    model: object  # the Keras model the firmware computes (hls.firmware.firmware_model)
    trained: bool  # trained weights (zero weights cost nothing) or every weight non-zero
    prj: Path  # the project directory

    @property
    def name(self) -> str:
        return self.prj.name

    @property
    def pairs(self) -> str:
        """What the model reads beside the particles (data.pipeline's `pairs`)."""
        return builder.pair_mode(self.cfg)

    @cached_property
    def configs(self) -> dict:
        """The two config files, by path and content hash: what every report of the design
        carries, so that a copy of a shipped config under its name is told apart."""
        return {
            key: {"path": str(Path(c["path"]).resolve()), "sha256": file_sha256(c["path"])}
            for key, c in (("model", self.cfg), ("firmware", self.fw))
        }

    @property
    def identity(self) -> dict:
        """What a project directory belongs to (hls.csim.claim_output_dir): the names, the
        architecture of the weights and the firmware config's content (its path is recorded,
        not compared: the same file by another path is the same design)."""
        return {
            "model": self.cfg["name"],
            "firmware": self.fw["name"],
            "architecture": builder.architecture_hash(self.cfg, True),
            "firmware_sha256": self.configs["firmware"]["sha256"],
            "firmware_config": self.configs["firmware"]["path"],
        }

    def convert_kwargs(self) -> dict:
        """hls.convert.convert's target arguments (backend, part, clock, folding)."""
        return convert_kwargs(self.fw)


def design(
    model,
    fw,
    weights: str = "trained",
    precision: dict | None = None,
    reuse_factor: int | None = None,
    models_root=str(BUILD.models),
    hls_root=str(BUILD.hls),
    prj=None,
    route: str = "hls",
) -> Design:
    """Assemble a design from a model config and a firmware config (names, paths or loaded
    dicts). `weights`: "trained" (build/models/<model>/, checked to be this config's
    architecture), "untrained" (built from the config: every weight counts as non-zero), or
    "if-trained" (the trained model where one exists). `precision` and `reuse_factor` override
    the firmware config's (a scan row); `prj` replaces <hls_root>/<model>-<fw> (a scan row's or
    a search point's own directory). `route`: the stage's way to hardware (hls or rtl); a
    firmware config for the other is refused, naming both."""
    if weights not in WEIGHTS:
        raise DesignError(f"weights={weights!r}: one of {', '.join(WEIGHTS)}")
    cfg = model if isinstance(model, dict) else builder.load_config(model)
    fw = fw if isinstance(fw, dict) else load_firmware(fw)
    if fw.get("route", "hls") != route:
        make = {"hls": "make estimate / hls-csim / synth", "rtl": "make rtl / rtl-sim / rtl-synth"}
        raise DesignError(
            f"{fw['path']}: a firmware config for the {fw['route'].upper()} route (route: "
            f"{fw['route']}); this stage is the {route.upper()} route's: use "
            f"{make[fw['route']]}"
        )
    if not cfg["model"]["quantized"]:
        raise DesignError(
            f"{cfg['path']}: {cfg['name']} is a float model; firmware needs a quantized config"
        )
    if precision:
        fw = dict(fw, precision={**fw["precision"], **precision})
    if reuse_factor is not None:
        fw = dict(fw, reuse_factor=reuse_factor)
    saved = model_dir(cfg["name"], True, models_root)
    trained = weights == "trained" or (weights == "if-trained" and (saved / "model.keras").exists())
    keras_model = load_trained(saved, cfg) if trained else builder.build_model(cfg, quantized=True)
    fw_model = firmware_model(keras_model, cfg, fw)
    fw = autofold.resolve(fw_model, fw, trained)
    prj = Path(prj) if prj is not None else project_dir(cfg["name"], fw["name"], hls_root)
    return Design(cfg, fw, fw_model, trained, prj)
