package e2e

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
)

var namespaces atomic.Int32

// namespace creates a namespace for one test and deletes it (without
// waiting) when the test ends.
func namespace(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("e2e-%s-%d", strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")), namespaces.Add(1))
	if len(name) > 63 {
		name = name[:63]
	}
	name = strings.Trim(name, "-")
	kubectl(t, "create", "namespace", name)
	t.Cleanup(func() { runKubectl("", "delete", "namespace", name, "--wait=false") })
	return name
}

// cloneSetManifest is a minimal v1beta1 CloneSet.
func cloneSetManifest(name string, replicas int) string {
	return fmt.Sprintf(`apiVersion: apps.kruise.io/v1beta1
kind: CloneSet
metadata:
  name: %s
spec:
  replicas: %d
  selector:
    matchLabels: {app: %s}
  template:
    metadata:
      labels: {app: %s}
    spec:
      containers:
      - name: main
        image: nginx:1.25
      - name: sidecar
        image: busybox:1.36
`, name, replicas, name, name)
}
