package validation

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/annotationstash"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/policy"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/deletionprotection"
)

func validSelectorPUB() *policy.PodUnavailableBudget {
	return &policy.PodUnavailableBudget{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", ResourceVersion: "1"},
		Spec: policy.PodUnavailableBudgetSpec{
			Selector:       &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			MaxUnavailable: ptr.To(intstr.FromString("25%")),
		},
	}
}

func validTargetRefPUB() *policy.PodUnavailableBudget {
	pub := validSelectorPUB()
	pub.Spec.Selector = nil
	pub.Spec.TargetReference = &policy.TargetReference{APIVersion: "apps.kruise.io/v1beta1", Kind: "CloneSet", Name: "web"}
	return pub
}

// wantErr is the one error a case expects.
type wantErr struct {
	typ   field.ErrorType
	field string
}

func checkErrors(t *testing.T, errs field.ErrorList, want *wantErr) {
	t.Helper()
	if want == nil {
		if len(errs) > 0 {
			t.Fatalf("unexpected errors: %v", errs)
		}
		return
	}
	if len(errs) != 1 {
		t.Fatalf("want one %s error at %s, got %d: %v", want.typ, want.field, len(errs), errs)
	}
	if errs[0].Type != want.typ || errs[0].Field != want.field {
		t.Fatalf("want %s at %s, got %s at %s: %v", want.typ, want.field, errs[0].Type, errs[0].Field, errs[0])
	}
}

