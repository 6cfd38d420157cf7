#!/usr/bin/env bash
# Runs Alertmanager's own acceptance suite against `ampp serve`, one test per invocation.
# The two cluster tests need several replicas sharing state (a later milestone) and are left
# out, as the issue says. Tests run one at a time: the suite starts its clock before the server
# and pushes the first alert at 1 s, and a Python server starting next to another on a 2-core
# machine can take longer than that to import.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
suite="${AMPP_ACCEPTANCE:-$here/../shared/conformance/alertmanager-acceptance}"
tests=(TestAlertGetReturnsCurrentAlertStatus TestAlwaysInhibiting TestBatching TestFilterAlertRequest
       TestInhibiting TestMergeAlerts TestMergeAlertsWithEndsAt TestReload TestRepeat TestResolved
       TestResolvedFilter TestRetry TestSilenceDelete TestSilencing TestWebWithPrefix)
start=$(date +%s)
passed=0 failed=0
for t in "${tests[@]}"; do
  out=$("$suite" -run "^${t}\$" -- "$here/.venv/bin/ampp" serve 2>&1)
  echo "$out" | grep -E '^--- (PASS|FAIL)' || echo "$out" | tail -5
  if echo "$out" | grep -q '^1 passed, 0 failed$'; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
echo "conformance took $(( $(date +%s) - start ))s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
