package webhook

import (
	"context"

	admissionv1 "k8s.io/api/admission/v1"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/workloadspread"
)

// SystemNamespaces are the cluster's own namespaces, which pod-level
// functions (WorkloadSpread, PodUnavailableBudget, ...) never act on: what
// runs there keeps the cluster itself going, and no Kruise policy is meant
// for it. kube-public and kube-node-lease are in: nothing of a user's runs
// there either, and the webhook configurations leave them out as well.
//
// It is pkg/workloadspread's set, so that the WorkloadSpread controller,
// which does not go through this package, skips exactly the namespaces
// the webhooks skip (pkg/workloadspread cannot import this package, which
// imports it).
var SystemNamespaces = workloadspread.SystemNamespaces

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
