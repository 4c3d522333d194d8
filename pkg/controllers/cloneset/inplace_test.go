package cloneset

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers/inplaceupdate"
)

// kubeletRuns plays the kubelet for a one-container Pod: the container runs
// image as imageID, started and ready or not; ContainersReady follows, and
// Ready follows it and the Pod's readiness gates.
func (f *fixture) kubeletRuns(name, image, imageID string, started bool) {
	f.t.Helper()
	pod := f.pod(name)
	setKubeletStatus(pod, image, imageID, started)
	if _, err := f.kube.CoreV1().Pods(ns).UpdateStatus(f.ctx, pod, metav1.UpdateOptions{}); err != nil {
		f.t.Fatal(err)
	}
}

func setKubeletStatus(pod *corev1.Pod, image, imageID string, started bool) {
	status := corev1.ContainerStatus{Name: "main", Image: image, ImageID: imageID, Ready: started, Started: ptr.To(started)}
	if started {
		status.State.Running = &corev1.ContainerStateRunning{}
	} else {
		status.State.Waiting = &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}
	}
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{status}
	boolStatus := func(b bool) corev1.ConditionStatus {
		if b {
			return corev1.ConditionTrue
		}
		return corev1.ConditionFalse
	}
	setPodCondition(pod, corev1.ContainersReady, boolStatus(started))
	ready := started
	for _, g := range pod.Spec.ReadinessGates {
		if c := podCondition(pod, g.ConditionType); c == nil || c.Status != corev1.ConditionTrue {
			ready = false
		}
	}
	setPodCondition(pod, corev1.PodReady, boolStatus(ready))
}

func setPodCondition(pod *corev1.Pod, t corev1.PodConditionType, s corev1.ConditionStatus) {
	if c := podCondition(pod, t); c != nil {
		if c.Status != s {
			c.Status = s
			c.LastTransitionTime = metav1.NewTime(t0.Add(-time.Hour))
		}
		return
	}
	pod.Status.Conditions = append(pod.Status.Conditions, corev1.PodCondition{Type: t, Status: s, LastTransitionTime: metav1.NewTime(t0.Add(-time.Hour))})
}

// runningPod is an existing Pod whose one container runs its image as
// imageID.
func runningPod(cs *appsv1beta1.CloneSet, rev, id, imageID string) *corev1.Pod {
	pod := existingPod(cs, rev, id)
	setKubeletStatus(pod, pod.Spec.Containers[0].Image, imageID, true)
	return pod
}

func inPlaceCloneSet(name string, replicas int32, policy appsv1beta1.CloneSetPodUpdateStrategyType) *appsv1beta1.CloneSet {
	cs := newCloneSet(name, replicas)
	cs.Spec.UpdateStrategy.RollingUpdate.PodUpdatePolicy = policy
	cs.Spec.UpdateStrategy.RollingUpdate.InPlaceUpdateStrategy = &appsv1beta1.InPlaceUpdateStrategy{}
	return cs
}

// inPlaceFixture returns a fixture with the CloneSet's Pods running
// nginx:1 as sha-1.
func inPlaceFixture(t *testing.T, cs *appsv1beta1.CloneSet) (*fixture, string) {
	t.Helper()
	rev := revisionOf(t, cs)
	objects := []runtime.Object{cs}
	for i := range int(*cs.Spec.Replicas) {
		objects = append(objects, runningPod(cs, rev, fmt.Sprintf("pod%02d", i), "sha-1"))
	}
	f := newFixture(t, true, objects...)
	f.sync(cs.Name)
	return f, rev
}

func podState(t *testing.T, pod *corev1.Pod) *inplaceupdate.State {
	t.Helper()
	state, ok, err := inplaceupdate.GetState(pod)
	if err != nil || !ok {
		t.Fatalf("Pod %s in-place update state: %v, %v (%q)", pod.Name, ok, err, pod.Annotations[InPlaceUpdateStateAnnotation])
	}
	return state
}

