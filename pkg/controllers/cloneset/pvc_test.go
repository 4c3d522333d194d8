package cloneset

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
)

func pvcNames(pvcs []*corev1.PersistentVolumeClaim) []string {
	var out []string
	for _, p := range pvcs {
		out = append(out, p.Name)
	}
	return out
}

func TestPVCsWithoutReuse(t *testing.T) {
	cs := withClaims(newCloneSet("web", 2), "data")
	f := newFixture(t, true, cs)
	f.sync("web")
	f.run()
	if got := pvcNames(f.pvcs()); !reflect.DeepEqual(got, []string{"data-web-id001", "data-web-id002"}) {
		t.Fatalf("PVCs %v", got)
	}

	// Scale-in deletes the Pod and its PVC.
	f.updateCloneSet("web", func(cs *appsv1beta1.CloneSet) { cs.Spec.Replicas = ptr32(1) })
	writes := f.sync("web")
	gone := deletedPods(writes)
	if len(gone) != 1 {
		t.Fatalf("deleted %v", gone)
	}
	if got := deletedPVCs(writes); !reflect.DeepEqual(got, []string{"data-" + gone[0]}) {
		t.Fatalf("deleted PVCs %v with Pod %s", got, gone[0])
	}

	// A Pod deleted by someone else: its PVC goes too, and the replacement
	// gets a new instance id and a new PVC.
	left := f.pods()[0]
	if err := f.kube.CoreV1().Pods(ns).Delete(f.ctx, left.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	writes = f.sync("web")
	if got := deletedPVCs(writes); !reflect.DeepEqual(got, []string{"data-" + left.Name}) {
		t.Fatalf("deleted PVCs %v, want that of %s", got, left.Name)
	}
	pods := f.pods()
	if len(pods) != 1 || pods[0].Name == left.Name {
		t.Fatalf("Pods %v", podNames(pods))
	}
	if got := pvcNames(f.pvcs()); !reflect.DeepEqual(got, []string{"data-" + pods[0].Name}) {
		t.Fatalf("PVCs %v", got)
	}

	// A finished Pod still there hands its PVC to itself (the garbage
	// collector deletes it with the Pod).
	f.run()
	failed := f.pods()[0]
	failed.Status.Phase = corev1.PodFailed
	if _, err := f.kube.CoreV1().Pods(ns).Update(f.ctx, failed, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	f.sync("web")
	var handed *corev1.PersistentVolumeClaim
	for _, pvc := range f.pvcs() {
		if pvc.Name == "data-"+failed.Name {
			handed = pvc
		}
	}
	if handed == nil {
		t.Fatalf("PVC of the failed Pod is gone: %v", pvcNames(f.pvcs()))
	}
	if ref := metav1.GetControllerOf(handed); ref == nil || ref.Kind != "Pod" || ref.Name != failed.Name || len(handed.OwnerReferences) != 1 {
		t.Errorf("owner references %+v", handed.OwnerReferences)
	}
	if got := len(f.pods()); got != 2 {
		t.Errorf("%d Pods: the failed one and its replacement expected", got)
	}
}

func TestPVCReuse(t *testing.T) {
	cs := withClaims(newCloneSet("web", 2), "data", "logs")
	cs.Spec.ScaleStrategy.EnablePVCReuse = true
	f := newFixture(t, true, cs)
	f.sync("web")
	f.run()

	// A Pod deleted by someone else keeps its PVCs; its replacement takes
	// them, with the same instance id (and so the same name).
	if err := f.kube.CoreV1().Pods(ns).Delete(f.ctx, "web-id001", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	writes := f.sync("web")
	if got := deletedPVCs(writes); len(got) != 0 {
		t.Fatalf("deleted PVCs %v with reuse on", got)
	}
	if n := count(writes, "create", "persistentvolumeclaims"); n != 0 {
		t.Fatalf("created %d PVCs instead of reusing", n)
	}
	if n := count(writes, "create", "pods"); n != 1 {
		t.Fatalf("created %d Pods", n)
	}
	pod := f.pod("web-id001")
	if pod.Labels[InstanceIDLabel] != "id001" {
		t.Errorf("labels %v", pod.Labels)
	}
	if got := pvcNames(f.pvcs()); !reflect.DeepEqual(got, []string{"data-web-id001", "data-web-id002", "logs-web-id001", "logs-web-id002"}) {
		t.Fatalf("PVCs %v", got)
	}

	// The controller's own deletions take the PVCs along, as OpenKruise's do.
	f.run()
	f.updateCloneSet("web", func(cs *appsv1beta1.CloneSet) { cs.Spec.Replicas = ptr32(1) })
	writes = f.sync("web")
	gone := deletedPods(writes)
	if len(gone) != 1 {
		t.Fatalf("deleted %v", gone)
	}
	if got := deletedPVCs(writes); !reflect.DeepEqual(got, []string{"data-" + gone[0], "logs-" + gone[0]}) {
		t.Fatalf("deleted PVCs %v with %s", got, gone[0])
	}
}

func TestPVCReuseOffCleansUpFreePVCs(t *testing.T) {
	// Reuse switched off: PVCs left free while it was on are deleted.
	cs := withClaims(newCloneSet("web", 1), "data")
	cs.Spec.ScaleStrategy.EnablePVCReuse = true
	f := newFixture(t, true, cs)
	f.sync("web")
	f.run()
	if err := f.kube.CoreV1().Pods(ns).Delete(f.ctx, "web-id001", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	f.updateCloneSet("web", func(cs *appsv1beta1.CloneSet) {
		cs.Spec.ScaleStrategy.EnablePVCReuse = false
		cs.Spec.Replicas = ptr32(0)
	})
	writes := f.sync("web")
	if got := deletedPVCs(writes); !reflect.DeepEqual(got, []string{"data-web-id001"}) {
		t.Fatalf("deleted PVCs %v", got)
	}
}

func TestPVCReuseWithFinishedPod(t *testing.T) {
	cs := withClaims(newCloneSet("web", 1), "data")
	cs.Spec.ScaleStrategy.EnablePVCReuse = true
	f := newFixture(t, true, cs)
	f.sync("web")
	f.run()
	// Evicted: Failed, and the Pod object stays. Its name is taken, so the
	// replacement gets a new id (and PVC); the old PVC stays for reuse.
	pod := f.pod("web-id001")
	pod.Status.Phase = corev1.PodFailed
	if _, err := f.kube.CoreV1().Pods(ns).Update(f.ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	f.sync("web")
	if got := pvcNames(f.pvcs()); !reflect.DeepEqual(got, []string{"data-web-id001", "data-web-id002"}) {
		t.Fatalf("PVCs %v", got)
	}
	// Once the finished Pod is gone, a scale-out reuses its PVC.
	if err := f.kube.CoreV1().Pods(ns).Delete(f.ctx, "web-id001", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	f.updateCloneSet("web", func(cs *appsv1beta1.CloneSet) { cs.Spec.Replicas = ptr32(2) })
	writes := f.sync("web")
	if n := count(writes, "create", "persistentvolumeclaims"); n != 0 {
		t.Fatalf("created %d PVCs", n)
	}
	if _, err := f.kube.CoreV1().Pods(ns).Get(f.ctx, "web-id001", metav1.GetOptions{}); err != nil {
		t.Fatalf("the PVC's instance was not reused: %v", err)
	}
}

func TestAvailableIDs(t *testing.T) {
	withID := func(id string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: "x-" + id, Labels: map[string]string{InstanceIDLabel: id}}
	}
	pvc := func(id string) *corev1.PersistentVolumeClaim {
		return &corev1.PersistentVolumeClaim{ObjectMeta: withID(id)}
	}
	pod := func(id string) *corev1.Pod { return &corev1.Pod{ObjectMeta: withID(id)} }
	terminating := pod("term")
	terminating.DeletionTimestamp = &metav1.Time{Time: t0}
	seq := []string{"aaaaa", "used1", "bbbbb", "ccccc"}
	random := func() string { id := seq[0]; seq = seq[1:]; return id }
	got := availableIDs(4,
		[]*corev1.Pod{pod("used1")},
		[]*corev1.Pod{pod("fin01"), terminating},
		[]*corev1.PersistentVolumeClaim{pvc("used1"), pvc("free1"), pvc("fin01"), pvc("term")},
		random)
	// Free claims first (sorted), then random ids skipping used ones.
	if want := []string{"free1", "term", "aaaaa", "bbbbb"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
