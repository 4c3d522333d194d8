// Package deletionprotection is OpenKruise's deletion protection rule set:
// the label policy.kruise.io/delete-protection, its values, and when each
// forbids a delete. It knows nothing of storage or admission, so the storage
// layer (for our own kinds) and the core-object webhook apply the same rules
// and give the same messages.
package deletionprotection

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

const (
	// LabelKey is the label that asks for protection.
	LabelKey = "policy.kruise.io/delete-protection"
	// Always forbids deleting the object.
	Always = "Always"
	// Cascading forbids deleting the object while it still has something
	// that the delete would take with it (for a workload, replicas > 0).
	Cascading = "Cascading"
)

// Cascade reports what an object still holds that a Cascading protection
// guards, as the tail of the denial message ("replicas 3>0"), or "" when it
// holds nothing. A nil Cascade means the kind does not support Cascading, as
// OpenKruise does for Services and Ingresses: the value is then ignored.
type Cascade func() (string, error)

// Replicas is the Cascade of a workload: it holds Pods while spec.replicas
// is set and above zero.
func Replicas(replicas *int32) Cascade {
	return func() (string, error) {
		if replicas != nil && *replicas > 0 {
			return fmt.Sprintf("replicas %d>0", *replicas), nil
		}
		return "", nil
	}
}

// Check returns why obj may not be deleted, or "" when it may. An object
// already being deleted is never held back, so that finalizers can finish.
func Check(obj metav1.Object, cascade Cascade) (string, error) {
	if obj.GetDeletionTimestamp() != nil {
		return "", nil
	}
	value, ok := obj.GetLabels()[LabelKey]
	if !ok {
		return "", nil
	}
	switch value {
	case Always:
		return fmt.Sprintf("forbidden by ResourcesProtectionDeletion for %s=%s", LabelKey, value), nil
	case Cascading:
		if cascade == nil {
			return "", nil
		}
		holds, err := cascade()
		if err != nil {
			return "", err
		}
		if holds == "" {
			return "", nil
		}
		return fmt.Sprintf("forbidden by ResourcesProtectionDeletion for %s=%s and %s", LabelKey, value, holds), nil
	}
	return "", nil
}

// ValidateLabel rejects a protection label with a value other than Always
// or Cascading: a typo would otherwise silently leave the object unprotected.
func ValidateLabel(labels map[string]string, fldPath *field.Path) field.ErrorList {
	value, ok := labels[LabelKey]
	if !ok || value == Always || value == Cascading {
		return nil
	}
	return field.ErrorList{field.NotSupported(fldPath.Key(LabelKey), value, []string{Always, Cascading})}
}
