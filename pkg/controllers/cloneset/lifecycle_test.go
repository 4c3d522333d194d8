package cloneset

import (
	"fmt"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
)

const holdFinalizer = "example.com/hold"

// preDeleteFixture returns a fixture with the CloneSet's Pods running and
// carrying the preDelete hook's finalizer.
func preDeleteFixture(t *testing.T, cs *appsv1beta1.CloneSet) *fixture {
	t.Helper()
	rev := revisionOf(t, cs)
	objects := []runtime.Object{cs}
	for i := range int(*cs.Spec.Replicas) {
		pod := runningPod(cs, rev, fmt.Sprintf("pod%02d", i), "sha-1")
		pod.Finalizers = []string{holdFinalizer}
		objects = append(objects, pod)
	}
	return newFixture(t, true, objects...)
}

func withPreDelete(cs *appsv1beta1.CloneSet, markPodNotReady bool) *appsv1beta1.CloneSet {
	cs.Spec.Lifecycle = &appsv1beta1.Lifecycle{PreDelete: &appsv1beta1.LifecycleHook{
		FinalizersHandler: []string{holdFinalizer},
		MarkPodNotReady:   markPodNotReady,
	}}
	return cs
}

func podsIn(f *fixture, state lifecycleState) []string {
	var out []string
	for _, p := range f.pods() {
		if podLifecycleState(p) == state {
			out = append(out, p.Name)
		}
	}
	return out
}

func (f *fixture) releaseFinalizer(name string) {
	f.t.Helper()
	pod := f.pod(name)
	pod.Finalizers = nil
	if _, err := f.kube.CoreV1().Pods(ns).Update(f.ctx, pod, metav1.UpdateOptions{}); err != nil {
		f.t.Fatal(err)
	}
}

func TestPreDeleteHookHoldsDeletion(t *testing.T) {
	f := preDeleteFixture(t, withPreDelete(newCloneSet("web", 3), false))
	f.updateCloneSet("web", func(cs *appsv1beta1.CloneSet) { cs.Spec.Replicas = ptr32(2) })

	writes := f.sync("web")
	if n := count(writes, "delete", "pods"); n != 0 {
		t.Fatalf("deleted %d Pods held by the hook", n)
	}
	held := podsIn(f, statePreparingDelete)
	if len(held) != 1 {
		t.Fatalf("Pods in PreparingDelete: %v", held)
	}
	if f.pod(held[0]).Annotations[LifecycleTimestampAnnotation] == "" {
		t.Errorf("no lifecycle timestamp")
	}
	// Without markPodNotReady the Pod stays ready.
	if c := podCondition(f.pod(held[0]), KruisePodReady); c == nil || c.Status != corev1.ConditionTrue {
		t.Errorf("KruisePodReady %+v without markPodNotReady", c)
	}
	// Held: not deleted, nothing created, no other Pod chosen.
	for range 2 {
		writes = f.sync("web")
		if n := count(writes, "delete", "pods") + count(writes, "create", "pods"); n != 0 {
			t.Fatalf("while held: %v", writes)
		}
	}
	if got := podsIn(f, statePreparingDelete); !reflect.DeepEqual(got, held) {
		t.Fatalf("PreparingDelete %v", got)
	}
	if status := f.cloneSet("web").Status; status.Replicas != 3 || status.AvailableReplicas != 2 {
		t.Errorf("status while held %+v", status)
	}

	// The hook lets go: the Pod is deleted, and only it.
	f.releaseFinalizer(held[0])
	if got := deletedPods(f.sync("web")); !reflect.DeepEqual(got, held) {
		t.Fatalf("deleted %v, want %v", got, held)
	}
	if got := deletedPods(f.sync("web")); len(got) != 0 {
		t.Fatalf("deleted %v more", got)
	}
	if n := len(f.pods()); n != 2 {
		t.Errorf("%d Pods", n)
	}
}

