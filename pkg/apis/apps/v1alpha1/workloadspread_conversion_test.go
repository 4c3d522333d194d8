package v1alpha1_test

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/annotationstash"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/install"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1alpha1"
)

func subsetStatus(name string, generation int64) apps.WorkloadSpreadSubsetStatus {
	return apps.WorkloadSpreadSubsetStatus{Name: name, MissingReplicas: -1, Conditions: []metav1.Condition{
		{Type: apps.SubsetSchedulable, Status: metav1.ConditionTrue, ObservedGeneration: generation},
	}}
}

func generations(statuses []apps.WorkloadSpreadSubsetStatus) map[string]int64 {
	out := map[string]int64{}
	for _, s := range statuses {
		for _, c := range s.Conditions {
			out[s.Name+"/"+c.Type] = c.ObservedGeneration
		}
	}
	return out
}

// A v1alpha1 client that reorders or drops subset statuses must not move
// the stashed observed generations onto other subsets.
func TestSubsetConditionGenerationsFollowTheirSubset(t *testing.T) {
	scheme := runtime.NewScheme()
	install.Install(scheme)

	hub := &apps.WorkloadSpread{Status: apps.WorkloadSpreadStatus{
		SubsetStatuses: []apps.WorkloadSpreadSubsetStatus{subsetStatus("a", 4), subsetStatus("b", 5), subsetStatus("c", 6)},
		VersionedSubsetStatuses: map[string][]apps.WorkloadSpreadSubsetStatus{
			"v1": {subsetStatus("a", 7)},
		},
	}}
	alpha := &v1alpha1.WorkloadSpread{}
	if err := scheme.Convert(hub, alpha, nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := alpha.Annotations[annotationstash.Key]; !ok {
		t.Fatalf("no stash on %v", alpha.Annotations)
	}

	statuses := alpha.Status.SubsetStatuses
	alpha.Status.SubsetStatuses = []v1alpha1.WorkloadSpreadSubsetStatus{statuses[2], statuses[0]}
	back := &apps.WorkloadSpread{}
	if err := scheme.Convert(alpha, back, nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := back.Annotations[annotationstash.Key]; ok {
		t.Errorf("stash left on the hub object")
	}
	got := generations(back.Status.SubsetStatuses)
	if len(got) != 2 || got["a/Schedulable"] != 4 || got["c/Schedulable"] != 6 {
		t.Errorf("generations %v, want a=4 c=6", got)
	}
	if got := generations(back.Status.VersionedSubsetStatuses["v1"]); got["a/Schedulable"] != 7 {
		t.Errorf("versioned generations %v, want a=7", got)
	}
}

// Subset statuses that share a name keep their own generations.
func TestSubsetConditionGenerationsOfRepeatedNames(t *testing.T) {
	scheme := runtime.NewScheme()
	install.Install(scheme)

	hub := &apps.WorkloadSpread{Status: apps.WorkloadSpreadStatus{
		SubsetStatuses: []apps.WorkloadSpreadSubsetStatus{subsetStatus("a", 0), subsetStatus("a", 5)},
	}}
	alpha := &v1alpha1.WorkloadSpread{}
	if err := scheme.Convert(hub, alpha, nil); err != nil {
		t.Fatal(err)
	}
	back := &apps.WorkloadSpread{}
	if err := scheme.Convert(alpha, back, nil); err != nil {
		t.Fatal(err)
	}
	if g0, g1 := back.Status.SubsetStatuses[0].Conditions[0].ObservedGeneration, back.Status.SubsetStatuses[1].Conditions[0].ObservedGeneration; g0 != 0 || g1 != 5 {
		t.Errorf("generations %d, %d, want 0, 5", g0, g1)
	}
}
