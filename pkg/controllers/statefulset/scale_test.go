package statefulset

import (
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
)

func TestOrderedReadyCreatesOneAtATimeWaitingForReadiness(t *testing.T) {
	set := newSet("web", 3)
	f := newFixture(t, set)
	rev := revisionName(t, set)

	writes := f.sync("web")
	if got := only(writes, "create", "pods"); !equalStrings(got, []string{"web-0"}) {
		t.Fatalf("first sync created %v, want [web-0]", got)
	}
	pod := f.pod("web-0")
	ref := metav1.GetControllerOf(pod)
	if ref == nil || ref.UID != set.UID || ref.Kind != "StatefulSet" || ref.APIVersion != "apps.kruise.io/v1beta1" {
		t.Errorf("controller reference %+v", ref)
	}
	wantLabels := map[string]string{
		"app": "web", "tier": "db",
		appsv1.StatefulSetPodNameLabel:  "web-0",
		appsv1.PodIndexLabel:            "0",
		appsv1.StatefulSetRevisionLabel: rev,
		LifecycleStateLabel:             string(stateNormal),
	}
	for k, v := range wantLabels {
		if pod.Labels[k] != v {
			t.Errorf("label %s=%q, want %q", k, pod.Labels[k], v)
		}
	}
	if pod.Spec.Hostname != "web-0" || pod.Spec.Subdomain != "web-headless" {
		t.Errorf("hostname %q subdomain %q", pod.Spec.Hostname, pod.Spec.Subdomain)
	}

	// Not ready: nothing more, however often it syncs.
	for range 2 {
		if writes := f.sync("web"); len(only(writes, "create", "pods")) != 0 {
			t.Fatalf("created %v while web-0 is not ready", only(writes, "create", "pods"))
		}
	}
	// Running but not Ready is not enough either.
	f.unready("web-0")
	if writes := f.sync("web"); len(only(writes, "create", "pods")) != 0 {
		t.Fatalf("created %v while web-0 is running but not ready", only(writes, "create", "pods"))
	}

	f.run("web-0")
	if got := only(f.sync("web"), "create", "pods"); !equalStrings(got, []string{"web-1"}) {
		t.Fatalf("created %v, want [web-1]", got)
	}
	f.run("web-1")
	if got := only(f.sync("web"), "create", "pods"); !equalStrings(got, []string{"web-2"}) {
		t.Fatalf("created %v, want [web-2]", got)
	}
	f.run()
	if writes := f.sync("web"); len(only(writes, "create", "pods")) != 0 {
		t.Fatalf("created %v with all replicas up", only(writes, "create", "pods"))
	}
	if got := f.podNames(); !equalStrings(got, []string{"web-0", "web-1", "web-2"}) {
		t.Errorf("pods %v", got)
	}
	if n := countEvents(f.events(), reasonSuccessfulCreate); n != 3 {
		t.Errorf("%d SuccessfulCreate events, want 3", n)
	}
}

