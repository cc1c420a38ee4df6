"""qpart hls package: hls4ml integration of the quantized ParT (custom layers, conversion,
synthesis reports).

Importing it registers the qpart layers with hls4ml (hls/extensions), once.
"""

from hls.extensions import register as _register

_register()
