package statefulset

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers/lifecycle"
)

// runningSet returns a fixture with the StatefulSet and its Pods, all
// running at the template's revision, synced once.
func runningSet(t *testing.T, set *appsv1beta1.StatefulSet) (*fixture, string) {
	t.Helper()
	rev := revisionName(t, set)
	objects := []runtimeObject{set}
	r := newOrdinalRange(set)
	for _, ordinal := range r.ordinals {
		objects = append(objects, existingPod(set, rev, ordinal))
	}
	f := newFixture(t, objects...)
	if writes := f.sync(set.Name); len(only(writes, "create", "pods"))+len(only(writes, "delete", "pods")) != 0 {
		t.Fatalf("first sync of a running set wrote %v", describe(writes))
	}
	return f, rev
}

func TestRollingUpdateWithPartition(t *testing.T) {
	set := newSet("web", 3)
	set.Spec.UpdateStrategy.RollingUpdate.Partition = ptr.To[int32](1)
	f, oldRev := runningSet(t, set)
	f.setImage("web", "nginx:2")

	// Highest ordinal first, one at a time, each re-created at the new
	// revision and waited for.
	if got := only(f.sync("web"), "delete", "pods"); !equalStrings(got, []string{"web-2"}) {
		t.Fatalf("deleted %v, want [web-2]", got)
	}
	newRev := f.set("web").Status.UpdateRevision
	if newRev == oldRev || f.set("web").Status.CurrentRevision != oldRev {
		t.Fatalf("status revisions %q / %q", f.set("web").Status.CurrentRevision, newRev)
	}
	if got := only(f.sync("web"), "create", "pods"); !equalStrings(got, []string{"web-2"}) {
		t.Fatalf("created %v", got)
	}
	if got := podRevision(f.pod("web-2")); got != newRev {
		t.Errorf("web-2 at %s, want %s", got, newRev)
	}
	if got := f.pod("web-2").Spec.Containers[0].Image; got != "nginx:2" {
		t.Errorf("web-2 image %s", got)
	}
	if got := only(f.sync("web"), "delete", "pods"); len(got) != 0 {
		t.Fatalf("deleted %v before web-2 is ready", got)
	}
	f.run("web-2")
	if got := only(f.sync("web"), "delete", "pods"); !equalStrings(got, []string{"web-1"}) {
		t.Fatalf("deleted %v, want [web-1]", got)
	}
	f.sync("web")
	f.run("web-1")
	if got := only(f.sync("web"), "delete", "pods"); len(got) != 0 {
		t.Fatalf("deleted %v below the partition", got)
	}
	revs := f.revisionsOf()
	if revs["web-0"] != oldRev || revs["web-1"] != newRev || revs["web-2"] != newRev {
		t.Errorf("revisions %v", revs)
	}
	s := f.set("web").Status
	if s.CurrentRevision != oldRev || s.CurrentReplicas != 1 || s.UpdatedReplicas != 2 || s.UpdatedReadyReplicas != 2 {
		t.Errorf("status %+v", s)
	}

	// Partition 0: the last one goes, and the rollout completes.
	f.updateSet("web", func(s *appsv1beta1.StatefulSet) { s.Spec.UpdateStrategy.RollingUpdate.Partition = ptr.To[int32](0) })
	if got := only(f.sync("web"), "delete", "pods"); !equalStrings(got, []string{"web-0"}) {
		t.Fatalf("deleted %v, want [web-0]", got)
	}
	f.sync("web")
	f.run()
	f.sync("web")
	s = f.set("web").Status
	if s.CurrentRevision != newRev || s.CurrentReplicas != 3 || s.UpdatedReplicas != 3 {
		t.Errorf("rollout not completed: %+v", s)
	}
}

