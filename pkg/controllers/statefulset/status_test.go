package statefulset

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
)

func TestStatusCounts(t *testing.T) {
	old := newSet("web", 6)
	old.Spec.UpdateStrategy.RollingUpdate.MinReadySeconds = ptr.To[int32](60)
	oldRev := revisionName(t, old)
	set := old.DeepCopy()
	set.Spec.Template.Spec.Containers[0].Image = "nginx:2"
	set.Generation = 7
	set.Status.CurrentRevision = oldRev
	set.Status.CollisionCount = ptr.To[int32](0)
	newRev := revisionName(t, set)

	// web-0: current, available.            web-1: current, Ready for 10s only.
	// web-2: updated, available.            web-3: updated, Running, not Ready.
	// web-4: updated, terminating, Ready.   web-5: current, PreparingDelete.
	// web-6: current, scaled away, available.
	// OrderedReady stops at web-1 (not available yet): the sync only counts.
	pods := []*corev1.Pod{
		existingPod(old, oldRev, 0),
		existingPod(old, oldRev, 1),
		existingPod(set, newRev, 2),
		existingPod(set, newRev, 3),
		existingPod(set, newRev, 4),
		existingPod(old, oldRev, 5),
		existingPod(old, oldRev, 6),
	}
	setRunning(pods[1], t0.Add(-10*time.Second))
	pods[3].Status.Conditions = nil
	pods[4].DeletionTimestamp = &metav1.Time{Time: t0}
	pods[4].Finalizers = []string{"example.com/hold"}
	pods[5].Labels[LifecycleStateLabel] = string(statePreparingDelete)

	objects := []runtimeObject{set}
	for i, s := range []*appsv1beta1.StatefulSet{old, set} {
		cr, err := newRevision(s, int64(i+1), ptr.To[int32](0))
		if err != nil {
			t.Fatal(err)
		}
		objects = append(objects, cr)
	}
	for _, p := range pods {
		objects = append(objects, p)
	}
	f := newFixture(t, objects...)
	writes, requeue, err := f.trySync("web")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range describe(writes) {
		if d != "update statefulsets/status web" {
			t.Errorf("unexpected write %s", d)
		}
	}
	if requeue <= 0 || requeue > 50*time.Second {
		t.Errorf("requeue after %v, want when web-1 becomes available", requeue)
	}

	s := f.set("web").Status
	want := appsv1beta1.StatefulSetStatus{
		ObservedGeneration:       7,
		Replicas:                 7,
		ReadyReplicas:            6, // all but web-3
		AvailableReplicas:        4, // web-0, web-2, web-4, web-6
		CurrentReplicas:          4, // web-0, web-1, web-5, web-6
		UpdatedReplicas:          2, // web-2, web-3: a terminating Pod is neither current nor updated
		UpdatedReadyReplicas:     2, // web-2, web-4
		UpdatedAvailableReplicas: 2, // web-2, web-4
		CurrentRevision:          oldRev,
		UpdateRevision:           newRev,
		CollisionCount:           ptr.To[int32](0),
		LabelSelector:            "app=web",
	}
	if !apiequality.Semantic.DeepEqual(s, want) {
		t.Errorf("status\n got %+v\nwant %+v", s, want)
	}

	// Nothing changed: no status write.
	if writes := f.sync("web"); len(writes) != 0 {
		t.Errorf("an idle sync wrote %v", describe(writes))
	}
}

func TestStatusNotWrittenWhenUnchanged(t *testing.T) {
	f, _ := runningSet(t, newSet("web", 2))
	s := f.set("web").Status
	if s.Replicas != 2 || s.ReadyReplicas != 2 || s.AvailableReplicas != 2 || s.UpdatedReplicas != 2 ||
		s.CurrentReplicas != 2 || s.ObservedGeneration != 1 || s.CurrentRevision == "" || s.CurrentRevision != s.UpdateRevision {
		t.Errorf("status %+v", s)
	}
	for range 2 {
		if writes := f.sync("web"); len(writes) != 0 {
			t.Errorf("an idle sync wrote %v", describe(writes))
		}
	}
}

func TestRevisionHistoryTrimming(t *testing.T) {
	set := newSet("web", 2)
	set.Spec.RevisionHistoryLimit = ptr.To[int32](1)
	set.Spec.UpdateStrategy = appsv1beta1.StatefulSetUpdateStrategy{Type: appsv1beta1.OnDeleteStatefulSetStrategyType}
	f, firstRev := runningSet(t, set)

	// Four more templates; the Pods stay at the first revision, which is
	// current and live.
	for _, image := range []string{"nginx:2", "nginx:3", "nginx:4", "nginx:5"} {
		f.setImage("web", image)
		f.sync("web")
	}
	var names []string
	for _, r := range f.revisions() {
		names = append(names, r.Name)
	}
	s := f.set("web").Status
	// Kept: the first (current, used by the Pods), the newest (update)
	// and one more (the limit): nginx:4.
	if len(names) != 3 || names[0] != firstRev || names[2] != s.UpdateRevision {
		t.Fatalf("revisions %v (current %s, update %s)", names, s.CurrentRevision, s.UpdateRevision)
	}
	for i, r := range f.revisions() {
		if r.Revision != []int64{1, 4, 5}[i] {
			t.Errorf("revision %s numbered %d", r.Name, r.Revision)
		}
	}

	// A rollback to the first template renumbers its revision instead of
	// making a new one.
	f.setImage("web", "nginx:1")
	f.sync("web")
	revs := f.revisions()
	last := revs[len(revs)-1]
	if last.Name != firstRev || last.Revision != 6 {
		t.Errorf("rollback: newest revision %s (%d), want %s (6)", last.Name, last.Revision, firstRev)
	}
	if s := f.set("web").Status; s.UpdateRevision != firstRev {
		t.Errorf("update revision %s", s.UpdateRevision)
	}
	if got := owners0(last); got != "StatefulSet/web" {
		t.Errorf("revision owner %s", got)
	}
}

func TestOrphanRevisionIsAdopted(t *testing.T) {
	set := newSet("web", 0)
	cr, err := newRevision(set, 1, ptr.To[int32](0))
	if err != nil {
		t.Fatal(err)
	}
	cr.OwnerReferences = nil
	f := newFixture(t, set, cr)
	writes := f.sync("web")
	if got := only(writes, "patch", "controllerrevisions"); !equalStrings(got, []string{cr.Name}) {
		t.Fatalf("patched %v", got)
	}
	if got := only(writes, "create", "controllerrevisions"); len(got) != 0 {
		t.Errorf("created %v next to the adopted one", got)
	}
	if got := owners0(f.revisions()[0]); got != "StatefulSet/web" {
		t.Errorf("owner %s", got)
	}
}

func owners0(cr *appsv1.ControllerRevision) string {
	ref := metav1.GetControllerOf(cr)
	if ref == nil {
		return ""
	}
	return ref.Kind + "/" + ref.Name
}

func getCondition(status *appsv1beta1.StatefulSetStatus, t appsv1beta1.StatefulSetConditionType) *appsv1beta1.StatefulSetCondition {
	for i := range status.Conditions {
		if status.Conditions[i].Type == t {
			return &status.Conditions[i]
		}
	}
	return nil
}
