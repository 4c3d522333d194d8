package cloneset

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
)

// The cases are OpenKruise's own for its diff arithmetic (the partition
// rollback and PreparingUpdate cases aside, whose feature gates are off
// here): the same CloneSets and Pods must give the same numbers.

func diffCloneSet(replicas int32, partition, maxUnavailable, maxSurge intstr.IntOrString) *appsv1beta1.CloneSet {
	return &appsv1beta1.CloneSet{Spec: appsv1beta1.CloneSetSpec{
		Replicas: &replicas,
		UpdateStrategy: appsv1beta1.CloneSetUpdateStrategy{RollingUpdate: &appsv1beta1.RollingUpdateCloneSetStrategy{
			Partition: &partition, MaxUnavailable: &maxUnavailable, MaxSurge: &maxSurge,
		}},
	}}
}

func withScaleMaxUnavailable(cs *appsv1beta1.CloneSet, v intstr.IntOrString) *appsv1beta1.CloneSet {
	cs.Spec.ScaleStrategy.MaxUnavailable = &v
	return cs
}

func withExcludePreparingDelete(cs *appsv1beta1.CloneSet) *appsv1beta1.CloneSet {
	cs.Spec.ScaleStrategy.ExcludePreparingDelete = true
	return cs
}

// diffPod is a Pod at revision "old" or "new", in a lifecycle state, ready
// or not, specified for deletion or not.
func diffPod(rev string, state lifecycleState, ready, specifiedDelete bool) *corev1.Pod {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{
		appsv1.ControllerRevisionHashLabelKey: rev + "_rev",
		LifecycleStateLabel:                   string(state),
	}}}
	if ready {
		pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}
	}
	if specifiedDelete {
		pod.Labels[SpecifiedDeleteLabel] = "true"
	}
	return pod
}