func TestPartitionKeepsCreatedPodsAtCurrentRevision(t *testing.T) {
	set := parallel(newSet("web", 2))
	set.Spec.UpdateStrategy.RollingUpdate.Partition = ptr.To[int32](3)
	f, oldRev := runningSet(t, set)
	f.setImage("web", "nginx:2")
	f.sync("web")
	f.updateSet("web", func(s *appsv1beta1.StatefulSet) { s.Spec.Replicas = ptr.To[int32](4) })
	f.sync("web")
	newRev := f.set("web").Status.UpdateRevision
	revs := f.revisionsOf()
	// Positions 1 to 3 are below the partition, 4 is above.
	if revs["web-2"] != oldRev || revs["web-3"] != newRev {
		t.Errorf("revisions %v, want web-2 at %s and web-3 at %s", revs, oldRev, newRev)
	}
	if got := f.pod("web-2").Spec.Containers[0].Image; got != "nginx:1" {
		t.Errorf("web-2 made from the update revision's template: %s", got)
	}
}

func TestRollingUpdateMaxUnavailableParallel(t *testing.T) {
	set := parallel(newSet("web", 4))
	set.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = ptr.To(intstr.FromInt32(2))
	f, _ := runningSet(t, set)
	f.setImage("web", "nginx:2")
	if got := only(f.sync("web"), "delete", "pods"); !equalStrings(got, []string{"web-3", "web-2"}) {
		t.Fatalf("deleted %v, want [web-3 web-2]", got)
	}
	writes := f.sync("web")
	if got := only(writes, "create", "pods"); !equalStrings(got, []string{"web-2", "web-3"}) {
		t.Fatalf("created %v", got)
	}
	if got := only(writes, "delete", "pods"); len(got) != 0 {
		t.Fatalf("deleted %v with two unavailable", got)
	}
	// One of them ready: one more may go.
	f.run("web-3")
	if got := only(f.sync("web"), "delete", "pods"); !equalStrings(got, []string{"web-1"}) {
		t.Fatalf("deleted %v, want [web-1]", got)
	}
}

func TestRollingUpdateMaxUnavailablePercent(t *testing.T) {
	set := parallel(newSet("web", 10))
	set.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = ptr.To(intstr.FromString("35%"))
	f, _ := runningSet(t, set)
	f.setImage("web", "nginx:2")
	// 35% of 10 rounds down to 3.
	if got := only(f.sync("web"), "delete", "pods"); !equalStrings(got, []string{"web-9", "web-8", "web-7"}) {
		t.Fatalf("deleted %v", got)
	}
}

func TestRollingUpdateCountsUnavailablePods(t *testing.T) {
	set := parallel(newSet("web", 4))
	set.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = ptr.To(intstr.FromInt32(2))
	f, _ := runningSet(t, set)
	f.unready("web-0")
	f.setImage("web", "nginx:2")
	// web-0 is already unavailable: one more may go; the update then stops
	// at web-2, which would make three.
	if got := only(f.sync("web"), "delete", "pods"); !equalStrings(got, []string{"web-3"}) {
		t.Fatalf("deleted %v, want [web-3]", got)
	}
}

func TestRollingUpdatePaused(t *testing.T) {
	set := newSet("web", 2)
	set.Spec.UpdateStrategy.RollingUpdate.Paused = true
	f, _ := runningSet(t, set)
	f.setImage("web", "nginx:2")
	if got := only(f.sync("web"), "delete", "pods"); len(got) != 0 {
		t.Fatalf("deleted %v while paused", got)
	}
	f.updateSet("web", func(s *appsv1beta1.StatefulSet) { s.Spec.UpdateStrategy.RollingUpdate.Paused = false })
	if got := only(f.sync("web"), "delete", "pods"); !equalStrings(got, []string{"web-1"}) {
		t.Fatalf("deleted %v after resuming", got)
	}
}

func TestOnDelete(t *testing.T) {
	set := newSet("web", 3)
	set.Spec.UpdateStrategy = appsv1beta1.StatefulSetUpdateStrategy{Type: appsv1beta1.OnDeleteStatefulSetStrategyType}
	f, oldRev := runningSet(t, set)
	f.setImage("web", "nginx:2")
	if got := only(f.sync("web"), "delete", "pods"); len(got) != 0 {
		t.Fatalf("deleted %v with OnDelete", got)
	}
	newRev := f.set("web").Status.UpdateRevision
	if newRev == oldRev {
		t.Fatal("no new revision")
	}
	f.deletePod("web-1")
	if got := only(f.sync("web"), "create", "pods"); !equalStrings(got, []string{"web-1"}) {
		t.Fatalf("created %v", got)
	}
	revs := f.revisionsOf()
	if revs["web-0"] != oldRev || revs["web-1"] != newRev || revs["web-2"] != oldRev {
		t.Errorf("revisions %v", revs)
	}
	f.run()
	f.sync("web")
	if s := f.set("web").Status; s.CurrentReplicas != 2 || s.UpdatedReplicas != 1 || s.CurrentRevision != oldRev {
		t.Errorf("status %+v", s)
	}
}

