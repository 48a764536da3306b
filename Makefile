# The two commands of the README: `make run` and `make test`. Both set up .venv themselves.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test unit integration e2e bench layers clean

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -e .
	touch $(STAMP)

install: $(STAMP)

# `make run VERBOSE=1` also prints the embedded AWS's access log (a line per AWS call).
run: install
	$(PY) -m localdev.run $(if $(filter 1 true yes,$(VERBOSE)),--verbose)

# Each layer in a process of its own: the end-to-end session's stack (and whatever it holds) is gone
# before the in-process suites start, and a failure names its layer. All three run even if one fails.
test: install
	status=0; \
	$(PY) -m pytest tests/unit || status=1; \
	$(PY) -m pytest tests/integration || status=1; \
	$(PY) -m pytest tests/e2e || status=1; \
	exit $$status

unit: install
	$(PY) -m pytest tests/unit

integration: install
	$(PY) -m pytest tests/integration

e2e: install
	$(PY) -m pytest tests/e2e

bench: install
	$(PY) bench/api_costs.py
	$(PY) bench/package_sizes.py
	$(PY) bench/compile_bench.py
	$(PY) bench/breaking_bench.py

# The Lambda layers infra/template.yaml points at (build/layers/*.zip; `aws cloudformation package`
# uploads them): protoc for the API and the compile function, grpcio-tools for the compile function only.
layers: install
	$(PY) layers/protoc/build.py --out build/layers/protoc.zip --verify
	$(PY) layers/grpc_tools/build.py --out build/layers/grpc_tools.zip --verify

clean:
	rm -rf $(VENV) .pytest_cache
