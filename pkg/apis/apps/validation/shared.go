package validation

import (
	"fmt"

	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
)

// ValidateLifecycle checks the hooks: their labels must be valid labels and
// their finalizers valid finalizer names, since the controller writes them
// onto Pods as they are.
func ValidateLifecycle(lifecycle *apps.Lifecycle, fldPath *field.Path) field.ErrorList {
	if lifecycle == nil {
		return nil
	}
	var allErrs field.ErrorList
	allErrs = append(allErrs, validateLifecycleHook(lifecycle.PreDelete, fldPath.Child("preDelete"))...)
	allErrs = append(allErrs, validateLifecycleHook(lifecycle.InPlaceUpdate, fldPath.Child("inPlaceUpdate"))...)
	allErrs = append(allErrs, validateLifecycleHook(lifecycle.PreNormal, fldPath.Child("preNormal"))...)
	return allErrs
}

func validateLifecycleHook(hook *apps.LifecycleHook, fldPath *field.Path) field.ErrorList {
	if hook == nil {
		return nil
	}
	allErrs := metav1validation.ValidateLabels(hook.LabelsHandler, fldPath.Child("labelsHandler"))
	for i, finalizer := range hook.FinalizersHandler {
		for _, msg := range utilvalidation.IsQualifiedName(finalizer) {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("finalizersHandler").Index(i), finalizer, msg))
		}
	}
	allErrs = append(allErrs, ValidateUniqueStrings(hook.FinalizersHandler, fldPath.Child("finalizersHandler"))...)
	return allErrs
}

// ValidateUpdatePriorityStrategy allows one of orderPriority and
// weightPriority, weights from 1 to 100 with non-empty valid selectors, and
// non-empty order keys.
func ValidateUpdatePriorityStrategy(strategy *apps.UpdatePriorityStrategy, fldPath *field.Path) field.ErrorList {
	if strategy == nil {
		return nil
	}
	var allErrs field.ErrorList
	if len(strategy.WeightPriority) > 0 && len(strategy.OrderPriority) > 0 {
		allErrs = append(allErrs, field.Forbidden(fldPath.Child("orderPriority"), "only one of weightPriority and orderPriority can be used"))
	}
	for i, term := range strategy.WeightPriority {
		termPath := fldPath.Child("weightPriority").Index(i)
		if term.Weight < 1 || term.Weight > 100 {
			allErrs = append(allErrs, field.Invalid(termPath.Child("weight"), term.Weight, "must be in the range 1-100"))
		}
		if len(term.MatchSelector.MatchLabels)+len(term.MatchSelector.MatchExpressions) == 0 {
			allErrs = append(allErrs, field.Required(termPath.Child("matchSelector"), "selector can not be empty"))
		}
		allErrs = append(allErrs, metav1validation.ValidateLabelSelector(&term.MatchSelector, metav1validation.LabelSelectorValidationOptions{}, termPath.Child("matchSelector"))...)
	}
	for i, term := range strategy.OrderPriority {
		keyPath := fldPath.Child("orderPriority").Index(i).Child("orderedKey")
		if term.OrderedKey == "" {
			allErrs = append(allErrs, field.Required(keyPath, "order key can not be empty"))
			continue
		}
		for _, msg := range utilvalidation.IsQualifiedName(term.OrderedKey) {
			allErrs = append(allErrs, field.Invalid(keyPath, term.OrderedKey, msg))
		}
	}
	return allErrs
}

// ValidateUpdateScatterStrategy requires label keys and no repeated key/value pair.
func ValidateUpdateScatterStrategy(strategy apps.UpdateScatterStrategy, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	seen := map[apps.UpdateScatterTerm]bool{}
	for i, term := range strategy {
		termPath := fldPath.Index(i)
		if term.Key == "" {
			allErrs = append(allErrs, field.Required(termPath.Child("key"), "key should not be empty"))
		} else {
			for _, msg := range utilvalidation.IsQualifiedName(term.Key) {
				allErrs = append(allErrs, field.Invalid(termPath.Child("key"), term.Key, msg))
			}
		}
		if seen[term] {
			allErrs = append(allErrs, field.Duplicate(termPath, fmt.Sprintf("%s=%s", term.Key, term.Value)))
		}
		seen[term] = true
	}
	return allErrs
}

// ValidateInPlaceUpdateStrategy checks the in-place update tuning.
func ValidateInPlaceUpdateStrategy(strategy *apps.InPlaceUpdateStrategy, fldPath *field.Path) field.ErrorList {
	if strategy == nil {
		return nil
	}
	allErrs := ValidateNonnegative(int64(strategy.GracePeriodSeconds), fldPath.Child("gracePeriodSeconds"))
	allErrs = append(allErrs, ValidateIntOrPercent(strategy.ImagePreDownloadParallelism, false, fldPath.Child("imagePreDownloadParallelism"))...)
	if t := strategy.ImagePreDownloadTimeoutSeconds; t != nil && *t <= 0 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("imagePreDownloadTimeoutSeconds"), *t, "must be greater than 0"))
	}
	if n := strategy.ImagePreDownloadMinUpdatedReadyPods; n != nil {
		allErrs = append(allErrs, ValidateNonnegative(int64(*n), fldPath.Child("imagePreDownloadMinUpdatedReadyPods"))...)
	}
	return allErrs
}
