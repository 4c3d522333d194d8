package webhook

import (
	"context"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/util/sets"
)

// SystemNamespaces are the cluster's own namespaces, which pod-level
// functions (WorkloadSpread, PodUnavailableBudget, ...) never act on: what
// runs there keeps the cluster itself going, and no Kruise policy is meant
// for it. kube-public and kube-node-lease are in: nothing of a user's runs
// there either, and the webhook configurations leave them out as well.
var SystemNamespaces = sets.New("kube-system", "kube-public", "kube-node-lease")

// SkipSystemNamespaces wraps a pod-level handler so that requests for
// objects in SystemNamespaces are admitted untouched, without calling it.
// The webhook configurations' namespaceSelectors already keep those
// requests away; this holds when a configuration was edited or written
// without one.
func SkipSystemNamespaces(admit AdmitFunc) AdmitFunc {
	return func(ctx context.Context, req *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
		if SystemNamespaces.Has(req.Namespace) {
			return Allowed()
		}
		return admit(ctx, req)
	}
}