func TestCalculateDiffs(t *testing.T) {
	i := intstr.FromInt32
	s := intstr.FromString
	const (
		N  = stateNormal
		U  = stateUpdating
		PD = statePreparingDelete
	)
	ready := func(rev string) *corev1.Pod { return diffPod(rev, N, true, false) }
	notReady := func(rev string) *corev1.Pod { return diffPod(rev, N, false, false) }
	toDelete := func(rev string, ready bool) *corev1.Pod { return diffPod(rev, N, ready, true) }
	repeat := func(n int, f func() *corev1.Pod) []*corev1.Pod {
		var out []*corev1.Pod
		for range n {
			out = append(out, f())
		}
		return out
	}
	readyN := func(rev string, n int) []*corev1.Pod { return repeat(n, func() *corev1.Pod { return ready(rev) }) }
	pods := func(groups ...[]*corev1.Pod) []*corev1.Pod {
		var out []*corev1.Pod
		for _, g := range groups {
			out = append(out, g...)
		}
		return out
	}
	one := func(p *corev1.Pod) []*corev1.Pod { return []*corev1.Pod{p} }

	cases := []struct {
		name string
		cs   *appsv1beta1.CloneSet
		pods []*corev1.Pod
		want diffs
	}{
		{"empty", diffCloneSet(0, i(0), i(1), i(0)), nil, diffs{}},
		{"scale to 5 (1/2)", diffCloneSet(5, i(0), i(1), i(0)), nil, diffs{scaleUpNum: 5, scaleUpLimit: 5}},
		{"scale to 5 (2/2)", diffCloneSet(5, i(0), i(1), i(0)), readyN("new", 5), diffs{}},
		{"specified delete 1 (1/3)", diffCloneSet(5, i(0), i(1), i(0)),
			pods(one(toDelete("new", true)), readyN("new", 4)), diffs{deleteReadyLimit: 1}},
		{"specified delete 1 (2/3)", diffCloneSet(5, i(0), i(1), i(0)), readyN("new", 4), diffs{scaleUpNum: 1, scaleUpLimit: 1}},
		{"specified delete 1 (3/3)", diffCloneSet(5, i(0), i(1), i(0)), readyN("new", 5), diffs{}},
		{"specified delete 2 (1/6)", diffCloneSet(5, i(0), i(1), i(0)),
			pods(one(toDelete("new", true)), one(toDelete("new", true)), readyN("new", 3)), diffs{deleteReadyLimit: 1}},
		{"specified delete 2 (3/6)", diffCloneSet(5, i(0), i(1), i(0)),
			pods(one(toDelete("new", true)), readyN("new", 3), one(notReady("new"))), diffs{}},
		{"specified delete 2, replicas 4 (1/3)", diffCloneSet(4, i(0), i(1), i(0)),
			pods(one(toDelete("new", false)), one(toDelete("new", false)), readyN("new", 3)), diffs{deleteReadyLimit: 2}},
		{"specified delete 2, replicas 4 (2/3)", diffCloneSet(4, i(0), i(1), i(0)), readyN("new", 3), diffs{scaleUpNum: 1, scaleUpLimit: 1}},
		{"partition 3 (1/3)", diffCloneSet(5, i(3), i(1), i(0)), readyN("old", 5), diffs{updateNum: 2, updateMaxUnavailable: 1}},
		{"partition 3 (2/3)", diffCloneSet(5, i(3), i(1), i(0)), pods(readyN("new", 1), readyN("old", 4)), diffs{updateNum: 1, updateMaxUnavailable: 1}},
		{"partition 3 (3/3)", diffCloneSet(5, i(3), i(1), i(0)), pods(readyN("new", 2), readyN("old", 3)), diffs{}},
		{"specified delete with maxSurge (1/4)", diffCloneSet(5, i(0), i(0), i(1)),
			pods(one(toDelete("new", true)), readyN("new", 4)), diffs{scaleUpNum: 1, useSurge: 1, scaleUpLimit: 1}},
		{"specified delete with maxSurge (2/4)", diffCloneSet(5, i(0), i(0), i(1)),
			pods(one(toDelete("new", true)), readyN("new", 4), one(notReady("new"))), diffs{useSurge: 1}},
		{"specified delete with maxSurge (3/4)", diffCloneSet(5, i(0), i(0), i(1)),
			pods(one(toDelete("new", true)), readyN("new", 5)), diffs{deleteReadyLimit: 1, useSurge: 1}},
		{"specified delete with maxSurge (4/4)", diffCloneSet(5, i(0), i(0), i(1)), readyN("new", 5), diffs{}},
		{"in-place partition 3 with maxSurge (1/4)", diffCloneSet(5, i(3), i(1), i(1)), readyN("old", 5),
			diffs{scaleUpNum: 1, useSurge: 1, updateNum: 2, updateMaxUnavailable: 1, scaleUpLimit: 1}},
		{"in-place partition 3 with maxSurge (2/4)", diffCloneSet(5, i(3), i(1), i(1)), pods(readyN("old", 5), one(notReady("new"))),
			diffs{useSurge: 1, updateNum: 1, updateMaxUnavailable: 2}},
		{"in-place partition 3 with maxSurge (3/4)", diffCloneSet(5, i(3), i(1), i(1)),
			pods(readyN("old", 4), one(diffPod("new", U, false, false)), one(notReady("new"))),
			diffs{scaleDownNum: 1, scaleDownNumOldRevision: 1}},
		{"in-place partition 3 with maxSurge (4/4)", diffCloneSet(5, i(3), i(1), i(1)),
			pods(readyN("old", 4), readyN("new", 1), one(notReady("new"))),
			diffs{scaleDownNum: 1, scaleDownNumOldRevision: 1, deleteReadyLimit: 1}},
		{"recreate partition 3 with maxSurge (1/7)", diffCloneSet(5, i(3), i(1), i(1)), readyN("old", 5),
			diffs{scaleUpNum: 1, useSurge: 1, updateNum: 2, updateMaxUnavailable: 1, scaleUpLimit: 1}},
		{"recreate partition 3 with maxSurge (2/7)", diffCloneSet(5, i(3), i(1), i(1)), pods(readyN("old", 5), one(notReady("new"))),
			diffs{useSurge: 1, updateNum: 1, updateMaxUnavailable: 2}},
		{"recreate partition 3 with maxSurge (3/7)", diffCloneSet(5, i(3), i(1), i(1)),
			pods(readyN("old", 4), one(toDelete("old", true)), one(notReady("new"))),
			diffs{useSurge: 1, useSurgeOldRevision: 1, deleteReadyLimit: 1, updateNum: 1, updateMaxUnavailable: 2}},
		{"recreate partition 3 with maxSurge (4/7)", diffCloneSet(5, i(3), i(1), i(1)), pods(readyN("old", 4), one(notReady("new"))),
			diffs{useSurge: 1, scaleUpNum: 1, updateNum: 1, updateMaxUnavailable: 1, scaleUpLimit: 1}},
		{"recreate partition 3 with maxSurge (5/7)", diffCloneSet(5, i(3), i(1), i(1)),
			pods(readyN("old", 4), one(notReady("new")), one(notReady("new"))),
			diffs{scaleDownNum: 1, scaleDownNumOldRevision: 1}},
		{"recreate partition 3 with maxSurge (6/7)", diffCloneSet(5, i(3), i(1), i(1)),
			pods(readyN("old", 4), readyN("new", 1), one(notReady("new"))),
			diffs{scaleDownNum: 1, scaleDownNumOldRevision: 1, deleteReadyLimit: 1}},
		{"recreate partition 3 with maxSurge (7/7)", diffCloneSet(5, i(3), i(1), i(1)), pods(readyN("old", 3), readyN("new", 2)), diffs{}},
		{"partition 99%, maxUnavailable 3, maxSurge 2 (1/3)", diffCloneSet(5, s("99%"), i(3), i(2)), readyN("old", 5),
			diffs{scaleUpNum: 1, useSurge: 1, updateNum: 1, updateMaxUnavailable: 3, scaleUpLimit: 1}},
		{"partition 99%, maxUnavailable 3, maxSurge 2 (2/3)", diffCloneSet(5, s("99%"), i(3), i(2)), pods(readyN("old", 5), one(notReady("new"))),
			diffs{scaleDownNum: 1, scaleDownNumOldRevision: 1, deleteReadyLimit: 3}},
		{"partition 99%, maxUnavailable 3, maxSurge 2 (3/3)", diffCloneSet(5, s("99%"), i(3), i(2)), pods(readyN("old", 4), one(notReady("new"))), diffs{}},
		{"partition 99%, maxUnavailable 40%, maxSurge 30% (1/3)", diffCloneSet(5, s("99%"), s("40%"), s("30%")), readyN("old", 5),
			diffs{scaleUpNum: 1, useSurge: 1, updateNum: 1, updateMaxUnavailable: 2, scaleUpLimit: 1}},
		{"partition 99%, maxUnavailable 40%, maxSurge 30% (2/3)", diffCloneSet(5, s("99%"), s("40%"), s("30%")), pods(readyN("old", 5), one(notReady("new"))),
			diffs{scaleDownNum: 1, scaleDownNumOldRevision: 1, deleteReadyLimit: 2}},
		{"partition 99%, maxUnavailable 30%, maxSurge 30% (1/3)", diffCloneSet(5, s("99%"), s("30%"), s("30%")), readyN("old", 5),
			diffs{scaleUpNum: 1, useSurge: 1, updateNum: 1, updateMaxUnavailable: 1, scaleUpLimit: 1}},
		{"partition 99%, maxUnavailable 30%, maxSurge 30% (2/3)", diffCloneSet(5, s("99%"), s("30%"), s("30%")), pods(readyN("old", 5), one(notReady("new"))),
			diffs{scaleDownNum: 1, scaleDownNumOldRevision: 1, deleteReadyLimit: 1}},
		{"update when scale-out fails", diffCloneSet(5, i(1), i(2), i(0)), pods(readyN("old", 2), readyN("new", 2)),
			diffs{scaleUpNum: 1, updateNum: 1, updateMaxUnavailable: 1, scaleUpLimit: 1}},
		{"update when scale-in fails", diffCloneSet(5, i(1), i(1), i(0)), pods(readyN("old", 3), readyN("new", 3)),
			diffs{scaleDownNum: 1, scaleDownNumOldRevision: 2, deleteReadyLimit: 2, updateNum: 1, updateMaxUnavailable: 2}},
		{"no rollback by partition", diffCloneSet(5, i(4), i(1), i(0)), pods(readyN("old", 1), readyN("new", 4)), diffs{}},
		{"scale 0 to 5, scale maxUnavailable 2", withScaleMaxUnavailable(diffCloneSet(5, i(0), i(1), i(0)), i(2)), nil,
			diffs{scaleUpNum: 5, scaleUpLimit: 2}},
		{"scale 3 to 6, scale maxUnavailable 2, 1 not ready", withScaleMaxUnavailable(diffCloneSet(6, i(0), i(1), i(0)), i(2)),
			pods(readyN("new", 2), one(notReady("new"))), diffs{scaleUpNum: 3, scaleUpLimit: 1}},
		{"scale 3 to 6, scale maxUnavailable 2, 2 not ready", withScaleMaxUnavailable(diffCloneSet(6, i(0), i(1), i(0)), i(2)),
			pods(readyN("new", 1), one(notReady("new")), one(notReady("new"))), diffs{scaleUpNum: 3}},
		{"preparing delete counted (2/4)", diffCloneSet(3, i(0), i(1), i(0)),
			pods(readyN("new", 2), one(diffPod("new", PD, true, true))), diffs{}},
		{"preparing delete excluded (2/4)", withExcludePreparingDelete(diffCloneSet(3, i(0), i(1), i(0))),
			pods(readyN("new", 2), one(diffPod("new", PD, true, true))), diffs{scaleUpNum: 1, scaleUpLimit: 1}},
		{"preparing delete excluded (3/4)", withExcludePreparingDelete(diffCloneSet(3, i(0), i(1), i(0))),
			pods(readyN("new", 2), one(diffPod("new", PD, true, true)), one(notReady("new"))), diffs{}},
		{"preparing delete excluded, cancelled (4/5)", withExcludePreparingDelete(diffCloneSet(3, i(0), i(1), i(0))),
			pods(readyN("new", 3), one(notReady("new"))), diffs{scaleDownNum: 1, deleteReadyLimit: 1}},
		{"preparing delete excluded, scale down (2/6)", withExcludePreparingDelete(diffCloneSet(2, i(0), i(1), i(0))),
			pods(readyN("new", 2), one(toDelete("new", true))), diffs{deleteReadyLimit: 2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := calculateDiffs(tc.cs, tc.pods, func(p *corev1.Pod) bool { return isAtRevision(p, "new_rev") }, time.Now())
			if got != tc.want {
				t.Errorf("got  %v\nwant %v", got, tc.want)
			}
		})
	}
}

