#!/usr/bin/env bash
# Regenerates everything generated in this repository: deepcopy, defaulters,
# conversions, declarative validations (pkg/apis), OpenAPI definitions and the
# clientset, listers, informers and apply configurations (pkg/generated).
# The generators come from the code-generator and kube-openapi versions in go.mod.
set -o errexit
set -o nounset
set -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "${ROOT}"
MODULE=$(go list -m)
CODEGEN_PKG=$(go list -m -f '{{.Dir}}' k8s.io/code-generator)
BOILERPLATE="${ROOT}/hack/boilerplate.go.txt"

# kube_codegen.sh installs its generators into GOBIN; keep them out of the
# user's GOPATH/bin and out of the repository.
export GOBIN="${KRUISE_TOOLS_BIN:-${XDG_CACHE_HOME:-${HOME}/.cache}/kruise-apiserver/codegen-bin}"
mkdir -p "${GOBIN}"

source "${CODEGEN_PKG}/kube_codegen.sh"
# The Kubernetes packages whose OpenAPI definitions we also generate live in
# the read-only module cache: openapi-gen must read their model names, not
# write them.
KUBE_CODEGEN_READONLY_PKGS+=(k8s.io/api/core/v1 k8s.io/api/autoscaling/v1)

kube::codegen::gen_helpers \
    --boilerplate "${BOILERPLATE}" \
    "${ROOT}/pkg/apis"

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

kube::codegen::gen_client \
    --with-watch \
    --with-applyconfig \
    --applyconfig-externals "$(IFS=,; echo "${externals[*]}")" \
    --applyconfig-openapi-schema <(go run "${MODULE}/pkg/generated/openapi/cmd/models-schema") \
    --output-dir "${ROOT}/pkg/generated" \
    --output-pkg "${MODULE}/pkg/generated" \
    --boilerplate "${BOILERPLATE}" \
    "${ROOT}/pkg/apis"