func TestValidatePodUnavailableBudget(t *testing.T) {
	cases := []struct {
		name   string
		base   func() *policy.PodUnavailableBudget
		mutate func(*policy.PodUnavailableBudget)
		want   *wantErr
	}{
		{name: "valid selector", base: validSelectorPUB, mutate: func(*policy.PodUnavailableBudget) {}},
		{name: "valid targetRef", base: validTargetRefPUB, mutate: func(*policy.PodUnavailableBudget) {}},
		{name: "valid with every v1beta1 field", base: validSelectorPUB, mutate: func(p *policy.PodUnavailableBudget) {
			p.Spec.ProtectOperations = []policy.PubOperation{policy.PubDeleteOperation, policy.PubResizeOperation}
			p.Spec.ProtectTotalReplicas = ptr.To[int32](3)
			p.Spec.IgnoredPodSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"canary": "true"}}
			p.Annotations = map[string]string{
				policy.LegacyProtectTotalReplicasAnnotation: "3",
				policy.LegacyProtectOperationsAnnotation:    "DELETE, EVICT,",
			}
		}},
		{name: "bad name", base: validSelectorPUB, mutate: func(p *policy.PodUnavailableBudget) { p.Name = "Web" },
			want: &wantErr{field.ErrorTypeInvalid, "metadata.name"}},
		{name: "stash annotation on the hub", base: validSelectorPUB, mutate: func(p *policy.PodUnavailableBudget) {
			p.Annotations = map[string]string{annotationstash.Key: "{}"}
		}, want: &wantErr{field.ErrorTypeInvalid, "metadata.annotations[" + annotationstash.Key + "]"}},
		{name: "bad deletion protection label", base: validSelectorPUB, mutate: func(p *policy.PodUnavailableBudget) {
			p.Labels = map[string]string{deletionprotection.LabelKey: "Sometimes"}
		}, want: &wantErr{field.ErrorTypeNotSupported, "metadata.labels[" + deletionprotection.LabelKey + "]"}},
		{name: "total replicas annotation not an int32", base: validSelectorPUB, mutate: func(p *policy.PodUnavailableBudget) {
			p.Annotations = map[string]string{policy.LegacyProtectTotalReplicasAnnotation: "4294967296"}
		}, want: &wantErr{field.ErrorTypeInvalid, "metadata.annotations[pub.kruise.io/protect-total-replicas]"}},
		{name: "total replicas annotation differs from the field", base: validSelectorPUB, mutate: func(p *policy.PodUnavailableBudget) {
			p.Annotations = map[string]string{policy.LegacyProtectTotalReplicasAnnotation: "5"}
			p.Spec.ProtectTotalReplicas = ptr.To[int32](6)
		}, want: &wantErr{field.ErrorTypeInvalid, "metadata.annotations[pub.kruise.io/protect-total-replicas]"}},
		{name: "total replicas annotation alone", base: validSelectorPUB, mutate: func(p *policy.PodUnavailableBudget) {
			p.Annotations = map[string]string{policy.LegacyProtectTotalReplicasAnnotation: "0"}
		}},
		{name: "protect operations annotation with an unknown operation", base: validSelectorPUB, mutate: func(p *policy.PodUnavailableBudget) {
			p.Annotations = map[string]string{policy.LegacyProtectOperationsAnnotation: "DELETE,PATCH"}
		}, want: &wantErr{field.ErrorTypeNotSupported, "metadata.annotations[kruise.io/pub-protect-operations]"}},
		{name: "neither selector nor targetRef", base: validSelectorPUB, mutate: func(p *policy.PodUnavailableBudget) { p.Spec.Selector = nil },
			want: &wantErr{field.ErrorTypeRequired, "spec.selector"}},
		{name: "selector and targetRef", base: validTargetRefPUB, mutate: func(p *policy.PodUnavailableBudget) {
			p.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
		}, want: &wantErr{field.ErrorTypeForbidden, "spec.selector"}},
		{name: "empty selector", base: validSelectorPUB, mutate: func(p *policy.PodUnavailableBudget) { p.Spec.Selector = &metav1.LabelSelector{} },
			want: &wantErr{field.ErrorTypeInvalid, "spec.selector"}},
		{name: "invalid selector", base: validSelectorPUB, mutate: func(p *policy.PodUnavailableBudget) {
			p.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "-web-"}}
		}, want: &wantErr{field.ErrorTypeInvalid, "spec.selector.matchLabels"}},
		{name: "targetRef without apiVersion", base: validTargetRefPUB, mutate: func(p *policy.PodUnavailableBudget) { p.Spec.TargetReference.APIVersion = "" },
			want: &wantErr{field.ErrorTypeRequired, "spec.targetRef.apiVersion"}},
		{name: "targetRef with a bad apiVersion", base: validTargetRefPUB, mutate: func(p *policy.PodUnavailableBudget) { p.Spec.TargetReference.APIVersion = "apps/v1/x" },
			want: &wantErr{field.ErrorTypeInvalid, "spec.targetRef.apiVersion"}},
		{name: "targetRef without kind", base: validTargetRefPUB, mutate: func(p *policy.PodUnavailableBudget) { p.Spec.TargetReference.Kind = "" },
			want: &wantErr{field.ErrorTypeRequired, "spec.targetRef.kind"}},
		{name: "targetRef without name", base: validTargetRefPUB, mutate: func(p *policy.PodUnavailableBudget) { p.Spec.TargetReference.Name = "" },
			want: &wantErr{field.ErrorTypeRequired, "spec.targetRef.name"}},
		{name: "targetRef with a name no object can have", base: validTargetRefPUB, mutate: func(p *policy.PodUnavailableBudget) { p.Spec.TargetReference.Name = "a/b" },
			want: &wantErr{field.ErrorTypeInvalid, "spec.targetRef.name"}},
		{name: "targetRef to a core workload", base: validTargetRefPUB, mutate: func(p *policy.PodUnavailableBudget) {
			p.Spec.TargetReference = &policy.TargetReference{APIVersion: "v1", Kind: "ReplicationController", Name: "rc"}
		}},
		{name: "neither maxUnavailable nor minAvailable", base: validSelectorPUB, mutate: func(p *policy.PodUnavailableBudget) { p.Spec.MaxUnavailable = nil },
			want: &wantErr{field.ErrorTypeRequired, "spec.maxUnavailable"}},
		{name: "maxUnavailable and minAvailable", base: validSelectorPUB, mutate: func(p *policy.PodUnavailableBudget) {
			p.Spec.MinAvailable = ptr.To(intstr.FromInt32(1))
		}, want: &wantErr{field.ErrorTypeForbidden, "spec.minAvailable"}},
		{name: "negative maxUnavailable", base: validSelectorPUB, mutate: func(p *policy.PodUnavailableBudget) {
			p.Spec.MaxUnavailable = ptr.To(intstr.FromInt32(-1))
		}, want: &wantErr{field.ErrorTypeInvalid, "spec.maxUnavailable"}},
		{name: "maxUnavailable over 100%", base: validSelectorPUB, mutate: func(p *policy.PodUnavailableBudget) {
			p.Spec.MaxUnavailable = ptr.To(intstr.FromString("101%"))
		}, want: &wantErr{field.ErrorTypeInvalid, "spec.maxUnavailable"}},
		{name: "minAvailable not a percentage", base: validSelectorPUB, mutate: func(p *policy.PodUnavailableBudget) {
			p.Spec.MaxUnavailable = nil
			p.Spec.MinAvailable = ptr.To(intstr.FromString("half"))
		}, want: &wantErr{field.ErrorTypeInvalid, "spec.minAvailable"}},
		{name: "minAvailable as an integer", base: validSelectorPUB, mutate: func(p *policy.PodUnavailableBudget) {
			p.Spec.MaxUnavailable = nil
			p.Spec.MinAvailable = ptr.To(intstr.FromInt32(2))
		}},
		{name: "unknown protect operation", base: validSelectorPUB, mutate: func(p *policy.PodUnavailableBudget) {
			p.Spec.ProtectOperations = []policy.PubOperation{policy.PubDeleteOperation, "delete"}
		}, want: &wantErr{field.ErrorTypeNotSupported, "spec.protectOperations[1]"}},
		{name: "repeated protect operation", base: validSelectorPUB, mutate: func(p *policy.PodUnavailableBudget) {
			p.Spec.ProtectOperations = []policy.PubOperation{policy.PubEvictOperation, policy.PubDeleteOperation, policy.PubEvictOperation}
		}, want: &wantErr{field.ErrorTypeDuplicate, "spec.protectOperations[2]"}},
		{name: "zero protectTotalReplicas", base: validSelectorPUB, mutate: func(p *policy.PodUnavailableBudget) {
			p.Spec.ProtectTotalReplicas = ptr.To[int32](0)
		}, want: &wantErr{field.ErrorTypeInvalid, "spec.protectTotalReplicas"}},
		{name: "empty ignoredPodSelector", base: validSelectorPUB, mutate: func(p *policy.PodUnavailableBudget) {
			p.Spec.IgnoredPodSelector = &metav1.LabelSelector{}
		}, want: &wantErr{field.ErrorTypeInvalid, "spec.ignoredPodSelector"}},
		{name: "invalid ignoredPodSelector", base: validSelectorPUB, mutate: func(p *policy.PodUnavailableBudget) {
			p.Spec.IgnoredPodSelector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "canary", Operator: metav1.LabelSelectorOpIn}}}
		}, want: &wantErr{field.ErrorTypeRequired, "spec.ignoredPodSelector.matchExpressions[0].values"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pub := tc.base()
			tc.mutate(pub)
			checkErrors(t, ValidatePodUnavailableBudget(pub), tc.want)
		})
	}
}

