// Package validation holds the hand-written validation of apps.kruise.io
// internal objects: the cross-field rules of OpenKruise's validating
// webhooks, with field paths, run by the registry strategies.
package validation

import (
	"fmt"
	"strings"

	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/sets"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/annotationstash"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/deletionprotection"
)

// ValidateObjectMeta checks metadata as every kind of ours needs: a valid
// name (and namespace when namespaced), no left-over conversion stash and a
// valid deletion-protection label.
func ValidateObjectMeta(meta *metav1.ObjectMeta, namespaced bool, fldPath *field.Path) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(meta, namespaced, apimachineryvalidation.NameIsDNSSubdomain, fldPath)
	allErrs = append(allErrs, annotationstash.Validate(meta, fldPath)...)
	allErrs = append(allErrs, deletionprotection.ValidateLabel(meta.Labels, fldPath.Child("labels"))...)
	return allErrs
}

// ValidateObjectMetaUpdate adds the update rules (immutable name, UID, ...).
func ValidateObjectMetaUpdate(meta, oldMeta *metav1.ObjectMeta, fldPath *field.Path) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(meta, oldMeta, fldPath)
	allErrs = append(allErrs, annotationstash.Validate(meta, fldPath)...)
	allErrs = append(allErrs, deletionprotection.ValidateLabel(meta.Labels, fldPath.Child("labels"))...)
	return allErrs
}

// ValidateWorkloadSelector requires a non-empty, valid selector that
// matches the Pod template's labels, as OpenKruise's workload webhooks do.
func ValidateWorkloadSelector(selector *metav1.LabelSelector, templateLabels map[string]string, kind string, fldPath, templateLabelsPath *field.Path) field.ErrorList {
	if selector == nil {
		return field.ErrorList{field.Required(fldPath, "")}
	}
	allErrs := metav1validation.ValidateLabelSelector(selector, metav1validation.LabelSelectorValidationOptions{}, fldPath)
	if len(selector.MatchLabels)+len(selector.MatchExpressions) == 0 {
		allErrs = append(allErrs, field.Invalid(fldPath, selector, fmt.Sprintf("empty selector is invalid for %s", strings.ToLower(kind))))
		return allErrs
	}
	if len(allErrs) > 0 {
		return allErrs
	}
	parsed, err := metav1.LabelSelectorAsSelector(selector)
	if err != nil {
		return append(allErrs, field.Invalid(fldPath, selector, err.Error()))
	}
	if !parsed.Matches(labels.Set(templateLabels)) {
		allErrs = append(allErrs, field.Invalid(templateLabelsPath, templateLabels, "`selector` does not match template `labels`"))
	}
	return allErrs
}

// ValidateNonnegative rejects a negative number.
func ValidateNonnegative(value int64, fldPath *field.Path) field.ErrorList {
	if value < 0 {
		return field.ErrorList{field.Invalid(fldPath, value, utilvalidation.InclusiveRangeError(0, int(^uint32(0)>>1)))}
	}
	return nil
}

// ValidateIntOrPercent accepts a non-negative integer or a percentage
// "N%" with 0 <= N <= 100 (N above 100 only when allowOver100).
func ValidateIntOrPercent(value *intstr.IntOrString, allowOver100 bool, fldPath *field.Path) field.ErrorList {
	if value == nil {
		return nil
	}
	switch value.Type {
	case intstr.Int:
		return ValidateNonnegative(int64(value.IntVal), fldPath)
	case intstr.String:
		// Scaled against 100, a percentage is its own number.
		percent, err := intstr.GetScaledValueFromIntOrPercent(value, 100, false)
		if err != nil {
			return field.ErrorList{field.Invalid(fldPath, value.StrVal, "must be an integer or a percentage (e.g. '5%')")}
		}
		if percent < 0 || (!allowOver100 && percent > 100) {
			msg := "must be between 0% and 100%"
			if allowOver100 {
				msg = "must not be negative"
			}
			return field.ErrorList{field.Invalid(fldPath, value.StrVal, msg)}
		}
	}
	return nil
}

// ScaledValue resolves an int-or-percent against total, rounding up or
// down; it assumes ValidateIntOrPercent passed.
func ScaledValue(value *intstr.IntOrString, total int, roundUp bool) int {
	if value == nil {
		return 0
	}
	scaled, err := intstr.GetScaledValueFromIntOrPercent(value, total, roundUp)
	if err != nil {
		return 0
	}
	return scaled
}

// ValidateUniqueStrings reports every repeated entry of a list.
func ValidateUniqueStrings(values []string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	seen := sets.New[string]()
	for i, v := range values {
		if seen.Has(v) {
			allErrs = append(allErrs, field.Duplicate(fldPath.Index(i), v))
		}
		seen.Insert(v)
	}
	return allErrs
}
