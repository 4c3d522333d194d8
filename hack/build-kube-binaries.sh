#!/usr/bin/env bash
# Builds pinned Kubernetes binaries and etcd from source, through the Go module
# proxy (no prebuilt downloads), into a cache directory outside the repository,
# and reuses them on later runs.
#
# Usage: hack/build-kube-binaries.sh [binary...]
#
#   binaries: kube-apiserver kube-controller-manager kube-scheduler kubectl
#             kubelet etcd containerd
#   default:  kube-apiserver kube-controller-manager kubectl etcd
#
# The versions are those hack/kube-tools/go.mod pins (k8s.io/kubernetes and
# go.etcd.io/etcd/server/v3), and CONTAINERD_VERSION below for containerd,
# which is built with `go install ...@version` outside any module and gives
# three binaries: containerd, containerd-shim-runc-v2 and ctr (the node of
# hack/local-up.sh --node runs them). The binaries go to
#
#   ${KRUISE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kruise-apiserver}/kube-<version>/bin
#
# and the last line of stdout is that directory, so a caller can do
#
#   bin=$(hack/build-kube-binaries.sh | tail -1)
#
# Progress goes to stderr. A binary is rebuilt only when it is missing or its
# stamp (a sha256 of hack/kube-tools' go.mod, go.sum, cmd/etcd/main.go and the
# build recipe in this script) differs. A cold build of the default set takes
# about ten minutes on two cores; concurrent runs wait for each other.
set -euo pipefail

# containerd v2 (Kubernetes >= 1.36 expects containerd >= 2.0; Debian 12 has
# 1.6). Without btrfs, devmapper and zfs, which need C libraries.
CONTAINERD_VERSION=v2.4.2
CONTAINERD_TAGS="no_btrfs no_devmapper no_zfs"

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS="${ROOT}/hack/kube-tools"

log() { echo "build-kube-binaries: $*" >&2; }
die() { log "error: $*"; exit 1; }
set -o errtrace
trap 'log "error: unexpected failure (status $?) at line ${LINENO}: ${BASH_COMMAND}"' ERR

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
}

ALL_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet etcd containerd)
DEFAULT_BINARIES=(kube-apiserver kube-controller-manager kubectl etcd)

binaries=()
for arg in "$@"; do
  case "${arg}" in
    -h | --help) usage; exit 0 ;;
    -*) usage >&2; die "unknown flag ${arg}" ;;
  esac
  known=""
  for b in "${ALL_BINARIES[@]}"; do if [[ "${arg}" == "${b}" ]]; then known=1; fi; done
  [[ -n "${known}" ]] || die "unknown binary '${arg}' (known: ${ALL_BINARIES[*]})"
  binaries+=("${arg}")
done
[[ ${#binaries[@]} -gt 0 ]] || binaries=("${DEFAULT_BINARIES[@]}")

command -v go >/dev/null || die "go not found in PATH (hack/kube-tools/go.mod needs Go >= 1.26)"
for f in go.mod go.sum cmd/etcd/main.go; do
  [[ -f "${TOOLS}/${f}" ]] || die "${TOOLS}/${f} is missing"
done

# hack/kube-tools is a module of its own; never let a go.work pull it into a
# workspace, and never let the build rewrite its go.mod/go.sum (the stamps
# depend on them).
export GOWORK=off

kube_version=$(go list -C "${TOOLS}" -m -f '{{.Version}}' k8s.io/kubernetes) ||
  die "cannot resolve k8s.io/kubernetes in ${TOOLS}/go.mod"
etcd_version=$(go list -C "${TOOLS}" -m -f '{{.Version}}' go.etcd.io/etcd/server/v3) ||
  die "cannot resolve go.etcd.io/etcd/server/v3 in ${TOOLS}/go.mod"
# The release's commit time, as the build date (what Kubernetes does with
# SOURCE_DATE_EPOCH), so that the binaries do not depend on when they were built.
build_date=$(go list -C "${TOOLS}" -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' k8s.io/kubernetes)

[[ "${kube_version}" =~ ^v([0-9]+)\.([0-9]+)\.[0-9]+(-.+)?$ ]] ||
  die "unexpected k8s.io/kubernetes version ${kube_version}"
kube_major=${BASH_REMATCH[1]}
kube_minor=${BASH_REMATCH[2]}

cache_root=${KRUISE_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME}/.cache}/kruise-apiserver}
mkdir -p "${cache_root}/kube-${kube_version}/bin" ||
  die "cannot create ${cache_root}/kube-${kube_version}/bin"
kube_dir=$(cd "${cache_root}/kube-${kube_version}" && pwd)
bin_dir="${kube_dir}/bin"

# Serialise concurrent runs: the second one waits, then finds the binaries built.
if command -v flock >/dev/null; then
  exec 9>"${kube_dir}/.lock"
  if ! flock -n 9; then
    log "another build is running in ${kube_dir}; waiting for it"
    flock 9
  fi
fi

# What Kubernetes' hack/lib/version.sh and hack/lib/golang.sh stamp and use
# for a non-debug build (-trimpath, -s -w, -tags selinux,notest,grpcnotrace).
kube_ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  kube_ldflags+=" -X ${pkg}.gitVersion=${kube_version}"
  kube_ldflags+=" -X ${pkg}.gitMajor=${kube_major}"
  kube_ldflags+=" -X ${pkg}.gitMinor=${kube_minor}"
  kube_ldflags+=" -X ${pkg}.buildDate=${build_date}"
done
kube_tags="selinux,notest,grpcnotrace"

# recipe NAME sets pkg, cgo ("0", or "" for the environment's default), tags,
# ldflags and version_cmd for a binary.
recipe() {
  tags=""
  cgo=0
  case "$1" in
    etcd)
      # etcd's build script: CGO_ENABLED=0 -trimpath, no tags. Its version is
      # a constant in go.etcd.io/etcd/api/v3/version.
      pkg=./cmd/etcd
      ldflags="-s -w"
      version_cmd=(--version)
      ;;
    containerd)
      # go install outside any module; the three commands are built together.
      pkg=""
      for c in containerd containerd-shim-runc-v2 ctr; do
        pkg+="${pkg:+ }github.com/containerd/containerd/v2/cmd/${c}@${CONTAINERD_VERSION}"
      done
      cgo=""
      tags=${CONTAINERD_TAGS}
      ldflags="-s -w"
      version_cmd=(--version)
      ;;
    kubelet)
      # Not in Kubernetes' KUBE_STATIC_BINARIES: built with cgo when available.
      pkg=k8s.io/kubernetes/cmd/kubelet
      cgo=""
      tags=${kube_tags}
      ldflags=${kube_ldflags}
      version_cmd=(--version)
      ;;
    *)
      pkg=k8s.io/kubernetes/cmd/$1
      tags=${kube_tags}
      ldflags=${kube_ldflags}
      version_cmd=(--version)
      if [[ "$1" == kubectl ]]; then version_cmd=(version --client); fi
      ;;
  esac
}

