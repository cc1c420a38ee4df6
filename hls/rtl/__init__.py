"""The RTL route: a trained fixed-point model traced into one adder graph (alkaid), written as
pipelined Verilog, simulated bit for bit in Verilator and synthesized with yosys."""
