"""Firmware configs (firmware_configs/<name>.yml): one FPGA target each, validated on load.

A firmware config names the backend, part, clock, io type and reuse factors, and may change
the arithmetic of a trained model: `precision` overrides keys of the model config's
`quantization` section for every layer (e.g. act_t, weight_bits, exp_table_size), `layers`
overrides one layer's own arguments (e.g. block0_attn: {logit_t: ..., reuse_factor: 4}).
Either way the Keras model is rebuilt with those types around the same trained weights, so the
C simulation is still compared bit for bit with a Keras model that computes the same thing,
and that model's accuracy is the firmware's accuracy.

`route` says which way to hardware the config is for: `hls` (hls4ml, the default) or `rtl`
(hls/rtl: the model traced into adder graphs, pipelined Verilog, Verilator, yosys). Each
route refuses the other's keys by name: an RTL config has no backend, folding or scan, an HLS
config no `rtl:` section.
"""

from __future__ import annotations

import re
from pathlib import Path

from hls.common import RESOURCES
from infra import yamlconfig
from infra.yamlconfig import REQUIRED, ConfigError, read_yaml, validate
from model import builder
from model.fixed import FLOAT64_BITS, Fx, FxError

CONFIG_DIR = Path(__file__).resolve().parent.parent / "firmware_configs"

# Device capacities (Xilinx data sheets DS890/DS891): LUT, FF, DSP, BRAM_18K, URAM, and the
# number of super logic regions (SLRs) of the die.
PARTS = {
    "xcvu13p-flga2577-2-e": dict(
        family="Virtex UltraScale+",
        LUT=1728000,
        FF=3456000,
        DSP=12288,
        BRAM_18K=5376,
        URAM=1280,
        SLR=4,
    ),
    "xcvu9p-flga2104-2-e": dict(
        family="Virtex UltraScale+",
        LUT=1182240,
        FF=2364480,
        DSP=6840,
        BRAM_18K=4320,
        URAM=960,
        SLR=3,
    ),
    "xcu250-figd2104-2l-e": dict(
        family="Alveo U250 (Virtex UltraScale+)",
        LUT=1728000,
        FF=3456000,
        DSP=12288,
        BRAM_18K=5376,
        URAM=1280,
        SLR=4,
    ),
    "xczu9eg-ffvb1156-2-e": dict(
        family="Zynq UltraScale+", LUT=274080, FF=548160, DSP=2520, BRAM_18K=1824, URAM=0, SLR=1
    ),
    "xcku15p-ffva1760-2-e": dict(
        family="Kintex UltraScale+",
        LUT=522720,
        FF=1045440,
        DSP=1968,
        BRAM_18K=1968,
        URAM=128,
        SLR=1,
    ),
}

_RESOURCES = {k: (int, REQUIRED) for k in RESOURCES}
_RESOURCES["family"] = (str, "custom part")
_RESOURCES["SLR"] = (int, 1)

# folding keys a layer may override (hls/folding.py); the others change its arithmetic
_LAYER_KEYS = ("reuse_factor", "parallel")
_BUDGET = {
    "resources": (float, 0.8),
    "ii_cycles": ((int, type(None)), None),
    "latency_cycles": ((int, type(None)), None),
}

ROUTES = ("hls", "rtl")
SYNTH_MAPPERS = ("abc9", "abc")  # yosys synth_xilinx's LUT mapper (hls/rtl/synth.py)
# what the RTL route reads (hls/rtl): the pipeline's cut and yosys' run
_RTL = {
    "latency_cutoff": (float, 5.0),  # combinational delay per pipeline stage (alkaid's, ~ns)
    "synth_family": (str, "xcup"),  # yosys synth_xilinx -family
    "synth_timeout_s": (int, 600),  # per stage; a stage past it is reported as not finished
    "synth_jobs": (int, 2),  # stages (or parts) synthesized at once
    "synth_mapper": (str, "abc9"),  # synth_xilinx's LUT mapper: abc9 | abc (hls/rtl/synth.py)
    # each stage cut into parts of cones sharing no logic, at most this da4ml cost each, for
    # yosys (hls/rtl/parts.py); 0: each stage whole
    "synth_part_cost": (float, 16000.0),
    "max_bits": (int, FLOAT64_BITS),  # the widest wire a trace may have (float64 holds 53)
}
HLS_ONLY = ("backend", "tool_version", "io_type", "strategy", "reuse_factor", "parallel", "scan")

