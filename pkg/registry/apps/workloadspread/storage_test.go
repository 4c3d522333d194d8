package workloadspread

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/intstr"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/utils/ptr"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/registry/apps/cloneset"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/registry/registrytest"
)

func newTestStorage(t *testing.T) (Storage, cloneset.Storage) {
	t.Helper()
	scheme := newScheme()
	getter := registrytest.RESTOptionsGetter(t, serializer.NewCodecFactory(scheme).LegacyCodec(v1beta1.SchemeGroupVersion))
	cloneSets, err := cloneset.NewStorage(scheme, getter)
	if err != nil {
		t.Fatal(err)
	}
	workloadSpreads, err := NewStorage(scheme, getter, cloneSets.CloneSet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		workloadSpreads.WorkloadSpread.Store.Store.DestroyFunc()
		cloneSets.CloneSet.Store.Store.DestroyFunc()
	})
	return workloadSpreads, cloneSets
}

func requestContext(version string) context.Context {
	ctx := genericapirequest.WithNamespace(context.Background(), "default")
	return genericapirequest.WithRequestInfo(ctx, &genericapirequest.RequestInfo{APIGroup: apps.GroupName, APIVersion: version, Resource: "workloadspreads"})
}

func spreadOf(name, apiVersion, kind, workload string) *apps.WorkloadSpread {
	return &apps.WorkloadSpread{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: apps.WorkloadSpreadSpec{
			TargetReference: &apps.TargetReference{APIVersion: apiVersion, Kind: kind, Name: workload},
			Subsets:         []apps.WorkloadSpreadSubset{{Name: "zone-a"}},
		},
	}
}

// invalidAt asserts err is a 422 with one cause, at path, whose message contains text.
func invalidAt(t *testing.T, err error, path, text string) {
	t.Helper()
	if !apierrors.IsInvalid(err) {
		t.Fatalf("got %v, want 422 Invalid", err)
	}
	causes := err.(apierrors.APIStatus).Status().Details.Causes
	if len(causes) != 1 || causes[0].Field != path || !strings.Contains(causes[0].Message, text) {
		t.Fatalf("got causes %+v, want one at %s containing %q", causes, path, text)
	}
}

