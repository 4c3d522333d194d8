package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"

	"github.com/kruise-apiserver/kruise-apiserver/test/integration/framework"
)

const testNamespace = "default"

func resourceClient(c dynamic.Interface, k kind, version string) dynamic.ResourceInterface {
	r := c.Resource(k.gvr(version))
	if k.namespaced {
		return r.Namespace(testNamespace)
	}
	return r
}

// TestCRUDAndWatchAtEveryVersion creates each kind at each version, reads
// it at every version, lists, updates, patches and deletes it, while a watch
// at the other version sees every change.
func TestCRUDAndWatchAtEveryVersion(t *testing.T) {
	s := framework.Start(t, "")
	c := s.Dynamic(t)
	ctx := context.Background()
	for _, k := range kinds {
		for _, version := range versions {
			other := otherVersion(version)
			t.Run(k.name+"/"+version, func(t *testing.T) {
				name := strings.ToLower("crud-" + version)
				client := resourceClient(c, k, version)
				w, err := resourceClient(c, k, other).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name})
				if err != nil {
					t.Fatal(err)
				}
				defer w.Stop()

				created, err := client.Create(ctx, k.object(t, version, name), metav1.CreateOptions{FieldValidation: "Strict"})
				if err != nil {
					t.Fatalf("create: %v", err)
				}
				if created.GetGeneration() != 1 || created.GetUID() == "" || created.GetResourceVersion() == "" {
					t.Fatalf("create did not set metadata: %+v", created.Object["metadata"])
				}
				expectEvent(t, w, watch.Added, name)

				for _, v := range versions {
					got, err := resourceClient(c, k, v).Get(ctx, name, metav1.GetOptions{})
					if err != nil {
						t.Fatalf("get at %s: %v", v, err)
					}
					if got.GetAPIVersion() != k.group+"/"+v || got.GetUID() != created.GetUID() {
						t.Fatalf("get at %s returned %s %s", v, got.GetAPIVersion(), got.GetUID())
					}
				}
				list, err := resourceClient(c, k, other).List(ctx, metav1.ListOptions{})
				if err != nil || !containsName(list, name) {
					t.Fatalf("list at %s: %v (%d items)", other, err, len(list.Items))
				}

				created.SetLabels(map[string]string{"updated": "yes"})
				updated, err := client.Update(ctx, created, metav1.UpdateOptions{})
				if err != nil {
					t.Fatalf("update: %v", err)
				}
				if updated.GetGeneration() != 1 {
					t.Fatalf("a label change bumped the generation to %d", updated.GetGeneration())
				}
				expectEvent(t, w, watch.Modified, name)

				patched, err := client.Patch(ctx, name, types.MergePatchType, []byte(`{"metadata":{"annotations":{"patched":"merge"}}}`), metav1.PatchOptions{})
				if err != nil || patched.GetAnnotations()["patched"] != "merge" {
					t.Fatalf("merge patch: %v", err)
				}
				expectEvent(t, w, watch.Modified, name)
				patched, err = client.Patch(ctx, name, types.JSONPatchType, []byte(`[{"op":"add","path":"/metadata/annotations/json","value":"yes"}]`), metav1.PatchOptions{})
				if err != nil || patched.GetAnnotations()["json"] != "yes" {
					t.Fatalf("json patch: %v", err)
				}
				expectEvent(t, w, watch.Modified, name)

				if err := client.Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
					t.Fatalf("delete: %v", err)
				}
				expectEvent(t, w, watch.Deleted, name)
				if _, err := client.Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
					t.Fatalf("get after delete: %v", err)
				}
			})
		}
	}
}

// TestStaleUpdateConflicts checks optimistic concurrency: an update carrying
// an old resourceVersion is refused with 409.
func TestStaleUpdateConflicts(t *testing.T) {
	s := framework.Start(t, "")
	c := s.Dynamic(t)
	ctx := context.Background()
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			client := resourceClient(c, k, "v1beta1")
			created, err := client.Create(ctx, k.object(t, "v1beta1", "stale"), metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			first := created.DeepCopy()
			first.SetLabels(map[string]string{"writer": "first"})
			if _, err := client.Update(ctx, first, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
			second := created.DeepCopy()
			second.SetLabels(map[string]string{"writer": "second"})
			_, err = client.Update(ctx, second, metav1.UpdateOptions{})
			if !apierrors.IsConflict(err) {
				t.Fatalf("stale update: got %v, want 409 Conflict", err)
			}
		})
	}
}

