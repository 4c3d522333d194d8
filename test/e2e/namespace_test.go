package e2e

import (
	"fmt"
	"strings"
	"testing"
)

// TestNamespaceDeletion: deleting a namespace removes its Kruise objects
// (kube-controller-manager's namespace controller finds them through
// discovery), except protected ones, which hold the namespace in
// Terminating with a condition that says why; without the label it goes.
func TestNamespaceDeletion(t *testing.T) {
	ns := namespace(t)
	kubectlIn(t, cloneSetManifest("ordinary", 1), "apply", "-n", ns, "-f", "-")
	kubectlIn(t, cloneSetManifest("precious", 1), "apply", "-n", ns, "-f", "-")
	kubectl(t, "label", "clone", "precious", "-n", ns, "policy.kruise.io/delete-protection=Always")
	kubectlIn(t, `apiVersion: policy.kruise.io/v1beta1
kind: PodUnavailableBudget
metadata: {name: budget}
spec:
  selector: {matchLabels: {app: ordinary}}
  maxUnavailable: 1
`, "apply", "-n", ns, "-f", "-")

	kubectl(t, "delete", "namespace", ns, "--wait=false")
	waitFor(t, "the unprotected objects to be deleted", func() error {
		out := kubectl(t, "get", "clonesets,podunavailablebudgets", "-n", ns, "-o", "name")
		if got := strings.Fields(out); len(got) != 1 || got[0] != "cloneset.apps.kruise.io/precious" {
			return fmt.Errorf("left: %v", got)
		}
		return nil
	})
	waitFor(t, "a namespace condition naming the protection", func() error {
		out := kubectl(t, "get", "namespace", ns, "-o", "jsonpath={.status.phase} {.status.conditions[*].message}")
		if !strings.HasPrefix(out, "Terminating") || !strings.Contains(out, "policy.kruise.io/delete-protection=Always") {
			return fmt.Errorf("namespace: %s", out)
		}
		return nil
	})

	kubectl(t, "label", "clone", "precious", "-n", ns, "policy.kruise.io/delete-protection-")
	waitFor(t, "the namespace to go", func() error {
		r := runKubectl("", "get", "namespace", ns)
		if r.err == nil {
			return fmt.Errorf("still there: %s", r.stdout)
		}
		if !strings.Contains(r.stderr, "NotFound") && !strings.Contains(r.stderr, "not found") {
			return fmt.Errorf("%s", r)
		}
		return nil
	})
}
