# The two commands of the README: `make run` and `make test`. Both set up .venv themselves.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test unit integration e2e toolchains bench layers clean lock lint audit check-package

# Exactly the locked set (every file checked against the lock's hashes; pip itself is in the lock),
# then the project itself, editable, adding nothing: its dependencies are all in the lock.
$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

# Recompile the hash-locked files from their inputs (README, "Dependencies"): requirements.in ->
# requirements.txt (what `chalice package` vendors), requirements-dev.in -> requirements-dev.txt
# (constrained by the runtime lock), requirements-infra.in -> requirements-infra.txt. Existing pins are
# kept; `make lock LOCK_FLAGS=--upgrade` (or `--upgrade-package NAME`) moves them. Against PyPI alone
# (no pip.conf mirrors or find-links), so the hashes are those of PyPI's files.
PIP_COMPILE = PIP_CONFIG_FILE=/dev/null PIP_FIND_LINKS= $(VENV)/bin/pip-compile --quiet --generate-hashes \
	--allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links $(LOCK_FLAGS)
lock: install
	$(PIP_COMPILE) --output-file requirements.txt requirements.in
	$(PIP_COMPILE) --output-file requirements-dev.txt requirements-dev.in
	$(PIP_COMPILE) --output-file requirements-infra.txt requirements-infra.in

# The code checks: ruff (pyproject's [tool.ruff]), mypy (strict on chalicelib/domain and
# chalicelib/services, plain elsewhere: [tool.mypy]). `make audit`: the known-vulnerability audit of the locks.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# pip-audit against PyPI's advisory data (https://pypi.org/pypi/<name>/<version>/json). --strict: a
# package it cannot look up fails the audit instead of passing unaudited. Ignored advisories, each with
# its reason, go in AUDIT_IGNORE as `--ignore-vuln ID` (none today).
AUDIT_IGNORE :=
audit: install
	$(VENV)/bin/pip-audit --strict --progress-spinner off --disable-pip --require-hashes $(AUDIT_IGNORE) \
		-r requirements-dev.txt -r requirements-infra.txt

# What `pip install .` gives a user: the wheel, in a venv of its own, with the dependencies it declares.
check-package: install
	rm -rf build/check-package
	$(PY) -m pip wheel --quiet --disable-pip-version-check --no-deps --no-build-isolation \
		--wheel-dir build/check-package/dist .
	$(PYTHON) -m venv build/check-package/venv
	build/check-package/venv/bin/python -m pip install --quiet --disable-pip-version-check build/check-package/dist/*.whl
	build/check-package/venv/bin/spoke --help > /dev/null
	build/check-package/venv/bin/spoke breaking --help > /dev/null
	build/check-package/venv/bin/spoke-admin --help > /dev/null
	@echo "check-package: spoke, spoke breaking and spoke-admin run from a plain 'pip install .'"

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

# The web UI in a real browser (tests/browser): Playwright for Python drives Debian's chromium (installed
# with apt-get, as root, when /usr/bin/chromium is missing; Playwright downloads no browser) against a
# stack of its own. Screenshots of every page at desktop and phone width land in build/screenshots/.
.PHONY: browser
browser: install
	$(PY) -m pytest tests/browser

# Each language's generated code built with its own toolchain (tests/toolchains): installs Debian's
# compilers and runtimes first (apt-get, as root; a no-op once installed), then one local registry.
toolchains: install
	bash tests/toolchains/install_toolchains.sh
	$(PY) -m pytest tests/toolchains

# schemathesis against the stack `make run` starts (tests/fuzz): every operation of /openapi.json, a
# bounded number of examples each, then the document's links; no 5xx, no undocumented status or body.
# Minutes, so not in `make test`. SPOKE_FUZZ_EXAMPLES, SPOKE_FUZZ_SECONDS and SPOKE_FUZZ_SEED tune it;
# the JUnit report lands in build/fuzz-api/.
.PHONY: fuzz-api
fuzz-api: install
	$(PY) -m pytest tests/fuzz

# The generative differential test against the pinned buf, long (`make test` runs 30 fixed seeds of it):
# random valid schemas and mutations, `make fuzz-breaking SEEDS=2000 START=0 JOBS=2`. Every difference is
# kept as a corpus-shaped case (old/, new/, buf.yaml) under build/fuzz-breaking/ and minimised; exit 1 if any.
SEEDS ?= 500
START ?= 0
JOBS ?= 2
.PHONY: fuzz-breaking
fuzz-breaking: install
	$(PY) -m tests.unit.breaking.generative --start $(START) --seeds $(SEEDS) --jobs $(JOBS) --shrink

bench: install
	$(PY) bench/api_costs.py
	$(PY) bench/package_sizes.py
	$(PY) bench/compile_bench.py
	$(PY) bench/breaking_bench.py
	$(PY) bench/lint_bench.py

# The Lambda layers infra/template.yaml points at (build/layers/*.zip; `aws cloudformation package`
# uploads them): protoc for the API and the compile function, grpcio-tools for the compile function only.
layers: install
	$(PY) layers/protoc/build.py --out build/layers/protoc.zip --verify
	$(PY) layers/grpc_tools/build.py --out build/layers/grpc_tools.zip --verify

# Deployment (README, "Deploy"). `make package STAGE=prod` makes no AWS call: build/package/prod/sam.json
# is the stage's template (the Stage parameter pinned to it) with Chalice's deployment.zip.
# `make deploy STAGE=prod ARTIFACTS_BUCKET=...` also builds the layers, uploads and deploys the stack
# (infra/deploy.sh lists its variables). Never run by the tests.
STAGE ?= dev
INFRA_VENV := .venv-infra
INFRA_STAMP := $(INFRA_VENV)/.installed

.PHONY: package deploy lint-infra

package: install
	$(PY) -m infra.package --stage $(STAGE) --out build/package/$(STAGE)

deploy: package layers
	STAGE=$(STAGE) infra/deploy.sh build/package/$(STAGE)

# cfn-lint and checkov on both stages' packaged templates (no dependencies vendored: the template does
# not depend on them). Their own venv, from requirements-infra.txt: their pins never meet the app's.
$(INFRA_STAMP): requirements-infra.txt
	test -x $(INFRA_VENV)/bin/python || $(PYTHON) -m venv $(INFRA_VENV)
	$(INFRA_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-infra.txt
	touch $(INFRA_STAMP)

lint-infra: install $(INFRA_STAMP)
	$(PY) -m infra.package --stage dev --out build/lint/dev --no-dependencies
	$(PY) -m infra.package --stage prod --out build/lint/prod --no-dependencies
	$(INFRA_VENV)/bin/cfn-lint build/lint/dev/sam.json build/lint/prod/sam.json
	$(INFRA_VENV)/bin/checkov --config-file infra/checkov.yaml -f build/lint/dev/sam.json -f build/lint/prod/sam.json

clean:
	rm -rf $(VENV) .pytest_cache