// TestInvalidObjectsAreRejectedWithFieldPaths checks that a broken object is
// answered with 422 Invalid naming every bad field, at both versions, on
// create and on update, and that nothing is stored.
func TestInvalidObjectsAreRejectedWithFieldPaths(t *testing.T) {
	s := framework.Start(t, "")
	c := s.Dynamic(t)
	ctx := context.Background()
	for _, k := range kinds {
		for _, version := range versions {
			t.Run(k.name+"/"+version, func(t *testing.T) {
				client := resourceClient(c, k, version)
				bad := k.object(t, version, "invalid-"+version)
				k.invalid(bad)
				_, err := client.Create(ctx, bad, metav1.CreateOptions{})
				expectInvalid(t, err, k.invalidPaths)
				if _, err := client.Get(ctx, bad.GetName(), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
					t.Fatalf("rejected object was stored: %v", err)
				}

				good, err := client.Create(ctx, k.object(t, version, "valid-"+version), metav1.CreateOptions{})
				if err != nil {
					t.Fatal(err)
				}
				k.invalid(good)
				_, err = client.Update(ctx, good, metav1.UpdateOptions{})
				expectInvalid(t, err, k.invalidPaths)
			})
		}
	}
}

// TestStatusIsSeparateFromSpec checks the status subresource contract: the
// main resource ignores status (and resets it on create), /status ignores
// spec, and only spec changes bump the generation.
func TestStatusIsSeparateFromSpec(t *testing.T) {
	s := framework.Start(t, "")
	c := s.Dynamic(t)
	ctx := context.Background()
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			client := resourceClient(c, k, "v1beta1")
			obj := k.object(t, "v1beta1", "status")
			setNested(obj, int64(5), k.statusPath()...)
			created, err := client.Create(ctx, obj, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if g, _, _ := unstructured.NestedInt64(created.Object, k.statusPath()...); g != 0 {
				t.Fatalf("create kept %v=%d", k.statusPath(), g)
			}

			withStatus := created.DeepCopy()
			setNested(withStatus, int64(1), k.statusPath()...)
			k.specChange(withStatus)
			updatedStatus, err := client.UpdateStatus(ctx, withStatus, metav1.UpdateOptions{})
			if err != nil {
				t.Fatalf("update status: %v", err)
			}
			if g, _, _ := unstructured.NestedInt64(updatedStatus.Object, k.statusPath()...); g != 1 {
				t.Fatalf("/status did not store status: %v=%d", k.statusPath(), g)
			}
			spec, _, _ := unstructured.NestedMap(updatedStatus.Object, "spec")
			createdSpec, _, _ := unstructured.NestedMap(created.Object, "spec")
			if fmt.Sprint(spec) != fmt.Sprint(createdSpec) || updatedStatus.GetGeneration() != 1 {
				t.Fatalf("/status changed the spec or generation (%d)", updatedStatus.GetGeneration())
			}

			specUpdate := updatedStatus.DeepCopy()
			k.specChange(specUpdate)
			setNested(specUpdate, int64(42), k.statusPath()...)
			updated, err := client.Update(ctx, specUpdate, metav1.UpdateOptions{})
			if err != nil {
				t.Fatalf("update: %v", err)
			}
			if g, _, _ := unstructured.NestedInt64(updated.Object, k.statusPath()...); g != 1 {
				t.Fatalf("the main resource changed %v to %d", k.statusPath(), g)
			}
			if updated.GetGeneration() != 2 {
				t.Fatalf("a spec change left generation at %d", updated.GetGeneration())
			}
		})
	}
}

func otherVersion(version string) string {
	if version == "v1alpha1" {
		return "v1beta1"
	}
	return "v1alpha1"
}

func containsName(list *unstructured.UnstructuredList, name string) bool {
	for _, item := range list.Items {
		if item.GetName() == name {
			return true
		}
	}
	return false
}

func expectEvent(t *testing.T, w watch.Interface, want watch.EventType, name string) {
	t.Helper()
	select {
	case ev, ok := <-w.ResultChan():
		if !ok {
			t.Fatalf("watch closed waiting for %s", want)
		}
		obj, isObj := ev.Object.(*unstructured.Unstructured)
		if ev.Type != want || !isObj || obj.GetName() != name {
			t.Fatalf("watch: got %s %v, want %s %s", ev.Type, ev.Object, want, name)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("no %s event for %s", want, name)
	}
}

// expectInvalid requires a 422 Invalid whose causes name every path.
func expectInvalid(t *testing.T, err error, paths []string) {
	t.Helper()
	if !apierrors.IsInvalid(err) {
		t.Fatalf("got %v, want 422 Invalid", err)
	}
	status, ok := err.(apierrors.APIStatus)
	if !ok || status.Status().Details == nil {
		t.Fatalf("422 without details: %v", err)
	}
	fields := map[string]bool{}
	for _, cause := range status.Status().Details.Causes {
		fields[cause.Field] = true
	}
	for _, p := range paths {
		if !fields[p] {
			t.Errorf("422 does not name %s; it names %v (%v)", p, fields, err)
		}
	}
}
