"""The dashboard's page: one HTML section per part of the pipeline, from the collected data
(hls/report/discover.py) and the plots written (hls/report/plots.py). The page and its style
are files (templates/page.html, templates/style.css, string.Template); every figure is escaped
and formatted by hls.common.fmt, and what did not run says so."""

from __future__ import annotations

import html
import string
from pathlib import Path

from hls.common import RESOURCE_LABELS, RESOURCES, fmt
from hls.points import figures
from hls.report.discover import PAIR_MODES, background_jets, constant_fidelity, utilization
from hls.report.overview import KIND_WORDS, band_span, estimate_verdict
from infra.checks import is_number

TEMPLATES = Path(__file__).with_name("templates")


def _e(v) -> str:
    return html.escape(fmt(v) if not isinstance(v, str) else v)


def _td(v, digits=4, cls=None):
    text = fmt(v, digits)
    klass = cls or ("num" if is_number(v) else "")
    if v is None:
        klass = "missing"
    return f'<td class="{klass}">{html.escape(text)}</td>'


def _notrun(text) -> str:
    return f'<td class="notrun">{html.escape(text)}</td>'


def _table(headers, rows, caption=None) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "\n".join(f"<tr>{''.join(r)}</tr>" for r in rows)
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return (
        f'<div class="tablewrap"><table>{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>\n{body}\n</tbody></table></div>"
    )


def _figures(written, section) -> str:
    out = []
    for p in written:
        if p["section"] == section:
            f = html.escape(p["file"])
            out.append(
                f'<figure><a href="{f}"><img src="{f}" alt="{html.escape(p["title"])}">'
                f"</a><figcaption>{html.escape(p['title'])} ({f})</figcaption></figure>"
            )
    return "\n".join(out)


def _skipped(skipped, names) -> str:
    rows = [s for s in skipped if s["plot"] in names]
    return "".join(
        f'<p class="notrun-p">{html.escape(s["plot"])}: not written '
        f"({html.escape(s['reason'])})</p>"
        for s in rows
    )


def _pct(util, r, high=None) -> str:
    """A resource cell: used / available and the share; `high`: an estimate's share at the upper
    end of its error band."""
    v = util[r]
    if v["used"] is None:
        return "<td class='missing'>—</td>"
    pct = (
        "n/a (part has none)"
        if v["pct"] is None and v["available"] == 0
        else ("—" if v["pct"] is None else f"{v['pct']:.2f}%")
    )
    band = f"<br><span class='sub'>up to {high:.2f}% (band)</span>" if high is not None else ""
    return (  # the count, then (smaller) of what and the share: narrow enough for 1400 px
        f'<td class="num">{v["used"]:,}'
        f"<br><span class='sub'>/ {fmt(v['available'])} · {pct}</span>{band}</td>"
    )


def _models_section(data, written, skipped, copied) -> str:
    models = data["models"]
    if not models:
        return "<p class='notrun-p'>No trained model found: not run (make train).</p>"
    rows = []
    for m in models:
        x = m["metrics"]
        bops = x.get("bops")
        rows.append(
            [
                f"<td>{_e(m['model'])}</td>",
                f"<td>{'quantized' if m['quantized'] else 'float'}</td>",
                _td(x.get("accuracy")),
                _td(x.get("macro_auc")),
                _td(x.get("parameters")),
                _td(None if bops is None else bops / 1e6, 4),
                _td(x.get("n_train")),
                _td(x.get("n_jets")),
                _td(x.get("epochs_run")),
                _td(x.get("train_seconds")),
                f"<td>{_e(m['path'])}</td>",
            ]
        )
    table = _table(
        [
            "model",
            "variant",
            "test accuracy",
            "macro AUC",
            "parameters",
            "MBOPs",
            "train jets",
            "test jets",
            "epochs",
            "train s",
            "source",
        ],
        rows,
    )
    pairs = {m["model"] for m in models if not m["quantized"]} & {
        m["model"] for m in models if m["quantized"]
    }
    note = ""
    for name in sorted(pairs):
        q = next(m for m in models if m["model"] == name and m["quantized"])["metrics"]
        f = next(m for m in models if m["model"] == name and not m["quantized"])["metrics"]
        if q.get("accuracy") is not None and f.get("accuracy") is not None:
            note += (
                f"<p>{_e(name)}: quantized {q['accuracy']:.4f} vs float twin "
                f"{f['accuracy']:.4f} accuracy (Δ {q['accuracy'] - f['accuracy']:+.4f}).</p>"
            )
    extra = ""
    copied = [c for c in copied if c.startswith("models/")]
    if copied:
        items = "".join(
            f'<figure class="small"><a href="{html.escape(c)}"><img src="'
            f'{html.escape(c)}" alt="{html.escape(c)}"></a><figcaption>'
            f"{html.escape(c)}</figcaption></figure>"
            for c in copied
        )
        extra = (
            f"<details><summary>Training plots of each model ({len(copied)}, copied from "
            f"build/models)</summary><div class='grid'>{items}</div></details>"
        )
    caps = [
        f"{m['label']} {cap:,}"
        for m in models
        if (cap := background_jets(m["metrics"])) is not None
        and m["metrics"].get("rejection_at_50pct")
    ]
    if caps:
        note += (
            "<p>QCD rejection at 50% signal efficiency is at most the number of QCD test jets "
            f"(one jet passing): {_e(', '.join(caps))}. A bar at that cap marked ≥ means no "
            "QCD jet passed (a lower bound).</p>"
        )
    return (
        table
        + note
        + _widths_table(models)
        + _figures(written, "models")
        + _skipped(skipped, ["training.png"])
        + extra
    )


