"""QpartClone: one copy of an array per reader, so that every array in the DATAFLOW region has
one writer and one reader.

The top function is a DATAFLOW region (hls/convert.py); an array read by two processes (a
residual branch, the mask read by every attention layer) breaks the single-producer /
single-consumer rule, and the HLS tool may then run the processes one after the other. hls4ml
inserts clones for io_stream only (backends/fpga/passes/clone.py); this pass does the same for
io_parallel arrays, after the input casts are folded. C++: nnet::qpart::clone
(hls/nnet_utils/nnet_qpart_dense.h), a copy: registers, no arithmetic. hls/graph.py plans the
same clones for the estimate, from hls/layers/clone/hardware.py.
"""

from __future__ import annotations

import math

from hls4ml.model.layers import Layer
from hls4ml.model.optimizer import OptimizerPass

from hls.layers.clone.hardware import MAX_COPIES  # hls/graph.py's clone plan reads it too
from hls.layers.extension import Extension, QpartConfigTemplate, QpartFunctionTemplate


class QpartClone(Layer):
    def initialize(self):
        inp = self.get_input_variable()
        for i, out_name in enumerate(self.outputs):
            self.add_output_variable(
                inp.shape,
                out_name=out_name,
                var_name="layer{index}_cpy" + str(i + 1),
                precision=inp.type.precision,
            )


def readers(node, output) -> int:
    """How many layers (and model outputs) read `output` of `node`."""
    return len(node.get_output_use_map()[output]) + (output in node.model.outputs)


class CloneParallel(OptimizerPass):
    """Insert a QpartClone after every io_parallel array read more than once."""

    def match(self, node):
        if node.model.config.get_config_value("IOType") != "io_parallel":
            return False
        return any(readers(node, out) > 1 for out in node.outputs)

    def transform(self, model, node):
        """Up to MAX_COPIES copies; with more readers the last copy is shared by the rest and
        cloned again (the pass matches clones too)."""
        use = node.get_output_use_map()
        for output in node.outputs:
            n = readers(node, output)
            if n < 2:
                continue
            n = min(n, MAX_COPIES)
            first = 1
            if output in model.outputs:
                model.outputs[model.outputs.index(output)] = f"{output}_cpy1"
                first = 2
            for i, layer in enumerate(use[output], first):
                layer.inputs[layer.inputs.index(output)] = f"{output}_cpy{min(i, n)}"
            clone = model.make_node(
                QpartClone,
                f"clone_{node.name}",
                {"size": math.prod(node.get_output_variable(output).shape)},
                [output],
                [f"{output}_cpy{i + 1}" for i in range(n)],
            )
            for i in range(n):
                clone.attributes[f"{output}_cpy{i + 1}"].type = node.get_output_variable(
                    output
                ).type
            model.insert_node(clone)
        return True


class CloneConfigTemplate(QpartConfigTemplate):
    layer_cls = QpartClone

    def format(self, node):
        params = self._default_config_params(node)
        return (
            f"struct config{params['index']} : nnet::qpart::clone_config {{\n"
            f"    static const unsigned n_elem = {node.get_attr('size')};\n"
            "};\n"
        )


class CloneFunctionTemplate(QpartFunctionTemplate):
    layer_cls = QpartClone
    headers = ("nnet_qpart_dense.h",)

    def format(self, node):
        params = self._default_function_params(node)
        outs = ", ".join(node.variables[o].name for o in node.outputs)
        return (
            f"nnet::qpart::clone<{params['input_t']}, {params['config']}>({params['input']}, "
            f"{outs});"
        )


PASS_ORDER = 1  # after quant's input-cast fold: the clones copy the folded arrays
EXTENSION = Extension(
    keras_class=None,
    parser=None,
    layer_name="QpartClone",
    layer_cls=QpartClone,
    templates=[CloneConfigTemplate, CloneFunctionTemplate],
    passes=[("qpart_clone_parallel", CloneParallel, "optimize")],
)