sources_sum=$(cd "${TOOLS}" && cat go.mod go.sum cmd/etcd/main.go | sha256sum | cut -d' ' -f1)

stamp_of() {
  recipe "$1"
  local sources=${sources_sum}
  # containerd does not come from hack/kube-tools: its version is in pkg.
  if [[ "$1" == containerd ]]; then sources=""; fi
  printf '%s\n' "${sources}" "$1" "${pkg}" "cgo=${cgo}" "tags=${tags}" "ldflags=${ldflags}" |
    sha256sum | cut -d' ' -f1
}

log "Kubernetes ${kube_version}, etcd ${etcd_version}; bin dir ${bin_dir}"
built=0
for name in "${binaries[@]}"; do
  out="${bin_dir}/${name}"
  stamp_file="${bin_dir}/.${name}.stamp"
  want=$(stamp_of "${name}")
  present=1
  if [[ "${name}" == containerd ]]; then
    for b in containerd-shim-runc-v2 ctr; do [[ -x "${bin_dir}/${b}" ]] || present=""; done
  fi
  if [[ -n "${present}" && -x "${out}" && -f "${stamp_file}" && "$(cat "${stamp_file}")" == "${want}" ]]; then
    log "${name}: up to date"
    continue
  fi

  recipe "${name}"
  log "${name}: building ${pkg} (this can take several minutes)"
  tmp="${bin_dir}/.${name}.tmp.$$"
  rm -f "${stamp_file}"
  trap 'rm -f "${tmp}"' EXIT
  start=${SECONDS}
  build_env=(GOEXPERIMENT=)  # as released: no experiments (hack/go-env.sh)
  if [[ -n "${cgo}" ]]; then build_env+=("CGO_ENABLED=${cgo}"); fi
  if [[ "${name}" == containerd ]]; then
    # GOBIN gets containerd, containerd-shim-runc-v2 and ctr; GOFLAGS is
    # cleared because -mod and friends are refused outside a module.
    rm -rf "${tmp}"
    mkdir -p "${tmp}"
    trap 'rm -rf "${tmp}"' EXIT
    # shellcheck disable=SC2086 # pkg is one package@version per command
    if ! (cd "${tmp}" && env GOFLAGS= GOEXPERIMENT= GOBIN="${tmp}" go install -trimpath -tags "${tags}" -ldflags "${ldflags}" ${pkg}); then
      die "containerd: go install of github.com/containerd/containerd/v2 ${CONTAINERD_VERSION} failed"
    fi
    if ! version_out=$("${tmp}/containerd" "${version_cmd[@]}" 2>&1); then
      die "containerd: 'containerd ${version_cmd[*]}' failed: ${version_out}"
    fi
    [[ "${version_out}" == *" ${CONTAINERD_VERSION#v}"* ]] ||
      die "containerd: 'containerd ${version_cmd[*]}' does not report ${CONTAINERD_VERSION#v}: ${version_out}"
    for b in containerd containerd-shim-runc-v2 ctr; do
      [[ -x "${tmp}/${b}" ]] || die "containerd: go install did not produce ${b}"
      mv -f "${tmp}/${b}" "${bin_dir}/${b}"
    done
    rm -rf "${tmp}"
  else
    if ! env ${build_env[@]+"${build_env[@]}"} go build -C "${TOOLS}" -mod=readonly -trimpath \
        -tags "${tags}" -ldflags "${ldflags}" -o "${tmp}" "${pkg}"; then
      die "${name}: go build of ${pkg} failed (module hack/kube-tools)"
    fi
    if ! version_out=$("${tmp}" "${version_cmd[@]}" 2>&1); then
      die "${name}: '${name} ${version_cmd[*]}' failed: ${version_out}"
    fi
    want_version=${kube_version}
    if [[ "${name}" == etcd ]]; then want_version="etcd Version: ${etcd_version#v}"; fi
    [[ "${version_out}" == *"${want_version}"* ]] ||
      die "${name}: '${name} ${version_cmd[*]}' does not report ${want_version}: ${version_out}"
    mv -f "${tmp}" "${out}"
  fi
  trap - EXIT
  echo "${want}" >"${stamp_file}"
  log "${name}: built in $((SECONDS - start))s, $(du -h "${out}" | cut -f1)"
  built=$((built + 1))
done

[[ ${built} -eq 0 ]] || log "built ${built} binaries in ${bin_dir}"
echo "${bin_dir}"