def _histogram_cell(hist: dict) -> str:
    """{bits: weights} as 'bits×weights' items, narrowest first."""
    return " ".join(f"{b}b×{n:,}" for b, n in sorted(hist.items(), key=lambda kv: int(kv[0])))


def _widths_table(models) -> str:
    """Where the bits went: per layer of each model trained with learned widths (metrics.json's
    `learned_widths`, model.widths.summary), the mean width, its distribution and the pruned
    fraction."""
    learned = [m for m in models if m["quantized"] and m["metrics"].get("learned_widths")]
    if not learned:
        return (
            "<p>Learned weight widths: no model trained with them "
            "(quantization.learned_widths); the others have one weight width per model.</p>"
        )
    rows = []
    for m in learned:
        s = m["metrics"]["learned_widths"]
        for r in s["layers"] + [dict(s, layer="all layers", weight_t="")]:
            rows.append(
                [
                    f"<td>{_e(m['model'])}</td>",
                    f"<td>{_e(r['layer'])}</td>",
                    _td(r["weights"]),
                    _td(r["mean_bits"], 3),
                    _td(r.get("mean_bits_kept"), 3),
                    _td(100 * r["pruned_fraction"], 3),
                    f"<td>{_e(_histogram_cell(r['histogram']) if 'histogram' in r else '')}</td>",
                    f"<td>{_e(r['weight_t'])}</td>",
                    _td(r["ebops"]),
                ]
            )
    return _table(
        [
            "model",
            "layer",
            "weights",
            "mean bits",
            "mean bits (kept)",
            "pruned %",
            "widths (bits×weights)",
            "firmware weight type",
            "EBOPs",
        ],
        rows,
        caption="Where the bits went: learned weight widths per layer (metrics.json "
        "learned_widths; a pruned weight counts 0 bits in the mean)",
    )


def _overview_section(ov, written, skipped) -> str:
    """The designs first: the overview plot and, beside it, each design's sources with the
    verdict against its budget."""
    if not ov["rows"]:
        return (
            "<p class='notrun-p'>No design with an estimate or a report: not run (make "
            "estimate, make hls-csim).</p>"
        )
    rows = []
    for r in ov["rows"]:

        def pct(key, res, r=r):
            v, band = r[key], (r.get("band") or {}).get(res)
            if v is None:
                return "<td class='missing'>—</td>"
            extra = (
                f"<br><span class='sub'>band {band[0]:.1f}–{band[1]:.1f}%</span>" if band else ""
            )
            return f"<td class='num'>{v:.1f}%{extra}</td>"

        rows.append(
            [
                f"<td>{_e(r['design'])}</td>",
                f"<td class='wrap'>{_e(r['source'])}<br><span class='sub'>"
                f"{_e(KIND_WORDS[r['kind']])}</span></td>",
                "<td class='missing'>—</td>"
                if r["latency_ns"] is None
                else f"<td class='num'>{fmt(r['latency_ns'])} ns<br><span class='sub'>"
                f"{fmt(r['latency_cycles'])} cycles, II {fmt(r['ii_cycles'])}</span></td>",
                pct("lut_pct", "LUT"),
                pct("dsp_pct", "DSP"),
                _verdict(r["verdict"]),
            ]
        )
    table = _table(["design", "source", "latency", "LUT", "DSP", "verdict"], rows)
    return _figures(written, "overview") + _skipped(skipped, ["overview.png", "routes.png"]) + table


def _designs_section(data) -> str:
    if not data["designs"]:
        return "<p class='notrun-p'>No hls4ml project found: not run (make hls-csim).</p>"
    rows = []
    for d in data["designs"]:
        c, s = d["csim"], d["synth"]
        if c is None:
            csim = _notrun(d["csim_status"])
        else:
            p = c["predict"]
            exact = p.get("bit_exact_fraction")
            ok = exact == 1 and (
                c.get("testbench") is None or c["testbench"].get("bit_exact_fraction") == 1
            )
            if ok:
                csim = f'<td class="ok">bit-exact on {_e(p.get("n_jets"))} jets</td>'
            else:
                csim = (
                    f'<td class="bad">MISMATCH (predict: {_e(exact)} of '
                    f'{_e(p.get("n_jets"))} jets bit-exact)</td>'
                )
        tb = "—" if c is None else ("run" if c.get("testbench") else None)
        if s is None:
            synth = _notrun("synthesis: " + d["synth_status"])
            vs = cos = _notrun("not run")
        else:
            synth = f"<td class='ok'>{_e(s.get('tool') or 'HLS')} {_e(s.get('tool_version'))}</td>"
            vs = (
                _notrun("not run")
                if s.get("vivado_synth") is None
                else f"<td>{_e(s['vivado_synth'].get('tool_version') or 'run')}</td>"
            )
            cosim = s.get("cosim")
            if cosim is None:
                cos = _notrun("not run")
            else:
                st = cosim.get("status") or "no RTL ran"
                cos = f"<td class='{'ok' if st == 'pass' else 'bad'}'>{_e(st)}</td>"
        rows.append(
            [
                f"<td>{_e(d['name'])}</td>",
                f"<td>{_e(d['model'])}</td>",
                f"<td>{_e(d['firmware'])}</td>",
                f"<td>{_e(d['backend'])}</td>",
                f"<td>{_e(d['part'])}</td>",
                _td(d["clock_ns"]),
                csim,
                _notrun("not run") if tb is None else f"<td>{tb}</td>",
                synth,
                vs,
                cos,
            ]
        )
    return _table(
        [
            "design",
            "model",
            "firmware",
            "backend",
            "part",
            "clock ns",
            "C simulation",
            "testbench route",
            "HLS synthesis",
            "Vivado synthesis",
            "co-simulation",
        ],
        rows,
    )