SCHEMA = {
    "description": (str, ""),
    "route": (str, "hls"),
    "backend": ((str, type(None)), None),  # required on the HLS route
    "tool_version": ((str, float, type(None)), None),
    "rtl": (_RTL, {}),
    "part": (str, REQUIRED),
    "part_resources": ((dict, type(None)), None),
    "clock_period": (float, REQUIRED),
    "io_type": (str, "io_parallel"),
    "strategy": (str, "Latency"),
    "reuse_factor": (int, 1),
    "parallel": ((int, str), 1),
    "budget": (dict, {}),
    "precision": (dict, {}),
    "layers": (dict, {}),
    "scan": ((dict, type(None)), None),
}


def config_path(name_or_path) -> Path:
    return yamlconfig.config_path(name_or_path, CONFIG_DIR)


def load_firmware(name_or_path) -> dict:
    """Read and validate a firmware config; errors name the file and the key."""
    path = yamlconfig.find_config(name_or_path, CONFIG_DIR, "firmware")
    raw = read_yaml(path)
    cfg = validate(raw, SCHEMA, str(path))
    where = str(path)
    _check_route(where, raw, cfg)
    if cfg["route"] == "rtl":
        cfg["backend"] = None
        return _finish(where, path, cfg)
    if cfg["backend"] not in ("Vivado", "Vitis"):
        raise ConfigError(f"{where}: backend must be 'Vivado' or 'Vitis', got {cfg['backend']!r}")
    if cfg["tool_version"] is not None:  # picks the estimate's calibration family
        cfg["tool_version"] = str(cfg["tool_version"])
        if not re.fullmatch(r"\d{4}(\.\d+)*", cfg["tool_version"]):
            raise ConfigError(
                f"{where}: tool_version must be a release such as 2023.2, "
                f"got {cfg['tool_version']!r}"
            )
    if cfg["io_type"] != "io_parallel":
        raise ConfigError(
            f"{where}: io_type {cfg['io_type']!r}: the qpart layers implement " "io_parallel only"
        )
    if cfg["strategy"] != "Latency":
        raise ConfigError(
            f"{where}: strategy {cfg['strategy']!r}: the qpart layers implement the "
            "Latency strategy (trade area with reuse_factor)"
        )
    if cfg["clock_period"] <= 0 or cfg["reuse_factor"] < 1:
        raise ConfigError(f"{where}: clock_period must be > 0 and reuse_factor >= 1")
    check_parallel(where, "parallel", cfg["parallel"], allow_auto=True)
    return _finish(where, path, cfg)