func TestPreDeleteMarkPodNotReady(t *testing.T) {
	f := preDeleteFixture(t, withPreDelete(newCloneSet("web", 2), true))
	f.updateCloneSet("web", func(cs *appsv1beta1.CloneSet) { cs.Spec.ScaleStrategy.PodsToDelete = []string{"web-pod01"} })
	f.sync("web")
	pod := f.pod("web-pod01")
	if got := podLifecycleState(pod); got != statePreparingDelete {
		t.Fatalf("state %s", got)
	}
	c := podCondition(pod, KruisePodReady)
	if c == nil || c.Status != corev1.ConditionFalse || c.Message != `[{"userAgent":"Lifecycle","key":"preDeleteHook"}]` {
		t.Fatalf("KruisePodReady %+v", c)
	}
	if isPodReady(pod) {
		t.Errorf("Ready while KruisePodReady is False")
	}
	if c := podCondition(f.pod("web-pod00"), KruisePodReady); c == nil || c.Status != corev1.ConditionTrue {
		t.Errorf("the other Pod's KruisePodReady %+v", c)
	}

	// No regret with markPodNotReady: scaling out creates a new Pod rather
	// than taking the held one back.
	f.updateCloneSet("web", func(cs *appsv1beta1.CloneSet) {
		cs.Spec.Replicas = ptr32(3)
		cs.Spec.ScaleStrategy.PodsToDelete = nil
	})
	writes := f.sync("web")
	if got := podLifecycleState(f.pod("web-pod01")); got != statePreparingDelete {
		t.Errorf("state %s after scaling out", got)
	}
	if n := count(writes, "create", "pods"); n != 1 {
		t.Errorf("created %d", n)
	}
}

func TestScaleOutTakesBackPreparingDelete(t *testing.T) {
	f := preDeleteFixture(t, withPreDelete(newCloneSet("web", 3), false))
	f.updateCloneSet("web", func(cs *appsv1beta1.CloneSet) { cs.Spec.Replicas = ptr32(2) })
	f.sync("web")
	held := podsIn(f, statePreparingDelete)
	if len(held) != 1 {
		t.Fatalf("PreparingDelete %v", held)
	}

	f.updateCloneSet("web", func(cs *appsv1beta1.CloneSet) { cs.Spec.Replicas = ptr32(3) })
	writes := f.sync("web")
	if n := count(writes, "create", "pods") + count(writes, "delete", "pods"); n != 0 {
		t.Fatalf("scaling back out: %v", writes)
	}
	if got := podLifecycleState(f.pod(held[0])); got != statePreparingNormal {
		t.Fatalf("state %s, want PreparingNormal", got)
	}
	f.sync("web") // scheduled: Normal
	if got := podLifecycleState(f.pod(held[0])); got != stateNormal {
		t.Fatalf("state %s, want Normal", got)
	}
	if n := len(f.pods()); n != 3 {
		t.Errorf("%d Pods", n)
	}
}

func TestExcludePreparingDelete(t *testing.T) {
	cases := []struct {
		name    string
		exclude func(*appsv1beta1.CloneSet)
		created int
	}{
		{"counted", func(*appsv1beta1.CloneSet) {}, 0},
		{"scaleStrategy.excludePreparingDelete", func(cs *appsv1beta1.CloneSet) { cs.Spec.ScaleStrategy.ExcludePreparingDelete = true }, 1},
		{"legacy label", func(cs *appsv1beta1.CloneSet) {
			cs.Labels = map[string]string{ScalingExcludePreparingDeleteLabel: "true"}
		}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cs := withPreDelete(newCloneSet("web", 2), false)
			tc.exclude(cs)
			f := preDeleteFixture(t, cs)
			// A specified deletion held by the hook.
			f.updateCloneSet("web", func(cs *appsv1beta1.CloneSet) { cs.Spec.ScaleStrategy.PodsToDelete = []string{"web-pod01"} })
			writes := f.sync("web")
			if got := podLifecycleState(f.pod("web-pod01")); got != statePreparingDelete || count(writes, "create", "pods") != 0 {
				t.Fatalf("state %s, writes %v", got, writes)
			}
			created := 0
			for range 3 {
				created += count(f.sync("web"), "create", "pods")
			}
			if created != tc.created {
				t.Errorf("created %d Pods, want %d", created, tc.created)
			}
			if got := podLifecycleState(f.pod("web-pod01")); got != statePreparingDelete {
				t.Errorf("the held Pod went to %s", got)
			}
		})
	}
}

