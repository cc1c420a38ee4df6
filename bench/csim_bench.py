"""C-simulation benchmark: g++ compile time, C-simulation throughput (jets/s) of both routes
and the fidelity figures, for part_tiny and part_l1 -> build/bench/csim.json.

Needs the trained models (make train MODEL=part_tiny / part_l1).
"""

from __future__ import annotations

import argparse

from bench.common import write_json
from hls import runner
from infra.paths import BUILD


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=str(BUILD.data))
    p.add_argument("--models", default="part_tiny,part_l1")
    p.add_argument("--fw", default="vu13p")
    p.add_argument("--n-jets", type=int, default=1000)
    p.add_argument("--models-root", default=str(BUILD.models))
    p.add_argument("--out", default=str(BUILD.bench / "csim.json"))
    args = p.parse_args(argv)
    rows = []
    for name in args.models.split(","):
        report = runner.hls_csim(
            name,
            args.fw,
            args.data_dir,
            args.n_jets,
            force=True,
            models_root=args.models_root,
            hls_root=str(BUILD.bench / "hls"),
        )
        rows.append(
            {
                "model": name,
                "firmware": args.fw,
                "backend": report["backend"],
                "predict": report["predict"],
                "testbench": report["testbench"],
            }
        )
    write_json(args.out, {"results": rows, "data_dir": args.data_dir})


if __name__ == "__main__":
    main()
