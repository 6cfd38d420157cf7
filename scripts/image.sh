#!/usr/bin/env bash
# Builds the container image from the repository's Dockerfile (`make image`) and prints its name
# as the last line of stdout (everything else goes to stderr):
#   alertmanager-plusplus:<version in pyproject.toml>   (the chart's default image)
#
# With a Docker engine that answers, `docker build`. Without one, buildah: the Dockerfile's base
# (FROM debian:<suite>-slim) is bootstrapped by mmdebstrap from Debian's own packages, the way
# the official slim image is made (minbase, no docs or man pages), cached as a tarball under
# ${AMPP_IMAGE_CACHE:-$HOME/.cache/ampp/image} and tagged with the name the Dockerfile uses, so
# the Dockerfile itself is what gets built (delete the cache to bootstrap it again with Debian's
# latest updates). The machine's own extra trust anchors
# (/usr/local/share/ca-certificates/*.crt) go into that base, so that pip and apt inside the
# build trust the same TLS proxies the machine does.
#
# Usage: scripts/image.sh           build, print the image name
#        scripts/image.sh --name    print the image name only
# Environment:
#   AMPP_IMAGE          name:tag to build (default alertmanager-plusplus:<version>)
#   AMPP_IMAGE_BUILDER  docker or buildah (default: docker when `docker info` answers)
#   AMPP_BUILDAH_ROOT   a directory for buildah's storage of its own (default: buildah's own
#                       storage, where `buildah push` finds the image); the test tier builds
#                       into an empty one, so nothing cached is reused but the base tarball
#   AMPP_IMAGE_CACHE    base tarball cache (default $HOME/.cache/ampp/image)
#   AMPP_IMAGE_SOURCE   the org.opencontainers.image.source label (default: the https URL of
#                       git's `origin` remote, without credentials)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
die() { echo "image.sh: $*" >&2; exit 1; }

version=$(python3 -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
name=${AMPP_IMAGE:-alertmanager-plusplus:$version}
if [[ ${1:-} == --name ]]; then
    echo "$name"
    exit 0
fi
[[ $# -eq 0 ]] || die "unknown argument: $1 (usage: scripts/image.sh [--name])"

revision=$(git rev-parse HEAD 2>/dev/null || true)
source=${AMPP_IMAGE_SOURCE:-}
if [[ -z $source ]]; then
    origin=$(git remote get-url origin 2>/dev/null || true)
    if [[ $origin =~ ^https://([^@/]*@)?(.*)$ ]]; then
        source="https://${BASH_REMATCH[2]%.git}"
    elif [[ $origin =~ ^[^@/]+@([^:/]+):(.*)$ ]]; then  # git@host:owner/repo.git
        source="https://${BASH_REMATCH[1]}/${BASH_REMATCH[2]%.git}"
    else
        echo "image.sh: no https 'origin' remote: the image's source label stays empty (set AMPP_IMAGE_SOURCE)" >&2
    fi
fi
build_args=(--build-arg "VERSION=$version" --build-arg "REVISION=$revision" --build-arg "SOURCE=$source")

builder=${AMPP_IMAGE_BUILDER:-}
if [[ -z $builder ]]; then
    if command -v docker >/dev/null && docker info >/dev/null 2>&1; then builder=docker; else builder=buildah; fi
fi

if [[ $builder == docker ]]; then
    docker build "${build_args[@]}" --tag "$name" "$root" >&2
    echo "$name"
    exit 0
fi
[[ $builder == buildah ]] || die "AMPP_IMAGE_BUILDER must be docker or buildah, not '$builder'"
for tool in buildah mmdebstrap; do
    command -v "$tool" >/dev/null || die "$tool is missing (scripts/install-deps.sh installs it)"
done

bh=(buildah)
if [[ -n ${AMPP_BUILDAH_ROOT:-} ]]; then
    bh+=(--root "$AMPP_BUILDAH_ROOT/storage" --runroot "$AMPP_BUILDAH_ROOT/run")
fi

# The base the Dockerfile names, made here from Debian's packages.
base=$(awk 'toupper($1) == "FROM" { print $2; exit }' Dockerfile)
[[ $base =~ ^debian:([a-z]+)-slim$ ]] || die "the Dockerfile's first FROM is '$base'; only debian:<suite>-slim can be bootstrapped here"
suite=${BASH_REMATCH[1]}
mirror=http://deb.debian.org
debstrap=(
    --variant=minbase --format=tar --quiet
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*'
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/doc/*'
    --dpkgopt='path-include=/usr/share/doc/*/copyright'
)
sources=(
    "deb $mirror/debian $suite main" "deb $mirror/debian $suite-updates main"
    "deb $mirror/debian-security $suite-security main"
)
shopt -s nullglob
cas=(/usr/local/share/ca-certificates/*.crt)
shopt -u nullglob
if [[ ${#cas[@]} -gt 0 ]]; then
    debstrap+=(--customize-hook='mkdir -p "$1/usr/local/share/ca-certificates"')
    debstrap+=(--customize-hook="copy-in ${cas[*]} /usr/local/share/ca-certificates/")
fi
key=$({ printf '%s\n' "$suite" "${debstrap[@]}" "${sources[@]}"; cat "${cas[@]}" /dev/null; } | sha256sum | cut -c1-12)
cache=${AMPP_IMAGE_CACHE:-$HOME/.cache/ampp/image}
tarball=$cache/debian-$suite-slim-$key.tar
mkdir -p "$cache"
exec 9>"$cache/.build.lock"
flock 9  # one bootstrap at a time
if [[ ! -s $tarball ]]; then
    echo "image.sh: bootstrapping $base from Debian's packages into $tarball" >&2
    start=$(date +%s)
    mmdebstrap "${debstrap[@]}" "$suite" "$tarball.tmp" "${sources[@]}" >&2
    mv "$tarball.tmp" "$tarball"
    echo "image.sh: base bootstrapped in $(( $(date +%s) - start ))s, $(du -h "$tarball" | cut -f1)" >&2
fi
full=docker.io/library/$base
marker=localhost/ampp-base:$key  # the same image, named for the tarball it came from
if ! "${bh[@]}" inspect --type image "$marker" >/dev/null 2>&1; then
    echo "image.sh: importing $tarball as $full" >&2
    ctr=$("${bh[@]}" from scratch)
    "${bh[@]}" add "$ctr" "$tarball" / >&2
    "${bh[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        --cmd '["bash"]' "$ctr"
    "${bh[@]}" commit --rm --quiet "$ctr" "$marker" >&2
fi
"${bh[@]}" tag "$marker" "$full"
exec 9>&-

echo "image.sh: building $name with buildah" >&2
start=$(date +%s)
# chroot isolation: runs where no OCI runtime may create namespaces; the host's network.
"${bh[@]}" bud --isolation chroot --format docker --layers --pull=never \
    "${build_args[@]}" --tag "$name" "$root" >&2
echo "image.sh: built in $(( $(date +%s) - start ))s" >&2
echo "$name"
