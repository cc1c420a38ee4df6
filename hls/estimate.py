"""make estimate: resources, II and latency of a qpart design before any synthesis.

    python -m hls.estimate --model part_l1 --fw vu13p     -> build/hls/<model>-<fw>/estimate.json

Each layer is counted from the Keras layer (its shapes, its types, and with a trained model its
quantized weights: zero weights cost nothing) and folded as the firmware config says
(hls/folding.py, the same rules the templates use): per region (one pipelined row loop) the
constant x variable and variable x variable products with their operand widths, adders, table
reads and ROM copies, row multiplexers; hls/cost.py maps them to LUT, FF, DSP, BRAM_18K, URAM
and cycles. The top function is a DATAFLOW region of the layers: the model's interval is the
slowest layer's latency, its latency their sum. The result has synth_report.json's resource and
latency keys with "source": "estimate", a fit verdict per resource against the part (whole
device and one SLR) and the largest region (the HLS compile-size risk).

Without a trained model (`--untrained`, or none in build/models/) the model is built from the
config and every weight counts as non-zero.
"""

from __future__ import annotations

import math

from data.checks import SchemaError, need
from hls import cost, folding
from hls.cost import RESOURCES, Region

UNROLL_LIMIT = 4096  # hls4ml's guidance: unrolled multiplications per region an HLS tool compiles
DEFAULT_BUDGET = 0.8
SCHEMA_VERSION = 1


def sbits(t) -> int:
    """Width of a type as a signed operand (unsigned types need one more bit)."""
    return int(t.width) + (0 if t.signed else 1)


def _nonzero(layer, weights, trained: bool) -> int:
    import numpy as np

    if not trained:
        return int(np.prod(weights.shape))
    return int(np.count_nonzero(np.asarray(layer.qw(weights))))


