package v1beta1

import (
	"k8s.io/apimachinery/pkg/runtime"
)

// OpenKruise defaults nothing on a PodUnavailableBudget: no mutating webhook
// and no defaulting in its API package. What an unset field means (the
// protected operations, the total replicas) is decided by the controller at
// run time, from the legacy annotations or its own fallbacks, so it must stay
// unset here. The registration is kept for the generated defaulters of the
// embedded types.
func addDefaultingFuncs(scheme *runtime.Scheme) error {
	return RegisterDefaults(scheme)
}
