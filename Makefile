# Set-up is two commands: `make run` (dashboard on a demo data set) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt | cksum | cut -d' ' -f1)
PORT ?= 8501

.PHONY: run test lint venv

venv: $(STAMP)

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: venv
	$(BIN)/python -m analytics demo
	$(BIN)/python serve.py --server.port $(PORT)

test: venv
	$(BIN)/python -m pytest

lint: venv
	$(BIN)/ruff check analytics pages ui tests app.py

# Benchmarks (BENCHMARKS.md): `make bench` runs 100k, 1M and 10M orders; `make bench SIZE=100000` one size.
.PHONY: bench
bench: venv
	$(BIN)/python -m bench $(if $(SIZE),--sizes $(SIZE)) $(if $(RUNS),--runs $(RUNS))

# Spark against the local engine on the same Parquet (BENCHMARKS.md's Spark section, DISTRIBUTED.md):
# `make bench-spark` writes 10M orders as Parquet in chunks and runs both; ORDERS= for another size.
.PHONY: bench-spark
bench-spark: venv
	$(BIN)/python -m bench.spark $(if $(ORDERS),--orders $(ORDERS))

# The what-if engine against known truth (VALIDATION.md): `make validate`; ORDERS=, SEEDS= for a smaller run.
.PHONY: validate
validate: venv
	$(BIN)/python -m validate $(if $(ORDERS),--orders $(ORDERS)) $(if $(SEEDS),--seeds $(SEEDS))