class _Walker:
    """Turns the Keras layers into regions, layer by layer."""

    def __init__(self, model, fw, trained, rules=cost.DEFAULT_RULES):
        from hls.convert import keras_result_types, layer_inputs

        self.model, self.fw, self.trained, self.rules = model, fw, trained, rules
        self.types = keras_result_types(model)
        self.inputs = layer_inputs(model)

    def in_t(self, layer, i=0):
        from model.fixed import Fx

        return Fx.parse(self.types[self.inputs[layer.name][i]])

    def fold(self, layer, rows):
        over = self.fw["layers"].get(layer.name, {})
        return folding.resolve(
            layer.name,
            rows,
            over.get("parallel", self.fw["parallel"]),
            over.get("reuse_factor", self.fw["reuse_factor"]),
        )

    # ---- shared pieces of a row
    def layernorm_row(self, region, in_t, dim, table_size, rsqrt_t, bias_t, lanes):
        from hls.extensions.layernorm import layernorm_types
        from model import tables as T

        table = T.RsqrtTable(table_size, 4, rsqrt_t)
        t = layernorm_types(in_t, dim, table, bias_t, bias_t)
        region.adds += [
            (lanes * dim, t["sum_t"].width),
            (lanes * dim, t["diff_t"].width),
            (lanes * dim, t["var_sum_t"].width),
            (lanes * dim, t["affine_t"].width),
        ]
        region.var_mults += [
            (lanes * dim, t["diff_t"].width, t["diff_t"].width),
            (lanes * dim, t["diff_t"].width, sbits(rsqrt_t)),
        ]
        region.const_macs.append((lanes * dim, int(bias_t.width), t["scaled_t"].width))
        region.tables.append((lanes, table_size, int(rsqrt_t.width)))
        region.mac_terms = max(region.mac_terms, dim)

    def dense_row(self, region, layer, kernel, x_bits, lanes):
        n_in = int(kernel.shape[0])
        region.const_macs.append(
            (lanes * _nonzero(layer, kernel, self.trained), layer.weight_bits, x_bits)
        )
        region.mac_terms = max(region.mac_terms, n_in + 1)

    # ---- one function per qpart layer class: -> (regions, stored bits)
    def FxDense(self, layer):
        in_t, res = self.in_t(layer), layer.result_t
        shape = layer.input_shape
        rows, n_in = int(math.prod(shape[1:-1])), int(shape[-1])
        f = self.fold(layer, rows)
        r = Region("rows", f.trips, f.reuse_factor)
        self.dense_row(r, layer, layer.kernel, sbits(in_t), f.parallel)
        r.adds.append((f.parallel * layer.units, res.width))  # cast with saturation
        if layer.activation == "relu":
            r.selects.append((f.parallel * layer.units, res.width))
        r.muxes.append((f.parallel * n_in * in_t.width, f.trips))
        return f, [r], rows * layer.units * res.width

    def FxLayerNorm(self, layer):
        in_t, res = self.in_t(layer), layer.result_t
        shape = layer.input_shape
        rows, dim = int(math.prod(shape[1:-1])), int(shape[-1])
        f = self.fold(layer, rows)
        r = Region("rows", f.trips, f.reuse_factor)
        self.layernorm_row(r, in_t, dim, layer.table_size, layer.rsqrt_t, layer.bias_t, f.parallel)
        r.muxes.append((f.parallel * dim * in_t.width, f.trips))
        return f, [r], rows * dim * res.width

    def FxAdd(self, layer):
        a, b, res = self.in_t(layer, 0), self.in_t(layer, 1), layer.result_t
        shape = layer.input_shape[0]
        rows, cols = int(math.prod(shape[1:-1])), int(shape[-1])
        f = self.fold(layer, rows)
        r = Region("rows", f.trips, f.reuse_factor)
        r.adds += [(f.parallel * cols, max(a.width, b.width) + 1), (f.parallel * cols, res.width)]
        r.muxes += [(f.parallel * cols * a.width, f.trips), (f.parallel * cols * b.width, f.trips)]
        return f, [r], rows * cols * res.width

    def FxQuant(self, layer):
        if self.inputs[layer.name][0] in self.model.input_names:
            return None  # folded into the input cast (hls/extensions/quant.py)
        n = int(math.prod(layer.input_shape[1:]))
        r = Region("cast")
        r.adds.append((n, layer.result_t.width))
        return folding.Folding(1, 1, 1), [r], n * layer.result_t.width

    def ClassToken(self, layer):
        dim = int(layer.input_shape[-1])
        return (
            folding.Folding(1, 1, 1),
            [Region("token", pipelined=False)],
            dim * layer.result_t.width,
        )

    def PairEmbed(self, layer):
        from hls.extensions.pair_embed import n_pair_rows

        in_t = self.in_t(layer)
        n, n_feat = int(layer.input_shape[1]), int(layer.input_shape[-1])
        over = self.fw["layers"].get(layer.name, {})
        f = self.fold(layer, n_pair_rows(n, over.get("symmetric", True)))
        r = Region("pairs", f.trips, f.reuse_factor)
        x_bits = sbits(in_t)
        for i, (kernel, _) in enumerate(layer.stack):
            self.dense_row(r, layer, kernel, x_bits, f.parallel)
            t = layer.result_t if i == len(layer.stack) - 1 else layer.hidden_t
            r.adds.append((f.parallel * int(kernel.shape[1]), t.width))
            if i < len(layer.stack) - 1:
                r.selects.append((f.parallel * int(kernel.shape[1]), t.width))
            x_bits = sbits(t)
        r.muxes.append((f.parallel * n_feat * in_t.width, f.trips))
        return f, [r], layer.num_heads * n * n * layer.result_t.width

    def PairFeatures(self, layer):
        """Per pair: differences and squares of the angles, F/G/softplus/ln-mantissa table
        reads, two leading-one logarithms (priority encoder + shifter), the standardisation."""
        from hls.extensions.pair_embed import n_pair_rows
        from hls.fxtypes import mul_type, sub_type

        n = int(layer.input_shape[0][1])
        kin_t = self.in_t(layer, 0)
        f = self.fold(layer, n_pair_rows(n, True))
        p, r = f.parallel, Region("pairs", f.trips, f.reuse_factor)
        diff = sub_type(layer.angle_t, layer.angle_t)
        sq = mul_type(diff, diff)
        tab = layer.table_t
        r.var_mults += [(2 * p, diff.width, diff.width), (2 * p, sq.width, sbits(tab))]
        # (e - frac) * ln 2 twice; (f - center) * scale four times: constant products
        r.const_macs += [(2 * p, tab.width, 7), (4 * p, 10, layer.ln_t.width + 2)]
        log_w = sq.width + tab.width + 1
        shifter = log_w * max(1, math.ceil(math.log2(log_w)))
        r.adds += [
            (6 * p, diff.width),
            (2 * p, shifter),
            (2 * p, log_w),
            (12 * p, tab.width + 4),
            (4 * p, layer.result_t.width),
        ]
        r.selects.append((4 * p, layer.result_t.width))  # padding
        r.tables += [
            (p, layer.angle_table_size, tab.width),
            (p, layer.angle_table_size, tab.width),
            (p, layer.softplus_table_size, tab.width),
            (2 * p, 1 << layer.log_bits, tab.width),
        ]
        r.muxes.append((2 * p * 3 * kin_t.width, n))
        r.mac_terms = 2
        return f, [r], n * n * 4 * layer.result_t.width

    def _attention(self, layer, particle):
        from hls.fxtypes import add_type, dot_accum, shift_type, sub_type, sum_type, union_type

        x_t = self.in_t(layer, 0 if particle else 1)
        n, dim, heads = int(layer.input_shape[0 if particle else 1][1]), layer.dim, layer.num_heads
        hd, n_kv = dim // heads, layer.n_keys
        norm_in = x_t if particle else union_type(x_t, self.in_t(layer, 0))
        tok = self.fold(layer, n)
        qry = tok if particle else folding.Folding(1, 1, tok.reuse_factor)
        qkv, w = layer.qkv_t, layer.weight_bits

        def token_region(name, trips, lanes, with_q, in_t):
            r = Region(name, trips, tok.reuse_factor)
            self.layernorm_row(
                r, norm_in, dim, layer.norm_table_size, layer.norm_rsqrt_t, layer.bias_t, lanes
            )
            r.const_macs.append((lanes * (3 if with_q else 2) * dim * dim, w, sbits(layer.norm_t)))
            r.adds.append((lanes * (3 if with_q else 2) * dim, qkv.width))
            r.muxes.append((lanes * dim * in_t.width, trips))
            return r

        regions = []
        if not particle:
            regions.append(token_region("class_token_row", 1, 1, True, self.in_t(layer, 0)))
        regions.append(token_region("token_rows", tok.trips, tok.parallel, particle, x_t))
        p = qry.parallel
        q = Region("query_rows", qry.trips, qry.reuse_factor)
        dot = dot_accum(qkv, qkv, hd)
        logit, ldiff = layer.logit_t, sub_type(layer.logit_t, layer.logit_t)
        q.var_mults += [
            (p * heads * n_kv * hd, sbits(qkv), sbits(qkv)),
            (p * heads * n_kv, sbits(layer.exp_t), sbits(layer.inv_t)),
            (p * n_kv * dim, sbits(layer.attn_t), sbits(qkv)),
        ]
        q.const_macs.append((p * dim * dim, w, sbits(layer.ctx_t)))
        hk = p * heads * n_kv
        if particle and layer.pair_bias:
            biased = add_type(shift_type(dot, layer.shift), self.in_t(layer, 1))
            q.adds.append((hk, biased.width))
            q.muxes.append((hk * self.in_t(layer, 1).width, qry.trips))
        q.adds += [
            (hk, logit.width),
            (hk, logit.width),
            (hk, ldiff.width),
            (hk, sum_type(layer.exp_t, n_kv).width),
            (hk, layer.attn_t.width),
            (p * dim, layer.ctx_t.width),
            (p * dim, layer.result_t.width),
        ]
        q.selects.append((hk, layer.exp_t.width))
        q.tables += [
            (hk, layer.exp_table_size, layer.exp_t.width),
            (p * heads, layer.inv_table_size, layer.inv_t.width),
        ]
        q.muxes.append((p * dim * qkv.width, qry.trips))
        q.mac_terms = max(n_kv, dim)
        regions.append(q)
        n_q = n if particle else 1
        stored = (n_q + 2 * n_kv) * dim * qkv.width + n_q * dim * layer.result_t.width
        return tok, regions, stored

    def ParticleAttention(self, layer):
        return self._attention(layer, True)

    def ClassAttention(self, layer):
        return self._attention(layer, False)

    def clones(self):
        """[(array name, copies, bits per copy)] of every array read by more than one layer:
        hls/extensions/clone.py copies it once per reader (at most 4 copies per clone, the last
        one shared by the rest and cloned again)."""
        from hls.extensions.clone import MAX_COPIES

        folded = {
            layer.name: self.inputs[layer.name][0]
            for layer in self.model.layers
            if type(layer).__name__ == "FxQuant" and self.FxQuant(layer) is None
        }
        readers = {}
        for name, sources in self.inputs.items():
            if name in folded:
                continue
            for src in sources:
                src = folded.get(src, src)
                readers[src] = readers.get(src, 0) + 1
        for name in self.model.output_names:
            readers[name] = readers.get(name, 0) + 1
        shapes = {layer.name: layer.output_shape for layer in self.model.layers}
        out = []
        for name, n in readers.items():
            if n < 2:
                continue
            shape = shapes[name][0] if isinstance(shapes[name], list) else shapes[name]
            n_clones = -(-(n - 1) // (MAX_COPIES - 1))
            out.append(
                (
                    name,
                    n + n_clones - 1,
                    int(math.prod(shape[1:])) * _width(self.types[name]),
                    n_clones,
                )
            )
        return out

    def layers(self):
        """Per-layer estimates in graph order, each clone right after the array it copies."""
        clones = {}
        for name, copies, bits, n_clones in self.clones():
            entry = _layer_estimate(
                _Named(f"clone_{name}", "QpartClone"),
                folding.Folding(1, 1, 1),
                [Region(f"copy{i}", pipelined=False) for i in range(n_clones)],
                copies * bits,
                self.rules,
            )
            entry["latency_cycles"] = entry["interval_cycles"] = n_clones  # a register each
            clones[name] = entry
        out = [clones.pop(name) for name in self.model.input_names if name in clones]
        for layer in self.model.layers:
            handler = getattr(self, type(layer).__name__, None)
            got = handler(layer) if handler is not None else None
            if got is not None:  # else InputLayer, Flatten / Reshape (wiring), a folded cast
                fold, regions, stored_bits = got
                out.append(_layer_estimate(layer, fold, regions, stored_bits, self.rules))
            if layer.name in clones:
                out.append(clones.pop(layer.name))
        return out


class _Named:
    """A layer that hls4ml inserts (no Keras layer): its name and class for the estimate."""

    def __init__(self, name, cls):
        self.name, self.cls = name, cls


def _layer_estimate(layer, fold, regions, stored_bits, rules) -> dict:
    res = {k: 0 for k in RESOURCES}
    rows = []
    for r in regions:
        c = cost.region_cost(r, rules)
        res = cost.add(res, c)
        rows.append(
            {
                "name": r.name,
                "trips": r.trips,
                "ii": r.ii,
                "latency_cycles": cost.region_latency(r, rules),
                "unrolled_mults": r.unrolled_mults,
                "const_mults": [list(x) for x in r.const_macs],
                "var_mults": [list(x) for x in r.var_mults],
                "table_reads": r.table_reads,
                "rom_copies": sum(cost.rom_copies(n, r.ii) for n, *_ in r.tables),
                "rom_bits": sum(cost.rom_copies(n, r.ii) * d * w for n, d, w in r.tables),
                "adders": sum(n for n, _ in r.adds),
                "resources": c,
            }
        )
    # the layer's output array, complete-partitioned registers, ping-pong between processes
    res["FF"] += 2 * stored_bits
    latency = sum(r["latency_cycles"] for r in rows)
    cls = layer.cls if isinstance(layer, _Named) else type(layer).__name__
    return {
        "name": layer.name,
        "class": cls,
        "rows": fold.rows,
        "parallel": fold.parallel,
        "reuse_factor": fold.reuse_factor,
        "latency_cycles": latency,
        "interval_cycles": latency,
        "resources": res,
        "stored_bits": stored_bits,
        "largest_region_mults": max((r["unrolled_mults"] for r in rows), default=0),
        "regions": rows,
    }


def part_capacity(fw) -> tuple[dict, int]:
    """The part's resources and its number of SLRs (hls.firmware.PARTS or part_resources)."""
    res = fw["resources"]
    return {k: int(res[k]) for k in RESOURCES}, int(fw.get("slrs") or res.get("SLR", 1))


def _width(type_name: str) -> int:
    from hls.convert import MASK_TYPE
    from model.fixed import Fx

    return 1 if type_name == MASK_TYPE else Fx.parse(type_name).width


def port_bits(model, types) -> dict:
    """Top-level port bits per jet: hls4ml reshapes every top-level array into one port."""
    bits = {
        inp.name.split(":")[0]: int(math.prod(inp.shape[1:]))
        * _width(types[inp.name.split(":")[0]])
        for inp in model.inputs
    }
    out = model.layers[-1]
    return {
        "inputs": bits,
        "output": int(math.prod(out.output_shape[1:])) * _width(types[out.name]),
        "total_inputs": sum(bits.values()),
    }


def estimate(
    model, fw: dict, trained: bool, rules=cost.DEFAULT_RULES, budget: float | None = None
) -> dict:
    """The estimate of `model` (qpart Keras model, the firmware's arithmetic) under firmware
    config `fw` (hls.firmware.load_firmware)."""
    from hls.convert import keras_result_types

    walker = _Walker(model, fw, trained, rules)
    layers = walker.layers()
    total = {k: 0 for k in RESOURCES}
    for layer in layers:
        total = cost.add(total, layer["resources"])
    cap, slrs = part_capacity(fw)
    budget = fw.get("budget", {}).get("resources", DEFAULT_BUDGET) if budget is None else budget
    clock = float(fw["clock_period"])
    latency = sum(layer["latency_cycles"] for layer in layers)
    interval = max(layer["interval_cycles"] for layer in layers)
    resources, fit = {}, {}
    for k in RESOURCES:
        avail = cap[k]
        slr = avail // slrs if avail else 0
        largest = max(layer["resources"][k] for layer in layers)
        resources[k] = {
            "used": total[k],
            "available": avail,
            "utilization_pct": round(100 * total[k] / avail, 2) if avail else None,
            "available_slr": slr,
            "utilization_slr_pct": round(100 * total[k] / slr, 2) if slr else None,
        }
        fit[k] = {
            "fraction": round(total[k] / avail, 4) if avail else None,
            "largest_layer_slr_fraction": round(largest / slr, 4) if slr else None,
            "fits": (total[k] <= budget * avail) if avail else total[k] == 0,
            "fits_slr": (largest <= slr) if slr else largest == 0,
        }
    worst = max(layers, key=lambda x: x["largest_region_mults"])
    regions_ok = worst["largest_region_mults"] <= UNROLL_LIMIT
    over = [k for k in RESOURCES if not fit[k]["fits"]]
    over_slr = [k for k in RESOURCES if not fit[k]["fits_slr"]]
    binding = max(RESOURCES, key=lambda k: fit[k]["fraction"] or 0)
    return {
        "schema_version": SCHEMA_VERSION,
        "source": "estimate",
        "model": model.name,
        "firmware": fw.get("name"),
        "backend": fw["backend"],
        "part": fw["part"],
        "slrs": slrs,
        "weights": "trained" if trained else "untrained (every weight counted non-zero)",
        "clock": {"target_ns": clock, "estimated_ns": None, "uncertainty_ns": None},
        "latency": {
            "best_cycles": latency,
            "worst_cycles": latency,
            "best_ns": round(latency * clock, 6),
            "worst_ns": round(latency * clock, 6),
            "interval_min": interval,
            "interval_max": interval,
            "interval_ns": round(interval * clock, 6),
            "pipeline_type": "dataflow",
        },
        "resources": resources,
        "fit": {
            "budget_fraction": budget,
            "resources": fit,
            "fits_device": not over,
            "fits_slr": not over_slr,
            "regions_ok": regions_ok,
            "fits": not over and not over_slr and regions_ok,
            "over_budget": over,
            "over_slr": over_slr,
            "binding": binding,
        },
        "largest_region": {
            "layer": worst["name"],
            "unrolled_mults": worst["largest_region_mults"],
            "limit": UNROLL_LIMIT,
        },
        "ports_bits_per_jet": port_bits(model, keras_result_types(model)),
        "layers": layers,
        "rules": rules.as_dict(),
    }


def check_estimate(est, path) -> dict:
    """Validate an estimate.json (the dashboard reads it): the keys the dashboard uses, and
    "source": "estimate" so that it is never taken for a synthesis report."""
    if need(est, "source", path, kind=str) != "estimate":
        raise SchemaError(f"{path}: source must be 'estimate', got {est.get('source')!r}")
    res = need(est, "resources", path, kind=dict)
    for k in RESOURCES:
        entry = need(res, k, path, "resources.", dict)
        for key in ("used", "available"):
            need(entry, key, path, f"resources.{k}.", int)
    lat = need(est, "latency", path, kind=dict)
    for key in ("worst_cycles", "interval_max"):
        need(lat, key, path, "latency.", int)
    for key in ("worst_ns", "interval_ns"):
        need(lat, key, path, "latency.", (int, float))
    need(need(est, "fit", path, kind=dict), "fits", path, "fit.", bool)
    need(est, "layers", path, kind=list)
    return est


def summary(est: dict) -> dict:
    """The figures of an estimate that a scan point or a table keeps (no per-layer detail)."""
    return {
        k: est[k]
        for k in (
            "source",
            "part",
            "weights",
            "clock",
            "latency",
            "resources",
            "fit",
            "largest_region",
        )
    }


def verdict_line(est: dict) -> str:
    """One line: fits or not, and why."""
    f = est["fit"]
    pct = ", ".join(
        f"{k} {v['utilization_pct']:.0f}%"
        for k, v in est["resources"].items()
        if v["utilization_pct"] is not None
    )
    lat = est["latency"]
    head = "fits" if f["fits"] else "DOES NOT FIT"
    why = []
    if f["over_budget"]:
        why.append(f"over {f['budget_fraction']:.0%} of the part: {', '.join(f['over_budget'])}")
    if f["over_slr"]:
        why.append(f"a layer exceeds one SLR: {', '.join(f['over_slr'])}")
    if not f["regions_ok"]:
        r = est["largest_region"]
        why.append(
            f"{r['layer']} unrolls {r['unrolled_mults']} multiplications in one region "
            f"(> {r['limit']})"
        )
    return (
        f"estimate {head} {est['part']}: {pct}; II {lat['interval_max']} cycles "
        f"({lat['interval_ns'] / 1000:.2f} us), latency {lat['worst_cycles']} cycles "
        f"({lat['worst_ns'] / 1000:.2f} us)" + (f" -- {'; '.join(why)}" if why else "")
    )