def _rtl_cell(rtl: dict, util: dict, r: str) -> str:
    """A resource of an RTL design: used, its share of the part, and what counted it."""
    v = util.get(r) or {}
    if v.get("used") is None:
        return "<td class='missing'>—</td>"
    src = (rtl.get("resource_sources") or {}).get(r, rtl["source"])
    share = f" ({v['pct']:.1f}%)" if is_number(v.get("pct")) else ""
    return f"<td class='num'>{_e(v['used'])}{share}<br><span class='sub'>{_e(src)}</span></td>"


def _rtl_section(data) -> str:
    """The RTL route's designs (make rtl): the pipeline, resources labelled by their source,
    Verilator's bit-exact check and yosys' stages."""
    designs = data.get("rtl_designs") or []
    if not designs:
        return (
            "<p class='notrun-p'>No RTL design in build/rtl: not run (make rtl MODEL=... "
            "FW=vu13p_rtl).</p>"
        )
    rows = []
    for d in designs:
        rtl, c, util = d["rtl"], d["csim"], d["utilization"]
        lat = rtl.get("latency") or {}
        pipe = (
            f"<td class='num'>{_e(lat.get('worst_cycles'))} cycles, {_e(lat.get('worst_ns'))} ns"
            f"<br><span class='sub'>{_e(d.get('stages'))} stages, II "
            f"{_e(lat.get('interval_max'))}</span></td>"
        )
        if c is None:
            sim = _notrun(d["csim_status"])
        else:
            p = c["predict"]
            ok = p.get("bit_exact_fraction") == 1
            sim = (
                f"<td class='{'ok' if ok else 'bad'}'>"
                + ("bit-exact" if ok else f"MISMATCH ({_e(p.get('bit_exact_fraction'))} bit-exact)")
                + f" on {_e(p.get('n_jets'))} jets</td>"
            )
        ys = rtl.get("yosys")
        if not ys:
            yosys = _notrun("not run (make rtl-synth)")
        else:
            n, left = len(ys.get("stages") or []), ys.get("unfinished") or []
            parts = sum(r.get("parts", 1) for r in ys.get("stages") or [])
            yosys = (
                f"<td class='{'bad' if left else 'ok'}'>{n - len(left)}/{n} stages"
                + (f" ({parts} parts)" if parts > n else "")
                + (
                    f"<br><span class='sub'>not finished: {_e(', '.join(left))}</span>"
                    if left
                    else ""
                )
                + "</td>"
            )
        rows.append(
            [
                f"<td>{_e(d['name'])}</td>",
                f"<td>{_e(d['model'])}</td>",
                f"<td>{_e(d['firmware'])}</td>",
                f"<td>{_e(d['part'])}</td>",
                _td(d["clock_ns"]),
                pipe,
                *(_rtl_cell(rtl, util, r) for r in ("LUT", "FF", "DSP")),
                sim,
                yosys,
            ]
        )
    headers = ["design", "model", "firmware", "part", "clock ns", "pipeline", "LUT", "FF", "DSP"]
    return _table(headers + ["Verilator", "yosys"], rows)


FIDELITY_WORDS = {
    "bit_exact_fraction": "bit-exact fraction",
    "argmax_agreement": "argmax agreement",
    "max_abs_diff_lsb": "max |C-sim − Keras| (LSB)",
}


def _fidelity_sentence(data) -> str:
    """One value on every route of every design (bit-exact fraction 1, max difference 0):
    said here, not drawn as a bar chart of equal bars."""
    ran = [d for d in data["designs"] if d["csim"] is not None]
    same = constant_fidelity(ran)
    if not same:
        return ""
    words = ", ".join(f"{FIDELITY_WORDS[k]} {fmt(v)}" for k, v in same.items())
    return f"<p>On every route that ran, in all {len(ran)} C-simulated design(s): {words}.</p>"


