//go:build tools

// Package tools pins the code generators hack/update-codegen.sh runs, so that
// they come from the same module versions as the rest of go.mod.
package tools

import (
	_ "k8s.io/code-generator"
	_ "k8s.io/kube-openapi/cmd/openapi-gen"
)
