"""Walk a qpart Keras model and trace it, layer by layer, into one alkaid graph (CombLogic).

The graph's inputs are the model's inputs after their FxQuant casts (the testbench casts, as
the HLS route's does), its output the logits. Every layer is traced by hls.rtl.layers.TRACES
(by Keras class); a class without a trace stops with its name.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf
from alkaid.trace import FVArray
from alkaid.trace import trace as alkaid_trace

from hls.layers import UnknownLayerError, rtl_trace
from hls.layers.rtl_ops import inputs as input_ports
from infra.errors import QpartError
from model import layers as L
from model.fixed import Fx

MASK_T = Fx(1, 1, False, "AP_TRN", "AP_WRAP")  # the key padding mask: one bit per particle


class UnsupportedLayer(QpartError, ValueError):
    """A layer (or a use of one) the RTL route cannot trace."""


@dataclass
class Port:
    name: str  # the Keras input's name
    shape: tuple  # one jet's shape
    fx: Fx  # the type on the wire (the input's FxQuant type, or one bit for the mask)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))


@dataclass
class Traced:
    comb: object  # alkaid CombLogic: the whole model, one jet
    ports: list  # [Port] in the model's input order
    out_fx: Fx  # the type of the logits

    def interpret(self, arrays: list[np.ndarray]) -> np.ndarray:
        """The traced graph's own interpreter on a batch of the model's (cast) inputs."""
        return self.comb.predict(flat_inputs(self.ports, arrays))


def _trace_fn(layer):
    """The layer's trace (hls/layers/<layer>/rtl.py, found by its Keras class); Flatten and
    Reshape rewire."""
    if isinstance(layer, (tf.keras.layers.Flatten, tf.keras.layers.Reshape)):
        shape = (-1,) if isinstance(layer, tf.keras.layers.Flatten) else layer.target_shape
        return lambda _layer, x: x.reshape(*shape)
    try:
        fn = rtl_trace(type(layer).__name__, layer.name)
    except UnknownLayerError as err:
        raise UnsupportedLayer(f"RTL route: {err}") from None
    if fn is None:
        raise UnsupportedLayer(
            f"RTL route: layer {layer.name}: {type(layer).__name__} has no trace"
        )
    return fn


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def model_ports(model) -> tuple[list[Port], dict]:
    """The model's inputs as wires: each Keras input feeds one FxQuant (whose type the wire
    carries) or is the mask (one bit)."""
    consumers = {}
    for layer in model.layers:
        if isinstance(layer, tf.keras.layers.InputLayer):
            continue
        for t in _as_list(layer.input):
            consumers.setdefault(t.ref(), []).append(layer)
    ports, skip = [], {}
    for t in model.inputs:
        name = t.name.split(":")[0]
        shape = tuple(int(d) for d in t.shape[1:])
        users = consumers.get(t.ref(), [])
        quants = [u for u in users if isinstance(u, L.FxQuant)]
        if name == "mask":
            ports.append(Port(name, shape, MASK_T))
        elif len(users) == 1 and quants:
            ports.append(Port(name, shape, quants[0].result_t))
            skip[quants[0].name] = name
        else:
            raise UnsupportedLayer(
                f"input {name}: read by {[u.name for u in users]}, not by one FxQuant"
            )
    return ports, skip


def flat_inputs(ports: list[Port], arrays: list[np.ndarray]) -> np.ndarray:
    """(n, sum of port sizes) float64: the model's input arrays, each cast to its wire type."""
    from model.fixed import quantize_np

    cols = []
    for p, a in zip(ports, arrays):
        a = np.asarray(a, np.float64).reshape(len(a), -1)
        cols.append((a > 0).astype(np.float64) if p.fx is MASK_T else quantize_np(a, p.fx))
    return np.concatenate(cols, axis=1)


def trace_layer(layer, args: list[FVArray]) -> FVArray:
    return _trace_fn(layer)(layer, *args)


def trace_model(model) -> Traced:
    """The whole model as one graph (inputs: the ports in order; output: the logits)."""
    ports, skip = model_ports(model)
    values = {}
    port_arrays = []
    for t, p in zip(model.inputs, ports):
        arr = input_ports(p.shape, p.fx)
        port_arrays.append(arr)
        values[t.ref()] = arr
    out_fx = None
    for layer in model.layers:
        if isinstance(layer, tf.keras.layers.InputLayer):
            continue
        fn = _trace_fn(layer)
        if layer.name in skip:  # the cast is the wire's type
            values[layer.output.ref()] = values[layer.input.ref()]
            continue
        args = [values[t.ref()] for t in _as_list(layer.input)]
        values[layer.output.ref()] = fn(layer, *args)
        out_fx = getattr(layer, "result_t", out_fx)
    out = values[model.outputs[0].ref()]
    flat_in = np.concatenate([np.asarray(a).ravel() for a in port_arrays])
    comb = alkaid_trace(flat_in, np.asarray(out).ravel(), keep_dead_inputs=True)
    return Traced(comb, ports, out_fx)