def _fidelity_section(data, written, skipped) -> str:
    rows = []
    for d in data["designs"]:
        c = d["csim"]
        if c is None:
            rows.append(
                [
                    f"<td>{_e(d['name'])}</td>",
                    "<td>—</td>",
                    _notrun("not run (no csim_report.json)"),
                ]
                + ["<td>—</td>"] * 9
            )
            continue
        for route in ("predict", "testbench"):
            r = c.get(route)
            if r is None:
                rows.append(
                    [f"<td>{_e(d['name'])}</td>", f"<td>{route}</td>", _notrun("not run")]
                    + ["<td class='missing'>—</td>"] * 9
                )
                continue
            fdl = c.get("first_divergent_layer")
            exact = r.get("bit_exact_fraction")
            rows.append(
                [
                    f"<td>{_e(d['name'])}</td>",
                    f"<td>{route}</td>",
                    _td(r.get("n_jets")),
                    _td(exact, cls="num ok" if exact == 1 else "num bad"),
                    _td(r.get("max_abs_diff_lsb")),
                    _td(r.get("argmax_agreement")),
                    _td(r.get("keras_accuracy")),
                    _td(r.get("csim_accuracy")),
                    _td(r.get("compile_seconds")),
                    _td(r.get("jets_per_second")),
                    _td(r.get("equals_predict")) if route == "testbench" else "<td>—</td>",
                    f"<td>{_e(fdl['layer'] if isinstance(fdl, dict) else fdl)}</td>",
                ]
            )
    if not rows:
        return "<p class='notrun-p'>No csim_report.json: C simulation not run (make hls-csim).</p>"
    return (
        _table(
            [
                "design",
                "route",
                "jets",
                "bit-exact fraction",
                "max |diff| LSB",
                "argmax agreement",
                "Keras accuracy",
                "C-sim accuracy",
                "compile s",
                "jets/s",
                "equals predict",
                "first divergent layer",
            ],
            rows,
        )
        + _fidelity_sentence(data)
        + _figures(written, "fidelity")
        + _skipped(skipped, ["fidelity.png"])
    )


def _synthesis_section(data, written, skipped) -> str:
    timing, resources = [], []
    for d in data["designs"]:
        s = d["synth"]
        name = f"<td>{_e(d['name'])}</td>"
        if s is None:
            status = _notrun("synthesis: " + d["synth_status"])
            timing.append([name, status] + ["<td class='missing'>—</td>"] * 7)
            resources.append([name, status] + ["<td class='missing'>—</td>"] * len(RESOURCES))
            continue
        lat, clk, util = s["latency"], s.get("clock") or {}, d["utilization"]
        est, tgt = clk.get("estimated_ns"), clk.get("target_ns")
        closes = None if est is None or tgt is None else est <= tgt
        cosim = s.get("cosim")
        if cosim is None:
            cos = _notrun("not run")
        else:
            st = cosim.get("status") or "no RTL ran"
            cos = (
                f"<td class='{'ok' if st == 'pass' else 'bad'}'>{_e(st)}"
                + (
                    f" ({fmt(cosim.get('latency_max'))} cycles)"
                    if cosim.get("latency_max") is not None
                    else ""
                )
                + "</td>"
            )
        tool = f"<td>{_e(s.get('tool'))} {_e(s.get('tool_version'))}</td>"
        timing.append(
            [
                name,
                tool,
                f"<td>{_e(s.get('part'))}</td>",
                _td(tgt),
                _td(est, cls="num ok" if closes else ("num bad" if closes is False else None)),
                f"<td class='num'>{fmt(lat.get('best_cycles'))} / "
                f"{fmt(lat.get('worst_cycles'))}</td>",
                f"<td class='num'>{fmt(lat.get('best_ns'))} / " f"{fmt(lat.get('worst_ns'))}</td>",
                f"<td class='num'>{fmt(lat.get('interval_min'))} / "
                f"{fmt(lat.get('interval_max'))}</td>",
                cos,
            ]
        )
        resources.append([name, "<td>HLS estimate</td>"] + [_pct(util, r) for r in RESOURCES])
        vs = s.get("vivado_synth")
        if vs is None:
            resources.append(
                [name, _notrun("Vivado logic synthesis: not run")]
                + ["<td class='missing'>—</td>"] * len(RESOURCES)
            )
        else:
            vutil = utilization(vs, d["capacity"])
            resources.append(
                [
                    name,
                    f"<td>Vivado {_e(vs.get('tool_version'))} logic synthesis"
                    f"<br><span class='sub'>{_e(vs.get('device'))}</span></td>",
                ]
                + [_pct(vutil, r) for r in RESOURCES]
            )
    if not timing:
        return "<p class='notrun-p'>No design found.</p>"
    return (
        "<h3>Latency and timing</h3>"
        + _table(
            [
                "design",
                "tool",
                "part",
                "clock target ns",
                "estimated ns",
                "latency cycles best / worst",
                "latency ns best / worst",
                "II min / max",
                "C/RTL co-simulation",
            ],
            timing,
        )
        + "<h3>Resources (used / available, % of the part)</h3>"
        + _table(["design", "source"] + [RESOURCE_LABELS[r] for r in RESOURCES], resources)
        + _figures(written, "synthesis")
        + _skipped(skipped, ["resources.png", "latency.png"])
    )


def _verdict(v) -> str:
    """A verdict cell: fits or not, the budget it was checked against, each reason labelled."""
    cls = {True: "ok", False: "bad", None: "notrun"}[v["ok"]]
    reasons = "".join(f"<li><b>{_e(k)}</b>: {_e(t)}</li>" for k, t in v["reasons"])
    return (
        f"<td class='{cls} wrap verdict'>{_e(v['head'])}<br><span class='sub'>budget: "
        f"{_e(v['budget'])}</span>"
        + (f"<br><span class='sub'>band: {_e(v['band'])}</span>" if v.get("band") else "")
        + (f"<ul class='reasons'>{reasons}</ul>" if reasons else "")
        + "</td>"
    )


def _band_words(est) -> str:
    """The estimate's error band where estimate.json has one (issue 18), else say it has none."""
    band = est.get("band")
    if not isinstance(band, dict):
        return "no error band in this estimate.json"
    parts = []
    for r in RESOURCES:
        span = band_span(band, r)
        if span is not None:
            parts.append(f"{RESOURCE_LABELS[r]} {fmt(span[0])}–{fmt(span[1])}")
    src = f" ({band['source']})" if band.get("source") else ""
    return f"error band{src}: " + (", ".join(parts) or "no resource in it")