def _check_route(where, raw: dict, cfg: dict) -> None:
    """A config for one route with a key of the other is refused, naming the key."""
    if cfg["route"] not in ROUTES:
        raise ConfigError(
            f"{where}: route must be one of {', '.join(ROUTES)}, got {cfg['route']!r}"
        )
    if cfg["route"] == "hls":
        if "rtl" in raw:
            raise ConfigError(
                f"{where}: rtl: a key of the RTL route; this config is for the HLS route "
                "(give it route: rtl, without the HLS keys, to build RTL)"
            )
        if raw.get("backend") is None:
            raise ConfigError(f"{where}: missing required key 'backend'")
        return
    given = [k for k in HLS_ONLY if k in raw]
    given += [
        f"layers.{layer}.{k}"
        for layer, over in (raw.get("layers") or {}).items()
        if isinstance(over, dict)
        for k in _LAYER_KEYS
        if k in over
    ]
    if given:
        raise ConfigError(
            f"{where}: {', '.join(given)}: key(s) of the HLS route; this config is for the RTL "
            "route (route: rtl: fully unrolled, one jet per clock, no folding)"
        )
    if cfg["rtl"]["latency_cutoff"] <= 0 or cfg["rtl"]["synth_timeout_s"] < 1:
        raise ConfigError(f"{where}: rtl.latency_cutoff must be > 0 and rtl.synth_timeout_s >= 1")
    if cfg["rtl"]["synth_mapper"] not in SYNTH_MAPPERS:
        raise ConfigError(
            f"{where}: rtl.synth_mapper must be one of {', '.join(SYNTH_MAPPERS)}, got "
            f"{cfg['rtl']['synth_mapper']!r}"
        )
    if not 1 <= cfg["rtl"]["max_bits"] <= FLOAT64_BITS:
        raise ConfigError(
            f"{where}: rtl.max_bits must be 1..{FLOAT64_BITS} (the interpreter and the comparison "
            f"with Keras hold {FLOAT64_BITS} bits exactly), got {cfg['rtl']['max_bits']}"
        )


def _finish(where, path, cfg) -> dict:
    """The keys both routes share: budget, part, precision, per-layer overrides."""
    cfg["budget"] = validate(cfg["budget"], _BUDGET, f"{where}: budget")
    if not 0 < cfg["budget"]["resources"] <= 1:
        raise ConfigError(
            f"{where}: budget.resources must be a fraction of the part in (0, 1], "
            f"got {cfg['budget']['resources']}"
        )
    part = cfg["part"].lower()
    if cfg["part_resources"] is not None:
        cfg["resources"] = validate(cfg["part_resources"], _RESOURCES, f"{where}: part_resources")
    elif part in PARTS:
        cfg["resources"] = dict(PARTS[part])
    else:
        raise ConfigError(
            f"{where}: unknown part {cfg['part']!r} (known: {', '.join(PARTS)}); "
            "give its capacities under part_resources: to use another part"
        )
    quant_schema = builder.SCHEMA["quantization"][0]
    unknown = sorted(set(cfg["precision"]) - set(quant_schema))
    if unknown:
        raise ConfigError(
            f"{where}: precision: unknown key(s) {', '.join(map(repr, unknown))}; "
            f"allowed: the model quantization keys {', '.join(quant_schema)}"
        )
    for key, value in cfg["precision"].items():
        check_value(where, f"precision.{key}", key, value)
    for layer, over in cfg["layers"].items():
        if not isinstance(over, dict):
            raise ConfigError(f"{where}: layers.{layer} must be a mapping")
        for key, value in over.items():
            if key == "parallel":
                check_parallel(where, f"layers.{layer}.parallel", value)
            else:
                check_value(where, f"layers.{layer}.{key}", key, value)
    cfg["slrs"] = cfg["resources"]["SLR"]
    cfg["name"], cfg["path"] = path.stem, str(path)
    return cfg


def check_parallel(where, key_path, value, allow_auto=False):
    """`parallel`: rows per pipelined iteration, an int >= 1, 'all', or (model-wide) 'auto'."""
    words = ("all", "auto") if allow_auto else ("all",)
    if isinstance(value, bool) or not (isinstance(value, int) and value >= 1 or value in words):
        raise ConfigError(
            f"{where}: {key_path} must be an int >= 1 or "
            f"{' or '.join(map(repr, words))}, got {value!r}"
        )


def check_value(where, key_path, key, value):
    if key.endswith("_t"):
        try:
            Fx.parse(str(value)).check_useful()
        except FxError as err:
            hint = ""
            if isinstance(value, str) and "<" in value and ">" not in value:
                hint = (
                    " (a type inside a YAML [list] or {map} must be quoted, or the list "
                    "written as a block: YAML splits it at its commas)"
                )
            raise ConfigError(f"{where}: {key_path}: {err}{hint}") from None
    elif not isinstance(value, int) or isinstance(value, bool):
        raise ConfigError(f"{where}: {key_path} must be an int, got {value!r}")


