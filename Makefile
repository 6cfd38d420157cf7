# Alertmanager++ front door. `make run` and `make test` are the two commands; each sets up what
# it needs first (a virtualenv in .venv, Debian packages for the reference and services).

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 9093

.PHONY: crds kind image k8s-bin run test unit integration browser conformance e2e bench setup bytecode deps check clean dev-cluster

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,operator]'
	touch $(STAMP)

setup: $(STAMP)

# The engine's own modules compiled ahead: with PYTHONDONTWRITEBYTECODE set (as on CI machines)
# Python would otherwise compile them on every start, a tenth of `ampp serve`'s start-up.
# Only changed files are recompiled.
bytecode: $(STAMP)
	$(PY) -m compileall -q engine operator > /dev/null

# Debian packages the tests need: the reference Alertmanager and amtool, Go 1.19 for its
# acceptance suite, PostgreSQL and Redis servers, Chromium for the dashboard's browser tests,
# buildah and mmdebstrap for the container image.
deps:
	scripts/install-deps.sh

run: bytecode
	mkdir -p data
	$(VENV)/bin/ampp serve --config.file=examples/alertmanager.yml --storage.path=data \
		--web.listen-address=:$(PORT) --cluster.listen-address=

unit: bytecode
	$(PY) -m pytest -m unit -q

integration: bytecode deps
	$(PY) -m pytest -m integration -q

# The dashboard in Debian's Chromium, driven by Playwright (about a minute); screenshots of
# every page in both themes land in build/test-artifacts/browser.
browser: bytecode deps
	$(PY) -m pytest -m browser -q

conformance: bytecode deps
	scripts/conformance.sh

# Builds kube-apiserver, etcd, kubectl and helm from the Go module proxy once (cached under
# ~/.cache/ampp/k8s), then runs the tests against a control plane started like envtest does.
k8s-bin:
	bash e2e/controlplane/build.sh

e2e: bytecode deps k8s-bin
	$(PY) -m pytest -m e2e -q

# Try the operator by hand: the e2e tier's control plane, the chart installed into it, and
# `ampp operator` run as its Deployment would on 127.0.0.1:$(PORT), until Ctrl-C. It prints the
# KUBECONFIG to export; then `kubectl apply -f examples/kubernetes/` (e2e/devcluster.py).
dev-cluster: bytecode k8s-bin
	$(PY) e2e/devcluster.py --port=$(PORT)

# Alertmanager side by side; issue 21's soak against both (5 minutes each); then 1,000,000 history
# events in PostgreSQL, /history and /report;
# then /webhook against /api/v2/alerts, the enrichment proxy's latency and the warm cache;
# then the dashboard with 10,000 alerts in 2,000 groups in Chromium; then three replicas under
# kill -9 every 10 s, ampp on PostgreSQL and Alertmanager gossiping, duplicates and losses counted.
bench: bytecode deps
	$(PY) benchmarks/bench.py
	$(PY) benchmarks/bench.py --soak
	$(PY) benchmarks/history_bench.py
	$(PY) benchmarks/webhook_bench.py
	$(PY) benchmarks/dashboard_bench.py
	$(PY) benchmarks/cluster_bench.py

# The rules CI enforces, first step of `make test`: lint, formatting, types (mypy strict over
# the engine, the operator, the tests and e2e, as pyproject.toml lists), the import contracts
# (pyproject.toml's [tool.importlinter]: layers, no cycles, no kopf in the engine), CRDs up to date.
check: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-logo
	$(PY) -m ampp_operator.crds --check crds/
	scripts/sync-chart-crds.sh --check

# Regenerate the CRDs from the config models and copy them into the chart.
crds: $(STAMP)
	$(PY) -m ampp_operator.crds crds/
	scripts/sync-chart-crds.sh

# For people with Docker: a kind cluster, the image, helm install, the e2e tests against it.
kind: $(STAMP)
	e2e/kind/run.sh

# The container image alertmanager-plusplus:<version> (the chart's default): docker build when a
# Docker engine answers, else buildah on a Debian base bootstrapped once by mmdebstrap (cached
# under ~/.cache/ampp/image). See scripts/image.sh.
image:
	scripts/image.sh

# Every tier CI runs: the checks, then unit, integration, e2e and browser in one pytest run, then
# Alertmanager's own acceptance suite (its timings start before the server is spawned; `ampp
# serve` binds its port first, so the suite's status polls wait for the engine instead of being
# refused). CI=true: a missing prerequisite fails the run instead of skipping tests.
test: export CI = true
test: check bytecode deps k8s-bin
	$(PY) -m pytest -m "unit or integration or e2e or browser" -q
	scripts/conformance.sh

clean:
	rm -rf $(VENV) data
