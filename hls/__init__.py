"""qpart hls package: hls4ml integration of the quantized ParT (custom layers, conversion,
estimate, C simulation, synthesis reports, dashboard).

Importing it is light: the qpart layers are registered with hls4ml where conversion happens
(hls/convert.py), so the report parser and the dashboard import without hls4ml or TensorFlow.
"""
