# Two commands for a fresh machine: `make report` builds the example site into
# output/, `make test` runs the checks. Each creates .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: report test golden lint clean

$(BIN)/reportgen: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

report: $(BIN)/reportgen
	$(BIN)/reportgen build

test: $(BIN)/reportgen
	$(BIN)/python -m pytest -q
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/ruff check reportgen tests probes examples

# Rewrite the golden files under tests/golden/ from the example report and the
# four-env fixture, and the expected messages under tests/fixtures/.
golden: $(BIN)/reportgen
	$(BIN)/python -m tests.golden

lint: $(BIN)/reportgen
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/ruff check reportgen tests probes examples

clean:
	rm -rf output .output.prev .output.cache $(VENV)