func TestSpecifiedDeleteIgnoresPartition(t *testing.T) {
	set := newSet("web", 3)
	set.Spec.UpdateStrategy.RollingUpdate.Partition = ptr.To[int32](3)
	f, _ := runningSet(t, set)
	pod := f.pod("web-0")
	pod.Labels[SpecifiedDeleteLabel] = "true"
	if _, err := f.kube.CoreV1().Pods(ns).Update(f.ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := only(f.sync("web"), "delete", "pods"); !equalStrings(got, []string{"web-0"}) {
		t.Fatalf("deleted %v, want [web-0]", got)
	}
	if got := only(f.sync("web"), "create", "pods"); !equalStrings(got, []string{"web-0"}) {
		t.Fatalf("created %v", got)
	}
	if _, ok := f.pod("web-0").Labels[SpecifiedDeleteLabel]; ok {
		t.Error("the new Pod carries the specified-delete label")
	}
}

func TestUnorderedUpdateByPriority(t *testing.T) {
	set := parallel(newSet("web", 4))
	ru := set.Spec.UpdateStrategy.RollingUpdate
	ru.Partition = ptr.To[int32](2)
	ru.UnorderedUpdate = &appsv1beta1.UnorderedUpdateStrategy{PriorityStrategy: &appsv1beta1.UpdatePriorityStrategy{
		WeightPriority: []appsv1beta1.UpdatePriorityWeightTerm{
			{Weight: 50, MatchSelector: metav1.LabelSelector{MatchLabels: map[string]string{"role": "follower"}}},
			{Weight: 10, MatchSelector: metav1.LabelSelector{MatchLabels: map[string]string{"zone": "b"}}},
		},
	}}
	f, oldRev := runningSet(t, set)
	label := func(name string, kv ...string) {
		pod := f.pod(name)
		for i := 0; i < len(kv); i += 2 {
			pod.Labels[kv[i]] = kv[i+1]
		}
		if _, err := f.kube.CoreV1().Pods(ns).Update(f.ctx, pod, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	label("web-0", "role", "follower")
	label("web-1", "role", "follower", "zone", "b")
	label("web-3", "role", "leader")
	f.setImage("web", "nginx:2")

	// web-1 (60) first, then web-0 (50); the partition keeps two back.
	if got := only(f.sync("web"), "delete", "pods"); !equalStrings(got, []string{"web-1"}) {
		t.Fatalf("deleted %v, want [web-1]", got)
	}
	f.sync("web")
	f.run()
	if got := only(f.sync("web"), "delete", "pods"); !equalStrings(got, []string{"web-0"}) {
		t.Fatalf("deleted %v, want [web-0]", got)
	}
	f.sync("web")
	f.run()
	if got := only(f.sync("web"), "delete", "pods"); len(got) != 0 {
		t.Fatalf("deleted %v beyond the partition", got)
	}
	revs := f.revisionsOf()
	if revs["web-2"] != oldRev || revs["web-3"] != oldRev {
		t.Errorf("revisions %v", revs)
	}
}

// setEnv changes the template in a way in-place update cannot follow.
func (f *fixture) setEnv(name, value string) {
	f.t.Helper()
	f.updateSet(name, func(s *appsv1beta1.StatefulSet) {
		s.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "MODE", Value: value}}
	})
}

func TestInPlaceOnlyNotPossibleReportsCondition(t *testing.T) {
	set := newSet("web", 2)
	set.Spec.UpdateStrategy.RollingUpdate.PodUpdatePolicy = appsv1beta1.InPlaceOnlyPodUpdateStrategyType
	f, _ := runningSet(t, set)
	f.setEnv("web", "fast")
	writes, _, err := f.trySync("web")
	if err == nil || !strings.Contains(err.Error(), "InPlaceOnly") {
		t.Fatalf("sync error %v", err)
	}
	if got := only(writes, "delete", "pods"); len(got) != 0 {
		t.Fatalf("deleted %v with InPlaceOnly", got)
	}
	c := getCondition(&f.set("web").Status, appsv1beta1.FailedUpdatePod)
	if c == nil || c.Status != corev1.ConditionTrue || !strings.Contains(c.Message, "web-1") {
		t.Fatalf("FailedUpdatePod condition %+v", c)
	}
	// Back to ReCreate: the update goes on and the condition goes.
	f.updateSet("web", func(s *appsv1beta1.StatefulSet) {
		s.Spec.UpdateStrategy.RollingUpdate.PodUpdatePolicy = appsv1beta1.RecreatePodUpdateStrategyType
	})
	if got := only(f.sync("web"), "delete", "pods"); !equalStrings(got, []string{"web-1"}) {
		t.Fatalf("deleted %v", got)
	}
	if c := getCondition(&f.set("web").Status, appsv1beta1.FailedUpdatePod); c != nil {
		t.Errorf("condition kept: %+v", c)
	}
}

func TestInPlaceIfPossibleFallsBackToRecreate(t *testing.T) {
	set := newSet("web", 2)
	set.Spec.UpdateStrategy.RollingUpdate.PodUpdatePolicy = appsv1beta1.InPlaceIfPossiblePodUpdateStrategyType
	f, _ := runningSet(t, set)
	f.setEnv("web", "fast")
	if got := only(f.sync("web"), "delete", "pods"); !equalStrings(got, []string{"web-1"}) {
		t.Fatalf("deleted %v, want [web-1]", got)
	}
}

// fakeInPlace updates images in place by patching the Pod's revision label
// and image, and reports an update in progress until the test says it is
// done.
type fakeInPlace struct {
	f       *fixture
	updated []string
	pending map[string]bool
}

func (u *fakeInPlace) canUpdateInPlace(old, target *appsv1.ControllerRevision, _ inPlaceOptions) bool {
	return old != nil && target != nil
}

func (u *fakeInPlace) update(ctx context.Context, pod *corev1.Pod, _, target *appsv1.ControllerRevision, opts inPlaceOptions) inPlaceResult {
	clone := pod.DeepCopy()
	clone.Labels[RevisionLabel] = target.Name
	clone.Spec.Containers[0].Image = "nginx:2"
	for _, m := range opts.Mutations {
		m(clone)
	}
	written, err := u.f.kube.CoreV1().Pods(ns).Update(ctx, clone, metav1.UpdateOptions{})
	u.updated = append(u.updated, pod.Name)
	u.pending[pod.Name] = true
	return inPlaceResult{InPlace: true, Written: written, Err: err}
}

func (u *fakeInPlace) refresh(context.Context, *corev1.Pod, inPlaceOptions) (*corev1.Pod, time.Duration, error) {
	return nil, 0, nil
}

func (u *fakeInPlace) completed(pod *corev1.Pod) error {
	if u.pending[pod.Name] {
		return errNotDone
	}
	return nil
}

var errNotDone = &notDone{}

type notDone struct{}

func (*notDone) Error() string { return "in-place update in progress" }

func TestInPlaceUpdatePlugsIn(t *testing.T) {
	set := newSet("web", 2)
	set.Spec.UpdateStrategy.RollingUpdate.PodUpdatePolicy = appsv1beta1.InPlaceIfPossiblePodUpdateStrategyType
	f, _ := runningSet(t, set)
	u := &fakeInPlace{f: f, pending: map[string]bool{}}
	f.c.inPlace = u
	f.setImage("web", "nginx:2")
	f.events()

	writes := f.sync("web")
	if got := only(writes, "delete", "pods"); len(got) != 0 {
		t.Fatalf("deleted %v, want in-place", got)
	}
	if !equalStrings(u.updated, []string{"web-1"}) {
		t.Fatalf("updated in place %v", u.updated)
	}
	if got := podLifecycleState(f.pod("web-1")); got != stateUpdating {
		t.Errorf("lifecycle state %q, want Updating", got)
	}
	if n := countEvents(f.events(), reasonSuccessfulUpdatePodInPlace); n != 1 {
		t.Errorf("%d SuccessfulUpdatePodInPlace events", n)
	}
	// Still in progress: web-1 counts as unavailable, web-0 waits.
	f.sync("web")
	if !equalStrings(u.updated, []string{"web-1"}) {
		t.Fatalf("updated in place %v while web-1 is in progress", u.updated)
	}
	// Done: the lifecycle state goes back to Normal, then web-0 follows.
	u.pending["web-1"] = false
	f.sync("web")
	if got := podLifecycleState(f.pod("web-1")); got != stateNormal {
		t.Errorf("lifecycle state %q, want Normal", got)
	}
	f.sync("web")
	if !equalStrings(u.updated, []string{"web-1", "web-0"}) {
		t.Fatalf("updated in place %v", u.updated)
	}
}

func TestReadinessGatesAreMarkedReady(t *testing.T) {
	set := newSet("web", 1)
	set.Spec.Template.Spec.ReadinessGates = []corev1.PodReadinessGate{{ConditionType: InPlaceUpdateReady}}
	f := newFixture(t, set)
	f.sync("web")
	pod := f.pod("web-0")
	if !lifecycle.HasReadinessGate(pod, KruisePodReady) || !lifecycle.HasReadinessGate(pod, InPlaceUpdateReady) {
		t.Fatalf("readiness gates %v", pod.Spec.ReadinessGates)
	}
	if got := only(f.sync("web"), "update", "pods/status"); len(got) == 0 {
		t.Fatal("no condition written")
	}
	for _, ct := range []corev1.PodConditionType{InPlaceUpdateReady, KruisePodReady} {
		if c := podCondition(f.pod("web-0"), ct); c == nil || c.Status != corev1.ConditionTrue {
			t.Errorf("%s condition %+v", ct, c)
		}
	}
	if got := only(f.sync("web"), "update", "pods/status"); len(got) != 0 {
		t.Errorf("conditions written again: %v", got)
	}
}

// TestInPlaceUpdate goes through pkg/controllers/inplaceupdate: an image
// change is patched into the Pod, which is not re-created.
func TestInPlaceUpdate(t *testing.T) {
	set := newSet("web", 2)
	set.Spec.UpdateStrategy.RollingUpdate.PodUpdatePolicy = appsv1beta1.InPlaceIfPossiblePodUpdateStrategyType
	set.Spec.Template.Spec.ReadinessGates = []corev1.PodReadinessGate{{ConditionType: InPlaceUpdateReady}}
	f, oldRev := runningSet(t, set)
	uid := f.pod("web-1").UID
	f.setImage("web", "nginx:2")
	f.events()

	writes := f.sync("web")
	if got := only(writes, "delete", "pods"); len(got) != 0 {
		t.Fatalf("deleted %v, want in-place", got)
	}
	newRev := f.set("web").Status.UpdateRevision
	pod := f.pod("web-1")
	if pod.UID != uid || pod.Spec.Containers[0].Image != "nginx:2" || podRevision(pod) != newRev {
		t.Fatalf("web-1: uid %s image %s revision %s", pod.UID, pod.Spec.Containers[0].Image, podRevision(pod))
	}
	if got := podLifecycleState(pod); got != stateUpdating {
		t.Errorf("lifecycle state %q, want Updating", got)
	}
	if c := podCondition(pod, InPlaceUpdateReady); c == nil || c.Status != corev1.ConditionFalse {
		t.Errorf("%s %+v, want False during the update", InPlaceUpdateReady, c)
	}
	if podRevision(f.pod("web-0")) != oldRev {
		t.Errorf("web-0 updated at once")
	}
	if n := countEvents(f.events(), reasonSuccessfulUpdatePodInPlace); n != 1 {
		t.Errorf("%d SuccessfulUpdatePodInPlace events", n)
	}

	// The kubelet restarts the container: the update completes, the Pod
	// is Normal and ready again, and web-0 follows.
	f.run("web-1")
	f.sync("web")
	pod = f.pod("web-1")
	if c := podCondition(pod, InPlaceUpdateReady); c == nil || c.Status != corev1.ConditionTrue {
		t.Errorf("%s %+v after the update", InPlaceUpdateReady, c)
	}
	if got := podLifecycleState(pod); got != stateNormal {
		t.Errorf("lifecycle state %q, want Normal", got)
	}
	f.sync("web")
	f.run()
	f.sync("web")
	if revs := f.revisionsOf(); revs["web-0"] != newRev || revs["web-1"] != newRev {
		t.Errorf("revisions %v", revs)
	}
	if got := only(f.sync("web"), "delete", "pods"); len(got) != 0 {
		t.Errorf("deleted %v", got)
	}
	if s := f.set("web").Status; s.CurrentRevision != newRev || s.UpdatedReplicas != 2 {
		t.Errorf("status %+v", s)
	}
}

func TestPreDeleteHookHoldsDeletion(t *testing.T) {
	set := parallel(newSet("web", 2))
	set.Spec.Lifecycle = &appsv1beta1.Lifecycle{PreDelete: &appsv1beta1.LifecycleHook{
		LabelsHandler:   map[string]string{"example.com/hold": "true"},
		MarkPodNotReady: true,
	}}
	set.Spec.Template.Labels["example.com/hold"] = "true"
	f, _ := runningSet(t, set)
	f.updateSet("web", func(s *appsv1beta1.StatefulSet) { s.Spec.Replicas = ptr.To[int32](1) })
	writes := f.sync("web")
	if got := only(writes, "delete", "pods"); len(got) != 0 {
		t.Fatalf("deleted %v held by the hook", got)
	}
	if got := podLifecycleState(f.pod("web-1")); got != statePreparingDelete {
		t.Fatalf("state %q, want PreparingDelete", got)
	}
	// markPodNotReady holds it not ready meanwhile.
	if c := podCondition(f.pod("web-1"), KruisePodReady); c == nil || c.Status != corev1.ConditionFalse {
		t.Errorf("%s %+v, want False", KruisePodReady, c)
	}
	// The hook lets go.
	pod := f.pod("web-1")
	delete(pod.Labels, "example.com/hold")
	if _, err := f.kube.CoreV1().Pods(ns).Update(f.ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := only(f.sync("web"), "delete", "pods"); !equalStrings(got, []string{"web-1"}) {
		t.Fatalf("deleted %v", got)
	}
}

func TestPreNormalHook(t *testing.T) {
	set := newSet("web", 2)
	set.Spec.Lifecycle = &appsv1beta1.Lifecycle{PreNormal: &appsv1beta1.LifecycleHook{
		LabelsHandler: map[string]string{"example.com/ready": "true"},
	}}
	f := newFixture(t, set)
	f.sync("web")
	if got := podLifecycleState(f.pod("web-0")); got != statePreparingNormal {
		t.Fatalf("state %q", got)
	}
	f.run()
	if got := only(f.sync("web"), "create", "pods"); len(got) != 0 {
		t.Fatalf("created %v while web-0 is PreparingNormal", got)
	}
	pod := f.pod("web-0")
	pod.Labels["example.com/ready"] = "true"
	if _, err := f.kube.CoreV1().Pods(ns).Update(f.ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	f.sync("web")
	if got := podLifecycleState(f.pod("web-0")); got != stateNormal {
		t.Fatalf("state %q, want Normal", got)
	}
	if got := only(f.sync("web"), "create", "pods"); !equalStrings(got, []string{"web-1"}) {
		t.Fatalf("created %v", got)
	}
}

func TestUIDPreconditionOnDelete(t *testing.T) {
	set := newSet("web", 1)
	f, _ := runningSet(t, set)
	f.setImage("web", "nginx:2")
	writes := f.sync("web")
	for _, a := range writes {
		if a.GetVerb() == "delete" {
			opts := a.(interface{ GetDeleteOptions() metav1.DeleteOptions }).GetDeleteOptions()
			if opts.Preconditions == nil || opts.Preconditions.UID == nil || *opts.Preconditions.UID != types.UID("pod-uid-web-0") {
				t.Errorf("delete options %+v", opts)
			}
			return
		}
	}
	t.Fatal("no deletion")
}
