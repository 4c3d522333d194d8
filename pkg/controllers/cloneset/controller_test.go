package cloneset

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	kubeinformers "k8s.io/client-go/informers"
	kubefake "k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers/expectations"
	kruisefake "github.com/kruise-apiserver/kruise-apiserver/pkg/generated/clientset/versioned/fake"
	kruiseinformers "github.com/kruise-apiserver/kruise-apiserver/pkg/generated/informers/externalversions"
)

func TestAdoptAndRelease(t *testing.T) {
	cs := newCloneSet("web", 2)
	rev := revisionOf(t, cs)
	orphan := existingPod(cs, rev, "orphn")
	orphan.OwnerReferences = nil
	strayed := existingPod(cs, rev, "stray")
	strayed.Labels["app"] = "elsewhere"
	othersPod := existingPod(cs, rev, "other")
	othersPod.OwnerReferences[0].UID = "someone-else"
	othersPod.OwnerReferences[0].Name = "someone-else"
	f := newFixture(t, true, cs, orphan, strayed, othersPod)

	writes := f.sync("web")
	if n := count(writes, "patch", "pods"); n != 2 {
		t.Fatalf("%d Pod patches, want an adoption and a release", n)
	}
	if ref := metav1.GetControllerOf(f.pod("web-orphn")); ref == nil || ref.UID != cs.UID || ref.BlockOwnerDeletion == nil || !*ref.BlockOwnerDeletion {
		t.Errorf("orphan's controller %+v", ref)
	}
	if refs := f.pod("web-stray").OwnerReferences; len(refs) != 0 {
		t.Errorf("released Pod keeps %+v", refs)
	}
	if ref := metav1.GetControllerOf(f.pod("web-other")); ref == nil || ref.UID != "someone-else" {
		t.Errorf("another controller's Pod: %+v", ref)
	}
	// Adopted: one Pod; one more is created.
	if n := count(writes, "create", "pods"); n != 1 {
		t.Errorf("created %d Pods, want 1", n)
	}

	// A CloneSet being deleted neither adopts, releases nor creates.
	f.updateCloneSet("web", func(cs *appsv1beta1.CloneSet) {
		cs.DeletionTimestamp = &metav1.Time{Time: t0}
		cs.Finalizers = []string{"example.com/keep"}
		cs.Spec.Replicas = ptr32(5)
	})
	if writes := f.sync("web"); count(writes, "create", "pods")+count(writes, "patch", "pods") != 0 {
		t.Errorf("a deleted CloneSet wrote %v", writes)
	}
}

func TestEventHandlersObserveExpectations(t *testing.T) {
	cs := newCloneSet("web", 1)
	f := newFixture(t, false, cs)
	key := f.key("web")
	pod := existingPod(cs, "web-abc", "zzzzz")

	f.c.scaleExpectations.Expect(key, expectations.Create, pod.Name)
	f.c.onPodAdd(pod)
	if p := f.c.scaleExpectations.Pending(key); p != nil {
		t.Errorf("after add: pending %v", p)
	}
	if f.c.queue.Len() != 1 {
		t.Errorf("queue length %d", f.c.queue.Len())
	}

	// A graceful deletion starting counts as the deletion.
	f.c.scaleExpectations.Expect(key, expectations.Delete, pod.Name)
	deleting := pod.DeepCopy()
	deleting.ResourceVersion = "2"
	deleting.DeletionTimestamp = &metav1.Time{Time: t0}
	f.c.onPodUpdate(pod, deleting)
	if p := f.c.scaleExpectations.Pending(key); p != nil {
		t.Errorf("after the deletion started: pending %v", p)
	}

	// Deletion through a tombstone.
	f.c.scaleExpectations.Expect(key, expectations.Delete, pod.Name)
	f.c.onPodDelete(cache.DeletedFinalStateUnknown{Key: ns + "/" + pod.Name, Obj: pod})
	if p := f.c.scaleExpectations.Pending(key); p != nil {
		t.Errorf("after a tombstone: pending %v", p)
	}

	// PVCs too.
	claim := newPVCs(withClaims(cs.DeepCopy(), "data"), "zzzzz")[0]
	f.c.scaleExpectations.Expect(key, expectations.Create, claim.Name)
	f.c.onPVCAdd(claim)
	if p := f.c.scaleExpectations.Pending(key); p != nil {
		t.Errorf("after a PVC add: pending %v", p)
	}

	// A Pod of another CloneSet with the same name (other UID) is not ours.
	f.c.scaleExpectations.Expect(key, expectations.Create, "web-yyyyy")
	stranger := existingPod(cs, "web-abc", "yyyyy")
	stranger.OwnerReferences[0].UID = types.UID("old-uid")
	f.c.onPodAdd(stranger)
	if p := f.c.scaleExpectations.Pending(key); p == nil {
		t.Errorf("a Pod of a CloneSet of another UID was observed")
	}

	// The CloneSet deleted: its expectations go.
	f.c.onCloneSetDelete(cs)
	if p := f.c.scaleExpectations.Pending(key); p != nil {
		t.Errorf("after the CloneSet's deletion: pending %v", p)
	}

	// An orphan enqueues the CloneSets selecting it.
	for f.c.queue.Len() > 0 {
		k, _ := f.c.queue.Get()
		f.c.queue.Done(k)
		f.c.queue.Forget(k)
	}
	orphan := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "loose", Namespace: ns, Labels: map[string]string{"app": "web"}}}
	f.c.onPodAdd(orphan)
	if f.c.queue.Len() != 1 {
		t.Errorf("orphan: queue length %d", f.c.queue.Len())
	}
}

// TestRun runs the controller the way the host does: informers started,
// Run with workers, changes arriving through the API.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	kube := kubefake.NewClientset()
	kruise := kruisefake.NewSimpleClientset()
	cctx := &controllers.Context{
		KruiseClient:    kruise,
		KubeClient:      kube,
		KruiseInformers: kruiseinformers.NewSharedInformerFactory(kruise, 0),
		KubeInformers:   kubeinformers.NewSharedInformerFactory(kube, 0),
		Recorder:        record.NewFakeRecorder(1000),
	}
	controller, err := New(cctx)
	if err != nil {
		t.Fatal(err)
	}
	cctx.KruiseInformers.Start(ctx.Done())
	cctx.KubeInformers.Start(ctx.Done())
	done := make(chan struct{})
	go func() {
		controller.Run(ctx, 2)
		close(done)
	}()

	if _, err := kruise.AppsV1beta1().CloneSets(ns).Create(ctx, withClaims(newCloneSet("web", 3), "data"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 20*time.Second, true, func(ctx context.Context) (bool, error) {
		cs, err := kruise.AppsV1beta1().CloneSets(ns).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		pods, _ := kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		pvcs, _ := kube.CoreV1().PersistentVolumeClaims(ns).List(ctx, metav1.ListOptions{})
		return cs.Status.Replicas == 3 && len(pods.Items) == 3 && len(pvcs.Items) == 3 && cs.Status.LabelSelector == "app=web", nil
	})
	if err != nil {
		t.Fatalf("the CloneSet did not reach 3 replicas: %v", err)
	}
	// Stays there.
	time.Sleep(200 * time.Millisecond)
	if pods, _ := kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{}); len(pods.Items) != 3 {
		t.Fatalf("%d Pods", len(pods.Items))
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
}
