package validation

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ValidateTolerations checks tolerations that a kind adds to Pods, as they
// are checked in a Pod template.
func ValidateTolerations(tolerations []corev1.Toleration, fldPath *field.Path) field.ErrorList {
	return validateTolerations(tolerations, fldPath)
}

// ValidateNodeSelectorTerm checks one required node selector term that a
// kind adds to Pods' node affinity: its label values must be valid too,
// since a required term that can match no node leaves the Pod pending.
func ValidateNodeSelectorTerm(term *corev1.NodeSelectorTerm, fldPath *field.Path) field.ErrorList {
	if term == nil {
		return nil
	}
	return validateNodeSelectorTerm(*term, true, fldPath)
}

// ValidatePreferredSchedulingTerms checks preferred node affinity terms that
// a kind adds to Pods: weights of 1 to 100 and well-formed terms.
func ValidatePreferredSchedulingTerms(terms []corev1.PreferredSchedulingTerm, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for i, term := range terms {
		allErrs = append(allErrs, validateWeight(term.Weight, fldPath.Index(i).Child("weight"))...)
		// As in a Pod template's preferred terms, any label value is allowed.
		allErrs = append(allErrs, validateNodeSelectorTerm(term.Preference, false, fldPath.Index(i).Child("preference"))...)
	}
	return allErrs
}