func inPlaceReady(pod *corev1.Pod) corev1.ConditionStatus {
	if c := podCondition(pod, InPlaceUpdateReady); c != nil {
		return c.Status
	}
	return ""
}

func TestInPlaceUpdateImageOnly(t *testing.T) {
	cs := inPlaceCloneSet("web", 1, appsv1beta1.InPlaceIfPossibleCloneSetPodUpdateStrategyType)
	f, oldRev := inPlaceFixture(t, cs)
	before := f.pod("web-pod00")
	f.updateCloneSet("web", func(cs *appsv1beta1.CloneSet) {
		cs.Spec.Template.Spec.Containers[0].Image = "nginx:2"
		cs.Spec.Template.Labels["version"] = "v2" // template metadata changes go along
	})
	newRev := revisionOf(t, f.cloneSet("web"))

	writes := f.sync("web")
	if n := count(writes, "create", "pods") + count(writes, "delete", "pods") + len(markedPods(writes)); n != 0 {
		t.Fatalf("re-created instead of in place: %v", writes)
	}
	if got := count(writes, "update", "pods/status"); got != 1 {
		t.Errorf("%d status writes, want 1 (InPlaceUpdateReady False)", got)
	}
	pod := f.pod("web-pod00")
	if pod.UID != before.UID {
		t.Fatalf("Pod UID %s, was %s", pod.UID, before.UID)
	}
	if got := pod.Spec.Containers[0].Image; got != "nginx:2" {
		t.Errorf("image %s", got)
	}
	if pod.Labels[appsv1.ControllerRevisionHashLabelKey] != newRev || pod.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != shortHash(newRev) {
		t.Errorf("revision labels %v, want %s", pod.Labels, newRev)
	}
	if pod.Labels["version"] != "v2" {
		t.Errorf("template label not patched: %v", pod.Labels)
	}
	if got := podLifecycleState(pod); got != stateUpdating {
		t.Errorf("lifecycle state %s", got)
	}
	state := podState(t, pod)
	if state.Revision != newRev || !state.UpdateTimestamp.Time.Equal(t0) || !state.UpdateImages ||
		state.LastContainerStatuses["main"].ImageID != "sha-1" || len(state.LastContainerStatuses) != 1 {
		t.Errorf("state %+v", state)
	}
	if c := podCondition(pod, InPlaceUpdateReady); c == nil || c.Status != corev1.ConditionFalse || c.Reason != inplaceupdate.ReasonStartInPlaceUpdate {
		t.Errorf("InPlaceUpdateReady %+v", c)
	}
	if isPodReady(pod) {
		t.Errorf("Pod still Ready while its gate is False")
	}
	if _, ok := pod.Annotations[InPlaceUpdateGraceAnnotation]; ok {
		t.Errorf("grace annotation without a grace period")
	}
	if n := countEvents(f.events(), reasonSuccessfulUpdatePodInPlace); n != 1 {
		t.Errorf("%d %s events", n, reasonSuccessfulUpdatePodInPlace)
	}
	_ = oldRev

	// The kubelet has not restarted the container yet; then it has, but it
	// has not started: the update is not done.
	if writes := f.sync("web"); count(writes, "update", "pods/status")+count(writes, "update", "pods")+count(writes, "patch", "pods") != 0 {
		t.Errorf("Pod written while the kubelet has not restarted the container: %v", writes)
	}
	status := f.cloneSet("web").Status
	if status.UpdatedReplicas != 1 || status.UpdatedReadyReplicas != 0 || status.CurrentRevision != newRev {
		t.Errorf("status %+v", status)
	}
	f.kubeletRuns("web-pod00", "nginx:2", "sha-2", false)
	f.sync("web")
	if got := inPlaceReady(f.pod("web-pod00")); got != corev1.ConditionFalse {
		t.Fatalf("InPlaceUpdateReady %s before the new container started", got)
	}
	// The same imageID under the old image name: not done either.
	f.kubeletRuns("web-pod00", "nginx:1", "sha-1", true)
	f.sync("web")
	if got := inPlaceReady(f.pod("web-pod00")); got != corev1.ConditionFalse {
		t.Fatalf("InPlaceUpdateReady %s while the old image runs", got)
	}

	// Started with the new image: done.
	f.kubeletRuns("web-pod00", "nginx:2", "sha-2", true)
	f.sync("web")
	pod = f.pod("web-pod00")
	if got := inPlaceReady(pod); got != corev1.ConditionTrue {
		t.Fatalf("InPlaceUpdateReady %s after the update", got)
	}
	if got := podLifecycleState(pod); got != stateNormal {
		t.Errorf("lifecycle state %s after the update", got)
	}
	if status := f.cloneSet("web").Status; status.UpdatedReadyReplicas != 0 {
		t.Errorf("updated-ready before the kubelet made the Pod Ready: %+v", status)
	}
	// The kubelet sees the gate met.
	f.kubeletRuns("web-pod00", "nginx:2", "sha-2", true)
	f.sync("web")
	status = f.cloneSet("web").Status
	if status.UpdatedReplicas != 1 || status.UpdatedReadyReplicas != 1 || status.UpdatedAvailableReplicas != 1 || status.CurrentRevision != newRev {
		t.Errorf("status after the update %+v", status)
	}
	if writes := f.sync("web"); len(writes) != 0 {
		t.Errorf("writes once done: %v", writes)
	}
}

