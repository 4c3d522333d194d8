// Package validation holds the hand-written validation of policy.kruise.io
// internal objects: the rules of OpenKruise's validating webhook and of its
// CRD schema, with field paths, run by the registry strategies.
package validation

import (
	"fmt"
	"strconv"
	"strings"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/sets"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	appsvalidation "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/validation"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/policy"
)

// ValidatePodUnavailableBudget validates a new PodUnavailableBudget. Rules
// that need the other budgets of the namespace are in
// ValidatePodUnavailableBudgetConflicts.
func ValidatePodUnavailableBudget(pub *policy.PodUnavailableBudget) field.ErrorList {
	allErrs := appsvalidation.ValidateObjectMeta(&pub.ObjectMeta, true, field.NewPath("metadata"))
	allErrs = append(allErrs, validateLegacyAnnotations(pub, field.NewPath("metadata", "annotations"))...)
	allErrs = append(allErrs, validatePodUnavailableBudgetSpec(&pub.Spec, field.NewPath("spec"))...)
	return allErrs
}

// ValidatePodUnavailableBudgetUpdate validates an update: the new object must
// be valid and its Pods (selector or targetRef) must stay the same, since the
// controller's bookkeeping of disrupted Pods is only meaningful for one set.
func ValidatePodUnavailableBudgetUpdate(pub, old *policy.PodUnavailableBudget) field.ErrorList {
	allErrs := appsvalidation.ValidateObjectMetaUpdate(&pub.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, validateLegacyAnnotations(pub, field.NewPath("metadata", "annotations"))...)
	specPath := field.NewPath("spec")
	allErrs = append(allErrs, validatePodUnavailableBudgetSpec(&pub.Spec, specPath)...)
	if !apiequality.Semantic.DeepEqual(pub.Spec.Selector, old.Spec.Selector) {
		allErrs = append(allErrs, field.Forbidden(specPath.Child("selector"), "selector and targetRef cannot be modified"))
	}
	if !apiequality.Semantic.DeepEqual(pub.Spec.TargetReference, old.Spec.TargetReference) {
		allErrs = append(allErrs, field.Forbidden(specPath.Child("targetRef"), "selector and targetRef cannot be modified"))
	}
	return allErrs
}

