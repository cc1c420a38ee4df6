"""The RTL route: a trained fixed-point model traced into one adder graph (alkaid), written as
pipelined Verilog, simulated bit for bit in Verilator and synthesized with yosys."""

REPORT = "rtl_report.json"  # make rtl / rtl-synth: latency, resources (labelled by source), fit
SIM_REPORT = "rtlsim_report.json"  # make rtl-sim: Verilator against Keras (csim_report's schema)
