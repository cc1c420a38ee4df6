# qpart: quantized Particle Transformer -> hls4ml firmware. Every target installs what it needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

DATA_DIR ?= build/data
JETS_PER_CLASS ?= 1000
CLASSES ?= all
SEED ?= 42
WORKERS ?= 2
MODEL ?= part_tiny
QUANT ?=
EPOCHS ?=
FW ?= vu13p
N_JETS ?= 1000
FORCE ?= 0
VSYNTH ?= 0
COSIM ?= 0

export PYTHONHASHSEED := 0
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: setup data train hls-csim synth report test lint bench demo clean

$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -c requirements.lock -e '.[dev]'
	touch $@

setup: $(VENV)/.installed

data: setup
	$(PY) -m data.generate --out $(DATA_DIR) --jets-per-class $(JETS_PER_CLASS) \
		--classes $(CLASSES) --seed $(SEED) --workers $(WORKERS)

train: setup
	$(PY) -m model.train --model $(MODEL) --data-dir $(DATA_DIR) \
		$(if $(QUANT),--quant $(QUANT)) $(if $(EPOCHS),--epochs $(EPOCHS))

hls-csim: setup
	$(PY) -m hls.csim --model $(MODEL) --fw $(FW) --data-dir $(DATA_DIR) --n-jets $(N_JETS) \
		--force $(FORCE)

synth: setup
	$(PY) -m hls.synth --model $(MODEL) --fw $(FW) --vsynth $(VSYNTH) --cosim $(COSIM)

report: setup
	$(PY) -m hls.dashboard --build build --out build/reports

test: setup
	$(PY) -m pytest -q tests

lint: setup
	$(VENV)/bin/ruff check data model hls bench tests

bench: setup
	$(PY) -m bench.data_bench --data-dir $(DATA_DIR) --out build/bench/data.json
	$(PY) -m bench.train_bench --data-dir $(DATA_DIR) --out build/bench/train.json
	$(PY) -m bench.csim_bench --data-dir $(DATA_DIR) --models-root build/bench/models \
		--out build/bench/csim.json

demo: data
	$(MAKE) train
	$(MAKE) hls-csim
	$(MAKE) report

clean:
	rm -rf build
