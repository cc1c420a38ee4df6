# qpart: quantized Particle Transformer -> hls4ml firmware. Every target installs what it needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

DATA_DIR ?= build/data
JETS_PER_CLASS ?= 1000
CLASSES ?= all
SEED ?= 42
SPLIT ?= 0.8,0.1,0.1
DETECTOR ?= cms
WORKERS ?= 2
MODEL ?= part_tiny
QUANT ?=
EPOCHS ?=
FW ?= vu13p
N_JETS ?= 1000
FORCE ?= 0
VSYNTH ?= 0
UNTRAINED ?= 0
COSIM ?= 0
SPACE ?=
DASK_SCHEDULER ?= local
DASK_WORKERS ?=
STRATEGY ?= default
SHARDS ?=
# make rtl FW=x takes x; without FW the RTL targets use the RTL route's own config
RTL_FW ?= $(if $(filter command line environment,$(origin FW)),$(FW),vu13p_rtl)
WEIGHTS ?= if-trained
SYNTH_TIMEOUT ?=
WHOLE_STAGES ?= 0
SYNTH_BUDGET ?=

export PYTHONHASHSEED := 0
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: setup browser rtl-tools data shards train estimate hls-csim synth scan rtl rtl-sim rtl-synth \
	report test lint bench demo clean

# TensorFlow's build: cpu (tensorflow-cpu) or, with GPU=1, the CUDA build and its libraries
# (requirements.lock pins both); a .venv set up with GPU=1 stays so until GPU=0 is asked for.
GPU ?= $(if $(wildcard $(VENV)/.installed-gpu),1,0)
TF_BUILD := $(if $(filter 1,$(GPU)),gpu,cpu)
TF_OTHER := $(if $(filter 1,$(GPU)),tensorflow-cpu,tensorflow)

# An existing .venv keeps the interpreter it was made with: a later update (pyproject.toml or
# requirements.lock changed) reinstalls into it, never re-creates it with whatever python3 the
# caller's PATH finds first (another Python's `venv` over it breaks its standard library).
$(VENV)/.installed-$(TF_BUILD): pyproject.toml requirements.lock
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	@# the two builds share the tensorflow/ package: remove the other before installing this one
	$(VENV)/bin/pip uninstall -q -y $(TF_OTHER) 2>/dev/null || true
	$(VENV)/bin/pip install -q -c requirements.lock -e '.[dev,$(TF_BUILD)]'
	rm -f $(VENV)/.installed-* && touch $@

setup: $(VENV)/.installed-$(TF_BUILD)

# The dashboard test renders the report page in headless Chromium (Debian's package).
browser:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
	  { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	      apt-get update -qq && apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; \
	    else echo "make test needs chromium (apt-get install chromium) for the dashboard check" >&2; exit 1; fi; }

# The RTL route's simulator and synthesizer (Debian's verilator and yosys), installed as root
# where missing; otherwise make rtl-sim / rtl-synth say which tool is missing (exit 3).
rtl-tools:
	@command -v verilator >/dev/null && command -v yosys >/dev/null || \
	  { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	      apt-get update -qq && apt-get install -y -qq verilator yosys >/dev/null; \
	    else echo "make test needs verilator and yosys (apt-get install verilator yosys) for the RTL route" >&2; exit 1; fi; }

data: setup
	$(PY) -m data.generate --out $(DATA_DIR) --jets-per-class $(JETS_PER_CLASS) \
		--classes $(CLASSES) --seed $(SEED) --split $(SPLIT) --workers $(WORKERS) \
		--detector $(DETECTOR)

# The training split as TFRecord shards for MODEL's inputs (build/shards/<features>-n<N>-<pairs>);
# make train SHARDS=<that dir> streams them.
shards: setup
	$(PY) -m model.shards --model $(MODEL) --data-dir $(DATA_DIR) --workers $(WORKERS)