func TestInPlaceNonImageChange(t *testing.T) {
	changeEnv := func(cs *appsv1beta1.CloneSet) {
		cs.Spec.Template.Spec.Containers[0].Image = "nginx:2"
		cs.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A", Value: "b"}}
	}

	t.Run("InPlaceIfPossible re-creates", func(t *testing.T) {
		f, _ := inPlaceFixture(t, inPlaceCloneSet("web", 1, appsv1beta1.InPlaceIfPossibleCloneSetPodUpdateStrategyType))
		f.updateCloneSet("web", changeEnv)
		writes := f.sync("web")
		if got := markedPods(writes); len(got) != 1 {
			t.Fatalf("marked %v", got)
		}
		if got := f.pod("web-pod00").Spec.Containers[0].Image; got != "nginx:1" {
			t.Errorf("image patched to %s", got)
		}
		if got := count(f.sync("web"), "delete", "pods"); got != 1 {
			t.Errorf("deleted %d", got)
		}
	})

	t.Run("InPlaceOnly fails", func(t *testing.T) {
		f, _ := inPlaceFixture(t, inPlaceCloneSet("web", 1, appsv1beta1.InPlaceOnlyCloneSetPodUpdateStrategyType))
		f.updateCloneSet("web", changeEnv)
		before := f.pod("web-pod00")
		writes, err := f.trySync("web")
		if err == nil {
			t.Fatal("no error")
		}
		if n := count(writes, "patch", "pods") + count(writes, "update", "pods") + count(writes, "update", "pods/status") + count(writes, "delete", "pods"); n != 0 {
			t.Fatalf("the Pod was touched: %v", writes)
		}
		if after := f.pod("web-pod00"); after.Spec.Containers[0].Image != "nginx:1" || after.Labels[appsv1.ControllerRevisionHashLabelKey] != before.Labels[appsv1.ControllerRevisionHashLabelKey] {
			t.Errorf("Pod changed: %v", after)
		}
		cond := getCondition(f.cloneSet("web").Status, appsv1beta1.CloneSetConditionFailedUpdate)
		if cond == nil || cond.Status != corev1.ConditionTrue || cond.Message == "" {
			t.Fatalf("FailedUpdate %+v", cond)
		}

		// Back to an image-only change: done in place, the condition goes.
		f.updateCloneSet("web", func(cs *appsv1beta1.CloneSet) { cs.Spec.Template.Spec.Containers[0].Env = nil })
		f.sync("web")
		if got := f.pod("web-pod00").Spec.Containers[0].Image; got != "nginx:2" {
			t.Errorf("image %s", got)
		}
		if cond := getCondition(f.cloneSet("web").Status, appsv1beta1.CloneSetConditionFailedUpdate); cond != nil {
			t.Errorf("FailedUpdate %+v after success", cond)
		}
	})
}

