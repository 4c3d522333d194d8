#!/usr/bin/env bash
# The whole aggregated setup on this machine, loopback only: etcd,
# kube-apiserver, kube-controller-manager and kruise-apiserver in delegated
# mode behind APIServices (artifacts/base/apiservices.yaml): two replicas by
# default, sharing an etcd of their own (kruise-etcd) behind a local
# balancer, the one holding the Lease kruise-system/kruise-manager running
# the controllers; with --node, also a real node so that Pods run:
# containerd, kubelet, kruise-daemon and a registry with images built here, in their own
# network and mount namespace joined to the host by a veth pair, and
# kube-scheduler (needs root and hack/install-node-deps.sh).
#
#   hack/local-up.sh [--node] [--kruise-replicas N]      run in the foreground; Ctrl-C stops everything
#   hack/local-up.sh [--node] [--kruise-replicas N] -d   start detached, return when every replica is
#                                                        ready, every APIService Available (and the node Ready)
#   hack/local-up.sh down          stop it, and remove what its node left on the host
#   hack/local-up.sh check         list traces of a node on the host (fails if any)
#
# State, logs (kruise-apiserver-0.log, kruise-apiserver-1.log, ...) and the
# admin kubeconfig are in _output/local.
set -o errexit
set -o nounset
set -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "${ROOT}"
source hack/go-env.sh
mkdir -p _output/bin
go build -o _output/bin/local-up ./hack/localup

case "${1:-}" in
    down | check) exec _output/bin/local-up --dir _output/local "$1" ;;
esac

binaries=(kube-apiserver kube-controller-manager kubectl etcd)
for arg in "$@"; do
    if [[ "${arg}" == --node || "${arg}" == -node ]]; then
        binaries+=(kubelet kube-scheduler containerd)
    fi
done
KUBE_BIN_DIR=$(hack/build-kube-binaries.sh "${binaries[@]}" | tail -n 1)
go build -o _output/bin/kruise-apiserver ./cmd/apiserver
go build -o _output/bin/kruise-daemon ./cmd/kruise-daemon
exec _output/bin/local-up --dir _output/local --kube-bin-dir "${KUBE_BIN_DIR}" \
    --kruise-binary _output/bin/kruise-apiserver --daemon-binary _output/bin/kruise-daemon \
    --artifacts artifacts --images-dir hack/images "$@"