train: setup
	$(PY) -m model.train --model $(MODEL) --data-dir $(DATA_DIR) \
		$(if $(QUANT),--quant $(QUANT)) $(if $(EPOCHS),--epochs $(EPOCHS)) --strategy $(STRATEGY) \
		$(if $(SHARDS),--shards $(SHARDS))

# Resources, II and latency before synthesis (build/hls/<model>-<fw>/estimate.json); exits 1
# when the design does not fit the part. UNTRAINED=1 counts from the config alone.
estimate: setup
	$(PY) -m hls.cli estimate --model $(MODEL) --fw $(FW) $(if $(filter 1,$(UNTRAINED)),--untrained) \
		--force $(FORCE)

hls-csim: setup
	$(PY) -m hls.cli hls-csim --model $(MODEL) --fw $(FW) --data-dir $(DATA_DIR) --n-jets $(N_JETS) \
		--force $(FORCE)

synth: setup
	$(PY) -m hls.cli synth --model $(MODEL) --fw $(FW) --vsynth $(VSYNTH) --cosim $(COSIM) \
		--force $(FORCE) --scheduler $(DASK_SCHEDULER) $(if $(DASK_WORKERS),--workers $(DASK_WORKERS))

scan: setup
	$(PY) -m hls.cli scan --model $(MODEL) --fw $(FW) --data-dir $(DATA_DIR) $(if $(SPACE),--space $(SPACE)) \
		--scheduler $(DASK_SCHEDULER) $(if $(DASK_WORKERS),--workers $(DASK_WORKERS))

# The RTL route (hls/rtl): FW=<a route: rtl firmware config>, default vu13p_rtl.
# build/rtl/<model>-<fw>/: Verilog, Vivado project script, rtl_report.json, rtlsim_report.json
rtl: setup
	$(PY) -m hls.cli rtl --model $(MODEL) --fw $(RTL_FW) --weights $(WEIGHTS) --force $(FORCE)

rtl-sim: setup
	$(PY) -m hls.cli rtl-sim --model $(MODEL) --fw $(RTL_FW) --weights $(WEIGHTS) \
		--data-dir $(DATA_DIR) --n-jets $(N_JETS)

rtl-synth: setup
	$(PY) -m hls.cli rtl-synth --model $(MODEL) --fw $(RTL_FW) --weights $(WEIGHTS) \
		$(if $(SYNTH_TIMEOUT),--timeout $(SYNTH_TIMEOUT)) --whole-stages $(WHOLE_STAGES) \
		$(if $(SYNTH_BUDGET),--budget $(SYNTH_BUDGET))

report: setup
	$(PY) -m hls.report --build build --out build/reports

test: setup browser rtl-tools
	$(PY) -m pytest -q --durations=15 tests

# Python: ruff (E, F, I, W) and ruff format; the HLS headers: clang-format (.clang-format).
lint: setup
	$(VENV)/bin/ruff check infra data model hls bench tests
	$(VENV)/bin/ruff format --check infra data model hls bench tests
	$(VENV)/bin/clang-format --dry-run --Werror --style=file hls/nnet_utils/*.h

bench: setup
	$(PY) -m bench.data_bench --data-dir $(DATA_DIR) --out build/bench/data.json
	$(PY) -m bench.detector_bench --out build/bench/detector.json --plots build/bench/detector
	$(PY) -m bench.detector_train_bench --out build/bench/detector_train.json
	$(PY) -m bench.pipeline_bench --data-dir $(DATA_DIR) --out build/bench/pipeline.json
	$(PY) -m bench.train_bench --data-dir $(DATA_DIR) --out build/bench/train.json
	$(PY) -m bench.csim_bench --data-dir $(DATA_DIR) --models-root build/bench/models \
		--out build/bench/csim.json

demo: data
	$(MAKE) train
	$(MAKE) hls-csim
	$(MAKE) report

clean:
	rm -rf build