func TestOneWorkloadSpreadPerWorkload(t *testing.T) {
	storage, _ := newTestStorage(t)
	ctx := requestContext("v1beta1")
	if _, err := storage.WorkloadSpread.Create(ctx, spreadOf("first", "apps/v1", "Deployment", "web"), rest.ValidateAllObjectFunc, &metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err := storage.WorkloadSpread.Create(ctx, spreadOf("second", "apps/v1beta2", "Deployment", "web"), rest.ValidateAllObjectFunc, &metav1.CreateOptions{})
	invalidAt(t, err, "spec.targetRef", "ws.spec.targetRef is in conflict with other WorkloadSpread first")
	if _, err := storage.WorkloadSpread.Get(ctx, "second", &metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("rejected WorkloadSpread stored: %v", err)
	}

	for _, ws := range []*apps.WorkloadSpread{
		spreadOf("other-name", "apps/v1", "Deployment", "api"),
		spreadOf("other-kind", "apps/v1", "ReplicaSet", "web"),
	} {
		if _, err := storage.WorkloadSpread.Create(ctx, ws, rest.ValidateAllObjectFunc, &metav1.CreateOptions{}); err != nil {
			t.Fatalf("%s: %v", ws.Name, err)
		}
	}
	// Other namespaces are not looked at.
	elsewhere := genericapirequest.WithNamespace(ctx, "other")
	ws := spreadOf("first", "apps/v1", "Deployment", "web")
	ws.Namespace = "other"
	if _, err := storage.WorkloadSpread.Create(elsewhere, ws, rest.ValidateAllObjectFunc, &metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// An update of the first is not a conflict with itself.
	obj, err := storage.WorkloadSpread.Get(ctx, "first", &metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	updated := obj.(*apps.WorkloadSpread).DeepCopy()
	updated.Spec.Subsets = append(updated.Spec.Subsets, apps.WorkloadSpreadSubset{Name: "zone-b"})
	if _, _, err := storage.WorkloadSpread.Update(ctx, "first", rest.DefaultUpdatedObjectInfo(updated), rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, false, &metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestPatchesCheckedAgainstTargetCloneSet(t *testing.T) {
	storage, cloneSets := newTestStorage(t)
	ctx := requestContext("v1beta1")
	cs := &apps.CloneSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: apps.CloneSetSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "nginx", Image: "nginx"}}},
			},
			UpdateStrategy: apps.CloneSetUpdateStrategy{
				Type: apps.RollingUpdateCloneSetUpdateStrategyType,
				RollingUpdate: &apps.RollingUpdateCloneSetStrategy{
					PodUpdatePolicy: apps.RecreateCloneSetPodUpdateStrategyType,
					MaxUnavailable:  ptr.To(intstr.FromString("20%")),
				},
			},
		},
	}
	csCtx := genericapirequest.WithRequestInfo(genericapirequest.WithNamespace(context.Background(), "default"),
		&genericapirequest.RequestInfo{APIGroup: apps.GroupName, APIVersion: "v1beta1", Resource: "clonesets"})
	if _, err := cloneSets.CloneSet.Create(csCtx, cs, rest.ValidateAllObjectFunc, &metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	ws := spreadOf("ws", "apps.kruise.io/v1alpha1", "CloneSet", "web")
	ws.Spec.Subsets[0].Patch = rawPatch(`{"spec":{"containers":[{"name":"sidecar"}]}}`)
	_, err := storage.WorkloadSpread.Create(ctx, ws, rest.ValidateAllObjectFunc, &metav1.CreateOptions{})
	invalidAt(t, err, "spec.subsets[0].patch.spec.containers[0].image", "")

	ws.Spec.Subsets[0].Patch = rawPatch(`{"spec":{"containers":[{"name":"nginx","resources":{"limits":{"cpu":"500m"}}}]}}`)
	if _, err := storage.WorkloadSpread.Create(ctx, ws, rest.ValidateAllObjectFunc, &metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// A CloneSet that does not exist (yet) leaves the Pod spec part unchecked.
	ws = spreadOf("later", "apps.kruise.io/v1beta1", "CloneSet", "api")
	ws.Spec.Subsets[0].Patch = rawPatch(`{"spec":{"containers":[{"name":"sidecar"}]}}`)
	if _, err := storage.WorkloadSpread.Create(ctx, ws, rest.ValidateAllObjectFunc, &metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestErrorsAtV1alpha1Paths(t *testing.T) {
	storage, _ := newTestStorage(t)
	ws := spreadOf("ws", "apps/v1", "Deployment", "web")
	ws.Spec.Subsets[0].RequiredNodeSelector = &corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{
		{Key: "zone", Operator: corev1.NodeSelectorOpIn},
	}}
	_, err := storage.WorkloadSpread.Create(requestContext("v1alpha1"), ws, rest.ValidateAllObjectFunc, &metav1.CreateOptions{})
	invalidAtType(t, err, "spec.subsets[0].requiredNodeSelectorTerm.matchExpressions[0].values")
}

func invalidAtType(t *testing.T, err error, path string) {
	t.Helper()
	if !apierrors.IsInvalid(err) {
		t.Fatalf("got %v, want 422 Invalid", err)
	}
	for _, cause := range err.(apierrors.APIStatus).Status().Details.Causes {
		if cause.Field == path {
			return
		}
	}
	t.Fatalf("no cause at %s in %v", path, err)
}

func TestStatusAndDeletionProtection(t *testing.T) {
	storage, _ := newTestStorage(t)
	ctx := requestContext("v1beta1")
	ws := spreadOf("ws", "apps/v1", "Deployment", "web")
	ws.Labels = map[string]string{"policy.kruise.io/delete-protection": "Always"}
	ws.Status.ObservedGeneration = 7
	created, err := storage.WorkloadSpread.Create(ctx, ws, rest.ValidateAllObjectFunc, &metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if created.(*apps.WorkloadSpread).Status.ObservedGeneration != 0 {
		t.Fatalf("status kept on create")
	}

	withStatus := created.(*apps.WorkloadSpread).DeepCopy()
	withStatus.Status = apps.WorkloadSpreadStatus{ObservedGeneration: 1, SubsetStatuses: []apps.WorkloadSpreadSubsetStatus{
		{Name: "zone-a", Replicas: 1, MissingReplicas: -1, Conditions: []metav1.Condition{
			{Type: apps.SubsetSchedulable, Status: metav1.ConditionTrue, Reason: "Schedulable", ObservedGeneration: 1},
		}},
	}}
	withStatus.Spec.Subsets = nil
	updated, _, err := storage.Status.Update(ctx, "ws", rest.DefaultUpdatedObjectInfo(withStatus), rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, false, &metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := updated.(*apps.WorkloadSpread)
	if got.Status.ObservedGeneration != 1 || len(got.Status.SubsetStatuses) != 1 || len(got.Spec.Subsets) != 1 {
		t.Fatalf("/status update: spec %+v status %+v", got.Spec, got.Status)
	}

	_, _, err = storage.WorkloadSpread.Delete(ctx, "ws", rest.ValidateAllObjectFunc, &metav1.DeleteOptions{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "forbidden by ResourcesProtectionDeletion for policy.kruise.io/delete-protection=Always") {
		t.Fatalf("delete of a protected WorkloadSpread: %v", err)
	}

	// Cascading protects nothing: a WorkloadSpread holds no replicas.
	cascading := spreadOf("cascading", "apps/v1", "Deployment", "api")
	cascading.Labels = map[string]string{"policy.kruise.io/delete-protection": "Cascading"}
	if _, err := storage.WorkloadSpread.Create(ctx, cascading, rest.ValidateAllObjectFunc, &metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := storage.WorkloadSpread.Delete(ctx, "cascading", rest.ValidateAllObjectFunc, &metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestNames(t *testing.T) {
	r := &REST{}
	if got := r.ShortNames(); len(got) != 1 || got[0] != "ws" {
		t.Errorf("short names %v", got)
	}
	if got := r.Categories(); len(got) != 1 || got[0] != "kruise" {
		t.Errorf("categories %v", got)
	}
}

func rawPatch(patch string) *runtime.RawExtension {
	return &runtime.RawExtension{Raw: []byte(patch)}
}