func TestInPlaceGracePeriod(t *testing.T) {
	cs := inPlaceCloneSet("web", 1, appsv1beta1.InPlaceIfPossibleCloneSetPodUpdateStrategyType)
	cs.Spec.UpdateStrategy.RollingUpdate.InPlaceUpdateStrategy.GracePeriodSeconds = 30
	f, _ := inPlaceFixture(t, cs)
	f.updateCloneSet("web", func(cs *appsv1beta1.CloneSet) { cs.Spec.Template.Spec.Containers[0].Image = "nginx:2" })
	newRev := revisionOf(t, f.cloneSet("web"))

	syncRequeue := func() time.Duration {
		t.Helper()
		f.settle()
		requeue, err := f.c.sync(f.ctx, f.key("web"))
		if err != nil {
			t.Fatal(err)
		}
		return requeue
	}
	if requeue := syncRequeue(); requeue != 30*time.Second {
		t.Errorf("requeue after %v, want the grace period", requeue)
	}
	pod := f.pod("web-pod00")
	if got := pod.Spec.Containers[0].Image; got != "nginx:1" {
		t.Fatalf("image patched to %s within the grace period", got)
	}
	if inPlaceReady(pod) != corev1.ConditionFalse || pod.Labels[appsv1.ControllerRevisionHashLabelKey] != newRev || podLifecycleState(pod) != stateUpdating {
		t.Fatalf("Pod at the start of the grace period: %v %v", pod.Labels, pod.Status.Conditions)
	}
	var spec inplaceupdate.Spec
	if err := json.Unmarshal([]byte(pod.Annotations[InPlaceUpdateGraceAnnotation]), &spec); err != nil ||
		spec.Revision != newRev || spec.ContainerImages["main"] != "nginx:2" || spec.GraceSeconds != 30 {
		t.Fatalf("grace annotation %q: %v", pod.Annotations[InPlaceUpdateGraceAnnotation], err)
	}
	if state := podState(t, pod); len(state.LastContainerStatuses) != 0 {
		t.Errorf("container statuses recorded before the patch: %+v", state)
	}

	f.clock.Step(10 * time.Second)
	if requeue := syncRequeue(); requeue != 20*time.Second {
		t.Errorf("requeue after %v, want the rest of the grace period", requeue)
	}
	if got := f.pod("web-pod00").Spec.Containers[0].Image; got != "nginx:1" {
		t.Fatalf("image patched to %s within the grace period", got)
	}

	f.clock.Step(20 * time.Second)
	syncRequeue()
	pod = f.pod("web-pod00")
	if got := pod.Spec.Containers[0].Image; got != "nginx:2" {
		t.Fatalf("image %s after the grace period", got)
	}
	if _, ok := pod.Annotations[InPlaceUpdateGraceAnnotation]; ok {
		t.Errorf("grace annotation left")
	}
	if state := podState(t, pod); state.LastContainerStatuses["main"].ImageID != "sha-1" {
		t.Errorf("state %+v", state)
	}
	if inPlaceReady(pod) != corev1.ConditionFalse {
		t.Errorf("InPlaceUpdateReady True before the kubelet restarted the container")
	}
	f.kubeletRuns("web-pod00", "nginx:2", "sha-2", true)
	f.sync("web")
	if inPlaceReady(f.pod("web-pod00")) != corev1.ConditionTrue {
		t.Errorf("InPlaceUpdateReady not True after the update")
	}
}

