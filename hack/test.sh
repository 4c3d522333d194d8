#!/usr/bin/env bash
# The project's test command (README.md; .ci/run runs it): generated code is
# current, the code is formatted and vetted, and every test passes — unit
# tests, the fuzzed round trips, and the integration suite, which starts real
# kruise-apiserver instances on embedded etcd, and the e2e suite, which runs
# a local control plane with a real node (its Debian packages are installed
# first by hack/install-node-deps.sh, a no-op once they are there; the node
# needs root) and protoc for the code generators (hack/install-codegen-deps.sh).
set -o errexit
set -o nounset
set -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "${ROOT}"
source hack/go-env.sh

echo "==> hack/install-node-deps.sh, hack/install-codegen-deps.sh"
hack/install-node-deps.sh
hack/install-codegen-deps.sh

echo "==> hack/verify-codegen.sh"
hack/verify-codegen.sh

echo "==> gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "${unformatted}" ]; then
    echo "gofmt would change:" >&2
    echo "${unformatted}" >&2
    exit 1
fi

echo "==> go vet"
go vet ./...

echo "==> go test"
go test -timeout 30m "$@" ./...
