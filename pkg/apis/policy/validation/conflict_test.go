package validation

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/policy"
)

func req(key string, op metav1.LabelSelectorOperator, values ...string) metav1.LabelSelectorRequirement {
	return metav1.LabelSelectorRequirement{Key: key, Operator: op, Values: values}
}

func exprs(reqs ...metav1.LabelSelectorRequirement) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchExpressions: reqs}
}

func TestSelectorsLooselyOverlap(t *testing.T) {
	const (
		in           = metav1.LabelSelectorOpIn
		notIn        = metav1.LabelSelectorOpNotIn
		exists       = metav1.LabelSelectorOpExists
		doesNotExist = metav1.LabelSelectorOpDoesNotExist
	)
	cases := []struct {
		name string
		a, b *metav1.LabelSelector
		want bool
	}{
		{"same labels", &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}, &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}, true},
		{"different values", &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}, &metav1.LabelSelector{MatchLabels: map[string]string{"app": "api"}}, false},
		{"different keys are taken apart", &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}, &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "front"}}, false},
		{"a key more on one side", &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}, &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", "tier": "front"}}, false},
		{"label against In", &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}, exprs(req("app", in, "api", "web")), true},
		{"In against In, disjoint", exprs(req("app", in, "a", "b")), exprs(req("app", in, "c")), false},
		{"In against Exists", exprs(req("app", in, "a")), exprs(req("app", exists)), true},
		{"Exists against In", exprs(req("app", exists)), exprs(req("app", in, "a")), true},
		{"In against NotIn leaving a value", exprs(req("app", in, "b", "c")), exprs(req("app", notIn, "b")), true},
		{"In against NotIn excluding all", exprs(req("app", in, "b", "c")), exprs(req("app", notIn, "b", "c", "e")), false},
		{"NotIn against In excluding all", exprs(req("app", notIn, "b", "c")), exprs(req("app", in, "c")), false},
		{"In against DoesNotExist", exprs(req("app", in, "a")), exprs(req("app", doesNotExist)), false},
		{"Exists against Exists", exprs(req("app", exists)), exprs(req("app", exists)), true},
		{"Exists against NotIn", exprs(req("app", exists)), exprs(req("app", notIn, "a")), true},
		{"Exists against DoesNotExist", exprs(req("app", exists)), exprs(req("app", doesNotExist)), false},
		{"NotIn against NotIn", exprs(req("app", notIn, "a")), exprs(req("app", notIn, "a")), true},
		{"NotIn against DoesNotExist", exprs(req("app", notIn, "a")), exprs(req("app", doesNotExist)), true},
		{"DoesNotExist against DoesNotExist", exprs(req("app", doesNotExist)), exprs(req("app", doesNotExist)), true},
		{"matchLabels replaces an expression on its key", &metav1.LabelSelector{
			MatchLabels:      map[string]string{"app": "web"},
			MatchExpressions: []metav1.LabelSelectorRequirement{req("app", in, "api")},
		}, &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}, true},
		{"last expression on a key counts", exprs(req("app", in, "api"), req("app", in, "web")), exprs(req("app", in, "web")), true},
		{"every key must overlap", &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", "tier": "front"}},
			&metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", "tier": "back"}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := selectorsLooselyOverlap(tc.a, tc.b); got != tc.want {
				t.Fatalf("overlap(a, b) = %v, want %v", got, tc.want)
			}
			if got := selectorsLooselyOverlap(tc.b, tc.a); got != tc.want {
				t.Fatalf("overlap(b, a) = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestValidatePodUnavailableBudgetConflicts(t *testing.T) {
	named := func(name string, pub *policy.PodUnavailableBudget) policy.PodUnavailableBudget {
		pub.Name = name
		return *pub
	}
	otherGroupRef := validTargetRefPUB()
	otherGroupRef.Spec.TargetReference.APIVersion = "apps/v1"
	otherVersionRef := validTargetRefPUB()
	otherVersionRef.Spec.TargetReference.APIVersion = "apps.kruise.io/v1alpha1"
	otherNameRef := validTargetRefPUB()
	otherNameRef.Spec.TargetReference.Name = "api"
	otherSelector := validSelectorPUB()
	otherSelector.Spec.Selector.MatchLabels["app"] = "api"

	cases := []struct {
		name   string
		pub    *policy.PodUnavailableBudget
		others []policy.PodUnavailableBudget
		want   *wantErr
	}{
		{name: "alone", pub: validSelectorPUB()},
		{name: "itself", pub: validSelectorPUB(), others: []policy.PodUnavailableBudget{*validSelectorPUB()}},
		{name: "overlapping selector", pub: validSelectorPUB(), others: []policy.PodUnavailableBudget{named("other", validSelectorPUB())},
			want: &wantErr{field.ErrorTypeInvalid, "spec.selector"}},
		{name: "disjoint selector", pub: validSelectorPUB(), others: []policy.PodUnavailableBudget{named("other", otherSelector)}},
		{name: "same workload", pub: validTargetRefPUB(), others: []policy.PodUnavailableBudget{named("other", validTargetRefPUB())},
			want: &wantErr{field.ErrorTypeInvalid, "spec.targetRef"}},
		{name: "same workload at another version", pub: validTargetRefPUB(), others: []policy.PodUnavailableBudget{named("other", otherVersionRef)},
			want: &wantErr{field.ErrorTypeInvalid, "spec.targetRef"}},
		{name: "same kind and name in another group", pub: validTargetRefPUB(), others: []policy.PodUnavailableBudget{named("other", otherGroupRef)}},
		{name: "another workload", pub: validTargetRefPUB(), others: []policy.PodUnavailableBudget{named("other", otherNameRef)}},
		{name: "targetRef against selector", pub: validTargetRefPUB(), others: []policy.PodUnavailableBudget{named("other", validSelectorPUB())}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkErrors(t, ValidatePodUnavailableBudgetConflicts(tc.pub, tc.others), tc.want)
		})
	}
}
