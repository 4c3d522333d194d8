package podunavailablebudget

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/policy"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/policy/install"
)

func newScheme() *runtime.Scheme {
	scheme := runtime.NewScheme()
	install.Install(scheme)
	return scheme
}

func newPUB(name string, labels map[string]string) *policy.PodUnavailableBudget {
	return &policy.PodUnavailableBudget{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: policy.PodUnavailableBudgetSpec{
			Selector:       &metav1.LabelSelector{MatchLabels: labels},
			MaxUnavailable: ptr.To(intstr.FromInt32(1)),
		},
	}
}

func someStatus() policy.PodUnavailableBudgetStatus {
	return policy.PodUnavailableBudgetStatus{ObservedGeneration: 1, UnavailableAllowed: 1, CurrentAvailable: 3, DesiredAvailable: 2, TotalReplicas: 3,
		DisruptedPods: map[string]metav1.Time{"web-0": metav1.Now()}}
}

func TestPrepareForCreateResetsStatus(t *testing.T) {
	strategy := NewStrategy(newScheme())
	pub := newPUB("web", map[string]string{"app": "web"})
	pub.Status = someStatus()
	pub.Generation = 7
	strategy.PrepareForCreate(context.Background(), pub)
	if pub.Generation != 1 {
		t.Errorf("generation = %d, want 1", pub.Generation)
	}
	if pub.Status.TotalReplicas != 0 || pub.Status.DisruptedPods != nil {
		t.Errorf("status not reset: %+v", pub.Status)
	}
}

func TestPrepareForUpdate(t *testing.T) {
	strategy := NewStrategy(newScheme())
	old := newPUB("web", map[string]string{"app": "web"})
	old.Generation = 3
	old.Status = someStatus()

	// Metadata only: no new generation, and the status sent is ignored.
	pub := old.DeepCopy()
	pub.Labels = map[string]string{"team": "a"}
	pub.Status = policy.PodUnavailableBudgetStatus{TotalReplicas: 42}
	strategy.PrepareForUpdate(context.Background(), pub, old)
	if pub.Generation != 3 {
		t.Errorf("metadata change: generation = %d, want 3", pub.Generation)
	}
	if pub.Status.TotalReplicas != 3 {
		t.Errorf("status from the request was kept: %+v", pub.Status)
	}

	// A spec change bumps the generation.
	pub = old.DeepCopy()
	pub.Spec.ProtectOperations = []policy.PubOperation{policy.PubEvictOperation}
	strategy.PrepareForUpdate(context.Background(), pub, old)
	if pub.Generation != 4 {
		t.Errorf("spec change: generation = %d, want 4", pub.Generation)
	}
}

func TestStatusPrepareForUpdateKeepsSpecAndLabels(t *testing.T) {
	strategy := NewStatusStrategy(NewStrategy(newScheme()))
	old := newPUB("web", map[string]string{"app": "web"})
	old.Labels = map[string]string{"team": "a"}
	old.Generation = 2

	pub := old.DeepCopy()
	pub.Spec.MaxUnavailable = ptr.To(intstr.FromString("50%"))
	pub.Labels = map[string]string{"team": "b"}
	pub.Status = someStatus()
	strategy.PrepareForUpdate(context.Background(), pub, old)
	if pub.Spec.MaxUnavailable.String() != "1" {
		t.Errorf("spec from a /status request was kept: %v", pub.Spec.MaxUnavailable)
	}
	if pub.Labels["team"] != "a" {
		t.Errorf("labels from a /status request were kept: %v", pub.Labels)
	}
	if pub.Status.TotalReplicas != 3 {
		t.Errorf("status was not taken: %+v", pub.Status)
	}
	if pub.Generation != 2 {
		t.Errorf("generation = %d, want 2", pub.Generation)
	}
}

func TestWarnings(t *testing.T) {
	pub := newPUB("web", map[string]string{"app": "web"})
	if w := warnings(pub); len(w) != 0 {
		t.Errorf("warnings without legacy annotations: %v", w)
	}
	pub.Annotations = map[string]string{
		policy.LegacyProtectOperationsAnnotation:    "DELETE",
		policy.LegacyProtectTotalReplicasAnnotation: "3",
	}
	if w := warnings(pub); len(w) != 2 {
		t.Errorf("want a warning per legacy annotation, got %v", w)
	}
}