func TestValidatePodUnavailableBudgetUpdate(t *testing.T) {
	cases := []struct {
		name   string
		base   func() *policy.PodUnavailableBudget
		mutate func(*policy.PodUnavailableBudget)
		want   *wantErr
	}{
		{name: "budget and operations may change", base: validSelectorPUB, mutate: func(p *policy.PodUnavailableBudget) {
			p.Spec.MaxUnavailable = nil
			p.Spec.MinAvailable = ptr.To(intstr.FromString("50%"))
			p.Spec.ProtectOperations = []policy.PubOperation{policy.PubEvictOperation}
			p.Spec.IgnoredPodSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"canary": "true"}}
		}},
		{name: "selector changed", base: validSelectorPUB, mutate: func(p *policy.PodUnavailableBudget) {
			p.Spec.Selector.MatchLabels["app"] = "api"
		}, want: &wantErr{field.ErrorTypeForbidden, "spec.selector"}},
		{name: "targetRef changed", base: validTargetRefPUB, mutate: func(p *policy.PodUnavailableBudget) {
			p.Spec.TargetReference.Name = "api"
		}, want: &wantErr{field.ErrorTypeForbidden, "spec.targetRef"}},
		{name: "new object invalid", base: validSelectorPUB, mutate: func(p *policy.PodUnavailableBudget) {
			p.Spec.MinAvailable = ptr.To(intstr.FromInt32(1))
		}, want: &wantErr{field.ErrorTypeForbidden, "spec.minAvailable"}},
		{name: "stash annotation on the hub", base: validSelectorPUB, mutate: func(p *policy.PodUnavailableBudget) {
			p.Annotations = map[string]string{annotationstash.Key: "{}"}
		}, want: &wantErr{field.ErrorTypeInvalid, "metadata.annotations[" + annotationstash.Key + "]"}},
		{name: "total replicas annotation differs from the field", base: validSelectorPUB, mutate: func(p *policy.PodUnavailableBudget) {
			p.Annotations = map[string]string{policy.LegacyProtectTotalReplicasAnnotation: "2"}
			p.Spec.ProtectTotalReplicas = ptr.To[int32](3)
		}, want: &wantErr{field.ErrorTypeInvalid, "metadata.annotations[pub.kruise.io/protect-total-replicas]"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old := tc.base()
			pub := old.DeepCopy()
			tc.mutate(pub)
			checkErrors(t, ValidatePodUnavailableBudgetUpdate(pub, old), tc.want)
		})
	}
}

