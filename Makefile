# Alertmanager++ front door. `make run` and `make test` are the two commands; each sets up what
# it needs first (a virtualenv in .venv, Debian packages for the reference and services).

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 9093

.PHONY: crds kind image k8s-bin run test unit integration conformance e2e bench setup deps check clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,operator]'
	touch $(STAMP)

setup: $(STAMP)

# Debian packages the tests need: the reference Alertmanager and amtool, Go 1.19 for its
# acceptance suite, PostgreSQL and Redis servers.
deps:
	scripts/install-deps.sh

run: $(STAMP)
	mkdir -p data
	$(VENV)/bin/ampp serve --config.file=examples/alertmanager.yml --storage.path=data \
		--web.listen-address=:$(PORT) --cluster.listen-address=

unit: $(STAMP)
	$(PY) -m pytest -m unit -q

integration: $(STAMP) deps
	$(PY) -m pytest -m integration -q

conformance: $(STAMP) deps
	scripts/conformance.sh

# Builds kube-apiserver, etcd, kubectl and helm from the Go module proxy once (cached under
# ~/.cache/ampp/k8s), then runs the tests against a control plane started like envtest does.
k8s-bin:
	bash e2e/controlplane/build.sh

e2e: $(STAMP) k8s-bin
	$(PY) -m pytest -m e2e -q

bench: $(STAMP) deps
	$(PY) benchmarks/bench.py

check: $(STAMP)
	$(VENV)/bin/ruff check engine operator tests e2e
	$(VENV)/bin/mypy
	$(PY) -m ampp_operator.crds --check crds/
	scripts/sync-chart-crds.sh --check

# Regenerate the CRDs from the config models and copy them into the chart.
crds: $(STAMP)
	$(PY) -m ampp_operator.crds crds/
	scripts/sync-chart-crds.sh

# For people with Docker: a kind cluster, the image, helm install, the e2e tests against it.
kind: $(STAMP)
	e2e/kind/run.sh

image:
	docker build -t alertmanager-plusplus:dev .

# CI runs unit, integration and e2e. The acceptance suite (make conformance) is timing-bound
# (150 ms tolerance, a push 1 s after the server is spawned) and on a loaded 2-core machine a
# ~1 s Python start-up misses it now and then, so it runs as its own tier, not in CI.
test: $(STAMP) deps k8s-bin
	$(PY) -m pytest -m "unit or integration or e2e" -q

clean:
	rm -rf $(VENV) data
