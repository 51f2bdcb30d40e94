#!/usr/bin/env bash
# Build the container images for cygnet <-> strongSwan interop, from Debian packages only (no registry here):
#
#   local/debian:bookworm     debootstrap --variant=minbase bookworm from the host's apt mirror, `docker import`ed
#   local/cygnet-strongswan   charon + swanctl, kernel-libipsec on (the kernel has no ESP transform)
#   local/cygnet-runtime      node 20 (the host's binary) + runtime node_modules
#   local/cygnet              cygnet's sources on top, `cygnet daemon` on a mounted /etc/swanctl
#
# Idempotent: the base image is skipped when it exists, the runtime image when its label matches; the others
# use docker's layer cache, so a rebuild after a source change only recopies src/ (~1 s). Installs docker.io and debootstrap when missing and starts
# dockerd (docker/dockerd.sh) when it is not running; `docker/dockerd.sh stop` undoes that.
#
#   sudo docker/build.sh            # all images
#   sudo docker/build.sh --rebuild  # also re-create the base image
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
BASE=local/debian:bookworm
t0=$(date +%s)
# docker build, quiet unless it fails (the legacy builder's deprecation notice is noise here: no buildx).
dbuild() {
  local out; out=$(mktemp)
  if ! docker build -t "$1" "$2" >"$out" 2>&1; then cat "$out" >&2; rm -f "$out"; echo "build: $1 failed" >&2; exit 1; fi
  rm -f "$out"
}
say() { echo "build: $* (+$(( $(date +%s) - t0 )) s)"; }

[ "$(id -u)" = 0 ] || { echo "build: needs root (debootstrap, dockerd)" >&2; exit 1; }

if ! command -v dockerd >/dev/null || ! command -v debootstrap >/dev/null; then
  say "installing docker.io debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io debootstrap >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io debootstrap >/dev/null; }
fi
"$here/dockerd.sh" start

if [ "${1:-}" = --rebuild ]; then docker rmi -f "$BASE" >/dev/null 2>&1 || true; fi
if docker image inspect "$BASE" >/dev/null 2>&1; then
  say "$BASE exists"
else
  # The host's first deb822 entry carrying the bookworm suite (a snapshot mirror: hence Check-Valid-Until false).
  sources=$(ls /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1 || true)
  mirror=$(awk '/^URIs:/ {u=$2} /^Suites:/ && / bookworm( |$)/ {print u; exit}' ${sources:-/dev/null})
  mirror=${mirror:-http://deb.debian.org/debian}
  rootfs=$(mktemp -d /tmp/cyg-rootfs-XXXXXX)
  trap 'rm -rf "$rootfs"' EXIT
  say "debootstrap minbase bookworm from $mirror"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1 \
    || { tail -n 30 "$rootfs.log" >&2; exit 1; }
  rm -f "$rootfs.log"
  rm -f "$rootfs/etc/apt/sources.list"
  if [ -n "$sources" ]; then cp /etc/apt/sources.list.d/*.sources "$rootfs/etc/apt/sources.list.d/"; fi
  printf 'Acquire::Check-Valid-Until "false";\nAcquire::Check-Date "false";\nAPT::Install-Recommends "false";\n' \
    >"$rootfs/etc/apt/apt.conf.d/99cygnet"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | docker import - "$BASE" >/dev/null
  rm -rf "$rootfs"; trap - EXIT
  say "imported $BASE"
fi

dbuild local/cygnet-strongswan "$here/strongswan"
say "local/cygnet-strongswan built"

# cygnet in two images. local/cygnet-runtime: the host's node binary (Debian bookworm's nodejs is 18, cygnet
# needs >= 20) and node_modules without the build/test tools; rebuilt only when the node binary or the installed
# dependency tree (node_modules/.package-lock.json) changes, recorded in a label. local/cygnet on top: the
# sources, run through tsx as the netns interop suite does (no stale dist/): a 2 MB context, seconds to build.
node_bin=$(readlink -f "$(command -v node)")
deps=$(cat "$node_bin" "$repo/node_modules/.package-lock.json" | sha256sum | cut -c1-16)
have=$(docker image inspect -f '{{index .Config.Labels "cygnet.deps"}}' local/cygnet-runtime 2>/dev/null || true)
ctx=$(mktemp -d /tmp/cyg-docker-ctx-XXXXXX)
trap 'rm -rf "$ctx"' EXIT
if [ "$have" = "$deps" ]; then
  say "local/cygnet-runtime up to date ($deps)"
else
  mkdir "$ctx/runtime"
  cp "$node_bin" "$ctx/runtime/node"
  cp "$here/cygnet/runtime.Dockerfile" "$ctx/runtime/Dockerfile"
  echo "LABEL cygnet.deps=$deps" >>"$ctx/runtime/Dockerfile"
  tar -C "$repo" -c --exclude=node_modules/typescript --exclude='node_modules/@typescript' --exclude='node_modules/@rolldown' \
    --exclude='node_modules/lightningcss*' --exclude=node_modules/vite --exclude=node_modules/vitest \
    --exclude='node_modules/@vitest' --exclude=node_modules/fast-check --exclude=node_modules/tinybench \
    node_modules | tar -C "$ctx/runtime" -x
  dbuild local/cygnet-runtime "$ctx/runtime"
  say "local/cygnet-runtime built (node $("$node_bin" --version) from $node_bin, deps $deps)"
fi
mkdir -p "$ctx/app/app"
cp "$here/cygnet/Dockerfile" "$here/cygnet/entrypoint.sh" "$ctx/app/"
tar -C "$repo" -c --exclude='*.test.ts' package.json tsconfig.json src | tar -C "$ctx/app/app" -x
dbuild local/cygnet "$ctx/app"
say "local/cygnet built"
# A rebuild leaves the previous local/cygnet (or a superseded runtime) untagged: remove ours, only ours.
docker image prune -f --filter label=cygnet.build=docker/build.sh >/dev/null
