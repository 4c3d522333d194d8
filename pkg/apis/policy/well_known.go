package policy

const (
	// LegacyProtectOperationsAnnotation is the v1alpha1-era way of saying
	// spec.protectOperations: a comma-separated list such as "DELETE,EVICT".
	// It stays an annotation in every version; the controller honours it
	// when spec.protectOperations is empty.
	LegacyProtectOperationsAnnotation = "kruise.io/pub-protect-operations"

	// LegacyProtectTotalReplicasAnnotation is the v1alpha1-era way of saying
	// spec.protectTotalReplicas, as a decimal int32. Likewise kept as an
	// annotation and honoured when the field is unset; when both are set
	// they must agree.
	LegacyProtectTotalReplicasAnnotation = "pub.kruise.io/protect-total-replicas"

	// PodNoProtectionAnnotation, set to a true value on a Pod, lets every
	// disruption of that Pod through (for forced deletes); v1beta1's
	// spec.ignoredPodSelector is the per-budget way of saying the same.
	PodNoProtectionAnnotation = "pub.kruise.io/no-protect"
)
