package cloneset

import (
	"fmt"
	"reflect"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers/expectations"
)

func TestScaleUpCreatesPodsWithClaims(t *testing.T) {
	cs := withClaims(newCloneSet("web", 3), "data")
	f := newFixture(t, true, cs)

	// Record the order of creations: a Pod's PVCs come before it.
	var created []string
	f.kube.PrependReactor("create", "*", func(a clienttesting.Action) (bool, runtime.Object, error) {
		obj := a.(clienttesting.CreateAction).GetObject().(metav1.Object)
		created = append(created, a.GetResource().Resource+"/"+obj.GetName())
		return false, nil, nil
	})

	writes := f.sync("web")
	if got := count(writes, "create", "pods"); got != 3 {
		t.Fatalf("created %d Pods, want 3", got)
	}
	if got := count(writes, "create", "persistentvolumeclaims"); got != 3 {
		t.Fatalf("created %d PVCs, want 3", got)
	}
	if got := count(writes, "create", "controllerrevisions"); got != 1 {
		t.Fatalf("created %d revisions, want 1", got)
	}
	revisions := f.revisions()
	if len(revisions) != 1 {
		t.Fatalf("%d revisions", len(revisions))
	}
	rev := revisions[0].Name
	if rev != revisionOf(t, cs) || !regexpMatch(`^web-[bcdfghjklmnpqrstvwxz2456789]+$`, rev) {
		t.Errorf("revision name %q", rev)
	}

	for _, pod := range f.pods() {
		id := pod.Labels[InstanceIDLabel]
		if pod.Name != "web-"+id || id == "" {
			t.Errorf("Pod %s has instance id %q", pod.Name, id)
		}
		wantLabels := map[string]string{
			"app": "web", "tier": "web",
			InstanceIDLabel:                        id,
			appsv1.ControllerRevisionHashLabelKey:  rev,
			appsv1.DefaultDeploymentUniqueLabelKey: shortHash(rev),
			LifecycleStateLabel:                    string(statePreparingNormal),
		}
		if !reflect.DeepEqual(pod.Labels, wantLabels) {
			t.Errorf("Pod %s labels %v, want %v", pod.Name, pod.Labels, wantLabels)
		}
		if pod.Annotations[LifecycleTimestampAnnotation] == "" {
			t.Errorf("Pod %s has no lifecycle timestamp", pod.Name)
		}
		ref := metav1.GetControllerOf(pod)
		if ref == nil || ref.UID != cs.UID || ref.Kind != "CloneSet" || ref.APIVersion != "apps.kruise.io/v1beta1" ||
			ref.BlockOwnerDeletion == nil || !*ref.BlockOwnerDeletion {
			t.Errorf("Pod %s controller reference %+v", pod.Name, ref)
		}
		if len(pod.Spec.ReadinessGates) != 2 || pod.Spec.ReadinessGates[0].ConditionType != InPlaceUpdateReady ||
			pod.Spec.ReadinessGates[1].ConditionType != KruisePodReady {
			t.Errorf("Pod %s readiness gates %v", pod.Name, pod.Spec.ReadinessGates)
		}
		wantVolumes := []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data-web-" + id},
		}}}
		if !reflect.DeepEqual(pod.Spec.Volumes, wantVolumes) {
			t.Errorf("Pod %s volumes %+v", pod.Name, pod.Spec.Volumes)
		}
		claimAt := slices.Index(created, "persistentvolumeclaims/data-web-"+id)
		podAt := slices.Index(created, "pods/"+pod.Name)
		if claimAt < 0 || podAt < 0 || claimAt > podAt {
			t.Errorf("creations %v: the PVC of %s is not created before it", created, pod.Name)
		}
	}
	for _, pvc := range f.pvcs() {
		id := pvc.Labels[InstanceIDLabel]
		want := map[string]string{"app": "web", "claim": "data", InstanceIDLabel: id}
		if !reflect.DeepEqual(pvc.Labels, want) || pvc.Name != "data-web-"+id {
			t.Errorf("PVC %s labels %v", pvc.Name, pvc.Labels)
		}
		if ref := metav1.GetControllerOf(pvc); ref == nil || ref.UID != cs.UID {
			t.Errorf("PVC %s controller %+v", pvc.Name, ref)
		}
	}
	if n := countEvents(f.events(), reasonSuccessfulCreate); n != 3 {
		t.Errorf("%d SuccessfulCreate events", n)
	}

	// Nothing more to create.
	writes = f.sync("web")
	if got := count(writes, "create", "pods"); got != 0 {
		t.Errorf("second sync created %d Pods", got)
	}
}

