#!/usr/bin/env bash
# Installs, with apt-get, the Debian packages the real node of
# `hack/local-up.sh --node` (and the e2e suite) needs, skipping what is
# already installed. Must run as root; nothing else is downloaded.
#
#   runc                          the OCI runtime containerd runs
#   containernetworking-plugins   bridge, host-local and loopback CNI plugins (/usr/lib/cni)
#   docker-registry               the loopback registry the node pulls from
#   skopeo                        pushes the locally built images into it
#   busybox-static                the static busybox of the busybox and testapp images
#   iproute2, util-linux, mount   ip, unshare, nsenter and mount (namespaces, veth)
#
# containerd itself (v2, which Kubernetes >= 1.36 expects; Debian 12 has 1.6),
# kubelet and kube-scheduler are built from the Go module proxy by
# hack/build-kube-binaries.sh. OCI images are written by internal/localup in
# Go, so umoci is not needed.
#
# Package scripts are not allowed to start services (a policy-rc.d is in
# place during the installation): docker-registry's would otherwise start a
# registry on the host.
set -o errexit
set -o nounset
set -o pipefail

log() { echo "install-node-deps: $*" >&2; }
die() { log "error: $*"; exit 1; }

PACKAGES=(runc containernetworking-plugins docker-registry skopeo busybox-static iproute2 util-linux mount)

if [[ "$(id -u)" != 0 ]]; then
  die "must run as root (it installs Debian packages with apt-get): sudo $0"
fi
command -v apt-get >/dev/null && command -v dpkg-query >/dev/null ||
  die "apt-get/dpkg-query not found: this script is for Debian (12, bookworm) and its derivatives"

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "${pkg}" 2>/dev/null || true)
  if [[ "${status}" == ii* ]]; then
    continue
  fi
  missing+=("${pkg}")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  log "all installed: ${PACKAGES[*]}"
else
  # busybox-static replaces (conflicts with) the dynamic busybox package;
  # apt-get resolves that by itself.
  log "installing ${missing[*]}"
  start=${SECONDS}
  policy=/usr/sbin/policy-rc.d
  if [[ ! -e "${policy}" ]]; then
    printf '#!/bin/sh\n# installed by kruise-apiserver hack/install-node-deps.sh for the duration of apt-get\nexit 101\n' >"${policy}"
    chmod 755 "${policy}"
    trap 'rm -f "${policy}"' EXIT
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    die "apt-get install ${missing[*]} failed"
  log "installed in $((SECONDS - start))s"
fi

# What the node uses, where local-up looks for it.
for tool in runc docker-registry skopeo busybox ip unshare nsenter mount; do
  command -v "${tool}" >/dev/null || die "${tool} not found in PATH after the installation"
done
for plugin in bridge host-local loopback; do
  [[ -x "/usr/lib/cni/${plugin}" ]] || die "/usr/lib/cni/${plugin} is missing (containernetworking-plugins)"
done
log "ok: runc $(runc --version | head -1 | awk '{print $3}'), skopeo $(skopeo --version | awk '{print $3}'), CNI plugins in /usr/lib/cni"
