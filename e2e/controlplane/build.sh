#!/usr/bin/env bash
# Builds kube-apiserver, kubectl, etcd and helm from the Go module proxy, pinned by
# go.mod/go.sum in this directory, into
#   ${AMPP_K8S_CACHE:-$HOME/.cache/ampp/k8s}/<version-tag>/bin/
# and prints that bin directory as its last line of stdout (everything else goes to
# stderr). Idempotent: when the four binaries for this tag are already there it only
# prints the path. The tag is the Kubernetes version plus a hash of go.mod, go.sum and
# cmd/, so changing a pinned version builds into a new directory.
#
# Environment:
#   AMPP_K8S_CACHE   cache root (default $HOME/.cache/ampp/k8s)
#   AMPP_K8S_REBUILD=1  build even when the binaries exist
#   GO               go command to use (default: go from PATH; needs Go >= 1.26)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"

GO_EXPLICIT=${GO:-}
GO=${GO:-go}
cache_root=${AMPP_K8S_CACHE:-$HOME/.cache/ampp/k8s}

modver() { awk -v m="$1" '$1 == "require" { $1 = ""; $0 = $0 } $1 == m { print $2; exit }' go.mod; }
k8s_version=$(modver k8s.io/kubernetes)
staging_version=$(awk '$1 == "k8s.io/client-go" && $2 == "=>" { print $4; exit }' go.mod)
etcd_version=$(modver go.etcd.io/etcd/server/v3)
helm_version=$(modver helm.sh/helm/v3)
if [[ -z $k8s_version || -z $staging_version || -z $etcd_version || -z $helm_version ]]; then
    echo "build.sh: cannot read the pinned versions from $here/go.mod" >&2
    exit 1
fi
hash=$(cat go.mod go.sum $(find cmd -type f -name '*.go' | LC_ALL=C sort) | sha256sum | cut -c1-10)
tag="${k8s_version}-${hash}"
dest="$cache_root/$tag"
bin="$dest/bin"
tools=(kube-apiserver kubectl etcd helm)

complete() {
    [[ -f $dest/.complete ]] || return 1
    local t
    for t in "${tools[@]}"; do [[ -x $bin/$t ]] || return 1; done
}

mkdir -p "$cache_root"
# One build at a time (parallel pytest workers, two checkouts on one machine).
exec 9>"$cache_root/.build.lock"
flock 9

if [[ ${AMPP_K8S_REBUILD:-0} != 1 ]] && complete; then
    echo "build.sh: using cached binaries in $bin" >&2
    echo "$bin"
    exit 0
fi

# Needs Go >= 1.26 (go.mod). This machine also has Debian's Go 1.19 in /usr/bin for
# Alertmanager's acceptance suite, which is too old even to switch toolchains itself.
go_ok() {
    local v
    v=$("$1" version 2>/dev/null | awk '{ print $3 }') || return 1
    v=${v#go}
    [[ $v =~ ^([0-9]+)\.([0-9]+) ]] || return 1
    (( BASH_REMATCH[1] > 1 || BASH_REMATCH[2] >= 26 ))
}
if ! go_ok "$GO"; then
    if [[ -z ${GO_EXPLICIT:-} ]] && go_ok /usr/local/go/bin/go; then
        GO=/usr/local/go/bin/go
    else
        echo "build.sh: need Go >= 1.26, but '$GO' is $("$GO" version 2>/dev/null || echo missing)" >&2
        exit 1
    fi
fi
echo "build.sh: building kube-apiserver+kubectl $k8s_version, etcd $etcd_version, helm $helm_version with $("$GO" version)" >&2
echo "build.sh: into $bin (this takes a while on a cold Go cache)" >&2

# Version stamps the release Makefiles set: without them the API server reports
# v0.0.0-master, which breaks kubeVersion constraints in charts and kubectl's skew check.
k8s_minor=${k8s_version#v1.}; k8s_minor=${k8s_minor%%.*}
build_date=1970-01-01T00:00:00Z
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$k8s_minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date"
done
ldflags+=" -X helm.sh/helm/v3/internal/version.version=$helm_version"
ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
    ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$k8s_minor"
done

tmp=$(mktemp -d "$cache_root/.tmp-$tag.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s)
# One `go build` for all four: they share most packages, and the go command
# schedules the compiles itself (-p defaults to the number of CPUs).
env CGO_ENABLED=0 GOFLAGS="-trimpath -buildvcs=false -mod=readonly" \
    nice -n 10 "$GO" build -ldflags="$ldflags" -o "$tmp/" \
    k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kubectl \
    helm.sh/helm/v3/cmd/helm \
    ./cmd/etcd
elapsed=$(( $(date +%s) - start ))

for t in "${tools[@]}"; do
    [[ -x $tmp/$t ]] || { echo "build.sh: $t was not built" >&2; exit 1; }
done
{
    echo "k8s.io/kubernetes $k8s_version (staging modules $staging_version)"
    echo "go.etcd.io/etcd/server/v3 $etcd_version"
    echo "helm.sh/helm/v3 $helm_version"
    echo "built with $("$GO" version) in ${elapsed}s"
} >"$tmp/VERSIONS"

rm -rf "$dest"
mkdir -p "$dest"
mv "$tmp/VERSIONS" "$dest/VERSIONS"
mkdir -p "$bin"
for t in "${tools[@]}"; do mv "$tmp/$t" "$bin/$t"; done
touch "$dest/.complete"
echo "build.sh: built in ${elapsed}s: $(du -sh "$bin" | cut -f1) in $bin" >&2
echo "$bin"