func TestValidatePodUnavailableBudgetStatusUpdate(t *testing.T) {
	now := metav1.Now()
	cases := []struct {
		name   string
		mutate func(*policy.PodUnavailableBudgetStatus)
		want   *wantErr
	}{
		{name: "valid", mutate: func(s *policy.PodUnavailableBudgetStatus) {
			*s = policy.PodUnavailableBudgetStatus{ObservedGeneration: 2, UnavailableAllowed: 1, CurrentAvailable: 4, DesiredAvailable: 3, TotalReplicas: 4,
				DisruptedPods: map[string]metav1.Time{"web-0": now}, UnavailablePods: map[string]metav1.Time{"web-1": now}}
		}},
		{name: "negative observedGeneration", mutate: func(s *policy.PodUnavailableBudgetStatus) { s.ObservedGeneration = -1 },
			want: &wantErr{field.ErrorTypeInvalid, "status.observedGeneration"}},
		{name: "negative unavailableAllowed", mutate: func(s *policy.PodUnavailableBudgetStatus) { s.UnavailableAllowed = -1 },
			want: &wantErr{field.ErrorTypeInvalid, "status.unavailableAllowed"}},
		{name: "negative currentAvailable", mutate: func(s *policy.PodUnavailableBudgetStatus) { s.CurrentAvailable = -1 },
			want: &wantErr{field.ErrorTypeInvalid, "status.currentAvailable"}},
		{name: "negative desiredAvailable", mutate: func(s *policy.PodUnavailableBudgetStatus) { s.DesiredAvailable = -1 },
			want: &wantErr{field.ErrorTypeInvalid, "status.desiredAvailable"}},
		{name: "negative totalReplicas", mutate: func(s *policy.PodUnavailableBudgetStatus) { s.TotalReplicas = -1 },
			want: &wantErr{field.ErrorTypeInvalid, "status.totalReplicas"}},
		{name: "disrupted pod that is no pod name", mutate: func(s *policy.PodUnavailableBudgetStatus) {
			s.DisruptedPods = map[string]metav1.Time{"Web_0": now}
		}, want: &wantErr{field.ErrorTypeInvalid, "status.disruptedPods[Web_0]"}},
		{name: "unavailable pod that is no pod name", mutate: func(s *policy.PodUnavailableBudgetStatus) {
			s.UnavailablePods = map[string]metav1.Time{"": now}
		}, want: &wantErr{field.ErrorTypeInvalid, "status.unavailablePods[]"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old := validSelectorPUB()
			pub := old.DeepCopy()
			tc.mutate(&pub.Status)
			checkErrors(t, ValidatePodUnavailableBudgetStatusUpdate(pub, old), tc.want)
		})
	}
}
