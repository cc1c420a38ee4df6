"""RTL route benchmark: for each model, make rtl, make rtl-sim on held-out jets (>= 10,000 for
the shipped design) and make rtl-synth (yosys per stage) -> build/bench/rtl.json: latency,
da4ml cost, yosys per stage and summed, the Verilator bit-exact count, every run time.

Expensive (minutes to hours on 2 cores): not part of make test.
"""

from __future__ import annotations

import argparse
import time

from bench.common import write_json
from hls.rtl import runner
from infra.paths import BUILD


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=str(BUILD.data))
    p.add_argument("--models", default="part_tiny")
    p.add_argument("--fw", default="vu13p_rtl")
    p.add_argument("--n-jets", type=int, default=10000)
    p.add_argument("--weights", default="if-trained")
    p.add_argument("--synth", type=int, choices=(0, 1), default=1)
    p.add_argument("--models-root", default=str(BUILD.models))
    p.add_argument("--out", default=str(BUILD.bench / "rtl.json"))
    args = p.parse_args(argv)
    root = str(BUILD.bench / "rtl")
    rows = []
    for name in args.models.split(","):
        t0 = time.time()
        _, report = runner.make_rtl(name, args.fw, args.weights, True, args.models_root, root)
        row = {"model": name, "firmware": args.fw, "rtl_seconds": round(time.time() - t0, 1)}
        row.update(latency=report["latency"], da4ml_cost=report["da4ml_cost"])
        t0 = time.time()
        sim = runner.rtl_sim(
            name, args.fw, args.data_dir, args.n_jets, args.weights, args.models_root, root
        )
        row.update(rtl_sim=sim["predict"], rtl_sim_seconds=round(time.time() - t0, 1))
        if args.synth:
            report = runner.rtl_synth(
                name, args.fw, args.weights, models_root=args.models_root, rtl_root=root
            )
            row.update(yosys=report["yosys"], source=report["source"])
        rows.append(row)
    write_json(args.out, {"rows": rows})


if __name__ == "__main__":
    main()
