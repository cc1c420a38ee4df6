"""FxDense:
hardware.py (cost, folding), extension.py (hls4ml); C++ in hls/nnet_utils/nnet_qpart_dense.h."""