// ValidatePodUnavailableBudgetStatusUpdate validates a write to /status.
func ValidatePodUnavailableBudgetStatusUpdate(pub, old *policy.PodUnavailableBudget) field.ErrorList {
	allErrs := appsvalidation.ValidateObjectMetaUpdate(&pub.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	status := &pub.Status
	fldPath := field.NewPath("status")
	allErrs = append(allErrs, appsvalidation.ValidateNonnegative(status.ObservedGeneration, fldPath.Child("observedGeneration"))...)
	allErrs = append(allErrs, appsvalidation.ValidateNonnegative(int64(status.UnavailableAllowed), fldPath.Child("unavailableAllowed"))...)
	allErrs = append(allErrs, appsvalidation.ValidateNonnegative(int64(status.CurrentAvailable), fldPath.Child("currentAvailable"))...)
	allErrs = append(allErrs, appsvalidation.ValidateNonnegative(int64(status.DesiredAvailable), fldPath.Child("desiredAvailable"))...)
	allErrs = append(allErrs, appsvalidation.ValidateNonnegative(int64(status.TotalReplicas), fldPath.Child("totalReplicas"))...)
	allErrs = append(allErrs, validatePodNameKeys(status.DisruptedPods, fldPath.Child("disruptedPods"))...)
	allErrs = append(allErrs, validatePodNameKeys(status.UnavailablePods, fldPath.Child("unavailablePods"))...)
	return allErrs
}

// validatePodNameKeys requires the keys of a status map to be Pod names:
// the webhooks look Pods up in these maps by name.
func validatePodNameKeys(pods map[string]metav1.Time, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for name := range pods {
		for _, msg := range utilvalidation.IsDNS1123Subdomain(name) {
			allErrs = append(allErrs, field.Invalid(fldPath.Key(name), name, msg))
		}
	}
	return allErrs
}

var supportedPubOperations = []string{
	string(policy.PubDeleteOperation),
	string(policy.PubUpdateOperation),
	string(policy.PubEvictOperation),
	string(policy.PubResizeOperation),
}

// validateLegacyAnnotations checks the v1alpha1-era annotations, which the
// controller reads when the matching fields are unset. OpenKruise parses
// both when it converts a v1alpha1 object and rejects the object if either
// does not parse; here they are never converted, so they are checked as
// they are, at every version.
func validateLegacyAnnotations(pub *policy.PodUnavailableBudget, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if value, ok := pub.Annotations[policy.LegacyProtectTotalReplicasAnnotation]; ok {
		annotationPath := fldPath.Key(policy.LegacyProtectTotalReplicasAnnotation)
		if _, err := strconv.ParseInt(value, 10, 32); err != nil {
			allErrs = append(allErrs, field.Invalid(annotationPath, value, "must be a valid int32"))
		} else if replicas := pub.Spec.ProtectTotalReplicas; replicas != nil && value != strconv.FormatInt(int64(*replicas), 10) {
			allErrs = append(allErrs, field.Invalid(annotationPath, value, "must match spec.protectTotalReplicas when both are set"))
		}
	}
	if value, ok := pub.Annotations[policy.LegacyProtectOperationsAnnotation]; ok {
		// Parsed as OpenKruise's v1alpha1 conversion parses it: items
		// trimmed, empty items skipped.
		annotationPath := fldPath.Key(policy.LegacyProtectOperationsAnnotation)
		for _, item := range strings.Split(value, ",") {
			operation := strings.TrimSpace(item)
			if operation != "" && !isPubOperation(policy.PubOperation(operation)) {
				allErrs = append(allErrs, field.NotSupported(annotationPath, operation, supportedPubOperations))
			}
		}
	}
	return allErrs
}

func isPubOperation(operation policy.PubOperation) bool {
	switch operation {
	case policy.PubDeleteOperation, policy.PubUpdateOperation, policy.PubEvictOperation, policy.PubResizeOperation:
		return true
	}
	return false
}

func validatePodUnavailableBudgetSpec(spec *policy.PodUnavailableBudgetSpec, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList

	switch {
	case spec.Selector == nil && spec.TargetReference == nil:
		allErrs = append(allErrs, field.Required(fldPath.Child("selector"), "no selector or targetRef defined in PodUnavailableBudget"))
	case spec.Selector != nil && spec.TargetReference != nil:
		// OpenKruise's controller would follow targetRef and ignore the selector.
		allErrs = append(allErrs, field.Forbidden(fldPath.Child("selector"), "selector and targetRef are mutually exclusive"))
	case spec.TargetReference != nil:
		allErrs = append(allErrs, validateTargetReference(spec.TargetReference, fldPath.Child("targetRef"))...)
	default:
		allErrs = append(allErrs, validateSelector(spec.Selector, "selector", fldPath.Child("selector"))...)
	}

	switch {
	case spec.MaxUnavailable == nil && spec.MinAvailable == nil:
		allErrs = append(allErrs, field.Required(fldPath.Child("maxUnavailable"), "no maxUnavailable or minAvailable defined in PodUnavailableBudget"))
	case spec.MaxUnavailable != nil && spec.MinAvailable != nil:
		allErrs = append(allErrs, field.Forbidden(fldPath.Child("minAvailable"), "maxUnavailable and minAvailable are mutually exclusive"))
	case spec.MaxUnavailable != nil:
		allErrs = append(allErrs, appsvalidation.ValidateIntOrPercent(spec.MaxUnavailable, false, fldPath.Child("maxUnavailable"))...)
	default:
		allErrs = append(allErrs, appsvalidation.ValidateIntOrPercent(spec.MinAvailable, false, fldPath.Child("minAvailable"))...)
	}

	seen := sets.New[policy.PubOperation]()
	for i, operation := range spec.ProtectOperations {
		itemPath := fldPath.Child("protectOperations").Index(i)
		if !isPubOperation(operation) {
			allErrs = append(allErrs, field.NotSupported(itemPath, operation, supportedPubOperations))
		} else if seen.Has(operation) {
			allErrs = append(allErrs, field.Duplicate(itemPath, operation))
		}
		seen.Insert(operation)
	}

	// OpenKruise's CRD schema sets minimum: 1; a budget counted against no
	// Pods would let nothing through.
	if replicas := spec.ProtectTotalReplicas; replicas != nil && *replicas < 1 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("protectTotalReplicas"), *replicas, "should be greater than or equal to 1"))
	}

	if spec.IgnoredPodSelector != nil {
		allErrs = append(allErrs, validateSelector(spec.IgnoredPodSelector, "ignoredPodSelector", fldPath.Child("ignoredPodSelector"))...)
	}
	return allErrs
}

// validateSelector requires a valid, non-empty selector: an empty one would
// select every Pod of the namespace.
func validateSelector(selector *metav1.LabelSelector, name string, fldPath *field.Path) field.ErrorList {
	allErrs := metav1validation.ValidateLabelSelector(selector, metav1validation.LabelSelectorValidationOptions{}, fldPath)
	if len(selector.MatchLabels)+len(selector.MatchExpressions) == 0 {
		// OpenKruise's messages, including the one's full stop.
		msg := "empty selector is not valid for PodUnavailableBudget."
		if name != "selector" {
			msg = fmt.Sprintf("empty %s is not valid for PodUnavailableBudget", name)
		}
		allErrs = append(allErrs, field.Invalid(fldPath, selector, msg))
	}
	if len(allErrs) == 0 {
		if _, err := metav1.LabelSelectorAsSelector(selector); err != nil {
			allErrs = append(allErrs, field.Invalid(fldPath, selector, err.Error()))
		}
	}
	return allErrs
}

// validateTargetReference requires all three parts of the reference. Any
// kind is accepted, as OpenKruise does: the controller finds the Pods of
// its own workloads and of any other through the scale subresource.
func validateTargetReference(ref *policy.TargetReference, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	const emptyMsg = "empty targetRef is not valid for PodUnavailableBudget"
	if ref.APIVersion == "" {
		allErrs = append(allErrs, field.Required(fldPath.Child("apiVersion"), emptyMsg))
	} else if _, err := schema.ParseGroupVersion(ref.APIVersion); err != nil {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("apiVersion"), ref.APIVersion, err.Error()))
	}
	if ref.Kind == "" {
		allErrs = append(allErrs, field.Required(fldPath.Child("kind"), emptyMsg))
	}
	if ref.Name == "" {
		allErrs = append(allErrs, field.Required(fldPath.Child("name"), emptyMsg))
	} else {
		// Every object name, whatever its kind, is at least a valid path segment.
		for _, msg := range path.IsValidPathSegmentName(ref.Name) {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("name"), ref.Name, msg))
		}
	}
	return allErrs
}
