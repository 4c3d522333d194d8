package workloadspread

import (
	"k8s.io/utils/clock"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/webhook"
	wsutil "github.com/kruise-apiserver/kruise-apiserver/pkg/workloadspread"
)

// Path is where the handler is served: Pod CREATE (placement), DELETE and
// pods/eviction CREATE (deletingPods records).
const Path = webhook.PathPrefix + "mutate-pod-workloadspread"

// New builds the handler. It reads WorkloadSpreads from an informer (every
// replica holds them all: few, and asked for on every Pod creation), the
// targeted workloads (Deployments, ReplicaSets, CloneSets, Advanced
// StatefulSets) with requests, only for Pods a WorkloadSpread of their
// namespace may target (see wsutil.APIReader), and writes the status to
// this server.
func New(c *webhook.Context) (webhook.AdmitFunc, error) {
	h := &handler{
		kruise:     c.KruiseClient,
		wsLister:   c.KruiseInformers.Apps().V1beta1().WorkloadSpreads().Lister(),
		kube:       c.KubeClient,
		workloads:  wsutil.Workloads{Reader: wsutil.APIReader{Kube: c.KubeClient, Kruise: c.KruiseClient}},
		versioning: c.WorkloadSpreadVersioning,
		clock:      clock.RealClock{},
		newUID:     newUID,
	}
	// Never act on the cluster's own namespaces, whatever the webhook
	// configuration sends.
	return webhook.SkipSystemNamespaces(h.admit), nil
}
