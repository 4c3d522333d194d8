package integration

import (
	"context"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	corev1 "k8s.io/api/core/v1"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
	"github.com/kruise-apiserver/kruise-apiserver/test/integration/framework"
)

func typedCloneSet(name string) *v1beta1.CloneSet {
	return &v1beta1.CloneSet{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1beta1.CloneSetSpec{
			Replicas: ptr.To[int32](3),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name, "tier": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "nginx:1.25"}}},
			},
			UpdateStrategy: v1beta1.CloneSetUpdateStrategy{RollingUpdate: &v1beta1.RollingUpdateCloneSetStrategy{
				MaxUnavailable: ptr.To(intstr.FromInt32(1)),
			}},
		},
	}
}

// TestScaleSubresource drives /scale with the typed clientset, as kubectl
// scale and an HPA do.
func TestScaleSubresource(t *testing.T) {
	s := framework.Start(t, "")
	cs := s.Clientset(t)
	ctx := context.Background()
	clonesets := cs.AppsV1beta1().CloneSets(testNamespace)
	if _, err := clonesets.Create(ctx, typedCloneSet("scaled"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	scale, err := clonesets.GetScale(ctx, "scaled", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if scale.Spec.Replicas != 3 {
		t.Fatalf("scale.spec.replicas = %d", scale.Spec.Replicas)
	}
	// Before the controller publishes status.labelSelector, the selector
	// comes from spec.selector, so an HPA can find the Pods at once.
	if scale.Status.Selector != "app=scaled" {
		t.Fatalf("scale.status.selector = %q", scale.Status.Selector)
	}

	scale.Spec.Replicas = 10
	updated, err := clonesets.UpdateScale(ctx, "scaled", scale, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if updated.Spec.Replicas != 10 {
		t.Fatalf("updated scale = %d", updated.Spec.Replicas)
	}
	got, err := cs.AppsV1alpha1().CloneSets(testNamespace).Get(ctx, "scaled", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if *got.Spec.Replicas != 10 || got.Generation != 2 {
		t.Fatalf("cloneset after scale: replicas %d generation %d", *got.Spec.Replicas, got.Generation)
	}

	// The old scale's resourceVersion is a precondition.
	scale.Spec.Replicas = 4
	if _, err := clonesets.UpdateScale(ctx, "scaled", scale, metav1.UpdateOptions{}); !apierrors.IsConflict(err) {
		t.Fatalf("stale scale update: %v", err)
	}
	fresh, _ := clonesets.GetScale(ctx, "scaled", metav1.GetOptions{})
	fresh.Spec.Replicas = -1
	_, err = clonesets.UpdateScale(ctx, "scaled", fresh, metav1.UpdateOptions{})
	expectInvalid(t, err, []string{"spec.replicas"})

	if _, err := clonesets.GetScale(ctx, "missing", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("scale of a missing cloneset: %v", err)
	}
}