def changes_arithmetic(fw: dict) -> bool:
    """Whether the config changes the trained model's arithmetic (precision or per-layer type
    overrides), not only its folding."""
    return bool(fw["precision"]) or any(
        k not in _LAYER_KEYS for o in fw["layers"].values() for k in o
    )


def firmware_model(keras_model, model_cfg: dict, fw: dict):
    """The Keras model the firmware computes: the trained model, rebuilt with the firmware
    config's precision and per-layer overrides (the same object when there are none)."""
    import tensorflow as tf

    from model.layers import CUSTOM_OBJECTS

    if not changes_arithmetic(fw):
        _check_layer_names(keras_model, fw)
        return keras_model
    cfg = dict(model_cfg, quantization={**model_cfg["quantization"], **fw["precision"]})
    rebuilt = builder.build_model(cfg, quantized=True)
    _check_layer_names(rebuilt, fw)
    arch = rebuilt.get_config()
    for layer in arch["layers"]:
        over = fw["layers"].get(layer["config"]["name"], {})
        for key, value in over.items():
            if key in _LAYER_KEYS:
                continue
            if key not in layer["config"]:
                raise ConfigError(
                    f"{fw['path']}: layers.{layer['config']['name']}.{key}: "
                    f"{layer['class_name']} has no argument {key!r}"
                )
            layer["config"][key] = value
    model = tf.keras.Model.from_config(arch, custom_objects=CUSTOM_OBJECTS)
    model.set_weights(keras_model.get_weights())
    return model


def _check_layer_names(keras_model, fw):
    """Every layer a firmware config names exists (a typo is an error), but for the layers of
    the other pair-feature mode (builder.PAIR_MODE_LAYERS): one config serves both."""
    names = {layer.name for layer in keras_model.layers}
    missing = sorted(set(fw["layers"]) - names - set(builder.PAIR_MODE_LAYERS))
    if missing:
        raise ConfigError(
            f"{fw['path']}: layers: {', '.join(missing)} not in model "
            f"{keras_model.name} (its layers: {', '.join(sorted(names))})"
        )


def convert_kwargs(fw: dict, reuse_factor: int | None = None) -> dict:
    """hls.convert.convert's target arguments for a firmware config (optionally another
    model-wide reuse factor, as a scan point has). `parallel: auto` must have been resolved
    (hls.autofold) first."""
    over = folding_overrides(fw)
    if reuse_factor is not None:
        over["Model"]["ReuseFactor"] = reuse_factor
    return dict(
        backend=fw["backend"],
        part=fw["part"],
        clock_period=fw["clock_period"],
        io_type=fw["io_type"],
        reuse_factor=over["Model"]["ReuseFactor"],
        parallel=over["Model"]["ParallelizationFactor"],
        hls_overrides=over,
    )


_HLS_KEYS = {"reuse_factor": "ReuseFactor", "parallel": "ParallelizationFactor"}


def folding_overrides(fw: dict) -> dict:
    """hls4ml config overrides for the folding (reuse and parallelization factors) of the
    firmware config, model-wide and per layer."""
    if fw["parallel"] == "auto":
        raise ConfigError(
            f"{fw['path']}: parallel: auto is resolved by the estimate "
            "(hls.autofold.auto_fold) before conversion"
        )
    layers = {
        name: {_HLS_KEYS[k]: v for k, v in o.items() if k in _HLS_KEYS}
        for name, o in fw["layers"].items()
    }
    return {
        "Model": {"ReuseFactor": fw["reuse_factor"], "ParallelizationFactor": fw["parallel"]},
        "LayerName": {n: o for n, o in layers.items() if o},
    }
