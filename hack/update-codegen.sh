#!/usr/bin/env bash
# Regenerates everything generated in this repository: deepcopy, defaulters,
# conversions, declarative validations, protobuf IDL and marshalling
# (pkg/apis), OpenAPI definitions and the clientset, listers, informers and
# apply configurations (pkg/generated).
# The generators come from the code-generator and kube-openapi versions in
# go.mod; protobuf also needs protoc (hack/install-codegen-deps.sh).
set -o errexit
set -o nounset
set -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "${ROOT}"

# go-to-protobuf runs protoc; say so now rather than after the other generators.
if ! command -v protoc >/dev/null; then
    echo "update-codegen: protoc not found in PATH; it compiles the protobuf IDL of our types." >&2
    echo "update-codegen: install it with hack/install-codegen-deps.sh (Debian: apt-get install protobuf-compiler)." >&2
    exit 1
fi

MODULE=$(go list -m)
CODEGEN_PKG=$(go list -m -f '{{.Dir}}' k8s.io/code-generator)
BOILERPLATE="${ROOT}/hack/boilerplate.go.txt"

# kube_codegen.sh installs its generators into GOBIN; keep them out of the
# user's GOPATH/bin and out of the repository.
export GOBIN="${KRUISE_TOOLS_BIN:-${XDG_CACHE_HOME:-${HOME}/.cache}/kruise-apiserver/codegen-bin}"
mkdir -p "${GOBIN}"

SCRATCH=$(mktemp -d)
trap 'rm -rf "${SCRATCH}"' EXIT

source "${CODEGEN_PKG}/kube_codegen.sh"
# The Kubernetes packages whose OpenAPI definitions we also generate live in
# the read-only module cache: openapi-gen must read their model names, not
# write them.
KUBE_CODEGEN_READONLY_PKGS+=(k8s.io/api/core/v1 k8s.io/api/autoscaling/v1)

kube::codegen::gen_helpers \
    --boilerplate "${BOILERPLATE}" \
    "${ROOT}/pkg/apis"

# Protobuf: go-to-protobuf writes generated.proto beside the types of every
# versioned package, runs protoc with its protoc-gen-gogo to produce
# generated.pb.go there, and adds `protobuf:"..."` tags to the types' fields.
# It expects one source tree holding every package under its import path
# (the GOPATH layout); a scratch directory of symlinks provides it: this
# repository, and the Kubernetes and gogo modules whose generated.proto files
# ours import. Those are "-" packages (read, never generated), so nothing is
# written into the module cache.
gen_protobuf() {
    (cd "${CODEGEN_PKG}" && GO111MODULE=on go install ./cmd/go-to-protobuf ./cmd/go-to-protobuf/protoc-gen-gogo)
    # go-to-protobuf formats generated.pb.go with goimports; take the
    # x/tools version code-generator itself builds with.
    local tools_version gogo_dir
    tools_version=$(cd "${CODEGEN_PKG}" && go list -m -f '{{.Version}}' golang.org/x/tools)
    GO111MODULE=on go install "golang.org/x/tools/cmd/goimports@${tools_version}"
    gogo_dir=$(cd "${CODEGEN_PKG}" && go list -m -f '{{.Dir}}' github.com/gogo/protobuf)

    local tree="${SCRATCH}/src"
    mkdir -p "${tree}/$(dirname "${MODULE}")" "${tree}/k8s.io" "${tree}/github.com/gogo"
    ln -s "${ROOT}" "${tree}/${MODULE}"
    ln -s "$(go list -m -f '{{.Dir}}' k8s.io/api)" "${tree}/k8s.io/api"
    ln -s "$(go list -m -f '{{.Dir}}' k8s.io/apimachinery)" "${tree}/k8s.io/apimachinery"
    ln -s "${gogo_dir}" "${tree}/github.com/gogo/protobuf"

    local readonly_pkgs=(
        k8s.io/apimachinery/pkg/util/intstr
        k8s.io/apimachinery/pkg/api/resource
        k8s.io/apimachinery/pkg/runtime/schema
        k8s.io/apimachinery/pkg/runtime
        k8s.io/apimachinery/pkg/apis/meta/v1
        k8s.io/api/core/v1
    )
    # The versioned packages (those converted to a hub): the hub types are
    # never serialized.
    local pkgs=() dir
    while read -r dir; do
        pkgs+=("${MODULE}/${dir}")
    done < <(grep -l '^// +k8s:conversion-gen=' pkg/apis/*/*/doc.go | xargs -n1 dirname | LC_ALL=C sort)
    PATH="${GOBIN}:${PATH}" "${GOBIN}/go-to-protobuf" \
        --go-header-file "${BOILERPLATE}" \
        --output-dir "${tree}" \
        --proto-import "${gogo_dir}/protobuf" \
        --apimachinery-packages "$(printf -- '-%s,' "${readonly_pkgs[@]}" | sed 's/,$//')" \
        --packages "$(IFS=,; echo "${pkgs[*]}")"
}
gen_protobuf

# openapi-gen also needs the Kubernetes types our objects embed (Pod
# templates, PVCs, autoscaling/v1 Scale), so that kubectl explain,
# server-side apply and strategic merge patch know their list-map keys.
kube::codegen::gen_openapi \
    --output-dir "${ROOT}/pkg/generated/openapi" \
    --output-pkg "${MODULE}/pkg/generated/openapi" \
    --report-filename "${ROOT}/hack/api-rules-violations.list" \
    --update-report \
    --output-model-name-file "zz_generated.model_name.go" \
    --extra-pkgs k8s.io/api/core/v1 \
    --extra-pkgs k8s.io/api/autoscaling/v1 \
    --extra-pkgs k8s.io/apimachinery/pkg/api/resource \
    --extra-pkgs k8s.io/apimachinery/pkg/util/intstr \
    --boilerplate "${BOILERPLATE}" \
    "${ROOT}/pkg/apis"

# Our types embed core/v1 types (Pod templates, PVCs, tolerations, ...).
# Their apply configurations already exist in client-go; point
# applyconfiguration-gen at them so that, say, CloneSetSpec().WithTemplate
# takes a PodTemplateSpecApplyConfiguration. (meta/v1's are its defaults.)
CLIENT_GO=$(go list -m -f '{{.Dir}}' k8s.io/client-go)
externals=()
for t in $(grep -ho '^type [A-Za-z0-9]*ApplyConfiguration struct' "${CLIENT_GO}/applyconfigurations/core/v1/"*.go \
        | awk '{print $2}' | sed 's/ApplyConfiguration$//' | LC_ALL=C sort -u); do
    externals+=("k8s.io/api/core/v1.${t}:k8s.io/client-go/applyconfigurations/core/v1")
done

# The clientset asks for protobuf (falling back to JSON) unless its
# rest.Config sets a ContentType, as client-go's own clientset does.
kube::codegen::gen_client \
    --with-watch \
    --prefers-protobuf \
    --with-applyconfig \
    --applyconfig-externals "$(IFS=,; echo "${externals[*]}")" \
    --applyconfig-openapi-schema <(go run "${MODULE}/pkg/generated/openapi/cmd/models-schema") \
    --output-dir "${ROOT}/pkg/generated" \
    --output-pkg "${MODULE}/pkg/generated" \
    --boilerplate "${BOILERPLATE}" \
    "${ROOT}/pkg/apis"
