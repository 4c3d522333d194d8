package statefulset

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers/expectations"
)

// TestRun drives the controller through its queue and event handlers, as
// the host runs it.
func TestRun(t *testing.T) {
	f := newFixture(t, withClaims(newSet("web", 3), "data"))
	ctx, cancel := context.WithCancel(f.ctx)
	done := make(chan struct{})
	go func() {
		f.c.Run(ctx, 2)
		close(done)
	}()
	defer func() {
		cancel()
		<-done
	}()

	// OrderedReady: play the kubelet for each Pod as it appears.
	err := wait.PollUntilContextTimeout(ctx, 5*time.Millisecond, 20*time.Second, true, func(context.Context) (bool, error) {
		f.run()
		// Lets rate-limited retries (on the fake clock) happen.
		f.clock.Step(50 * time.Millisecond)
		s := f.set("web").Status
		return s.Replicas == 3 && s.ReadyReplicas == 3 && s.AvailableReplicas == 3, nil
	})
	if err != nil {
		t.Fatalf("pods %v, status %+v: %v", f.podNames(), f.set("web").Status, err)
	}
	if got := f.pvcNames(); !equalStrings(got, []string{"data-web-0", "data-web-1", "data-web-2"}) {
		t.Errorf("claims %v", got)
	}

	// Scale in through /scale-like spec changes.
	f.updateSet("web", func(s *appsv1beta1.StatefulSet) { s.Spec.Replicas = ptr.To[int32](1) })
	err = wait.PollUntilContextTimeout(ctx, 5*time.Millisecond, 20*time.Second, true, func(context.Context) (bool, error) {
		f.clock.Step(50 * time.Millisecond)
		return equalStrings(f.podNames(), []string{"web-0"}) && f.set("web").Status.Replicas == 1, nil
	})
	if err != nil {
		t.Fatalf("pods %v, status %+v: %v", f.podNames(), f.set("web").Status, err)
	}
}

func TestEventHandlers(t *testing.T) {
	set := newSet("web", 1)
	f := newFixture(t, set)
	// Stop the queue from being fed by the informers' own events.
	key := f.key("web")
	drain := func() int {
		n := 0
		for f.c.queue.Len() > 0 {
			k, _ := f.c.queue.Get()
			f.c.queue.Done(k)
			f.c.queue.Forget(k)
			n++
		}
		return n
	}
	f.settle()
	drain()

	pod := existingPod(set, "web-abc", 0)
	f.c.scaleExpectations.Expect(key, expectations.Create, pod.Name)
	f.c.onPodAdd(pod)
	if p := f.c.scaleExpectations.Pending(key); p != nil {
		t.Errorf("after add: pending %v", p)
	}
	if n := drain(); n != 1 {
		t.Errorf("queued %d after a Pod add", n)
	}

	// A graceful deletion starting counts as the deletion.
	f.c.scaleExpectations.Expect(key, expectations.Delete, pod.Name)
	deleting := pod.DeepCopy()
	deleting.ResourceVersion = "2"
	deleting.DeletionTimestamp = &metav1.Time{Time: t0}
	f.c.onPodUpdate(pod, deleting)
	if p := f.c.scaleExpectations.Pending(key); p != nil {
		t.Errorf("after deletion began: pending %v", p)
	}
	drain()

	// An orphan named and labelled as a member wakes its StatefulSet; one
	// named otherwise does not.
	orphan := pod.DeepCopy()
	orphan.OwnerReferences = nil
	f.c.onPodAdd(orphan)
	if n := drain(); n != 1 {
		t.Errorf("queued %d after an orphan member appeared", n)
	}
	orphan.Name = "other-0"
	f.c.onPodAdd(orphan)
	if n := drain(); n != 0 {
		t.Errorf("queued %d after a non-member appeared", n)
	}

	// A claim owned by a Pod of the set (scaled away) wakes the set when it
	// goes.
	claim := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{
		Name: "data-web-3", Namespace: ns,
		OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(pod, podKind)},
	}}
	claim.OwnerReferences[0].Name = "web-3"
	f.c.onPVCDelete(claim)
	if n := drain(); n != 1 {
		t.Errorf("queued %d after a claim of web-3 went", n)
	}
}

