#!/usr/bin/env bash
# Installs Debian packages the test tiers use, when missing (root and apt access needed).
# buildah and mmdebstrap build the container image where there is no Docker engine (scripts/image.sh).
#
#   scripts/install-deps.sh            # all of them
#   scripts/install-deps.sh PKG...     # only these (scripts/acceptance.sh asks for its two)
set -euo pipefail
need=("$@")
[ ${#need[@]} -gt 0 ] || need=(prometheus prometheus-alertmanager golang-1.19-go golang-github-prometheus-alertmanager-dev
  postgresql redis-server wrk chromium buildah mmdebstrap)
missing=()
for p in "${need[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -gt 0 ] || exit 0
if [ "$(id -u)" != 0 ]; then
  echo "missing Debian packages: ${missing[*]}; install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}" >&2
apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
