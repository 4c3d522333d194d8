#!/usr/bin/env bash
# Compares kruise-apiserver with OpenKruise's CloneSet CRD on one local
# control plane (etcd, kube-apiserver, kruise-apiserver; no node) and prints
# one table: create, update, delete and GET at 8 and 32 clients, LISTs of
# 1,000 and 10,000 CloneSets in JSON, protobuf and as a table, watch
# delivery, server CPU per operation, memory. docs/performance.md explains
# the figures.
#
#   hack/bench.sh            the full run (10,000 CloneSets; several minutes)
#   hack/bench.sh --quick    a small run for CI (1,000 CloneSets)
#   hack/bench.sh --profile create-32   also CPU profiles of both API servers
#                            during that phase, in _output/bench-profiles
#
# Other flags go to kruise-bench (go run ./cmd/kruise-bench --help).
set -o errexit
set -o nounset
set -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "${ROOT}"
source hack/go-env.sh
KUBE_BIN_DIR=$(hack/build-kube-binaries.sh kube-apiserver kube-controller-manager etcd | tail -n 1)
mkdir -p _output/bin
go build -o _output/bin/kruise-apiserver ./cmd/apiserver
go build -o _output/bin/kruise-bench ./cmd/kruise-bench
exec _output/bin/kruise-bench --kube-bin-dir "${KUBE_BIN_DIR}" --kruise-binary _output/bin/kruise-apiserver "$@"