def _estimate_section(data) -> str:
    """Every design's pre-synthesis estimate; beside a synthesis report, the report / estimate
    ratio of each figure. Estimated and synthesised rows are labelled and never merged."""
    rows = []
    for d in data["designs"]:
        name = f"<td>{_e(d['name'])}</td>"
        est = d["estimate"]
        if est is None:
            rows.append(
                [name, _notrun("estimate: not run (make estimate)")]
                + ["<td class='missing'>—</td>"] * (len(RESOURCES) + 4)
            )
            continue
        lat, util = est["latency"], d["estimate_util"]
        region = est.get("largest_region") or {}
        verdict = _verdict(estimate_verdict(est, d.get("budget")))
        rows.append(
            [name, "<td>estimate (pre-synthesis)</td>"]
            + [_pct(util, r, est["resources"][r].get("utilization_high_pct")) for r in RESOURCES]
            + [
                f"<td class='num'>{fmt(lat['interval_max'])} ({fmt(lat['interval_ns'])} ns)"
                "</td>",
                f"<td class='num'>{fmt(lat['worst_cycles'])} ({fmt(lat['worst_ns'])} ns)" "</td>",
                _td(region.get("unrolled_mults")),
                verdict,
            ]
        )
        s = d["synth"]
        if s is not None:
            slat = s["latency"]
            rows.append(
                [name, "<td>synthesised (HLS report)</td>"]
                + [_pct(d["utilization"], r) for r in RESOURCES]
                + [
                    _td(slat.get("interval_max")),
                    _td(slat.get("worst_cycles")),
                    "<td>—</td>",
                    "<td>—</td>",
                ]
            )

            def ratio(a, b):
                return _td(None if a is None or not b else a / b, 3)

            rows.append(
                [name, "<td>ratio synthesised / estimate</td>"]
                + [ratio(d["utilization"][r]["used"], util[r]["used"]) for r in RESOURCES]
                + [
                    ratio(slat.get("interval_max"), lat["interval_max"]),
                    ratio(slat.get("worst_cycles"), lat["worst_cycles"]),
                    "<td>—</td>",
                    "<td>—</td>",
                ]
            )
    if not rows:
        return "<p class='notrun-p'>No design found.</p>"
    bands = "".join(
        f"<li>{_e(d['name'])}: {_e(_band_words(d['estimate']))}</li>"
        for d in data["designs"]
        if d["estimate"]
    )
    return (
        "<p>From hls/estimate.py: counted from the model and the firmware config's folding, "
        "mapped to resources by rules fitted on public HLS reports (docs/hls.md, Calibration, "
        "gives their error on held-out designs per tool). An estimate, not a synthesis "
        f"result. Its error per design:</p><ul>{bands}</ul>"
        + _table(
            ["design", "source"]
            + [RESOURCE_LABELS[r] for r in RESOURCES]
            + ["II cycles", "latency cycles", "largest region (mults)", "verdict"],
            rows,
        )
    )


def _pareto_section(data, points, written, skipped) -> str:
    parts = [_figures(written, "pareto"), _skipped(skipped, ["pareto.png"])]
    if points:
        rows = []
        for p in points:
            ref = p["ref"] if isinstance(p["ref"], dict) else {}
            if p["util_max"] is not None:  # synthesised: the plot's x, and these columns
                util, what, tag = ref.get("utilization"), "synthesis", ""
                binding = f"{p['util_max']:.2f}% ({RESOURCE_LABELS[p['binding']]})"
            elif p["est_util"] is not None:  # the plot places it on the estimate
                util, what, tag = ref.get("estimate_util"), "estimate", " est."
                binding = f"{p['est_util']:.2f}% ({RESOURCE_LABELS[p['est_binding']]}, est.)"
            else:
                util, what, binding, tag = (
                    None,
                    "BOPs (no resources)" if p["bops"] else "none",
                    None,
                    "",
                )

            def pct(r, util=util, tag=tag):
                v = ((util or {}).get(r) or {}).get("pct")
                if v is None:
                    return "<td class='missing'>—</td>"
                return f"<td class='num'>{fmt(v, 3)}%{tag}</td>"

            rows.append(
                [
                    f"<td>{_e(p['source'])}</td>",
                    f"<td>{_e(p['label'])}</td>",
                    f"<td class='num'>{fmt(p['accuracy'])}<br><span class='sub'>"
                    f"{_e(p['accuracy_kind'])}</span></td>",
                    f"<td>{what}</td>" if what != "none" else _notrun("synthesis not run"),
                    f"<td class='num'>{binding}</td>" if binding else "<td class='missing'>—</td>",
                    pct("LUT"),
                    pct("DSP"),
                    _td(p["bops"]),
                    f"<td class='ok'>✓ ({p['pareto']})</td>" if p.get("pareto") else "<td></td>",
                ]
            )
        parts.append(
            _table(
                [
                    "source",
                    "design / point",
                    "accuracy",
                    "resources from",
                    "binding resource",
                    "LUT %",
                    "DSP %",
                    "BOPs",
                    "Pareto front",
                ],
                rows,
            )
        )
    return "\n".join(x for x in parts if x)