func TestPartition(t *testing.T) {
	for _, tc := range []struct {
		replicas  int32
		partition intstr.IntOrString
		want      int
	}{
		{5, intstr.FromInt32(3), 3},
		{5, intstr.FromInt32(7), 5},
		{5, intstr.FromString("50%"), 3}, // rounded up
		{5, intstr.FromString("99%"), 4}, // at least one updated
		{1, intstr.FromString("99%"), 1},
		{5, intstr.FromString("100%"), 5},
		{5, intstr.FromString("1%"), 1}, // at least one kept
		{0, intstr.FromString("50%"), 0},
	} {
		cs := diffCloneSet(tc.replicas, tc.partition, intstr.FromInt32(1), intstr.FromInt32(0))
		if got, err := partitionOf(cs); err != nil || got != tc.want {
			t.Errorf("partition %s of %d: got %d, %v, want %d", tc.partition.String(), tc.replicas, got, err, tc.want)
		}
	}
}

func TestStrategyRounding(t *testing.T) {
	// maxUnavailable rounds up without surge and down with it.
	cs := diffCloneSet(5, intstr.FromInt32(0), intstr.FromString("30%"), intstr.FromInt32(0))
	if s := strategyOf(cs); s.maxUnavailable != 2 || s.maxSurge != 0 {
		t.Errorf("without surge: %+v", s)
	}
	cs = diffCloneSet(5, intstr.FromInt32(0), intstr.FromString("30%"), intstr.FromString("10%"))
	if s := strategyOf(cs); s.maxUnavailable != 1 || s.maxSurge != 1 {
		t.Errorf("with surge: %+v", s)
	}
	// Paused: no surge.
	cs.Spec.UpdateStrategy.RollingUpdate.Paused = true
	if s := strategyOf(cs); s.maxSurge != 0 || s.maxUnavailable != 2 {
		t.Errorf("paused: %+v", s)
	}
}
