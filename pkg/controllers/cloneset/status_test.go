package cloneset

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
)

func TestStatusCountsPods(t *testing.T) {
	cs := withRollingUpdate(newCloneSet("web", 6), intstr.FromInt32(2), intstr.FromInt32(1), intstr.FromInt32(0))
	cs.Spec.MinReadySeconds = 30
	oldCS := cs.DeepCopy()
	oldCS.Spec.Template.Spec.Containers[0].Image = "nginx:0"
	rev, oldRev := revisionOf(t, cs), revisionOf(t, oldCS)

	readyFor := func(pod *corev1.Pod, d time.Duration) *corev1.Pod {
		setRunning(pod, t0.Add(-d))
		return pod
	}
	notReady := func(pod *corev1.Pod) *corev1.Pod {
		pod.Status.Conditions[2].Status = corev1.ConditionFalse
		return pod
	}
	objects := []runtime.Object{
		cs,
		readyFor(existingPod(cs, rev, "new01"), time.Hour),       // updated, ready, available
		readyFor(existingPod(cs, rev, "new02"), 10*time.Second),  // updated, ready, not yet available
		notReady(existingPod(cs, rev, "new03")),                  // updated, not ready
		readyFor(existingPod(oldCS, oldRev, "old01"), time.Hour), // old, ready, available
		notReady(existingPod(oldCS, oldRev, "old02")),            // old, not ready
	}
	// A Pod held by an in-place update is not ready for the CloneSet.
	held := readyFor(existingPod(oldCS, oldRev, "old03"), time.Hour)
	held.Status.Conditions[1].Status = corev1.ConditionFalse
	held.Annotations[InPlaceUpdateStateAnnotation] = `{"revision":"x","lastContainerStatuses":{"main":{"imageID":"sha-0"}}}`
	held.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "main", Image: "nginx:old", ImageID: "sha-0", Ready: true}}
	objects = append(objects, held)
	// Terminating and finished Pods do not count.
	gone := existingPod(cs, rev, "gone1")
	gone.DeletionTimestamp = &metav1.Time{Time: t0}
	gone.Finalizers = []string{"example.com/hold"}
	failed := existingPod(cs, rev, "fail1")
	failed.Status.Phase = corev1.PodFailed
	objects = append(objects, gone, failed)

	f := newFixture(t, true, objects...)
	// Keep the controller from touching the Pods: pause the update.
	f.updateCloneSet("web", func(cs *appsv1beta1.CloneSet) { cs.Spec.UpdateStrategy.RollingUpdate.Paused = true })
	f.sync("web")

	got := f.cloneSet("web").Status
	want := appsv1beta1.CloneSetStatus{
		ObservedGeneration:       2,
		Replicas:                 6,
		ReadyReplicas:            3, // new01, new02, old01
		AvailableReplicas:        2, // new01, old01
		UpdatedReplicas:          3,
		UpdatedReadyReplicas:     2,
		UpdatedAvailableReplicas: 1,
		ExpectedUpdatedReplicas:  4, // 6 - partition 2
		UpdateRevision:           rev,
		CurrentRevision:          rev, // no status yet: the update revision
		CollisionCount:           ptr32(0),
		LabelSelector:            "app=web",
	}
	if !equalStatus(got, want) {
		t.Errorf("status\n got %+v\nwant %+v", got, want)
	}

	// Nothing changed: no status write.
	writes := f.sync("web")
	if n := count(writes, "update", "clonesets/status"); n != 0 {
		t.Errorf("%d status writes without a change", n)
	}

	// new02 becomes available after minReadySeconds: the sync asks to be
	// called again then.
	f.settle()
	requeue, err := f.c.sync(f.ctx, f.key("web"))
	if err != nil || requeue <= 0 || requeue > 21*time.Second {
		t.Errorf("requeue after %v, %v; want about 20s", requeue, err)
	}
	f.clock.Step(21 * time.Second)
	if n := count(f.sync("web"), "update", "clonesets/status"); n != 1 {
		t.Errorf("%d status writes", n)
	}
	if got := f.cloneSet("web").Status; got.AvailableReplicas != 3 || got.UpdatedAvailableReplicas != 2 {
		t.Errorf("after minReadySeconds: %+v", got)
	}
}

func equalStatus(a, b appsv1beta1.CloneSetStatus) bool {
	a.Conditions, b.Conditions = nil, nil
	return apiequality.Semantic.DeepEqual(a, b)
}

func TestStatusCurrentRevisionFollowsPods(t *testing.T) {
	cs := newCloneSet("web", 2)
	f := newFixture(t, true, cs)
	f.sync("web")
	f.run()
	f.sync("web")
	rev := f.cloneSet("web").Status.UpdateRevision
	if got := f.cloneSet("web").Status; got.CurrentRevision != rev || got.ReadyReplicas != 2 || got.AvailableReplicas != 2 {
		t.Fatalf("status %+v", got)
	}
	f.updateCloneSet("web", func(cs *appsv1beta1.CloneSet) { cs.Spec.Template.Spec.Containers[0].Image = "nginx:2" })
	f.sync("web")
	got := f.cloneSet("web").Status
	if got.UpdateRevision == rev || got.CurrentRevision != rev || got.UpdatedReplicas != 0 {
		t.Fatalf("status after the template change %+v", got)
	}
}

func TestProgressingCondition(t *testing.T) {
	cs := newCloneSet("web", 1)
	cs.Spec.ProgressDeadlineSeconds = ptr32(60)
	f := newFixture(t, true, cs)
	f.sync("web")
	cond := getCondition(f.cloneSet("web").Status, appsv1beta1.CloneSetConditionTypeProgressing)
	if cond == nil || cond.Reason != reasonProgressUpdated || cond.Status != corev1.ConditionTrue {
		t.Fatalf("Progressing %+v", cond)
	}
	f.clock.Step(61 * time.Second)
	f.sync("web")
	cond = getCondition(f.cloneSet("web").Status, appsv1beta1.CloneSetConditionTypeProgressing)
	if cond == nil || cond.Reason != reasonProgressDeadlineExceeded || cond.Status != corev1.ConditionFalse {
		t.Fatalf("Progressing after the deadline %+v", cond)
	}
	f.run()
	f.sync("web")
	cond = getCondition(f.cloneSet("web").Status, appsv1beta1.CloneSetConditionTypeProgressing)
	if cond == nil || cond.Reason != reasonProgressAvailable || cond.Status != corev1.ConditionTrue {
		t.Fatalf("Progressing once available %+v", cond)
	}
	// A new rollout long after: the deadline runs from its start.
	f.clock.Step(time.Hour)
	f.updateCloneSet("web", func(cs *appsv1beta1.CloneSet) { cs.Spec.Template.Spec.Containers[0].Image = "nginx:2" })
	f.sync("web")
	cond = getCondition(f.cloneSet("web").Status, appsv1beta1.CloneSetConditionTypeProgressing)
	if cond == nil || cond.Reason != reasonProgressUpdated {
		t.Fatalf("Progressing on a new rollout %+v", cond)
	}
}