func TestInPlaceUpdateHook(t *testing.T) {
	const hookLabel = "example.com/serving"
	cs := inPlaceCloneSet("web", 1, appsv1beta1.InPlaceIfPossibleCloneSetPodUpdateStrategyType)
	cs.Spec.Template.Labels[hookLabel] = "true"
	cs.Spec.Lifecycle = &appsv1beta1.Lifecycle{InPlaceUpdate: &appsv1beta1.LifecycleHook{
		LabelsHandler:   map[string]string{hookLabel: "true"},
		MarkPodNotReady: true,
	}}
	f, _ := inPlaceFixture(t, cs)
	f.updateCloneSet("web", func(cs *appsv1beta1.CloneSet) { cs.Spec.Template.Spec.Containers[0].Image = "nginx:2" })
	const name = "web-pod00"
	setHook := func(on bool) {
		t.Helper()
		pod := f.pod(name)
		if on {
			pod.Labels[hookLabel] = "true"
		} else {
			delete(pod.Labels, hookLabel)
		}
		if _, err := f.kube.CoreV1().Pods(ns).Update(f.ctx, pod, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	expect := func(step string, state lifecycleState, image string, kruiseReady corev1.ConditionStatus) {
		t.Helper()
		pod := f.pod(name)
		if got := podLifecycleState(pod); got != state {
			t.Fatalf("%s: state %s, want %s", step, got, state)
		}
		if got := pod.Spec.Containers[0].Image; got != image {
			t.Fatalf("%s: image %s, want %s", step, got, image)
		}
		if c := podCondition(pod, KruisePodReady); c == nil || c.Status != kruiseReady {
			t.Fatalf("%s: KruisePodReady %+v, want %s", step, c, kruiseReady)
		}
	}

	// The hook holds the Pod: PreparingUpdate, not ready, not updated.
	f.sync("web")
	expect("held", statePreparingUpdate, "nginx:1", corev1.ConditionFalse)
	if c := podCondition(f.pod(name), KruisePodReady); c.Message != `[{"userAgent":"Lifecycle","key":"preUpdateHook"}]` {
		t.Errorf("KruisePodReady message %q", c.Message)
	}
	f.sync("web")
	expect("still held", statePreparingUpdate, "nginx:1", corev1.ConditionFalse)

	// Let go: updated in place.
	setHook(false)
	f.sync("web")
	expect("updating", stateUpdating, "nginx:2", corev1.ConditionFalse)

	// Done, but the hook is not back: Updated, ready again.
	f.kubeletRuns(name, "nginx:2", "sha-2", true)
	f.sync("web")
	expect("updated", stateUpdated, "nginx:2", corev1.ConditionTrue)
	if got := inPlaceReady(f.pod(name)); got != corev1.ConditionTrue {
		t.Errorf("InPlaceUpdateReady %s", got)
	}
	f.sync("web")
	expect("still updated", stateUpdated, "nginx:2", corev1.ConditionTrue)

	// The hook back: Normal.
	setHook(true)
	f.sync("web")
	expect("normal", stateNormal, "nginx:2", corev1.ConditionTrue)
}

func TestInPlaceUpdateOfAnUpdatedPodPutsTheHookBack(t *testing.T) {
	const hookLabel = "example.com/serving"
	cs := inPlaceCloneSet("web", 1, appsv1beta1.InPlaceIfPossibleCloneSetPodUpdateStrategyType)
	cs.Spec.Lifecycle = &appsv1beta1.Lifecycle{InPlaceUpdate: &appsv1beta1.LifecycleHook{
		LabelsHandler:     map[string]string{hookLabel: "true"},
		FinalizersHandler: []string{holdFinalizer},
	}}
	rev := revisionOf(t, cs)
	pod := runningPod(cs, rev, "pod00", "sha-1")
	pod.Labels[LifecycleStateLabel] = string(stateUpdated) // updated earlier, hook not back yet
	f := newFixture(t, true, cs, pod)
	f.sync("web")
	f.updateCloneSet("web", func(cs *appsv1beta1.CloneSet) { cs.Spec.Template.Spec.Containers[0].Image = "nginx:2" })
	f.sync("web")
	got := f.pod("web-pod00")
	if podLifecycleState(got) != statePreparingUpdate || got.Labels[hookLabel] != "true" ||
		!reflect.DeepEqual(got.Finalizers, []string{holdFinalizer}) || got.Spec.Containers[0].Image != "nginx:1" {
		t.Fatalf("Pod %v %v %s", got.Labels, got.Finalizers, got.Spec.Containers[0].Image)
	}
}
