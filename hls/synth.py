"""`make synth`: C synthesis (and optionally Vivado logic synthesis / RTL co-simulation) of the
project that `make hls-csim` wrote, through hls4ml's build, then synth_report.json.

The HLS tool must be on PATH: `vivado_hls` for the Vivado backend, `vitis-run` (Vitis 2023.2
and later, what hls4ml 1.3.0's Vitis backend calls) for the Vitis backend. Without it this says
so in one line and exits non-zero, having written nothing: synthesis figures are never made up.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys

from data.errors import QpartError
from hls.common import TOOLS
from hls.csim import MARKER, project_dir
from hls.firmware import load_firmware

EXIT_NO_TOOL = 3


class SynthError(QpartError, RuntimeError):
    """A synthesis run that cannot start or whose reports cannot be read."""


def run(
    model_name: str,
    fw_name: str,
    vsynth=False,
    cosim=False,
    hls_root="build/hls",
    models_root="build/models",
) -> dict:
    from hls import autofold
    from hls.convert import convert
    from hls.firmware import convert_kwargs, firmware_model
    from hls.synth_report import write_synth_report
    from model import builder
    from model.train import load_trained, model_dir

    fw = load_firmware(fw_name)
    prj = project_dir(model_name, fw["name"], hls_root)
    if not (prj / MARKER).exists():
        raise SynthError(
            f"{prj}: no hls-csim project (run make hls-csim MODEL={model_name} "
            f"FW={fw['name']} first)"
        )
    cfg = builder.load_config(model_name)
    keras_model = firmware_model(
        load_trained(model_dir(cfg["name"], True, models_root), cfg), cfg, fw
    )
    fw = autofold.resolve(keras_model, fw)
    hls_model = convert(keras_model, prj, **convert_kwargs(fw))
    hls_model.write()
    print(
        f"[synth] {TOOLS[fw['backend']]}: C synthesis of {prj}"
        + (" + Vivado synthesis" if vsynth else "")
        + (" + co-simulation" if cosim else ""),
        flush=True,
    )
    hls_model.build(csim=False, synth=True, vsynth=vsynth, cosim=cosim)
    report = write_synth_report(prj, prj / "synth_report.json")
    print(f"[synth] -> {prj}/synth_report.json", flush=True)
    return report


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="part_tiny")
    p.add_argument("--fw", default="vu13p")
    p.add_argument("--vsynth", type=int, choices=(0, 1), default=0)
    p.add_argument("--cosim", type=int, choices=(0, 1), default=0)
    p.add_argument("--hls-root", default="build/hls")
    args = p.parse_args(argv)
    try:
        fw = load_firmware(args.fw)
    except QpartError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    tool = TOOLS[fw["backend"]]
    if shutil.which(tool) is None:
        print(
            f"make synth: {tool} ({fw['backend']} HLS) is not on PATH; run make synth where it "
            "is installed, then make report reads the reports",
            file=sys.stderr,
        )
        return EXIT_NO_TOOL
    try:
        report = run(args.model, fw["path"], bool(args.vsynth), bool(args.cosim), args.hls_root)
    except QpartError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(json.dumps({k: report.get(k) for k in ("latency", "resources")}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
