"""FxSumPool:
hardware.py (cost, folding), extension.py (hls4ml), rtl.py (RTL trace);
C++ in hls/nnet_utils/nnet_qpart_dense.h."""
