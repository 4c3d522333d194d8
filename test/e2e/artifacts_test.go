package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestArtifactsInstall renders each kustomize overlay of artifacts/, with
// certificates from artifacts/gen-certs.sh, and has kube-apiserver validate
// every object in a server-side dry run: what an operator applies is
// accepted by the Kubernetes version we pin.
func TestArtifactsInstall(t *testing.T) {
	work := t.TempDir()
	if out, err := exec.Command("cp", "-r", filepath.Join(repo, "artifacts"), work).CombinedOutput(); err != nil {
		t.Fatalf("copying artifacts: %v\n%s", err, out)
	}
	artifacts := filepath.Join(work, "artifacts")
	// A copy, so the certificates a developer generated stay untouched.
	_ = os.RemoveAll(filepath.Join(artifacts, "certs", "serving.crt"))
	gen := exec.Command(filepath.Join(artifacts, "gen-certs.sh"), "--force")
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("gen-certs.sh: %v\n%s", err, out)
	}
	for _, overlay := range []string{"default", "external-etcd"} {
		t.Run(overlay, func(t *testing.T) {
			out := kubectl(t, "apply", "--dry-run=server", "-k", filepath.Join(artifacts, "overlays", overlay))
			expectContains(t, "dry run of "+overlay, out, "deployment.apps/kruise-apiserver created (server dry run)")
			expectContains(t, "dry run of "+overlay, out, "apiservice.apiregistration.k8s.io/v1beta1.apps.kruise.io configured (server dry run)")
			expectContains(t, "dry run of "+overlay, out, "daemonset.apps/kruise-daemon created (server dry run)")
		})
	}
}