def _config_links(p) -> str:
    """The point's label, linked to its model config, and a link to its firmware config (the
    copies in the reports folder); a config that was not there says so."""
    links = p.get("links") or {}

    def link(key, text):
        href = links.get(key)
        if href:
            return f'<a href="{html.escape(href)}">{_e(text)}</a>'
        return f"{_e(text)} <span class='bad'>({_e(p[key])} missing)</span>"

    model = link("config", p["label"]) if p.get("config") else _e(p["label"])
    return f"{model} <span class='sub'>· {link('firmware_config', 'fw')}</span>"


def _search_target(t) -> str:
    if not t:
        return "unknown (the run stopped before writing it)"
    parts = [f"every resource ≤ {t['resources']:.0%} of the part"]
    for key, what in (("latency_ns", "latency"), ("ii_ns", "II")):
        if t.get(key) is not None:
            parts.append(f"estimated {what} ≤ {fmt(t[key])} ns")
    return ", ".join(parts) + ", bit-exact in C simulation"


def _search_best(s) -> str:
    """Per pair-feature mode: the best point within the target (as hls.search.summarise chose
    it), beside the accuracy of its float twin."""
    by_id = {p["id"]: p for p in s["points"]}
    items = []
    for mode, m in sorted(s["modes"].items()):
        what = f"<b>{_e(mode)}</b> ({_e(PAIR_MODES.get(mode, mode))})"
        best = by_id.get(m["best"])
        if best is None:
            items.append(
                f"<li>{what}: <span class='bad'>no point meets the target</span> "
                f"({m.get('done')} of {m.get('points')} points done)</li>"
            )
            continue
        f = figures(best)
        ref = (s.get("float_reference") or {}).get(mode) or {}
        twin = (
            f"; its float twin {ref['accuracy']:.4f} (Δ {f['accuracy'] - ref['accuracy']:+.4f})"
            if is_number(ref.get("accuracy"))
            else (f"; float twin failed: {_e(ref['error'][:160])}" if ref.get("error") else "")
        )
        items.append(
            f"<li>{what}: best point {_config_links(best)}, accuracy {f['accuracy']:.4f} "
            f"(estimated: latency {fmt(f['latency_ns'])} ns, II {fmt(f['ii_ns'])} ns, "
            f"LUT {f['LUT']:,}, DSP {f['DSP']:,}){twin}</li>"
        )
    return f"<ul>{''.join(items)}</ul>"


def _search_rows(s) -> list:
    done = sorted(
        (p for p in s["points"] if figures(p)), key=lambda p: (p["pair_features"], -p["accuracy"])
    )
    rows = []
    for p in done + [p for p in s["points"] if not figures(p)]:
        est, syn = p.get("estimate"), p.get("synth")
        lat, res = (est or {}).get("latency", {}), (est or {}).get("resources", {})
        err = p.get("error") or ""
        status = {"done": "ok", "error": "bad"}.get(p["status"], "notrun")
        csim = p.get("csim") or {}
        if syn is None:
            synth = _notrun(p.get("synthesis") or "not run")
        else:
            u = p["utilization"]
            synth = (
                f"<td class='num'>{fmt((syn.get('latency') or {}).get('worst_cycles'))} cycles"
                f"<br><span class='sub'>LUT {fmt(u['LUT']['pct'], 3)}%, DSP "
                f"{fmt(u['DSP']['pct'], 3)}%</span></td>"
            )
        rows.append(
            [
                f"<td>{_e(p.get('pair_features') or '—')}</td>",
                f"<td class='wrap'>{_config_links(p)}</td>",
                _td(p.get("accuracy")),
                _td(csim.get("bit_exact_fraction")),
                _td(lat.get("worst_ns")),
                _td(lat.get("interval_ns")),
                *(_td((res.get(k) or {}).get("used")) for k in ("LUT", "DSP", "BRAM_18K")),
                *([synth] if s["kind"] == "scan" else []),  # a search synthesises nothing
                "<td class='ok'>yes</td>" if p.get("pareto") else "<td></td>",
                "<td class='ok'>yes</td>" if p.get("meets_target") else "<td></td>",
                f"<td class='{status} wrap'>{_e(p['status'])} ({_e(p.get('stage'))})"
                + (f"<br><span class='sub'>{_e(err)}</span>" if err else "")
                + "</td>",
            ]
        )
    return rows


