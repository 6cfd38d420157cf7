#!/usr/bin/env bash
# Installs the Debian packages the test tiers use, when missing (root and apt access needed).
set -euo pipefail
need=(prometheus-alertmanager golang-1.19-go golang-github-prometheus-alertmanager-dev postgresql redis-server wrk)
missing=()
for p in "${need[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
