"""The firmware commands of the Makefile, thin: parse, call the stage, map the outcome to an
exit code (infra.errors.exit_code turns a bad input into one line and exit 2).

    python -m hls.cli estimate --model M --fw F [--untrained]   exit 1: does not fit the part
    python -m hls.cli hls-csim --model M --fw F ...             exit 1: not bit-exact
    python -m hls.cli synth    --model a,b --fw x,y ...         exit 3: the HLS tool is missing
    python -m hls.cli scan     --model M --fw F [--space S]
    python -m hls.cli rtl      --model M --fw F_rtl             pipelined Verilog (hls/rtl)
    python -m hls.cli rtl-sim  --model M --fw F_rtl ...         exit 1: not bit-exact, 3: no tool
    python -m hls.cli rtl-synth --model M --fw F_rtl            exit 3: no yosys
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from infra.errors import exit_code
from infra.paths import BUILD

EXIT_INTERRUPTED = 130  # the shell's code for a command ended by SIGINT
SCHEDULER_HELP = (
    "where the points run (hls/cluster.py): serial, local (a Dask cluster on this machine), "
    "tcp://host:port, or a dask-jobqueue file"
)


def _design_args(p, model="part_tiny", fw="vu13p"):
    p.add_argument("--model", default=model)
    p.add_argument("--fw", default=fw)
    p.add_argument("--models-root", default=str(BUILD.models))


def _names(text: str) -> list[str]:
    return [t for t in (s.strip() for s in text.split(",")) if t]


def estimate(args) -> int:
    from hls.estimate import verdict_line
    from hls.runner import make_estimate

    d, est, out = make_estimate(
        args.model, args.fw, args.untrained, args.models_root, args.out_root, bool(args.force)
    )
    print(f"{d.cfg['name']} on {d.fw['name']} ({'trained weights' if d.trained else 'untrained'}):")
    for layer in est["layers"]:
        r = layer["resources"]
        print(
            f"  {layer['name']:<18} P={layer['parallel']:<4} RF={layer['reuse_factor']:<2} "
            f"lat {layer['latency_cycles']:>5}  LUT {r['LUT']:>8}  DSP {r['DSP']:>6}  "
            f"BRAM {r['BRAM_18K']:>4}  region {layer['largest_region_mults']:>5} mults"
        )
    print(verdict_line(est))
    print(f"wrote {out}")
    return 0 if est["fit"]["fits"] else 1


def hls_csim(args) -> int:
    from hls.csim import bit_exact
    from hls.runner import hls_csim as run

    report = run(
        args.model,
        args.fw,
        args.data_dir,
        args.n_jets,
        bool(args.force),
        args.models_root,
        args.hls_root,
    )
    return 0 if bit_exact(report) else 1


def synth(args) -> int:
    from hls.firmware import load_firmware
    from hls.synth import EXIT_NO_TOOL, run_many, tool_missing

    models, fws = _names(args.model), _names(args.fw)
    backends = {load_firmware(f)["backend"] for f in fws}
    if args.scheduler in ("serial", "local"):  # the workers are this machine: look here
        missing = [m for m in map(tool_missing, sorted(backends)) if m]
        if missing:
            print(
                f"make synth: {' and '.join(missing)} is not on PATH; run make synth where it is "
                "installed, then make report reads the reports",
                file=sys.stderr,
            )
            return EXIT_NO_TOOL
    rows = run_many(
        models,
        fws,
        bool(args.vsynth),
        bool(args.cosim),
        args.hls_root,
        args.models_root,
        args.scheduler,
        args.workers,
        bool(args.force),
    )
    failed = [r for r in rows if r["status"] != "done"]
    for r in failed:
        print(f"error: {r['model']} / {r['firmware']}: {r['error']}", file=sys.stderr)
    if len(rows) == 1 and not failed:
        print(json.dumps({k: rows[0].get(k) for k in ("latency", "resources")}, indent=1))
    if failed and all("not on PATH" in r["error"] for r in failed):
        return EXIT_NO_TOOL
    return 2 if failed else 0


def scan(args) -> int:
    """Exit 1 when no point is done: a search whose every point failed is not a result.
    Ctrl-C stops with one line (exit 130); the points finished so far are kept."""
    try:
        if args.space:
            from hls import search

            result = search.run(
                args.space, args.data_dir, scheduler=args.scheduler, workers=args.workers
            )
        else:
            from hls import scan as grid

            result = grid.run(
                args.model,
                args.fw,
                args.data_dir,
                models_root=args.models_root,
                scheduler=args.scheduler,
                workers=args.workers,
            )
    except KeyboardInterrupt:
        where = "build/search/<space>" if args.space else "build/scan/<model>-<fw>"
        print(
            f"interrupted: the points finished so far are kept ({where}/points/); run the same "
            "command again to resume (points done before are skipped)",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    points = result["points"]
    if not any(p["status"] == "done" for p in points):
        print(f"error: none of the {len(points)} points is done (see above)", file=sys.stderr)
        return 1
    return 0


def _tool_or_exit(tool: str, target: str) -> int | None:
    import shutil

    from hls.rtl.sim import EXIT_NO_TOOL, INSTALL

    if shutil.which(tool) is None:
        print(f"make {target}: {tool} is not on PATH: {INSTALL[tool]}", file=sys.stderr)
        return EXIT_NO_TOOL
    return None


def rtl(args) -> int:
    from hls.rtl.runner import make_rtl

    _, report = make_rtl(
        args.model, args.fw, args.weights, bool(args.force), args.models_root, args.rtl_root
    )
    return _fit_code(report, "rtl")


def _fit_code(report, target) -> int:
    """1 where the design is written but does not fit its budget (as make estimate), else 0."""
    fit = report["fit"]
    if fit["fits"]:
        return 0
    print(
        f"make {target}: does not fit ({report['source']}): {', '.join(fit['over'])} over "
        f"{fit['budget']:.0%} of {report['part']}",
        file=sys.stderr,
    )
    return 1


def rtl_sim(args) -> int:
    from hls.rtl.runner import rtl_sim as run

    missing = _tool_or_exit("verilator", "rtl-sim")
    if missing:
        return missing
    report = run(
        args.model,
        args.fw,
        args.data_dir,
        args.n_jets,
        args.weights,
        args.models_root,
        args.rtl_root,
    )
    return 0 if report["predict"]["bit_exact_fraction"] == 1 else 1


def rtl_synth(args) -> int:
    from hls.rtl.runner import rtl_synth as run

    missing = _tool_or_exit("yosys", "rtl-synth")
    if missing:
        return missing
    report = run(
        args.model,
        args.fw,
        args.weights,
        args.timeout,
        args.jobs,
        args.models_root,
        args.rtl_root,
        bool(args.whole_stages),
        args.budget,
    )
    return 1 if report["yosys"]["unfinished"] else _fit_code(report, "rtl-synth")


def _rtl_args(p):
    _design_args(p, fw="vu13p_rtl")
    p.add_argument("--rtl-root", default=str(BUILD.rtl))
    p.add_argument(
        "--weights",
        default="if-trained",
        choices=("trained", "untrained", "if-trained"),
        help="the trained model (build/models/<model>/), or untrained weights from the config",
    )


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m hls.cli", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("estimate", help="resources, II and latency before synthesis")
    _design_args(p)
    p.add_argument("--out-root", default=str(BUILD.hls))
    p.add_argument(
        "--untrained",
        action="store_true",
        help="estimate from the config alone (every weight non-zero)",
    )
    p.add_argument("--force", type=int, choices=(0, 1), default=int(os.environ.get("FORCE", 0)))
    p.set_defaults(run=estimate)

    p = sub.add_parser("hls-csim", help="convert, compile, C-simulate against Keras")
    _design_args(p)
    p.add_argument("--hls-root", default=str(BUILD.hls))
    p.add_argument("--data-dir", default=str(BUILD.data))
    p.add_argument("--n-jets", type=int, default=1000)
    p.add_argument("--force", type=int, choices=(0, 1), default=int(os.environ.get("FORCE", 0)))
    p.set_defaults(run=hls_csim)

    p = sub.add_parser("synth", help="HLS synthesis where the tool is on PATH")
    _design_args(p)
    p.add_argument("--hls-root", default=str(BUILD.hls))
    p.add_argument("--vsynth", type=int, choices=(0, 1), default=0)
    p.add_argument("--cosim", type=int, choices=(0, 1), default=0)
    p.add_argument("--force", type=int, choices=(0, 1), default=0)
    p.add_argument("--scheduler", default="serial", help=SCHEDULER_HELP)
    p.add_argument("--workers", type=int, default=None, help="with --scheduler local")
    p.set_defaults(run=synth)

    p = sub.add_parser("scan", help="a precision/reuse grid, or a design-space search")
    _design_args(p)
    p.add_argument("--data-dir", default=str(BUILD.data))
    p.add_argument(
        "--space",
        default=None,
        help="a search space (firmware_configs/search/<name>.yml or a path): train and "
        "C-simulate every point of its grid (hls/search.py) instead of a trained model's scan",
    )
    p.add_argument("--scheduler", default="serial", help=SCHEDULER_HELP)
    p.add_argument("--workers", type=int, default=None, help="with --scheduler local")
    p.set_defaults(run=scan)

    p = sub.add_parser("rtl", help="the RTL route: trace, pipelined Verilog, rtl_report.json")
    _rtl_args(p)
    p.add_argument("--force", type=int, choices=(0, 1), default=int(os.environ.get("FORCE", 0)))
    p.set_defaults(run=rtl)

    p = sub.add_parser("rtl-sim", help="Verilator: held-out jets one per clock against Keras")
    _rtl_args(p)
    p.add_argument("--data-dir", default=str(BUILD.data))
    p.add_argument("--n-jets", type=int, default=1000)
    p.set_defaults(run=rtl_sim)

    p = sub.add_parser("rtl-synth", help="yosys synth_xilinx per stage (or its parts), summed")
    _rtl_args(p)
    p.add_argument("--timeout", type=int, default=None, help="seconds per stage or part (config's)")
    p.add_argument("--jobs", type=int, default=None, help="stages or parts at once (config's)")
    p.add_argument(
        "--budget",
        type=int,
        default=None,
        help="seconds for the whole run: no module starts after it, stage after stage "
        "(the rest are named unfinished)",
    )
    p.add_argument(
        "--whole-stages",
        type=int,
        choices=(0, 1),
        default=0,
        help="1: each stage whole, not in the parts make rtl cut it into",
    )
    p.set_defaults(run=rtl_synth)
    return ap


@exit_code
def main(argv=None) -> int:
    args = parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
