#!/usr/bin/env bash
# Copies the CustomResourceDefinitions from crds/ (the source of truth) into the Helm chart's
# crds/ folder, which Helm installs before the templates. Run it after changing a CRD;
# e2e/test_chart.py fails while the two folders differ.
#
#   scripts/sync-chart-crds.sh          copy (and delete chart CRDs no longer in crds/)
#   scripts/sync-chart-crds.sh --check  only report differences; exit 1 if there are any
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
src="$root/crds"
dest="$root/charts/alertmanager-plusplus/crds"
check=0
case "${1:-}" in
    --check) check=1 ;;
    "") ;;
    *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

shopt -s nullglob
mkdir -p "$dest"
status=0

for f in "$src"/*.yaml "$src"/*.yml; do
    name=$(basename "$f")
    if ! cmp -s "$f" "$dest/$name"; then
        if (( check )); then
            echo "differs: charts/alertmanager-plusplus/crds/$name (run scripts/sync-chart-crds.sh)" >&2
            status=1
        else
            cp "$f" "$dest/$name"
            echo "copied crds/$name" >&2
        fi
    fi
done

for f in "$dest"/*.yaml "$dest"/*.yml; do
    name=$(basename "$f")
    if [[ ! -e $src/$name ]]; then
        if (( check )); then
            echo "stale: charts/alertmanager-plusplus/crds/$name is not in crds/" >&2
            status=1
        else
            rm "$f"
            echo "removed charts/alertmanager-plusplus/crds/$name" >&2
        fi
    fi
done

exit "$status"
