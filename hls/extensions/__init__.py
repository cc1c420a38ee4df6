"""hls4ml extensions for qpart's custom Keras layers (model/layers.py), one module per layer.

`register()` wires each of them into hls4ml once: the Keras-v2 parser, the hls4ml layer, the
config and function-call templates and the C++ headers (hls/nnet_utils/) for the Vivado and
Vitis backends, and the optimizer passes. `import hls` calls it.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

NNET_UTILS = Path(__file__).resolve().parent.parent / "nnet_utils"
BACKENDS = ("Vivado", "Vitis")

_registered = False


def extensions():
    """Every extension of this package's modules (each an EXTENSION or EXTENSIONS), found by
    name: a new layer's extension module is picked up without a list to edit. Modules run in
    PASS_ORDER (default 0), then by name: the clone pass (1) runs after the input-cast fold."""
    mods = [
        importlib.import_module(f"{__name__}.{info.name}")
        for info in pkgutil.iter_modules(__path__)
        if info.name != "common"
    ]
    mods.sort(key=lambda m: (getattr(m, "PASS_ORDER", 0), m.__name__))
    return [e for m in mods for e in getattr(m, "EXTENSIONS", [getattr(m, "EXTENSION", None)]) if e]


def register():
    """Idempotent: registers what is not registered yet."""
    global _registered
    if _registered:
        return
    import hls4ml
    from hls4ml.converters.keras_v2_to_hls import get_layer_handlers
    from hls4ml.model.flow import get_flow
    from hls4ml.model.optimizer import get_available_passes

    exts = extensions()
    for ext in exts:
        if ext.keras_class is not None and ext.keras_class not in get_layer_handlers():
            hls4ml.converters.register_keras_v2_layer_handler(ext.keras_class, ext.parser)
        hls4ml.model.layers.register_layer(ext.layer_name, ext.layer_cls)

    available = set(get_available_passes())
    for backend_name in BACKENDS:
        backend = hls4ml.backends.get_backend(backend_name)
        prefix = backend_name.lower() + ":"
        for ext in exts:
            for template in ext.templates:
                if prefix + template().get_name() not in available:
                    backend.register_template(template)
        for header in sorted(NNET_UTILS.glob("*.h")):
            backend.register_source(header)
    # Passes once, on Vivado's optimize flow: the Vitis flow runs it too.
    vivado = hls4ml.backends.get_backend("Vivado")
    for ext in exts:
        for name, cls, flow in ext.passes:
            if "vivado:" + name not in available:
                vivado.register_pass(name, cls, flow=get_flow("vivado:" + flow).name)
    _registered = True
