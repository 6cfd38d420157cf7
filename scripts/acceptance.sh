#!/usr/bin/env bash
# Alertmanager's own acceptance suite (test/with_api_v2, as Debian ships it with Alertmanager
# 0.25) run against a server that takes Alertmanager's flags: by default this checkout's
# `ampp serve`.
#
#   scripts/acceptance.sh [-run REGEX] [-log FILE] [-- SERVER COMMAND...]
#   scripts/acceptance.sh -prepare     # only install and compile the suite
#
#   -run REGEX  the tests to run (Go's -test.run syntax; all of them by default)
#   -log FILE   where to copy the suite's full log (with the server's output) when a test fails
#   SERVER...   the server to test instead of `.venv/bin/ampp serve`, e.g.
#               /usr/bin/prometheus-alertmanager for the reference itself
#
# Installs Debian's golang-1.19-go and golang-github-prometheus-alertmanager-dev when missing
# (scripts/install-deps.sh), compiles the suite once per machine into
# ${AMPP_ACCEPTANCE_CACHE:-~/.cache/ampp/acceptance} (keyed by both packages' versions, about a
# minute cold), then runs it. Prints the suite's `--- PASS`/`--- FAIL` lines and
# "N passed, N failed"; exits non-zero when a test failed or none ran.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

run_re=. log_copy= prepare=
server=("$repo/.venv/bin/ampp" serve)
while [ $# -gt 0 ]; do
  case "$1" in
    -run) run_re=$2; shift 2 ;;
    -log) log_copy=$2; shift 2 ;;
    -prepare) prepare=1; shift ;;
    --) shift; server=("$@"); break ;;
    *) echo "usage: $0 [-run REGEX] [-log FILE] [-- SERVER COMMAND...] | -prepare" >&2; exit 2 ;;
  esac
done
[ -n "$prepare" ] || [ ${#server[@]} -gt 0 ] && [ -x "${server[0]}" ] || {
  echo "acceptance: no server at ${server[0]:-(none)} (run 'make setup' for .venv/bin/ampp)" >&2
  exit 2
}

pkg=golang-github-prometheus-alertmanager-dev
"$repo/scripts/install-deps.sh" golang-1.19-go "$pkg"
go=/usr/lib/go-1.19/bin/go
src=/usr/share/gocode/src
suite_pkg=github.com/prometheus/alertmanager/test/with_api_v2/acceptance

# Compile the suite in GOPATH mode against the Go sources Debian installed (no network).
cache=${AMPP_ACCEPTANCE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ampp/acceptance}
key="$(dpkg-query -W -f='${Version}' "$pkg")-go$(dpkg-query -W -f='${Version}' golang-1.19-go)"
suite="$cache/with_api_v2-$key.test"
mkdir -p "$cache"
if [ ! -x "$suite" ]; then
  exec 9>"$cache/.build.lock"
  flock 9 # one build at a time: a second checkout waits and uses the first one's result
  if [ ! -x "$suite" ]; then
    echo "acceptance: compiling Alertmanager's acceptance suite into $suite (once per machine)" >&2
    gopath=$(mktemp -d)
    ln -s "$src" "$gopath/src"
    GOENV=off GO111MODULE=off GOFLAGS= GOPATH="$gopath" GOCACHE="$cache/gocache" \
      "$go" test -c -o "$suite.partial" "$suite_pkg"
    rm -rf "$gopath"
    mv "$suite.partial" "$suite"
  fi
  exec 9>&-
fi
[ -z "$prepare" ] || exit 0

# The suite starts $GOPATH/bin/prometheus-alertmanager with Alertmanager's flags, plus two that
# only Debian's patched build knows (--template.default, --web.ui-path, pointing into
# $GOPATH/src). A wrapper there drops those two and starts the server under test.
work=$(mktemp -d)
psql=$(ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | tail -1 || true)
psql=${psql:-psql}
template=acceptance_template_$$
drop_databases() {
  [ -n "${AMPP_ACCEPTANCE_PG:-}" ] && [ -f "$work/databases" ] || return 0
  sort -u "$work/databases" | while read -r db; do
    "$psql" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" "$AMPP_ACCEPTANCE_PG" >/dev/null 2>&1 || true
  done
}
trap 'drop_databases; rm -rf "$work"' EXIT
mkdir -p "$work/bin"
ln -s "$src" "$work/src"
#
# With AMPP_ACCEPTANCE_PG set (a PostgreSQL server URL with the right to create databases), each
# Alertmanager cluster the suite starts gets a database of its own, named after its peer list
# (every member of a cluster is given the same --cluster.peer list, its own address included),
# and its members share it (--storage.url): replicas sharing a database are a cluster, so the
# suite's clusters map onto ampp's one for one, and a single instance is a cluster of one. The
# heartbeat is made short (200ms) because the suite pushes its first alert 1 s after its clock
# starts, before its three servers are even started; for the same reason each database is a
# copy of one migrated before the suite starts (migrating a new one takes the first server half
# a second). The databases are dropped at the end.
{
  echo '#!/usr/bin/env bash'
  echo 'args=() peers=()'
  echo 'while [ $# -gt 0 ]; do'
  echo '  case "$1" in'
  echo '    --template.default|--web.ui-path) shift 2 ;;'
  echo '    --cluster.peer) peers+=("$2"); args+=("$1" "$2"); shift 2 ;;'
  echo '    --cluster.peer=*) peers+=("${1#*=}"); args+=("$1"); shift ;;'
  echo '    *) args+=("$1"); shift ;;'
  echo '  esac'
  echo 'done'
  echo 'if [ -n "${AMPP_ACCEPTANCE_PG:-}" ] && [ ${#peers[@]} -gt 0 ]; then'
  echo '  db=acceptance_$(printf "%s\n" "${peers[@]}" | sort | sha1sum | cut -c1-16)'
  printf '  %q -v ON_ERROR_STOP=0 -qc "CREATE DATABASE $db TEMPLATE %s" "$AMPP_ACCEPTANCE_PG" >/dev/null 2>&1\n' "$psql" "$template"
  printf '  echo "$db" >>%q\n' "$work/databases"
  echo '  args+=("--storage.url=${AMPP_ACCEPTANCE_PG%/*}/$db" --cluster.probe-interval=200ms --cluster.probe-timeout=100ms)'
  echo 'fi'
  printf 'exec'
  printf ' %q' "${server[@]}"
  echo ' "${args[@]}"'
} >"$work/bin/prometheus-alertmanager"
chmod +x "$work/bin/prometheus-alertmanager"

if [ -n "${AMPP_ACCEPTANCE_PG:-}" ]; then
  "$psql" -qc "CREATE DATABASE $template" "$AMPP_ACCEPTANCE_PG" >/dev/null
  echo "$template" >>"$work/databases"
  "${server[0]}" migrate "--storage.url=${AMPP_ACCEPTANCE_PG%/*}/$template" >/dev/null
fi
status=0
(cd "$work" && GOPATH="$work" "$suite" -test.v -test.run "$run_re" -test.timeout 15m) >"$work/log" 2>&1 \
  || status=$?
grep -E '^\s*--- (PASS|FAIL)' "$work/log" | sed 's/^ *//' || true
passed=$(grep -cE '^\s*--- PASS' "$work/log" || true)
failed=$(grep -cE '^\s*--- FAIL' "$work/log" || true)
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  tail -20 "$work/log" >&2 # the suite itself failed (did not build its config, timed out, ...)
  failed=1
fi
if [ "$failed" -gt 0 ] && [ -n "$log_copy" ]; then cp "$work/log" "$log_copy"; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
