// Package deletionprotection is OpenKruise's deletion protection rule set:
// the label policy.kruise.io/delete-protection, its values, and when each
// forbids a delete. It knows nothing of storage or admission, so the storage
// layer (for our own kinds) and the core-object webhook apply the same rules
// and give the same messages.
package deletionprotection

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

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

// Namespace is the Cascade of a Namespace: it holds its active Pods and,
// when it has none, its Bound PersistentVolumeClaims. Each count is only
// taken when needed; a failed count is an error that names what could not
// be listed, and the delete is then refused.
func Namespace(activePods, boundClaims func() (int, error)) Cascade {
	return func() (string, error) {
		pods, err := activePods()
		if err != nil {
			return "", fmt.Errorf("forbidden by ResourcesProtectionDeletion for list pods error: %v", err)
		}
		if pods > 0 {
			return fmt.Sprintf("active pods %d>0", pods), nil
		}
		claims, err := boundClaims()
		if err != nil {
			return "", fmt.Errorf("forbidden by ResourcesProtectionDeletion for list pvc error: %v", err)
		}
		if claims > 0 {
			return fmt.Sprintf("%q status pvc %d>0", corev1.ClaimBound, claims), nil
		}
		return "", nil
	}
}

// CustomResourceDefinition is the Cascade of a CRD: it holds its objects
// (those not being deleted). list names what is listed, e.g. the
// group/version and list kind, for the error message.
func CustomResourceDefinition(list fmt.Stringer, activeObjects func() (int, error)) Cascade {
	return func() (string, error) {
		n, err := activeObjects()
		if err != nil {
			return "", fmt.Errorf("failed to list CRs of %v: %v", list, err)
		}
		if n > 0 {
			return fmt.Sprintf("active CRs %d>0", n), nil
		}
		return "", nil
	}
}

// PodActive tells whether a Pod counts for a namespace's Cascading
// protection: it has not finished and is not being deleted (Kubernetes'
// controller.IsPodActive).
func PodActive(pod *corev1.Pod) bool {
	return pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed && pod.DeletionTimestamp == nil
}

// ClaimBound tells whether a PersistentVolumeClaim counts for a namespace's
// Cascading protection: it is Bound and not being deleted.
func ClaimBound(claim *corev1.PersistentVolumeClaim) bool {
	return claim.DeletionTimestamp == nil && claim.Status.Phase == corev1.ClaimBound
}