def _search_section(data, written, skipped) -> str:
    """Scans and searches: one schema (hls/points.py), one section; an interrupted run (its
    points only) and one whose every point failed are flagged."""
    if not data["searches"]:
        return (
            "<p class='notrun-p'>Scan: not run (no build/scan/*/scan.json; make scan). "
            "Design-space search: not run (no build/search/*/search.json; "
            "make scan SPACE=&lt;space&gt;).</p>"
        )
    out = []
    for s in data["searches"]:
        sec = f"{s['kind']}:{s['name']}"
        full = s.get("part_full_reference") or {}
        flags = []
        if s.get("interrupted"):
            flags.append(
                f"interrupted: {len(s['points'])} point(s) kept, no {Path(s['path']).name} "
                "(rerun the same command to finish it)"
            )
        if s["all_failed"]:
            flags.append(f"all {len(s['points'])} points failed: no result")
        what = f"{_e(s.get('model'))} on {_e(s.get('firmware'))}" if s.get("model") else ""
        out += [
            f"<h3>{'Scan' if s['kind'] == 'scan' else 'Search'} {_e(s['name'])} "
            f"<span class='sub'>({_e(s['path'])}"
            + (f": {what}" if what else "")
            + (f", data {_e(s['data_dir'])}" if s.get("data_dir") else "")
            + f"; {s['done']} of {len(s['points'])} points done)</span></h3>",
            "".join(f"<p class='bad'>{_e(f)}</p>" for f in flags),
            f"<p>{_e(s['description'])}</p>" if s.get("description") else "",
            f"<p><b>Target</b>: {_e(_search_target(s['target']))}. Latency, II and resources "
            "are pre-synthesis estimates (hls/estimate.py, make estimate), not synthesis "
            "results."
            + "".join(
                f" Accuracy: {_e(a)}."
                for a in sorted({p["accuracy_from"] for p in s["points"] if p.get("accuracy_from")})
            )
            + "</p>",
            _search_best(s),
            f"<p>part_full float reference (build/models): accuracy {full['accuracy']:.4f}.</p>"
            if is_number(full.get("accuracy"))
            else "",
            _figures(written, sec),
            _skipped(skipped, [x["plot"] for x in skipped if x.get("section") == sec]),
            _table(
                [
                    "pair features",
                    "point (model · firmware config)",
                    "accuracy",
                    "bit-exact",
                    "est. latency ns",
                    "est. II ns",
                    "est. LUT",
                    "est. DSP",
                    "est. BRAM_18K",
                    *(["synthesis"] if s["kind"] == "scan" else []),
                    "Pareto",
                    "meets target",
                    "status (stage), error",
                ],
                _search_rows(s),
            ),
        ]
    return "\n".join(x for x in out if x)


def _layer_estimates(d) -> str:
    """A design's estimate per layer: folding, latency, resources and the largest region."""
    est = d["estimate"]
    region = (est.get("largest_region") or {}).get("layer")
    rows = []
    for layer in est["layers"]:
        res = layer.get("resources") or {}
        mark = " <span class='bad'>(largest region)</span>" if layer["name"] == region else ""
        rows.append(
            [
                f"<td>{_e(layer['name'])}{mark}</td>",
                f"<td>{_e(layer.get('class'))}</td>",
                _td(layer.get("parallel")),
                _td(layer.get("reuse_factor")),
                _td(layer.get("latency_cycles")),
                _td(layer.get("interval_cycles")),
                *(_td(res.get(r)) for r in RESOURCES),
                _td(layer.get("largest_region_mults")),
            ]
        )
    return (
        f"<details><summary>{_e(d['name'])}: estimate per layer ({len(rows)} layers; "
        f"{_e(_band_words(est))})</summary>"
        + _table(
            ["layer", "class", "parallel", "reuse", "latency cycles", "II cycles"]
            + [f"est. {RESOURCE_LABELS[r]}" for r in RESOURCES]
            + ["largest region (mults)"],
            rows,
        )
        + "</details>"
    )


def _side_by_side(d, designs) -> str:
    """An RTL design per layer beside the HLS estimate of the same model (every HLS design of
    it with an estimate.json), each column named by its source; the totals row adds the whole
    design's da4ml cost and yosys' sum, which no layer row splits."""
    layers = (d["rtl"].get("layers") or {}).get("rows")
    if not layers:
        return ""
    hls = [h for h in designs if h["model"] == d["model"] and h["estimate"]]
    est = [{x["name"]: x.get("resources") or {} for x in h["estimate"]["layers"]} for h in hls]
    rows = []
    for layer in layers:
        cells = [f"<td>{_e(layer['name'])}</td>", f"<td>{_e(layer['class'])}</td>"]
        cells.append(_td(layer["da4ml_cost_lut"]))
        for e in est:
            res = e.get(layer["name"]) or {}
            cells += [_td(res.get("LUT")), _td(res.get("DSP"))]
        rows.append(cells)
    rtl = d["rtl"]
    ys = rtl.get("yosys") or {}
    whole = [
        f"whole design: da4ml cost {fmt((rtl.get('da4ml_cost') or {}).get('LUT'))} LUT",
        "yosys "
        + (
            f"{fmt((ys.get('total') or {}).get('LUT'))} LUT"
            + (f" ({len(ys['unfinished'])} stages unfinished)" if ys.get("unfinished") else "")
            if ys
            else "not run"
        ),
    ]
    total = ["<td><b>total</b></td>", f"<td class='wrap'>{_e('; '.join(whole))}</td>"]
    total.append(_td(sum(r["da4ml_cost_lut"] for r in layers)))
    for h in hls:
        res = h["estimate"]["resources"]
        total += [_td(res["LUT"]["used"]), _td(res["DSP"]["used"])]
    rows.append(total)
    headers = ["layer", "class", "da4ml cost LUT (alone)"]
    for h in hls:
        headers += [f"HLS est. LUT ({h['firmware']})", f"HLS est. DSP ({h['firmware']})"]
    note = (
        f"<p class='sub'>da4ml cost: {_e(d['rtl']['layers']['source'])}; HLS estimate: "
        "estimate.json of the same model on the HLS route"
        + ("" if hls else " (none: make estimate MODEL=" + _e(d["model"]) + ")")
        + ". The RTL route's DSP count is 0 (products in LUTs).</p>"
    )
    return (
        f"<details open><summary>{_e(d['name'])}: RTL route per layer beside the HLS estimate"
        f"</summary>{note}" + _table(headers, rows) + "</details>"
    )


