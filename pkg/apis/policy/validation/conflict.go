package validation

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/policy"
)

// ValidatePodUnavailableBudgetConflicts rejects a budget that would guard
// the same Pods as another budget of its namespace (others, which may
// include pub itself under its name): two budgets on one Pod would each
// count only their own disruptions. As in OpenKruise, budgets conflict when
// both name the same workload (same API group, kind and name; the version
// does not matter) or both have selectors that loosely overlap (see
// selectorsLooselyOverlap). A budget with a targetRef and one with a
// selector never conflict, since telling would need the workload's Pods.
// Only the first conflict is reported.
func ValidatePodUnavailableBudgetConflicts(pub *policy.PodUnavailableBudget, others []policy.PodUnavailableBudget) field.ErrorList {
	specPath := field.NewPath("spec")
	for i := range others {
		other := &others[i]
		if other.Name == pub.Name {
			continue
		}
		switch {
		case pub.Spec.TargetReference != nil && other.Spec.TargetReference != nil:
			if sameWorkload(pub.Spec.TargetReference, other.Spec.TargetReference) {
				return field.ErrorList{field.Invalid(specPath.Child("targetRef"), pub.Spec.TargetReference,
					fmt.Sprintf("pub.spec.targetReference is in conflict with other PodUnavailableBudget %s", other.Name))}
			}
		case pub.Spec.Selector != nil && other.Spec.Selector != nil:
			if selectorsLooselyOverlap(pub.Spec.Selector, other.Spec.Selector) {
				return field.ErrorList{field.Invalid(specPath.Child("selector"), pub.Spec.Selector,
					fmt.Sprintf("pub.spec.selector is in conflict with other PodUnavailableBudget %s", other.Name))}
			}
		}
	}
	return nil
}

func sameWorkload(a, b *policy.TargetReference) bool {
	// An apiVersion that does not parse counts as the core group, as in
	// OpenKruise; validation rejects such a budget anyway.
	groupA, _ := schema.ParseGroupVersion(a.APIVersion)
	groupB, _ := schema.ParseGroupVersion(b.APIVersion)
	return groupA.Group == groupB.Group && a.Kind == b.Kind && a.Name == b.Name
}

// selectorsLooselyOverlap is OpenKruise's test for two budgets' selectors
// ("loose overlap"): they overlap when they constrain exactly the same label
// keys and, key by key, some label value satisfies both constraints.
// Selectors on different keys are taken not to overlap, even though a Pod
// could carry both labels: the test errs on the side of letting budgets be.
func selectorsLooselyOverlap(a, b *metav1.LabelSelector) bool {
	reqA, reqB := requirementsByKey(a), requirementsByKey(b)
	if len(reqA) != len(reqB) {
		return false
	}
	for key, ra := range reqA {
		rb, ok := reqB[key]
		if !ok || !requirementsOverlap(ra, rb) {
			return false
		}
	}
	return true
}

// requirementsByKey keeps one requirement per key, as OpenKruise's test
// does: of several expressions on one key the last counts, and a matchLabels
// entry (an In with one value) replaces any expression on its key.
func requirementsByKey(selector *metav1.LabelSelector) map[string]metav1.LabelSelectorRequirement {
	out := make(map[string]metav1.LabelSelectorRequirement, len(selector.MatchLabels)+len(selector.MatchExpressions))
	for _, req := range selector.MatchExpressions {
		out[req.Key] = req
	}
	for key, value := range selector.MatchLabels {
		out[key] = metav1.LabelSelectorRequirement{Key: key, Operator: metav1.LabelSelectorOpIn, Values: []string{value}}
	}
	return out
}

// requirementsOverlap says whether a label value (or its absence) can
// satisfy both requirements on one key. It is symmetric.
func requirementsOverlap(a, b metav1.LabelSelectorRequirement) bool {
	const (
		in           = metav1.LabelSelectorOpIn
		notIn        = metav1.LabelSelectorOpNotIn
		exists       = metav1.LabelSelectorOpExists
		doesNotExist = metav1.LabelSelectorOpDoesNotExist
	)
	if rank(a.Operator) > rank(b.Operator) {
		a, b = b, a
	}
	switch {
	case a.Operator == in && b.Operator == in:
		return sets.New(a.Values...).HasAny(b.Values...)
	case a.Operator == in && b.Operator == notIn:
		// Some value of the In list is not excluded.
		return !sets.New(b.Values...).HasAll(a.Values...)
	case a.Operator == in && b.Operator == exists:
		return true
	case a.Operator == notIn:
		// NotIn overlaps NotIn, Exists and DoesNotExist (an absent label satisfies NotIn).
		return b.Operator == notIn || b.Operator == exists || b.Operator == doesNotExist
	case a.Operator == exists:
		return b.Operator == exists
	case a.Operator == doesNotExist:
		return b.Operator == doesNotExist
	}
	return false
}

// rank orders operators so requirementsOverlap handles each pair once.
func rank(op metav1.LabelSelectorOperator) int {
	switch op {
	case metav1.LabelSelectorOpIn:
		return 0
	case metav1.LabelSelectorOpNotIn:
		return 1
	case metav1.LabelSelectorOpExists:
		return 2
	case metav1.LabelSelectorOpDoesNotExist:
		return 3
	}
	return 4
}
