package podunavailablebudget

import (
	"context"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/policy"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/policy/v1beta1"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/deletionprotection"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/registry/registrytest"
)

func newTestStorage(t *testing.T) Storage {
	t.Helper()
	scheme := newScheme()
	metav1.AddToGroupVersion(scheme, metav1.SchemeGroupVersion)
	getter := registrytest.RESTOptionsGetter(t, serializer.NewCodecFactory(scheme).LegacyCodec(v1beta1.SchemeGroupVersion))
	storage, err := NewStorage(scheme, getter)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(storage.PodUnavailableBudget.Store.Store.DestroyFunc)
	return storage
}

// nsContext is the context of a v1beta1 request in namespace ns, as the
// handlers make it (declarative validation needs the request info).
func nsContext(ns string) context.Context {
	ctx := genericapirequest.WithNamespace(genericapirequest.NewContext(), ns)
	return genericapirequest.WithRequestInfo(ctx, &genericapirequest.RequestInfo{
		IsResourceRequest: true, APIGroup: policy.GroupName, APIVersion: "v1beta1",
		Resource: "podunavailablebudgets", Namespace: ns,
	})
}

func create(t *testing.T, s Storage, pub *policy.PodUnavailableBudget) error {
	t.Helper()
	_, err := s.PodUnavailableBudget.Create(nsContext(pub.Namespace), pub, rest.ValidateAllObjectFunc, &metav1.CreateOptions{})
	return err
}

func requireInvalidAt(t *testing.T, err error, path string) {
	t.Helper()
	if !apierrors.IsInvalid(err) {
		t.Fatalf("want 422 Invalid, got %v", err)
	}
	status := err.(apierrors.APIStatus).Status()
	if status.Details == nil || len(status.Details.Causes) != 1 || status.Details.Causes[0].Field != path {
		t.Fatalf("want one cause at %s, got %v", path, err)
	}
}

func TestOverlappingBudgetsAreRefused(t *testing.T) {
	s := newTestStorage(t)
	if err := create(t, s, newPUB("web", map[string]string{"app": "web"})); err != nil {
		t.Fatal(err)
	}
	requireInvalidAt(t, create(t, s, newPUB("web-2", map[string]string{"app": "web"})), "spec.selector")

	// Other Pods, or the same selector in another namespace, are fine.
	if err := create(t, s, newPUB("api", map[string]string{"app": "api"})); err != nil {
		t.Fatal(err)
	}
	elsewhere := newPUB("web", map[string]string{"app": "web"})
	elsewhere.Namespace = "other"
	if err := create(t, s, elsewhere); err != nil {
		t.Fatal(err)
	}

	ref := func(name, apiVersion string) *policy.PodUnavailableBudget {
		pub := newPUB(name, nil)
		pub.Spec.Selector = nil
		pub.Spec.TargetReference = &policy.TargetReference{APIVersion: apiVersion, Kind: "CloneSet", Name: "web"}
		return pub
	}
	if err := create(t, s, ref("ref", "apps.kruise.io/v1beta1")); err != nil {
		t.Fatal(err)
	}
	requireInvalidAt(t, create(t, s, ref("ref-2", "apps.kruise.io/v1alpha1")), "spec.targetRef")

	// Updating a budget does not conflict with itself.
	ctx := nsContext("default")
	obj, err := s.PodUnavailableBudget.Get(ctx, "web", &metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	updated := obj.(*policy.PodUnavailableBudget).DeepCopy()
	updated.Labels = map[string]string{"team": "a"}
	if _, _, err := s.PodUnavailableBudget.Update(ctx, "web", rest.DefaultUpdatedObjectInfo(updated),
		rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, false, &metav1.UpdateOptions{}); err != nil {
		t.Fatalf("update: %v", err)
	}
}

func TestDeleteProtection(t *testing.T) {
	s := newTestStorage(t)
	ctx := nsContext("default")
	always := newPUB("always", map[string]string{"app": "a"})
	always.Labels = map[string]string{deletionprotection.LabelKey: deletionprotection.Always}
	cascading := newPUB("cascading", map[string]string{"app": "c"})
	cascading.Labels = map[string]string{deletionprotection.LabelKey: deletionprotection.Cascading}
	for _, pub := range []*policy.PodUnavailableBudget{always, cascading} {
		if err := create(t, s, pub); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.PodUnavailableBudget.Delete(ctx, "always", rest.ValidateAllObjectFunc, &metav1.DeleteOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("deleting an Always-protected budget: want 403, got %v", err)
	}
	if _, _, err := s.PodUnavailableBudget.Delete(ctx, "cascading", rest.ValidateAllObjectFunc, &metav1.DeleteOptions{}); err != nil {
		t.Fatalf("Cascading protects nothing on a budget, yet: %v", err)
	}
}

func TestStatusUpdate(t *testing.T) {
	s := newTestStorage(t)
	ctx := nsContext("default")
	if err := create(t, s, newPUB("web", map[string]string{"app": "web"})); err != nil {
		t.Fatal(err)
	}
	obj, err := s.Status.Get(ctx, "web", &metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pub := obj.(*policy.PodUnavailableBudget).DeepCopy()
	pub.Status = someStatus()
	pub.Spec.Selector.MatchLabels["app"] = "api"
	out, _, err := s.Status.Update(ctx, "web", rest.DefaultUpdatedObjectInfo(pub), rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, false, &metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := out.(*policy.PodUnavailableBudget)
	if got.Status.TotalReplicas != 3 || got.Spec.Selector.MatchLabels["app"] != "web" {
		t.Fatalf("status update: want status written and spec kept, got %+v", got)
	}

	pub = got.DeepCopy()
	pub.Status.CurrentAvailable = -1
	_, _, err = s.Status.Update(ctx, "web", rest.DefaultUpdatedObjectInfo(pub), rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, false, &metav1.UpdateOptions{})
	requireInvalidAt(t, err, "status.currentAvailable")
}

func TestTable(t *testing.T) {
	pub := newPUB("web", map[string]string{"app": "web"})
	pub.Status = someStatus()
	table, err := tableConvertor.ConvertToTable(context.Background(), pub, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range table.ColumnDefinitions {
		names = append(names, c.Name)
	}
	if got, want := names, []string{"Name", "Allowed", "Current", "Desired", "Total"}; !equalStrings(got, want) {
		t.Fatalf("columns = %v, want %v", got, want)
	}
	want := []interface{}{"web", int64(1), int64(3), int64(2), int64(3)}
	cells := table.Rows[0].Cells
	for i := range want {
		if cells[i] != want[i] {
			t.Fatalf("cells = %v, want %v", cells, want)
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