func TestExpectationsPreventDoubleCreation(t *testing.T) {
	cs := newCloneSet("web", 3)
	f := newFixture(t, false, cs) // the caches see nothing unless fed

	writes := f.sync("web")
	if got := count(writes, "create", "pods"); got != 3 {
		t.Fatalf("first sync created %d Pods, want 3", got)
	}
	// The cache has not seen the Pods: a second sync must not create them again.
	writes = f.sync("web")
	if got := count(writes, "create", "pods"); got != 0 {
		t.Fatalf("second sync on a stale cache created %d Pods", got)
	}
	if pending := f.c.scaleExpectations.Pending(f.key("web")); len(pending[expectations.Create]) != 3 {
		t.Fatalf("pending %v", pending)
	}

	// The informer delivers two of the three.
	podIndexer := f.kubeInf.Core().V1().Pods().Informer().GetIndexer()
	pods := f.pods()
	for _, pod := range pods[:2] {
		_ = podIndexer.Add(pod)
		f.c.onPodAdd(pod)
	}
	if got := count(f.sync("web"), "create", "pods"); got != 0 {
		t.Fatalf("sync with one creation unobserved created %d Pods", got)
	}
	_ = podIndexer.Add(pods[2])
	f.c.onPodAdd(pods[2])
	for _, r := range f.revisions() {
		_ = f.kubeInf.Apps().V1().ControllerRevisions().Informer().GetIndexer().Add(r)
	}
	if got := count(f.sync("web"), "create", "pods"); got != 0 {
		t.Fatalf("sync with all observed created %d Pods", got)
	}
	if got := len(f.pods()); got != 3 {
		t.Fatalf("%d Pods, want 3", got)
	}

	// A deletion never observed expires after the timeout.
	f.updateCloneSet("web", func(cs *appsv1beta1.CloneSet) { cs.Spec.Replicas = ptr32(2) })
	updated := f.cloneSet("web")
	_ = f.kruiseInf.Apps().V1beta1().CloneSets().Informer().GetIndexer().Update(updated)
	if got := count(f.sync("web"), "delete", "pods"); got != 1 {
		t.Fatalf("scale-in deleted %d Pods", got)
	}
	if got := count(f.sync("web"), "delete", "pods"); got != 0 {
		t.Fatalf("scale-in on a stale cache deleted %d Pods", got)
	}
	f.clock.Step(expectations.DefaultTimeout + 1)
	if got := count(f.sync("web"), "delete", "pods"); got != 1 {
		t.Fatalf("after the expectations expired the stale cache still has 3 Pods: deleted %d", got)
	}
}

func ptr32(v int32) *int32 { return &v }