func TestOrdinalRange(t *testing.T) {
	for _, tc := range []struct {
		name     string
		start    int32
		replicas int32
		reserved []intstr.IntOrString
		want     []int
	}{
		{"plain", 0, 3, nil, []int{0, 1, 2}},
		{"start", 3, 2, nil, []int{3, 4}},
		{"reserved", 0, 3, []intstr.IntOrString{intstr.FromInt32(0), intstr.FromInt32(2)}, []int{1, 3, 4}},
		{"ranges overlapping", 1, 3, []intstr.IntOrString{intstr.FromString("2-4"), intstr.FromString("4-6"), intstr.FromInt32(7)}, []int{1, 8, 9}},
		{"reserved below start", 5, 2, []intstr.IntOrString{intstr.FromString("0-5")}, []int{6, 7}},
		{"a huge range", 0, 2, []intstr.IntOrString{intstr.FromString("1-2000000000")}, []int{0, 2000000001}},
		{"an unreadable range is ignored with the rest", 0, 2, []intstr.IntOrString{intstr.FromInt32(0), intstr.FromString("5-1")}, []int{0, 1}},
		{"zero replicas", 0, 0, nil, []int{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := newSet("web", tc.replicas)
			set.Spec.Ordinals = &appsv1beta1.StatefulSetOrdinals{Start: tc.start}
			set.Spec.ReserveOrdinals = tc.reserved
			r := newOrdinalRange(set)
			if len(r.ordinals) != len(tc.want) {
				t.Fatalf("ordinals %v, want %v", r.ordinals, tc.want)
			}
			for i := range tc.want {
				if r.ordinals[i] != tc.want[i] {
					t.Fatalf("ordinals %v, want %v", r.ordinals, tc.want)
				}
				if r.index(tc.want[i]) != i {
					t.Errorf("index(%d) = %d", tc.want[i], r.index(tc.want[i]))
				}
			}
			for _, n := range []int{-1, int(tc.start) - 1} {
				if r.contains(n) {
					t.Errorf("contains %d", n)
				}
			}
		})
	}
}

func TestParentAndOrdinal(t *testing.T) {
	for name, want := range map[string]struct {
		parent  string
		ordinal int
	}{
		"web-0":           {"web", 0},
		"my-web-12":       {"my-web", 12},
		"web":             {"", -1},
		"web-x":           {"", -1},
		"web-99999999999": {"", -1},
	} {
		parent, ordinal := parentAndOrdinal(name)
		if parent != want.parent || ordinal != want.ordinal {
			t.Errorf("%s: %q %d, want %q %d", name, parent, ordinal, want.parent, want.ordinal)
		}
	}
}

func TestSortByOrderPriority(t *testing.T) {
	pod := func(lbls map[string]string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: lbls}}
	}
	pods := []*corev1.Pod{
		pod(map[string]string{"b": "x-1"}),
		pod(map[string]string{"a": "node-2"}),
		pod(map[string]string{"a": "node-10"}),
		pod(nil),
		pod(map[string]string{"b": "x-5"}),
	}
	indexes := []int{0, 1, 2, 3, 4}
	sortByPriority(&appsv1beta1.UpdatePriorityStrategy{OrderPriority: []appsv1beta1.UpdatePriorityOrderTerm{
		{OrderedKey: "a"}, {OrderedKey: "b"},
	}}, pods, indexes)
	want := []int{3, 2, 1, 4, 0}
	for i := range want {
		if indexes[i] != want[i] {
			t.Fatalf("order %v, want %v", indexes, want)
		}
	}
}