func TestInPlaceRespectsMaxUnavailableAndPartition(t *testing.T) {
	cs := withRollingUpdate(inPlaceCloneSet("web", 5, appsv1beta1.InPlaceIfPossibleCloneSetPodUpdateStrategyType),
		intstr.FromInt32(1), intstr.FromInt32(2), intstr.FromInt32(0))
	f, oldRev := inPlaceFixture(t, cs)
	f.updateCloneSet("web", func(cs *appsv1beta1.CloneSet) { cs.Spec.Template.Spec.Containers[0].Image = "nginx:2" })
	newRev := revisionOf(t, f.cloneSet("web"))

	// updating lists the Pods patched and not yet done.
	updating := func() (names []string) {
		for _, p := range f.pods() {
			if p.Spec.Containers[0].Image == "nginx:2" && !isPodUpdateReady(p, 0, f.clock.Now()) {
				names = append(names, p.Name)
			}
		}
		return names
	}
	// finish plays the kubelet for the Pods being updated: restarted,
	// then Ready once their gate is met.
	finish := func(names ...string) {
		for _, n := range names {
			f.kubeletRuns(n, "nginx:2", "sha-2", true)
		}
		f.sync("web") // InPlaceUpdateReady True
		for _, n := range names {
			f.kubeletRuns(n, "nginx:2", "sha-2", true)
		}
	}

	f.sync("web")
	first := updating()
	if len(first) != 2 {
		t.Fatalf("updating %v, want 2 (maxUnavailable)", first)
	}
	f.sync("web")
	if got := updating(); len(got) != 2 {
		t.Fatalf("updating %v after a second sync", got)
	}
	// One done: one more may start.
	finish(first[0])
	f.sync("web")
	if got := updating(); len(got) != 2 {
		t.Fatalf("updating %v after one finished", got)
	}
	for range 10 {
		finish(updating()...)
		f.sync("web")
		if got := updating(); len(got) > 2 {
			t.Fatalf("updating %v", got)
		}
	}
	at, others := f.podsAt(newRev)
	if len(at) != 4 || len(others) != 1 {
		t.Fatalf("at %s: %v, others %v (partition 1)", newRev, at, others)
	}
	if p := f.pod(others[0]); p.Labels[appsv1.ControllerRevisionHashLabelKey] != oldRev || p.Spec.Containers[0].Image != "nginx:1" {
		t.Errorf("the partitioned Pod %v", p.Labels)
	}
	if len(f.pods()) != 5 {
		t.Errorf("%d Pods", len(f.pods()))
	}
	status := f.cloneSet("web").Status
	if status.UpdatedReplicas != 4 || status.UpdatedReadyReplicas != 4 || status.ExpectedUpdatedReplicas != 4 {
		t.Errorf("status %+v", status)
	}
}

func TestInPlaceUpdateOrderFollowsPriority(t *testing.T) {
	cs := withRollingUpdate(inPlaceCloneSet("web", 4, appsv1beta1.InPlaceIfPossibleCloneSetPodUpdateStrategyType),
		intstr.FromInt32(0), intstr.FromInt32(1), intstr.FromInt32(0))
	cs.Spec.UpdateStrategy.RollingUpdate.PriorityStrategy = &appsv1beta1.UpdatePriorityStrategy{
		WeightPriority: []appsv1beta1.UpdatePriorityWeightTerm{
			{Weight: 50, MatchSelector: metav1.LabelSelector{MatchLabels: map[string]string{"canary": "true"}}},
		},
	}
	rev := revisionOf(t, cs)
	objects := []runtime.Object{cs}
	for i := range 4 {
		pod := runningPod(cs, rev, fmt.Sprintf("pod%02d", i), "sha-1")
		if i == 2 {
			// The oldest: without priorities it would go last.
			pod.Labels["canary"] = "true"
			pod.CreationTimestamp = metav1.NewTime(pod.CreationTimestamp.Add(-time.Hour))
		}
		objects = append(objects, pod)
	}
	f := newFixture(t, true, objects...)
	f.sync("web")
	f.updateCloneSet("web", func(cs *appsv1beta1.CloneSet) { cs.Spec.Template.Spec.Containers[0].Image = "nginx:2" })
	f.sync("web")
	var updated []string
	for _, p := range f.pods() {
		if p.Spec.Containers[0].Image == "nginx:2" {
			updated = append(updated, p.Name)
		}
	}
	if len(updated) != 1 || updated[0] != "web-pod02" {
		t.Fatalf("updated in place %v, want the canary web-pod02", updated)
	}
}
