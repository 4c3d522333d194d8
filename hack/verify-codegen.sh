#!/usr/bin/env bash
# Fails when generated code is stale: regenerates everything in a scratch
# copy of the repository and compares it with the working tree.
set -o errexit
set -o nounset
set -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCRATCH=$(mktemp -d)
trap 'rm -rf "${SCRATCH}"' EXIT

# Copy the tree as git sees it (tracked and untracked, not ignored files).
(cd "${ROOT}" && git ls-files -z --cached --others --exclude-standard) \
    | (cd "${ROOT}" && xargs -0 cp --parents -t "${SCRATCH}" 2>/dev/null || true)
mkdir -p "${SCRATCH}/.git"  # kube_codegen.sh looks for the repository root

(cd "${SCRATCH}" && ./hack/update-codegen.sh >"${SCRATCH}.log" 2>&1) || {
    echo "hack/update-codegen.sh failed in a scratch copy; its last lines:" >&2
    tail -n 20 "${SCRATCH}.log" >&2
    rm -f "${SCRATCH}.log"
    exit 1
}
rm -f "${SCRATCH}.log"

if ! diff -ruN --exclude=.git "${ROOT}/pkg" "${SCRATCH}/pkg" >"${SCRATCH}.diff" \
    || ! diff -u "${ROOT}/hack/api-rules-violations.list" "${SCRATCH}/hack/api-rules-violations.list" >>"${SCRATCH}.diff"; then
    echo "Generated code is out of date; run hack/update-codegen.sh and commit the result:" >&2
    head -n 60 "${SCRATCH}.diff" >&2
    rm -f "${SCRATCH}.diff"
    exit 1
fi
rm -f "${SCRATCH}.diff"
echo "Generated code is up to date."
