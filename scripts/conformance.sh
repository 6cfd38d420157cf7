#!/usr/bin/env bash
# Runs Alertmanager's own acceptance suite against `ampp serve`. The two cluster tests need
# several replicas sharing state (a later milestone) and are left out, as the issue says.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
suite="${AMPP_ACCEPTANCE:-$here/../shared/conformance/alertmanager-acceptance}"
start=$(date +%s)
"$suite" -run '^Test([^C]|C[^l]|Cl[^u])' -- "$here/.venv/bin/ampp" serve
echo "conformance took $(( $(date +%s) - start ))s"
