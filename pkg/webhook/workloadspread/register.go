package workloadspread

import (
	"k8s.io/utils/clock"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/webhook"
	wsutil "github.com/kruise-apiserver/kruise-apiserver/pkg/workloadspread"
)

// Path is where the handler is served: Pod CREATE (placement), DELETE and
// pods/eviction CREATE (deletingPods records).
const Path = webhook.PathPrefix + "mutate-pod-workloadspread"

// New builds the handler. It reads WorkloadSpreads and the targeted
// workloads (Deployments, ReplicaSets, CloneSets, Advanced StatefulSets)
// from informers; a ReplicaSet not in the cache yet is read from
// kube-apiserver, and the status is written to this server.
func New(c *webhook.Context) (webhook.AdmitFunc, error) {
	h := &handler{
		kruise:   c.KruiseClient,
		wsLister: c.KruiseInformers.Apps().V1beta1().WorkloadSpreads().Lister(),
		workloads: wsutil.Workloads{
			Deployments:  c.KubeInformers.Apps().V1().Deployments().Lister(),
			ReplicaSets:  c.KubeInformers.Apps().V1().ReplicaSets().Lister(),
			CloneSets:    c.KruiseInformers.Apps().V1beta1().CloneSets().Lister(),
			StatefulSets: c.KruiseInformers.Apps().V1beta1().StatefulSets().Lister(),
			KubeClient:   c.KubeClient,
		},
		versioning: c.WorkloadSpreadVersioning,
		clock:      clock.RealClock{},
		newUID:     newUID,
	}
	return webhook.SkipSystemNamespaces(h.admit), nil
}