func TestScaleDownDeletesPodsToDeleteFirst(t *testing.T) {
	cs := newCloneSet("web", 3)
	rev := revisionOf(t, cs)
	a, b, c, d, e := existingPod(cs, rev, "aaaaa"), existingPod(cs, rev, "bbbbb"), existingPod(cs, rev, "ccccc"),
		existingPod(cs, rev, "ddddd"), existingPod(cs, rev, "eeeee")
	// c is not ready, b costs least to delete.
	c.Status.Conditions[2].Status = corev1.ConditionFalse
	b.Annotations[PodDeletionCostAnnotation] = "-10"
	e.Annotations[PodDeletionCostAnnotation] = "5"
	cs.Spec.ScaleStrategy.PodsToDelete = []string{"web-ddddd", "web-gone"}
	cs.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = ptr.To(intstr.FromInt32(2))
	f := newFixture(t, true, cs, a, b, c, d, e)

	// 1: only the specified Pod goes; scale-in waits for it.
	writes := f.sync("web")
	if got := deletedPods(writes); !reflect.DeepEqual(got, []string{"web-ddddd"}) {
		t.Fatalf("first sync deleted %v, want web-ddddd", got)
	}
	// The name of a Pod that does not exist is dropped from podsToDelete.
	if got := f.cloneSet("web").Spec.ScaleStrategy.PodsToDelete; !reflect.DeepEqual(got, []string{"web-ddddd"}) {
		t.Fatalf("podsToDelete %v", got)
	}

	// 2: scale-in: the not-ready Pod first. The deleted Pod leaves podsToDelete.
	writes = f.sync("web")
	if got := deletedPods(writes); !reflect.DeepEqual(got, []string{"web-ccccc"}) {
		t.Fatalf("second sync deleted %v, want web-ccccc", got)
	}
	if got := f.cloneSet("web").Spec.ScaleStrategy.PodsToDelete; len(got) != 0 {
		t.Fatalf("podsToDelete %v", got)
	}
	if got := deletedPods(f.sync("web")); len(got) != 0 {
		t.Fatalf("third sync deleted %v", got)
	}

	// Then the lowest deletion cost.
	f.updateCloneSet("web", func(cs *appsv1beta1.CloneSet) { cs.Spec.Replicas = ptr32(1) })
	if got := deletedPods(f.sync("web")); !reflect.DeepEqual(got, []string{"web-aaaaa", "web-bbbbb"}) &&
		!reflect.DeepEqual(got, []string{"web-bbbbb", "web-aaaaa"}) {
		t.Fatalf("scale to 1 deleted %v, want web-bbbbb and web-aaaaa", got)
	}
	if got := f.pods(); len(got) != 1 || got[0].Name != "web-eeeee" {
		t.Fatalf("left %v", podNames(got))
	}
	events := f.events()
	if n := countEvents(events, reasonSuccessfulDelete); n != 4 {
		t.Errorf("%d SuccessfulDelete events: %v", n, events)
	}
}

func TestScaleDownOrder(t *testing.T) {
	cs := newCloneSet("web", 4)
	oldCS := cs.DeepCopy()
	oldCS.Spec.Template.Spec.Containers[0].Image = "nginx:0"
	rev, oldRev := revisionOf(t, cs), revisionOf(t, oldCS)
	pods := []*corev1.Pod{
		existingPod(cs, rev, "new01"),
		existingPod(oldCS, oldRev, "old01"),
		existingPod(cs, rev, "new02"),
		existingPod(cs, rev, "new03"),
		existingPod(cs, rev, "new04"),
		existingPod(cs, rev, "new05"),
	}
	// Two new Pods on one node: one of them goes before the lone ones.
	pods[4].Spec.NodeName, pods[5].Spec.NodeName = "node-2", "node-2"
	pods[0].Spec.NodeName, pods[2].Spec.NodeName, pods[3].Spec.NodeName = "node-3", "node-4", "node-5"
	pods[5].CreationTimestamp = metav1.NewTime(pods[5].CreationTimestamp.Add(1)) // newer
	objects := []runtime.Object{cs}
	for _, p := range pods {
		objects = append(objects, p)
	}
	f := newFixture(t, true, objects...)
	// The old-revision Pod goes first, then one of the two sharing a node (the newer).
	got := deletedPods(f.sync("web"))
	slices.Sort(got)
	if !reflect.DeepEqual(got, []string{"web-new05", "web-old01"}) {
		t.Fatalf("deleted %v, want web-old01 and web-new05", got)
	}
}

