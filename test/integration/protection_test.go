package integration

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/deletionprotection"
	"github.com/kruise-apiserver/kruise-apiserver/test/integration/framework"
)

func protected(t *testing.T, k kind, name, value string) *unstructured.Unstructured {
	obj := k.object(t, "v1beta1", name)
	obj.SetLabels(map[string]string{deletionprotection.LabelKey: value})
	return obj
}

// TestDeletionProtection checks the policy.kruise.io/delete-protection label
// in the storage layer, for DELETE and DELETECOLLECTION.
func TestDeletionProtection(t *testing.T) {
	s := framework.Start(t, "")
	c := s.Dynamic(t)
	ctx := context.Background()
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			client := resourceClient(c, k, "v1beta1")

			if _, err := client.Create(ctx, protected(t, k, "always", deletionprotection.Always), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			err := client.Delete(ctx, "always", metav1.DeleteOptions{})
			expectForbidden(t, err, "forbidden by ResourcesProtectionDeletion for policy.kruise.io/delete-protection=Always")
			if _, err := client.Get(ctx, "always", metav1.GetOptions{}); err != nil {
				t.Fatalf("protected object is gone: %v", err)
			}
			// Dry-run deletes are refused the same way.
			err = client.Delete(ctx, "always", metav1.DeleteOptions{DryRun: []string{metav1.DryRunAll}})
			expectForbidden(t, err, "policy.kruise.io/delete-protection=Always")

			if _, err := client.Create(ctx, protected(t, k, "cascading", deletionprotection.Cascading), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			if k.workload {
				err := client.Delete(ctx, "cascading", metav1.DeleteOptions{})
				expectForbidden(t, err, "forbidden by ResourcesProtectionDeletion for policy.kruise.io/delete-protection=Cascading and replicas 2>0")
				if _, err := client.Patch(ctx, "cascading", types.MergePatchType, []byte(`{"spec":{"replicas":0}}`), metav1.PatchOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			if err := client.Delete(ctx, "cascading", metav1.DeleteOptions{}); err != nil {
				t.Fatalf("Cascading object with nothing to cascade: %v", err)
			}

			bad := protected(t, k, "bad-value", "always")
			_, err = client.Create(ctx, bad, metav1.CreateOptions{})
			expectInvalid(t, err, []string{"metadata.labels[policy.kruise.io/delete-protection]"})

			// DELETECOLLECTION removes what is not protected, keeps what is,
			// and fails saying which objects were kept and why.
			for _, name := range []string{"plain-a", "plain-b"} {
				obj := k.object(t, "v1beta1", name)
				obj.SetLabels(map[string]string{"batch": "x"})
				if _, err := client.Create(ctx, obj, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			keep := protected(t, k, "kept", deletionprotection.Always)
			keep.SetLabels(map[string]string{"batch": "x", deletionprotection.LabelKey: deletionprotection.Always})
			if _, err := client.Create(ctx, keep, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			err = client.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: "batch=x"})
			expectForbidden(t, err, `"kept" (forbidden by ResourcesProtectionDeletion for policy.kruise.io/delete-protection=Always)`)
			left, err := client.List(ctx, metav1.ListOptions{LabelSelector: "batch=x"})
			if err != nil {
				t.Fatal(err)
			}
			if len(left.Items) != 1 || left.Items[0].GetName() != "kept" {
				t.Fatalf("after deletecollection: %d left", len(left.Items))
			}

			// Removing the label lets the object go.
			if _, err := client.Patch(ctx, "always", types.MergePatchType, []byte(`{"metadata":{"labels":{"policy.kruise.io/delete-protection":null}}}`), metav1.PatchOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := client.Delete(ctx, "always", metav1.DeleteOptions{}); err != nil {
				t.Fatalf("unprotected delete: %v", err)
			}
		})
	}
}

func expectForbidden(t *testing.T, err error, message string) {
	t.Helper()
	if !apierrors.IsForbidden(err) {
		t.Fatalf("got %v, want 403 Forbidden", err)
	}
	if !strings.Contains(err.Error(), message) {
		t.Fatalf("403 message %q does not contain %q", err.Error(), message)
	}
}