func TestOrderedReadyWaitsForMinReadySeconds(t *testing.T) {
	set := newSet("web", 2)
	set.Spec.UpdateStrategy.RollingUpdate.MinReadySeconds = ptr.To[int32](30)
	f := newFixture(t, set)
	f.sync("web")
	// Ready only now: not available for another 30 seconds.
	pod := f.pod("web-0")
	setRunning(pod, f.clock.Now())
	if _, err := f.kube.CoreV1().Pods(ns).UpdateStatus(f.ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	writes, requeue, err := f.trySync("web")
	if err != nil {
		t.Fatal(err)
	}
	if got := only(writes, "create", "pods"); len(got) != 0 {
		t.Fatalf("created %v before minReadySeconds", got)
	}
	if requeue <= 0 || requeue > 30*time.Second {
		t.Errorf("requeue after %v, want within 30s", requeue)
	}
	f.clock.Step(31 * time.Second)
	if got := only(f.sync("web"), "create", "pods"); !equalStrings(got, []string{"web-1"}) {
		t.Fatalf("created %v after minReadySeconds, want [web-1]", got)
	}
}

func TestParallelCreatesAllAtOnce(t *testing.T) {
	f := newFixture(t, parallel(newSet("web", 4)))
	got := only(f.sync("web"), "create", "pods")
	if !equalStrings(got, []string{"web-0", "web-1", "web-2", "web-3"}) {
		t.Fatalf("created %v, want all four", got)
	}
}

func TestScaleStrategyMaxUnavailable(t *testing.T) {
	set := parallel(newSet("web", 5))
	set.Spec.ScaleStrategy = &appsv1beta1.StatefulSetScaleStrategy{MaxUnavailable: ptr.To(intstr.FromInt32(2))}
	f := newFixture(t, set)
	if got := only(f.sync("web"), "create", "pods"); !equalStrings(got, []string{"web-0", "web-1"}) {
		t.Fatalf("created %v, want two (maxUnavailable 2)", got)
	}
	if got := only(f.sync("web"), "create", "pods"); len(got) != 0 {
		t.Fatalf("created %v while two are unavailable", got)
	}
	f.run("web-0")
	if got := only(f.sync("web"), "create", "pods"); !equalStrings(got, []string{"web-2"}) {
		t.Fatalf("created %v, want [web-2]", got)
	}
	f.run()
	if got := only(f.sync("web"), "create", "pods"); !equalStrings(got, []string{"web-3", "web-4"}) {
		t.Fatalf("created %v, want [web-3 web-4]", got)
	}
}

func TestReserveOrdinalsAreSkipped(t *testing.T) {
	set := parallel(newSet("web", 4))
	set.Spec.ReserveOrdinals = []intstr.IntOrString{intstr.FromInt32(1), intstr.FromString("3-4")}
	f := newFixture(t, set)
	if got := only(f.sync("web"), "create", "pods"); !equalStrings(got, []string{"web-0", "web-2", "web-5", "web-6"}) {
		t.Fatalf("created %v, want web-0, web-2, web-5, web-6", got)
	}
	f.run()
	f.sync("web")

	// Reserving an ordinal in use moves its Pod to the next free ordinal.
	f.updateSet("web", func(s *appsv1beta1.StatefulSet) {
		s.Spec.ReserveOrdinals = append(s.Spec.ReserveOrdinals, intstr.FromInt32(2))
	})
	writes := f.sync("web")
	if got := only(writes, "create", "pods"); !equalStrings(got, []string{"web-7"}) {
		t.Errorf("created %v, want [web-7]", got)
	}
	if got := only(writes, "delete", "pods"); !equalStrings(got, []string{"web-2"}) {
		t.Errorf("deleted %v, want [web-2]", got)
	}
	if got := f.podNames(); !equalStrings(got, []string{"web-0", "web-5", "web-6", "web-7"}) {
		t.Errorf("pods %v", got)
	}
}

func TestOrdinalsStart(t *testing.T) {
	set := parallel(newSet("web", 2))
	set.Spec.Ordinals = &appsv1beta1.StatefulSetOrdinals{Start: 5}
	rev := revisionName(t, set)
	// A Pod below the start is condemned.
	stray := existingPod(set, rev, 0)
	f := newFixture(t, set, stray)
	writes := f.sync("web")
	if got := only(writes, "create", "pods"); !equalStrings(got, []string{"web-5", "web-6"}) {
		t.Fatalf("created %v, want [web-5 web-6]", got)
	}
	if got := only(writes, "delete", "pods"); !equalStrings(got, []string{"web-0"}) {
		t.Errorf("deleted %v, want [web-0]", got)
	}
	if got := f.pod("web-6").Labels[appsv1.PodIndexLabel]; got != "6" {
		t.Errorf("pod-index %q", got)
	}
}

func TestOrderedReadyScaleDownHighestFirstOneAtATime(t *testing.T) {
	set := newSet("web", 4)
	rev := revisionName(t, set)
	var objects = []runtimeObject{set}
	for i := range 4 {
		objects = append(objects, existingPod(set, rev, i))
	}
	f := newFixture(t, objects...)
	f.updateSet("web", func(s *appsv1beta1.StatefulSet) { s.Spec.Replicas = ptr.To[int32](1) })

	// Kubernetes' fake API server deletes at once; a real one keeps the
	// Pod terminating for a while, which blocks the next deletion too.
	for _, want := range []string{"web-3", "web-2", "web-1"} {
		if got := only(f.sync("web"), "delete", "pods"); !equalStrings(got, []string{want}) {
			t.Fatalf("deleted %v, want [%s]", got, want)
		}
	}
	if got := f.podNames(); !equalStrings(got, []string{"web-0"}) {
		t.Errorf("pods %v", got)
	}
	if n := countEvents(f.events(), reasonSuccessfulDelete); n != 3 {
		t.Errorf("%d SuccessfulDelete events, want 3", n)
	}
}

func TestOrderedReadyScaleDownWaits(t *testing.T) {
	set := newSet("web", 3)
	rev := revisionName(t, set)
	terminating := existingPod(set, rev, 2)
	terminating.DeletionTimestamp = &metav1.Time{Time: t0}
	terminating.Finalizers = []string{"example.com/hold"}
	f := newFixture(t, set, existingPod(set, rev, 0), existingPod(set, rev, 1), terminating)
	f.updateSet("web", func(s *appsv1beta1.StatefulSet) { s.Spec.Replicas = ptr.To[int32](1) })

	// web-2 is still terminating: web-1 waits.
	if got := only(f.sync("web"), "delete", "pods"); len(got) != 0 {
		t.Fatalf("deleted %v while web-2 terminates", got)
	}
	pod := f.pod("web-2")
	pod.Finalizers = nil
	if _, err := f.kube.CoreV1().Pods(ns).Update(f.ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	f.deletePod("web-2")
	// A remaining replica is not ready: no deletion either.
	f.unready("web-0")
	if got := only(f.sync("web"), "delete", "pods"); len(got) != 0 {
		t.Fatalf("deleted %v while web-0 is not ready", got)
	}
	f.run("web-0")
	if got := only(f.sync("web"), "delete", "pods"); !equalStrings(got, []string{"web-1"}) {
		t.Fatalf("deleted %v, want [web-1]", got)
	}
}

func TestParallelScaleDownDeletesAllAtOnce(t *testing.T) {
	set := parallel(newSet("web", 4))
	rev := revisionName(t, set)
	objects := []runtimeObject{set}
	for i := range 4 {
		objects = append(objects, existingPod(set, rev, i))
	}
	f := newFixture(t, objects...)
	f.unready("web-1")
	f.updateSet("web", func(s *appsv1beta1.StatefulSet) { s.Spec.Replicas = ptr.To[int32](1) })
	if got := only(f.sync("web"), "delete", "pods"); !equalStrings(got, []string{"web-3", "web-2", "web-1"}) {
		t.Fatalf("deleted %v, want web-3, web-2, web-1", got)
	}
}

func TestFailedPodIsRecreated(t *testing.T) {
	set := newSet("web", 2)
	rev := revisionName(t, set)
	failed := existingPod(set, rev, 0)
	failed.Status.Phase = corev1.PodFailed
	f := newFixture(t, set, failed, existingPod(set, rev, 1))
	writes := f.sync("web")
	if got := only(writes, "delete", "pods"); !equalStrings(got, []string{"web-0"}) {
		t.Fatalf("deleted %v, want the failed web-0", got)
	}
	if got := only(writes, "create", "pods"); len(got) != 0 {
		t.Fatalf("created %v in the same sync", got)
	}
	if got := only(f.sync("web"), "create", "pods"); !equalStrings(got, []string{"web-0"}) {
		t.Fatalf("created %v, want web-0 again", got)
	}
}

func TestAdoptionAndRelease(t *testing.T) {
	set := newSet("web", 2)
	rev := revisionName(t, set)
	orphan := existingPod(set, rev, 0)
	orphan.OwnerReferences = nil
	// Controlled, but no longer selected.
	strayed := existingPod(set, rev, 1)
	strayed.Labels["app"] = "elsewhere"
	// Selected, but not named as a member.
	misnamed := existingPod(set, rev, 7)
	misnamed.Name = "other-7"
	misnamed.OwnerReferences = nil
	f := newFixture(t, set, orphan, strayed, misnamed)

	// The released web-1 is not the set's any more, and blocks its ordinal:
	// creating it fails until it is gone.
	writes, _, err := f.trySync("web")
	if err == nil {
		t.Errorf("creating web-1 over a released Pod succeeded")
	}
	if got := only(writes, "patch", "pods"); !equalStrings(sorted(got), []string{"web-0", "web-1"}) {
		t.Fatalf("patched %v, want the adoption of web-0 and the release of web-1", got)
	}
	if ref := metav1.GetControllerOf(f.pod("web-0")); ref == nil || ref.UID != set.UID {
		t.Errorf("orphan not adopted: %+v", ref)
	}
	if refs := f.pod("web-1").OwnerReferences; len(refs) != 0 {
		t.Errorf("strayed Pod not released: %+v", refs)
	}
	if refs := f.pod("other-7").OwnerReferences; len(refs) != 0 {
		t.Errorf("misnamed Pod adopted: %+v", refs)
	}
	if c := getCondition(&f.set("web").Status, appsv1beta1.FailedCreatePod); c == nil || c.Status != corev1.ConditionTrue {
		t.Errorf("FailedCreatePod condition %+v", c)
	}
	f.deletePod("web-1")
	if got := only(f.sync("web"), "create", "pods"); !equalStrings(got, []string{"web-1"}) {
		t.Fatalf("created %v", got)
	}
	if c := getCondition(&f.set("web").Status, appsv1beta1.FailedCreatePod); c != nil {
		t.Errorf("FailedCreatePod kept after a successful creation: %+v", c)
	}
}

func TestDeletedSetOnlyUpdatesStatus(t *testing.T) {
	set := newSet("web", 3)
	set.DeletionTimestamp = &metav1.Time{Time: t0}
	set.Finalizers = []string{"example.com/keep"}
	rev := revisionName(t, set)
	orphan := existingPod(set, rev, 1)
	orphan.OwnerReferences = nil
	f := newFixture(t, set, existingPod(set, rev, 0), orphan)
	writes := f.sync("web")
	for _, d := range describe(writes) {
		// Kubernetes records the revision even then.
		if d != "update statefulsets/status web" && !strings.HasPrefix(d, "create controllerrevisions ") {
			t.Errorf("a StatefulSet being deleted wrote %s", d)
		}
	}
	if s := f.set("web").Status; s.Replicas != 1 {
		t.Errorf("status replicas %d, want 1", s.Replicas)
	}
}
