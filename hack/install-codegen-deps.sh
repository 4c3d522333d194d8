#!/usr/bin/env bash
# Installs, with apt-get, what hack/update-codegen.sh (and so
# hack/verify-codegen.sh and hack/test.sh) needs besides Go, skipping what is
# already installed:
#
#   protobuf-compiler   protoc, which go-to-protobuf runs on the generated IDL
#
# The Go generators (code-generator's, go-to-protobuf and its protoc-gen-gogo,
# goimports) are built from the Go module proxy by update-codegen.sh itself.
# Kubernetes pins protoc 23.4; Debian 12's 3.21.12 serves as well (protoc
# only parses the IDL, protoc-gen-gogo writes the Go code): with it,
# go-to-protobuf v0.37.2 regenerates k8s.io/api v0.37.2's core/v1 and
# autoscaling/v1 byte for byte.
# Must run as root when something is missing; nothing else is downloaded.
set -o errexit
set -o nounset
set -o pipefail

log() { echo "install-codegen-deps: $*" >&2; }
die() { log "error: $*"; exit 1; }

if command -v protoc >/dev/null; then
  log "ok: $(protoc --version)"
  exit 0
fi

if [[ "$(id -u)" != 0 ]]; then
  die "protoc is missing and installing it needs root (apt-get): sudo $0"
fi
command -v apt-get >/dev/null ||
  die "protoc is missing and apt-get was not found: install protoc (protobuf-compiler) by other means"

log "installing protobuf-compiler"
start=${SECONDS}
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || die "apt-get update failed"
apt-get install -y -qq --no-install-recommends protobuf-compiler >/dev/null ||
  die "apt-get install protobuf-compiler failed"
log "installed in $((SECONDS - start))s"

command -v protoc >/dev/null || die "protoc not found in PATH after the installation"
log "ok: $(protoc --version)"