func TestScaleUpLimitedByScaleMaxUnavailable(t *testing.T) {
	cs := newCloneSet("web", 5)
	cs.Spec.ScaleStrategy.MaxUnavailable = ptr.To(intstr.FromInt32(2))
	f := newFixture(t, true, cs)
	if got := count(f.sync("web"), "create", "pods"); got != 2 {
		t.Fatalf("created %d, want 2", got)
	}
	// Two unavailable: nothing more until they are ready.
	if got := count(f.sync("web"), "create", "pods"); got != 0 {
		t.Fatalf("created %d while 2 are unavailable", got)
	}
	if n := countEvents(f.events(), reasonScaleUpLimited); n == 0 {
		t.Errorf("no ScaleUpLimited event")
	}
	f.run()
	if got := count(f.sync("web"), "create", "pods"); got != 2 {
		t.Fatalf("created %d, want 2", got)
	}
	f.run()
	if got := count(f.sync("web"), "create", "pods"); got != 1 {
		t.Fatalf("created %d, want 1", got)
	}
}

func TestFailedCreateSetsConditionAndEvent(t *testing.T) {
	cs := newCloneSet("web", 2)
	f := newFixture(t, true, cs)
	f.kube.PrependReactor("create", "pods", func(clienttesting.Action) (bool, runtime.Object, error) {
		return true, nil, fmt.Errorf("quota exceeded")
	})
	if _, err := f.trySync("web"); err == nil {
		t.Fatal("sync did not fail")
	}
	// Expectations of the Pods not created are dropped: the next sync retries.
	if pending := f.c.scaleExpectations.Pending(f.key("web")); pending != nil {
		t.Errorf("pending %v", pending)
	}
	cond := getCondition(f.cloneSet("web").Status, appsv1beta1.CloneSetConditionFailedScale)
	if cond == nil || cond.Status != corev1.ConditionTrue || cond.Message == "" {
		t.Errorf("FailedScale condition %+v", cond)
	}
	if n := countEvents(f.events(), reasonFailedCreate); n != 1 {
		t.Errorf("%d FailedCreate events (slow start stops after the first failure)", n)
	}
	f.kube.ReactionChain = f.kube.ReactionChain[1:]
	f.sync("web")
	f.run()
	f.sync("web")
	if cond := getCondition(f.cloneSet("web").Status, appsv1beta1.CloneSetConditionFailedScale); cond != nil {
		t.Errorf("FailedScale condition %+v after success", cond)
	}
}

func deletedPods(actions []clienttesting.Action) []string {
	var out []string
	for _, a := range actions {
		if a.GetVerb() == "delete" && a.GetResource().Resource == "pods" {
			out = append(out, a.(clienttesting.DeleteAction).GetName())
		}
	}
	return out
}

func deletedPVCs(actions []clienttesting.Action) []string {
	var out []string
	for _, a := range actions {
		if a.GetVerb() == "delete" && a.GetResource().Resource == "persistentvolumeclaims" {
			out = append(out, a.(clienttesting.DeleteAction).GetName())
		}
	}
	slices.Sort(out)
	return out
}

func TestSpecifiedDeletionsRespectMaxUnavailable(t *testing.T) {
	cs := withRollingUpdate(newCloneSet("web", 4), intstr.FromInt32(0), intstr.FromInt32(1), intstr.FromInt32(0))
	rev := revisionOf(t, cs)
	objects := []runtime.Object{cs}
	for i := range 4 {
		objects = append(objects, existingPod(cs, rev, fmt.Sprintf("pod%02d", i)))
	}
	cs.Spec.ScaleStrategy.PodsToDelete = []string{"web-pod00", "web-pod01"}
	f := newFixture(t, true, objects...)
	rollOut(t, f, "web", []step{
		{deleted: 1}, // one ready Pod at a time
		{created: 1}, // replaced
		{}, {},       // the replacement is not ready: the other one waits
		{runAfter: true}, //
		{deleted: 1},
		{created: 1, runAfter: true},
		{},
	})
	if got := f.cloneSet("web").Spec.ScaleStrategy.PodsToDelete; len(got) != 0 {
		t.Errorf("podsToDelete %v", got)
	}
}
