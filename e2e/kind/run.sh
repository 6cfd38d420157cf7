#!/usr/bin/env bash
# Alertmanager++ on a real Kubernetes cluster, for people with Docker: creates a kind cluster,
# builds the image from the repository's Dockerfile, loads it into the cluster, installs the Helm
# chart, waits until everything is ready, runs `helm test` and a smoke test through the Service,
# then runs the e2e tests against that cluster (AMPP_E2E_KUBECONFIG, see README.md here).
#
#   e2e/kind/run.sh                 everything, then delete the cluster
#   e2e/kind/run.sh -k chart        extra arguments go to pytest
#   AMPP_KIND_KEEP=1 e2e/kind/run.sh   keep the cluster (and print how to reach it)
#
# Needs: docker, kind, kubectl, helm (3.14+) on PATH, and the project's virtualenv (make setup).
#
# Environment:
#   AMPP_KIND_CLUSTER    cluster name (default ampp-e2e); an existing cluster of that name is reused
#   AMPP_KIND_NODE_IMAGE kind node image, e.g. kindest/node:v1.33.1 (default: kind's own)
#   AMPP_KIND_NAMESPACE  namespace of the release (default ampp)
#   AMPP_KIND_VALUES     an extra values file for helm install
#   AMPP_KIND_KEEP=1     keep the cluster afterwards
#   AMPP_KIND_SKIP_TESTS=1  stop after the install, helm test and smoke test
#   AMPP_IMAGE           image name:tag to build and load (default alertmanager-plusplus:kind)
#   PYTHON               interpreter for pytest (default .venv/bin/python)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

cluster=${AMPP_KIND_CLUSTER:-ampp-e2e}
namespace=${AMPP_KIND_NAMESPACE:-ampp}
image=${AMPP_IMAGE:-alertmanager-plusplus:kind}
release=ampp
python=${PYTHON:-$root/.venv/bin/python}
state=${TMPDIR:-/tmp}/ampp-kind-$cluster
kubeconfig=$state/kubeconfig

log() { printf '\n==> %s\n' "$*" >&2; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

for tool in docker kind kubectl helm; do
    command -v "$tool" >/dev/null || die "$tool is not on PATH"
done
docker info >/dev/null 2>&1 || die "no Docker engine answers (docker info failed)"
[[ ${AMPP_KIND_SKIP_TESTS:-0} == 1 || -x $python ]] || die "$python not found: run 'make setup' or set PYTHON"
mkdir -p "$state"

pf_pid=""
cleanup() {
    local rc=$?
    if [[ -n $pf_pid ]]; then kill "$pf_pid" 2>/dev/null || true; fi
    if (( rc != 0 )); then
        log "failed (exit $rc); state of namespace $namespace:"
        kubectl --kubeconfig "$kubeconfig" -n "$namespace" get all,pvc 2>/dev/null || true
        kubectl --kubeconfig "$kubeconfig" -n "$namespace" logs -l app.kubernetes.io/component=engine \
            --tail=50 --all-containers 2>/dev/null || true
    fi
    if [[ ${AMPP_KIND_KEEP:-0} == 1 ]]; then
        log "kept cluster $cluster: export KUBECONFIG=$kubeconfig"
    else
        log "deleting cluster $cluster"
        kind delete cluster --name "$cluster" >/dev/null 2>&1 || true
    fi
    exit "$rc"
}
trap cleanup EXIT

k() { kubectl --kubeconfig "$kubeconfig" "$@"; }
h() { helm --kubeconfig "$kubeconfig" "$@"; }

if kind get clusters 2>/dev/null | grep -qx "$cluster"; then
    log "reusing kind cluster $cluster"
    kind export kubeconfig --name "$cluster" --kubeconfig "$kubeconfig" >/dev/null
else
    log "creating kind cluster $cluster"
    kind create cluster --name "$cluster" --kubeconfig "$kubeconfig" --wait 180s \
        ${AMPP_KIND_NODE_IMAGE:+--image "$AMPP_KIND_NODE_IMAGE"}
fi

log "building $image"
AMPP_IMAGE=$image AMPP_IMAGE_BUILDER=docker scripts/image.sh >/dev/null

log "loading $image into $cluster"
kind load docker-image "$image" --name "$cluster"

log "installing the chart into namespace $namespace"
values=(
    --set "image.repository=${image%:*}"
    --set "image.tag=${image##*:}"
    --set image.pullPolicy=Never
)
[[ -n ${AMPP_KIND_VALUES:-} ]] && values+=(--values "$AMPP_KIND_VALUES")
h upgrade --install "$release" charts/alertmanager-plusplus \
    --namespace "$namespace" --create-namespace "${values[@]}" \
    --wait --timeout 10m

fullname=$(k -n "$namespace" get deployment -l "app.kubernetes.io/instance=$release,app.kubernetes.io/component=engine" \
    -o jsonpath='{.items[0].metadata.name}')
log "waiting for deployment/$fullname and the databases"
k -n "$namespace" rollout status "deployment/$fullname" --timeout=5m
k -n "$namespace" rollout status statefulset -l "app.kubernetes.io/instance=$release" --timeout=5m 2>/dev/null || true
k -n "$namespace" get pods -o wide

log "helm test"
h test "$release" --namespace "$namespace" --logs --timeout 5m

log "smoke test through the Service"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
k -n "$namespace" port-forward "svc/$fullname" "$port:9093" >"$state/port-forward.log" 2>&1 &
pf_pid=$!
base=http://127.0.0.1:$port
for _ in $(seq 1 30); do curl -fsS "$base/-/ready" >/dev/null 2>&1 && break; sleep 1; done
curl -fsS "$base/-/ready" >/dev/null
curl -fsS -X POST -H 'Content-Type: application/json' "$base/api/v2/alerts" \
    -d '[{"labels": {"alertname": "KindSmokeTest", "namespace": "'"$namespace"'", "severity": "info"}}]'
found=""
for _ in $(seq 1 10); do
    if curl -fsS "$base/api/v2/alerts?filter=alertname%3D%22KindSmokeTest%22" | grep -q KindSmokeTest; then
        found=yes; break
    fi
    sleep 1
done
[[ -n $found ]] || die "the alert posted to $base/api/v2/alerts did not come back"
curl -fsS "$base/api/v2/status" >/dev/null
kill "$pf_pid" 2>/dev/null || true
pf_pid=""
echo "smoke test passed" >&2

if [[ ${AMPP_KIND_SKIP_TESTS:-0} == 1 ]]; then
    exit 0
fi

log "e2e tests against $cluster"
# test_image.py builds the image with buildah and runs it outside any cluster; here the image
# Docker built runs in the cluster itself.
AMPP_E2E_KUBECONFIG=$kubeconfig "$python" -m pytest e2e -m e2e -q -p no:cacheprovider \
    --ignore=e2e/test_image.py "$@"
