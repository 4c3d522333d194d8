#!/usr/bin/env bash
# The whole aggregated setup on this machine, loopback only: etcd,
# kube-apiserver, kube-controller-manager and kruise-apiserver in delegated
# mode behind APIServices (artifacts/base/apiservices.yaml).
#
#   hack/local-up.sh        run in the foreground; Ctrl-C stops everything
#   hack/local-up.sh -d     start detached, return when every APIService is Available
#   hack/local-up.sh down   stop it
#
# State, logs and the admin kubeconfig are in _output/local.
set -o errexit
set -o nounset
set -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "${ROOT}"
mkdir -p _output/bin
go build -o _output/bin/local-up ./hack/localup

if [[ "${1:-}" == "down" ]]; then
    exec _output/bin/local-up --dir _output/local down
fi

KUBE_BIN_DIR=$(hack/build-kube-binaries.sh kube-apiserver kube-controller-manager kubectl etcd | tail -n 1)
go build -o _output/bin/kruise-apiserver ./cmd/apiserver
exec _output/bin/local-up --dir _output/local --kube-bin-dir "${KUBE_BIN_DIR}" \
    --kruise-binary _output/bin/kruise-apiserver --artifacts artifacts "$@"