def _wire_fx(model, tensor, ports, skip) -> Fx:
    """The type a tensor of the model carries on its wires."""
    by_input = {t.ref(): p for t, p in zip(model.inputs, ports)}
    if tensor.ref() in by_input:
        return by_input[tensor.ref()].fx
    layer = tensor._keras_history.layer
    if layer.name in skip:
        return layer.result_t
    fx = getattr(layer, "result_t", None)
    if fx is None:
        raise UnsupportedLayer(f"layer {layer.name}: its output has no result_t to trace from")
    return fx


def trace_each_layer(model):
    """Every layer traced alone, its inputs typed as the wires that feed it:
    yields (layer, CombLogic, input tensors)."""
    ports, skip = model_ports(model)
    for layer in model.layers:
        if isinstance(layer, tf.keras.layers.InputLayer) or layer.name in skip:
            continue
        fn = _trace_fn(layer)
        tensors = _as_list(layer.input)
        args = [
            input_ports(tuple(int(d) for d in t.shape[1:]), _wire_fx(model, t, ports, skip))
            for t in tensors
        ]
        out = fn(layer, *args)
        flat_in = np.concatenate([np.asarray(a).ravel() for a in args])
        yield layer, alkaid_trace(flat_in, np.asarray(out).ravel(), keep_dead_inputs=True), tensors


ALONE = "da4ml cost, the layer traced alone (inputs at their declared types)"


def layer_costs(model) -> list[dict]:
    """Per layer, in graph order: alkaid's LUT cost and combinational depth of the layer
    traced alone (ALONE). Its inputs carry their declared types, not the narrower ranges the
    whole trace propagates, so the sum runs above the whole design's cost (measured: 2-17%)."""
    out = []
    for layer, comb, _ in trace_each_layer(model):
        if isinstance(layer, (tf.keras.layers.Flatten, tf.keras.layers.Reshape)):
            continue  # wiring
        out.append(
            {
                "name": layer.name,
                "class": type(layer).__name__,
                "da4ml_cost_lut": round(comb.cost),
                "depth": round(float(comb.latency[1]), 3),
                "widest_bits": widest(comb),
            }
        )
    return out


def widest(comb) -> int:
    """The widest wire of a traced graph (sign, integer and fractional bits of its values)."""
    return max((sum(op.qint.kif) for op in comb.ops), default=0)


def check_widths(layers: list[dict], max_bits: int, where: str) -> None:
    """Refuses a trace with a wire wider than `max_bits` (rtl.max_bits), naming the layer."""
    over = [x for x in layers if x["widest_bits"] > max_bits]
    if over:
        x = max(over, key=lambda r: r["widest_bits"])
        raise UnsupportedLayer(
            f"layer {x['name']} ({x['class']}): a {x['widest_bits']}-bit wire, above "
            f"{where} rtl.max_bits = {max_bits}"
            + (f" (and {len(over) - 1} more layer(s))" if len(over) > 1 else "")
            + "; narrow its types (quantization or precision keys)"
        )


def layer_mismatches(model, arrays: list[np.ndarray]) -> dict:
    """Per layer, on a batch of model inputs: how many output words of the traced layer (its
    own interpreter, fed the Keras values of its inputs) differ from the Keras layer's."""
    ports, skip = model_ports(model)
    wanted = [layer for layer in model.layers if not isinstance(layer, tf.keras.layers.InputLayer)]
    probe = tf.keras.Model(model.inputs, [layer.output for layer in wanted])
    got = dict(zip([layer.name for layer in wanted], probe.predict(arrays, verbose=0)))
    by_input = {t.ref(): flat_inputs([p], [a]) for t, p, a in zip(model.inputs, ports, arrays)}
    result = {}
    for layer, comb, tensors in trace_each_layer(model):
        cols = []
        for t in tensors:
            if t.ref() in by_input:
                cols.append(by_input[t.ref()])
            else:
                producer = t._keras_history.layer.name
                cols.append(np.asarray(got[producer]).reshape(len(arrays[0]), -1))
        ref = np.asarray(got[layer.name], np.float64).reshape(len(arrays[0]), -1)
        out = comb.predict(np.concatenate(cols, axis=1).astype(np.float64))
        result[layer.name] = {"differ": int(np.sum(out != ref)), "words": int(ref.size)}
    return result