def _layers_section(data, written, skipped) -> str:
    estimates = "".join(_layer_estimates(d) for d in data["designs"] if d["estimate"])
    sides = "".join(_side_by_side(d, data["designs"]) for d in data.get("rtl_designs") or [])
    body = (
        (
            "<h3>Estimate per layer (estimate.json: before synthesis)</h3>" + estimates
            if estimates
            else ""
        )
        + ("<h3>Both routes per layer</h3>" + sides if sides else "")
        + _figures(written, "layers")
        + _skipped(skipped, [s["plot"] for s in skipped if s["plot"].startswith("layers_")])
    )
    return (
        body
        or "<p class='notrun-p'>No estimate.json, no module rows (synthesis not run) and no "
        "cost_per_layer in metrics.json.</p>"
    )


def _bench_section(data) -> str:
    if not data["bench"]:
        return "<p class='notrun-p'>Benchmarks: not run (no build/bench/*.json; make bench).</p>"
    out = []
    for b in data["bench"]:
        rows = [[f"<td>{_e(k)}</td>", _td(v)] for k, v in b["flat"][:80]]
        more = len(b["flat"]) - 80
        table = _table(["key", "value"], rows)
        if more > 0:
            table += f"<p class='sub'>… {more} more values in {_e(b['path'])}</p>"
        opened = " open" if len(b["flat"]) <= 25 else ""
        out.append(
            f"<details{opened}><summary>{_e(b['name'])} <span class='sub'>({_e(b['path'])}, "
            f"{len(b['flat'])} values)</span></summary>{table}</details>"
        )
    return "\n".join(out)


def _counts_of_points(data) -> str:
    """Scans and searches in the summary: how many points each finished, and which were
    interrupted or failed in every point (flagged, not counted as results)."""
    out = []
    for kind, word in (("scan", "scan(s)"), ("search", "design-space search(es)")):
        runs = [s for s in data["searches"] if s["kind"] == kind]
        flags = [
            f"{s['name']}: "
            + ("interrupted, " if s.get("interrupted") else "")
            + (
                f"all {len(s['points'])} points failed"
                if s["all_failed"]
                else f"{s['done']} of {len(s['points'])} points done"
            )
            for s in runs
        ]
        bad = any(s["all_failed"] or s.get("interrupted") for s in runs)
        detail = f" ({'; '.join(flags)})" if flags else ""
        cls = ' class="bad"' if bad else ""
        out.append(f"<span{cls}>{len(runs)} {word}{_e(detail)}</span>")
    return "".join(out)


def render_html(data, points, written, skipped, copied, generated, ov) -> str:
    designs = data["designs"]
    n_synth = sum(d["synth"] is not None for d in designs)
    counts = (
        f"<span>{len(designs)} design(s), {sum(d['estimate'] is not None for d in designs)} "
        f"estimated, {sum(d['csim'] is not None for d in designs)} C-simulated, {n_synth} "
        "synthesised</span>"
        + f"<span>{len(data['rtl_designs'])} RTL design(s)</span>"
        + _counts_of_points(data)
        + f"<span>{len(data['models'])} trained model(s)</span>"
        f"<span>{len(data['bench'])} benchmark file(s)</span>"
        f"<span>{len(written)} plot(s)</span>"
    )
    notrun = "".join(f"<li>{html.escape(x)}</li>" for x in data["not_run"])
    warn = "".join(f"<li>{html.escape(x)}</li>" for x in data["warnings"])
    sections = [
        (
            "overview",
            "The designs: latency, LUT and DSP against the budget",
            _overview_section(ov, written, skipped),
        ),
        ("designs", "Designs (build/hls/&lt;model&gt;-&lt;fw&gt;)", _designs_section(data)),
        ("rtl", "RTL route designs (build/rtl/&lt;model&gt;-&lt;fw&gt;)", _rtl_section(data)),
        (
            "estimate",
            "Estimate: resources, II and latency before synthesis",
            _estimate_section(data),
        ),
        (
            "synthesis",
            "Synthesis: latency and resources",
            _synthesis_section(data, written, skipped),
        ),
        ("layers", "Per layer", _layers_section(data, written, skipped)),
        (
            "fidelity",
            "C-simulation fidelity (Keras vs hls4ml, in output LSBs)",
            _fidelity_section(data, written, skipped),
        ),
        ("search", "Scans and design-space searches", _search_section(data, written, skipped)),
        ("pareto", "Accuracy vs resources", _pareto_section(data, points, written, skipped)),
        ("models", "Trained models", _models_section(data, written, skipped, copied)),
        ("bench", "Benchmarks (build/bench)", _bench_section(data)),
    ]
    nav = "".join(
        f'<a href="#{sid}">{title.split(" (")[0].split(":")[0]}</a>' for sid, title, _ in sections
    )
    body = "\n".join(
        f'<section id="{sid}"><h2>{title}</h2>\n{content}\n</section>'
        for sid, title, content in sections
    )
    page = string.Template((TEMPLATES / "page.html").read_text())
    return page.substitute(
        css=(TEMPLATES / "style.css").read_text(),
        build=html.escape(data["build"]),
        generated=generated,
        nav=nav,
        counts=counts,
        not_run=notrun or "<li>everything was run</li>",
        warnings=f'<div class="callout"><b>Warnings</b><ul>{warn}</ul></div>' if warn else "",
        body=body,
    )
