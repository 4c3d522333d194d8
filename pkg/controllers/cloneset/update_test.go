package cloneset

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	clienttesting "k8s.io/client-go/testing"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
)

// markedPods returns the Pods the actions labelled for re-creation.
func markedPods(actions []clienttesting.Action) []string {
	var out []string
	for _, a := range actions {
		p, ok := a.(clienttesting.PatchAction)
		if !ok || a.GetResource().Resource != "pods" {
			continue
		}
		var patch struct {
			Metadata struct {
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
		}
		if json.Unmarshal(p.GetPatch(), &patch) == nil && patch.Metadata.Labels[SpecifiedDeleteLabel] == "true" {
			out = append(out, p.GetName())
		}
	}
	slices.Sort(out)
	return out
}

// step is what one sync is expected to do.
type step struct {
	created, deleted, marked int
	// runAfter plays the kubelet for every Pod after the sync.
	runAfter bool
}

func (s step) String() string {
	return fmt.Sprintf("created %d, deleted %d, marked %d", s.created, s.deleted, s.marked)
}

// rollOut runs the syncs and checks what each did, and that invariant
// (when not nil) holds after each.
func rollOut(t *testing.T, f *fixture, name string, steps []step, invariant ...func() error) {
	t.Helper()
	for i, want := range steps {
		writes := f.sync(name)
		got := step{
			created: count(writes, "create", "pods"),
			deleted: count(writes, "delete", "pods"),
			marked:  len(markedPods(writes)),
		}
		if got.String() != want.String() {
			t.Fatalf("sync %d: %v, want %v", i+1, got, want)
		}
		for _, check := range invariant {
			if err := check(); err != nil {
				t.Fatalf("after sync %d: %v", i+1, err)
			}
		}
		if want.runAfter {
			f.run()
		}
	}
}

// updatedCloneSet returns a fixture with the CloneSet's Pods running at its
// template, then changes the image: the update revision is new.
func updatedCloneSet(t *testing.T, cs *appsv1beta1.CloneSet, mutate func(*appsv1beta1.CloneSet)) (f *fixture, oldRev, newRev string) {
	t.Helper()
	oldRev = revisionOf(t, cs)
	objects := []runtime.Object{cs}
	for i := range int(*cs.Spec.Replicas) {
		objects = append(objects, existingPod(cs, oldRev, fmt.Sprintf("old%02d", i)))
	}
	f = newFixture(t, true, objects...)
	f.sync(cs.Name) // revision 1, status
	f.updateCloneSet(cs.Name, func(cs *appsv1beta1.CloneSet) {
		cs.Spec.Template.Spec.Containers[0].Image = "nginx:2"
		if mutate != nil {
			mutate(cs)
		}
	})
	newRev = revisionOf(t, f.cloneSet(cs.Name))
	return f, oldRev, newRev
}

func TestRecreateUpdateWithMaxUnavailable(t *testing.T) {
	cs := withRollingUpdate(newCloneSet("web", 5), intstr.FromInt32(0), intstr.FromInt32(2), intstr.FromInt32(0))
	f, oldRev, newRev := updatedCloneSet(t, cs, nil)
	rollOut(t, f, "web", []step{
		{marked: 2},                  // two Pods labelled specified-delete
		{deleted: 2},                 // deleted: 2 unavailable
		{created: 2},                 // replaced at the new revision
		{},                           // the new Pods are not ready: refresh only, no more updates
		{runAfter: true},             // (refresh) then the kubelet makes them ready
		{marked: 2},                  //
		{deleted: 2},                 //
		{created: 2, runAfter: true}, //
		{marked: 1},                  //
		{deleted: 1},                 //
		{created: 1, runAfter: true}, //
		{},                           //
	})
	at, others := f.podsAt(newRev)
	if len(at) != 5 || len(others) != 0 {
		t.Fatalf("at %s: %v, others %v", newRev, at, others)
	}
	status := f.cloneSet("web").Status
	if status.UpdateRevision != newRev || status.CurrentRevision != newRev || status.UpdatedReplicas != 5 ||
		status.UpdatedReadyReplicas != 5 || status.ReadyReplicas != 5 {
		t.Errorf("status %+v", status)
	}
	events := f.events()
	if n := countEvents(events, reasonSuccessfulUpdatePodReCreate); n != 5 {
		t.Errorf("%d %s events", n, reasonSuccessfulUpdatePodReCreate)
	}
	_ = oldRev
}

func TestRecreateUpdateWithPartition(t *testing.T) {
	// partition 50% of 4 rounds up to 2 Pods kept at the old revision.
	cs := withRollingUpdate(newCloneSet("web", 4), intstr.FromString("50%"), intstr.FromInt32(1), intstr.FromInt32(0))
	f, oldRev, newRev := updatedCloneSet(t, cs, nil)
	rollOut(t, f, "web", []step{
		{marked: 1}, {deleted: 1}, {created: 1, runAfter: true},
		{marked: 1}, {deleted: 1}, {created: 1, runAfter: true},
		{}, // done: partition reached
	})
	at, others := f.podsAt(newRev)
	if len(at) != 2 || len(others) != 2 {
		t.Fatalf("at %s: %v, others %v", newRev, at, others)
	}
	status := f.cloneSet("web").Status
	if status.ExpectedUpdatedReplicas != 2 || status.UpdatedReplicas != 2 || status.CurrentRevision != oldRev || status.UpdateRevision != newRev {
		t.Errorf("status %+v", status)
	}

	// Scale out at the partition: the new Pods keep the partition's share
	// at the old revision.
	f.updateCloneSet("web", func(cs *appsv1beta1.CloneSet) {
		cs.Spec.Replicas = ptr32(6)
		cs.Spec.UpdateStrategy.RollingUpdate.Partition = ptr32IntOrStr(intstr.FromInt32(4))
	})
	if got := count(f.sync("web"), "create", "pods"); got != 2 {
		t.Fatalf("scale-out created %d", got)
	}
	at, others = f.podsAt(newRev)
	if len(at) != 2 || len(others) != 4 {
		t.Fatalf("after scale-out at %s: %v, others %v", newRev, at, others)
	}

	// Partition 0: the rest goes.
	f.run()
	f.updateCloneSet("web", func(cs *appsv1beta1.CloneSet) {
		cs.Spec.UpdateStrategy.RollingUpdate.Partition = ptr32IntOrStr(intstr.FromInt32(0))
	})
	for range 30 {
		f.sync("web")
		f.run()
	}
	if at, _ := f.podsAt(newRev); len(at) != 6 {
		t.Fatalf("at %s: %v", newRev, at)
	}
	if status := f.cloneSet("web").Status; status.CurrentRevision != newRev || status.ExpectedUpdatedReplicas != 6 {
		t.Errorf("status %+v", status)
	}
}

func ptr32IntOrStr(v intstr.IntOrString) *intstr.IntOrString { return &v }

func TestRecreateUpdateWithMaxSurge(t *testing.T) {
	cs := withRollingUpdate(newCloneSet("web", 3), intstr.FromInt32(0), intstr.FromInt32(0), intstr.FromInt32(1))
	f, _, newRev := updatedCloneSet(t, cs, nil)
	// Never fewer than 3 available Pods, never more than 4 Pods.
	invariant := func() error {
		pods := f.pods()
		available := 0
		for _, p := range pods {
			if isPodAvailable(p, 0, f.clock.Now()) {
				available++
			}
		}
		if len(pods) > 4 || available < 3 {
			return fmt.Errorf("%d Pods, %d available", len(pods), available)
		}
		return nil
	}
	rollOut(t, f, "web", []step{
		{created: 1},     // a surge Pod at the new revision
		{},               // not ready: refresh
		{runAfter: true}, // nothing until it is ready
		{marked: 1},      // then one old Pod is marked
		{deleted: 1},     // and deleted
		{created: 1, runAfter: true},
		{marked: 1}, {deleted: 1},
		{created: 1, runAfter: true},
		{deleted: 1}, // the surplus old Pod goes by scale-in
		{},
	}, invariant)
	if at, others := f.podsAt(newRev); len(at) != 3 || len(others) != 0 {
		t.Fatalf("at %s: %v, others %v", newRev, at, others)
	}
}

func TestUpdatePausedAndOnDelete(t *testing.T) {
	cs := withRollingUpdate(newCloneSet("web", 3), intstr.FromInt32(0), intstr.FromInt32(3), intstr.FromInt32(0))
	f, _, newRev := updatedCloneSet(t, cs, func(cs *appsv1beta1.CloneSet) { cs.Spec.UpdateStrategy.RollingUpdate.Paused = true })
	rollOut(t, f, "web", []step{{}, {}})

	f.updateCloneSet("web", func(cs *appsv1beta1.CloneSet) {
		cs.Spec.UpdateStrategy.RollingUpdate.Paused = false
		cs.Spec.UpdateStrategy.Type = appsv1beta1.OnDeleteCloneSetUpdateStrategyType
	})
	rollOut(t, f, "web", []step{{}, {}})

	// A Pod deleted by someone else comes back at the new revision.
	victim := f.pods()[0].Name
	if err := f.kube.CoreV1().Pods(ns).Delete(f.ctx, victim, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	rollOut(t, f, "web", []step{{created: 1}, {}})
	if at, others := f.podsAt(newRev); len(at) != 1 || len(others) != 2 {
		t.Fatalf("at %s: %v, others %v", newRev, at, others)
	}
}

func TestUpdateOrderFollowsPriority(t *testing.T) {
	cs := withRollingUpdate(newCloneSet("web", 4), intstr.FromInt32(0), intstr.FromInt32(1), intstr.FromInt32(0))
	cs.Spec.UpdateStrategy.RollingUpdate.PriorityStrategy = &appsv1beta1.UpdatePriorityStrategy{
		WeightPriority: []appsv1beta1.UpdatePriorityWeightTerm{
			{Weight: 50, MatchSelector: metav1.LabelSelector{MatchLabels: map[string]string{"canary": "true"}}},
		},
	}
	oldRev := revisionOf(t, cs)
	var objects []runtime.Object
	objects = append(objects, cs)
	for i := range 4 {
		pod := existingPod(cs, oldRev, fmt.Sprintf("old%02d", i))
		if i == 2 {
			pod.Labels["canary"] = "true"
		}
		objects = append(objects, pod)
	}
	f := newFixture(t, true, objects...)
	f.sync("web")
	f.updateCloneSet("web", func(cs *appsv1beta1.CloneSet) { cs.Spec.Template.Spec.Containers[0].Image = "nginx:2" })
	if got := markedPods(f.sync("web")); !reflect.DeepEqual(got, []string{"web-old02"}) {
		t.Fatalf("marked %v, want the canary web-old02", got)
	}
}

func TestRefreshLifecycleAndReadinessGate(t *testing.T) {
	cs := newCloneSet("web", 1)
	cs.Spec.Lifecycle = &appsv1beta1.Lifecycle{PreNormal: &appsv1beta1.LifecycleHook{
		LabelsHandler: map[string]string{"warmed": "true"},
	}}
	f := newFixture(t, true, cs)
	f.sync("web")
	name := f.pods()[0].Name

	// InPlaceUpdateReady and KruisePodReady become True, in one sync.
	writes := f.sync("web")
	if got := count(writes, "update", "pods/status"); got != 2 {
		t.Fatalf("%d status updates", got)
	}
	for _, t2 := range []corev1.PodConditionType{InPlaceUpdateReady, KruisePodReady} {
		if c := podCondition(f.pod(name), t2); c == nil || c.Status != corev1.ConditionTrue {
			t.Fatalf("%s %+v", t2, c)
		}
	}
	if writes := f.sync("web"); count(writes, "update", "pods/status") != 0 {
		t.Fatalf("conditions written again: %v", writes)
	}
	// Scheduled, but the preNormal hook holds the Pod in PreparingNormal.
	pod := f.pod(name)
	pod.Spec.NodeName = "node-1"
	if _, err := f.kube.CoreV1().Pods(ns).Update(f.ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if writes := f.sync("web"); len(writes) != 0 && count(writes, "patch", "pods") != 0 {
		t.Fatalf("patched a hooked Pod: %v", writes)
	}
	if got := podLifecycleState(f.pod(name)); got != statePreparingNormal {
		t.Fatalf("state %s", got)
	}
	pod = f.pod(name)
	pod.Labels["warmed"] = "true"
	if _, err := f.kube.CoreV1().Pods(ns).Update(f.ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	f.sync("web")
	if got := podLifecycleState(f.pod(name)); got != stateNormal {
		t.Fatalf("state %s after the hook is satisfied", got)
	}
	if f.pod(name).Annotations[LifecycleTimestampAnnotation] != f.clock.Now().UTC().Format("2006-01-02T15:04:05Z07:00") {
		t.Errorf("lifecycle timestamp %q", f.pod(name).Annotations[LifecycleTimestampAnnotation])
	}
}

func TestLimitUpdates(t *testing.T) {
	cs := newCloneSet("web", 5)
	mk := func(rev string, available bool) *corev1.Pod {
		pod := existingPod(cs, rev, "x")
		if !available {
			pod.Status.Conditions[2].Status = corev1.ConditionFalse
		}
		return pod
	}
	now := t0
	cases := []struct {
		name    string
		pods    []*corev1.Pod
		d       diffs
		waiting []int
		want    []int
	}{
		{"maxUnavailable caps", []*corev1.Pod{mk("old", true), mk("old", true), mk("old", true), mk("old", true), mk("old", true)},
			diffs{updateNum: 5, updateMaxUnavailable: 2}, []int{0, 1, 2, 3, 4}, []int{0, 1}},
		{"updateNum caps", []*corev1.Pod{mk("old", true), mk("old", true), mk("old", true)},
			diffs{updateNum: 1, updateMaxUnavailable: 2}, []int{0, 1, 2}, []int{0}},
		{"unavailable new Pods count", []*corev1.Pod{mk("new", false), mk("new", false), mk("old", true), mk("old", true), mk("old", true)},
			diffs{updateNum: 3, updateMaxUnavailable: 2}, []int{2, 3, 4}, nil},
		{"one unavailable new Pod", []*corev1.Pod{mk("new", false), mk("new", true), mk("old", true), mk("old", true), mk("old", true)},
			diffs{updateNum: 3, updateMaxUnavailable: 2}, []int{2, 3, 4}, []int{2}},
		{"updating an unavailable Pod costs nothing", []*corev1.Pod{mk("old", false), mk("old", true), mk("old", true), mk("old", true), mk("old", true)},
			diffs{updateNum: 5, updateMaxUnavailable: 2}, []int{0, 1, 2, 3, 4}, []int{0, 1}},
		{"new unavailable Pods block even unavailable old ones", []*corev1.Pod{mk("new", false), mk("old", false), mk("old", false)},
			diffs{updateNum: 2, updateMaxUnavailable: 1}, []int{1, 2}, nil},
		{"unavailable old Pods use the budget", []*corev1.Pod{mk("old", false), mk("old", false), mk("old", true), mk("old", true)},
			diffs{updateNum: 4, updateMaxUnavailable: 2}, []int{2, 3}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := limitUpdates(tc.d, tc.waiting, tc.pods, "new", 0, now)
			if len(got) == 0 {
				got = nil
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
