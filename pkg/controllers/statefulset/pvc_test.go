package statefulset

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
)

func withRetention(set *appsv1beta1.StatefulSet, whenDeleted, whenScaled appsv1beta1.PersistentVolumeClaimRetentionPolicyType) *appsv1beta1.StatefulSet {
	set.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1beta1.StatefulSetPersistentVolumeClaimRetentionPolicy{
		WhenDeleted: whenDeleted, WhenScaled: whenScaled,
	}
	return set
}

const (
	retain = appsv1beta1.RetainPersistentVolumeClaimRetentionPolicyType
	del    = appsv1beta1.DeletePersistentVolumeClaimRetentionPolicyType
)

// owners describes a claim's owner references as "Kind/name" (controller
// ones with a "*").
func owners(pvc *corev1.PersistentVolumeClaim) []string {
	var out []string
	for _, ref := range pvc.OwnerReferences {
		d := ref.Kind + "/" + ref.Name
		if ref.Controller != nil && *ref.Controller {
			d += "*"
		}
		out = append(out, d)
	}
	return out
}

func TestClaimsCreatedBeforePodAndKept(t *testing.T) {
	f := newFixture(t, withClaims(newSet("web", 1), "data", "logs"))
	writes := f.sync("web")
	got := describe(writes)[1:] // after the first revision
	want := []string{
		"create persistentvolumeclaims data-web-0",
		"create persistentvolumeclaims logs-web-0",
		"create pods web-0",
	}
	if len(got) < 3 || !equalStrings(got[:3], want) {
		t.Fatalf("writes %v, want %v first", got, want)
	}
	pvc := f.pvc("data-web-0")
	if pvc.Labels["app"] != "web" || pvc.Labels["claim"] != "data" {
		t.Errorf("claim labels %v", pvc.Labels)
	}
	if len(pvc.OwnerReferences) != 0 {
		t.Errorf("Retain/Retain claim owned by %v", owners(pvc))
	}
	pod := f.pod("web-0")
	claims := map[string]string{}
	for _, v := range pod.Spec.Volumes {
		if v.PersistentVolumeClaim != nil {
			claims[v.Name] = v.PersistentVolumeClaim.ClaimName
		}
	}
	if claims["data"] != "data-web-0" || claims["logs"] != "logs-web-0" {
		t.Errorf("pod volumes %v", claims)
	}

	// The Pod is re-created on the same claims.
	uid := pvc.UID
	f.deletePod("web-0")
	writes = f.sync("web")
	if got := only(writes, "create", "pods"); !equalStrings(got, []string{"web-0"}) {
		t.Fatalf("created %v, want web-0 again", got)
	}
	if got := only(writes, "create", "persistentvolumeclaims"); len(got) != 0 {
		t.Errorf("claims created again: %v", got)
	}
	if f.pvc("data-web-0").UID != uid {
		t.Errorf("the claim was replaced")
	}
}

func TestMissingClaimOfPendingPodIsCreated(t *testing.T) {
	f := newFixture(t, withClaims(newSet("web", 1), "data"))
	f.sync("web")
	if err := f.kube.CoreV1().PersistentVolumeClaims(ns).Delete(f.ctx, "data-web-0", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := only(f.sync("web"), "create", "persistentvolumeclaims"); !equalStrings(got, []string{"data-web-0"}) {
		t.Fatalf("created %v, want data-web-0", got)
	}
}

func TestRetentionWhenScaledRetain(t *testing.T) {
	f := newFixture(t, withRetention(withClaims(parallel(newSet("web", 2)), "data"), retain, retain))
	f.sync("web")
	f.run()
	f.updateSet("web", func(s *appsv1beta1.StatefulSet) { s.Spec.Replicas = ptr.To[int32](1) })
	writes := f.sync("web")
	if got := only(writes, "delete", "pods"); !equalStrings(got, []string{"web-1"}) {
		t.Fatalf("deleted %v", got)
	}
	if got := f.collect(); len(got) != 0 {
		t.Errorf("garbage collector would delete %v", got)
	}
	// Scaled back: the Pod gets its old claim.
	f.updateSet("web", func(s *appsv1beta1.StatefulSet) { s.Spec.Replicas = ptr.To[int32](2) })
	writes = f.sync("web")
	if got := only(writes, "create", "pods"); !equalStrings(got, []string{"web-1"}) {
		t.Fatalf("created %v", got)
	}
	if got := only(writes, "create", "persistentvolumeclaims"); len(got) != 0 {
		t.Errorf("claims created again: %v", got)
	}
}

func TestRetentionWhenDeletedDelete(t *testing.T) {
	f := newFixture(t, withRetention(withClaims(parallel(newSet("web", 2)), "data"), del, retain))
	f.sync("web")
	for _, name := range []string{"data-web-0", "data-web-1"} {
		if got := owners(f.pvc(name)); !equalStrings(got, []string{"StatefulSet/web*"}) {
			t.Errorf("%s owners %v, want the StatefulSet", name, got)
		}
	}
	f.run()
	// Scaled in: the claim stays the set's (deleted with it, not with the Pod).
	f.updateSet("web", func(s *appsv1beta1.StatefulSet) { s.Spec.Replicas = ptr.To[int32](1) })
	f.sync("web")
	if got := owners(f.pvc("data-web-1")); !equalStrings(got, []string{"StatefulSet/web*"}) {
		t.Errorf("scaled-away claim owners %v", got)
	}
	// The set deleted: the garbage collector takes every claim.
	if err := f.kruise.AppsV1beta1().StatefulSets(ns).Delete(f.ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := f.collect(); !equalStrings(got, []string{"data-web-0", "data-web-1"}) {
		t.Errorf("collected %v", got)
	}
}

func TestRetentionPolicyChangeUpdatesExistingClaims(t *testing.T) {
	f := newFixture(t, withClaims(newSet("web", 1), "data"))
	f.sync("web")
	f.run()
	f.sync("web")
	if got := owners(f.pvc("data-web-0")); len(got) != 0 {
		t.Fatalf("owners %v", got)
	}
	f.updateSet("web", func(s *appsv1beta1.StatefulSet) {
		s.Spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted = del
	})
	if got := only(f.sync("web"), "update", "persistentvolumeclaims"); !equalStrings(got, []string{"data-web-0"}) {
		t.Fatalf("updated %v", got)
	}
	if got := owners(f.pvc("data-web-0")); !equalStrings(got, []string{"StatefulSet/web*"}) {
		t.Errorf("owners %v", got)
	}
	// Back to Retain: the reference goes.
	f.updateSet("web", func(s *appsv1beta1.StatefulSet) {
		s.Spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted = retain
	})
	f.sync("web")
	if got := owners(f.pvc("data-web-0")); len(got) != 0 {
		t.Errorf("owners %v after going back to Retain", got)
	}
	if got := only(f.sync("web"), "update", "persistentvolumeclaims"); len(got) != 0 {
		t.Errorf("claims updated again: %v", got)
	}
}

func TestRetentionWhenScaledDelete(t *testing.T) {
	f := newFixture(t, withRetention(withClaims(newSet("web", 2), "data"), del, del))
	f.sync("web")
	f.run()
	f.sync("web")
	f.run()
	f.sync("web")
	for _, name := range []string{"data-web-0", "data-web-1"} {
		if got := owners(f.pvc(name)); !equalStrings(got, []string{"StatefulSet/web*"}) {
			t.Errorf("%s owners %v, want the StatefulSet", name, got)
		}
	}
	podUID := f.pod("web-1").UID

	f.updateSet("web", func(s *appsv1beta1.StatefulSet) { s.Spec.Replicas = ptr.To[int32](1) })
	got := describe(f.sync("web"))
	// The claim goes to the Pod before the Pod goes.
	want := []string{"update persistentvolumeclaims data-web-1", "delete pods web-1"}
	if len(got) < 2 || !equalStrings(got[:2], want) {
		t.Fatalf("writes %v, want %v first", got, want)
	}
	pvc := f.pvc("data-web-1")
	if got := owners(pvc); !equalStrings(got, []string{"Pod/web-1*"}) || pvc.OwnerReferences[0].UID != podUID {
		t.Errorf("scaled-away claim owners %v", pvc.OwnerReferences)
	}
	if got := owners(f.pvc("data-web-0")); !equalStrings(got, []string{"StatefulSet/web*"}) {
		t.Errorf("kept claim owners %v", got)
	}

	// Scaled back before the garbage collector ran: the stale claim blocks
	// the new Pod.
	f.updateSet("web", func(s *appsv1beta1.StatefulSet) { s.Spec.Replicas = ptr.To[int32](2) })
	if got := only(f.sync("web"), "create", "pods"); len(got) != 0 {
		t.Fatalf("created %v on a stale claim", got)
	}
	if got := f.collect(); !equalStrings(got, []string{"data-web-1"}) {
		t.Fatalf("collected %v", got)
	}
	writes := f.sync("web")
	if got := only(writes, "create", "persistentvolumeclaims"); !equalStrings(got, []string{"data-web-1"}) {
		t.Errorf("created claims %v, want a fresh data-web-1", got)
	}
	if got := only(writes, "create", "pods"); !equalStrings(got, []string{"web-1"}) {
		t.Errorf("created %v, want web-1", got)
	}
}

func TestRetentionWhenScaledDeleteOnly(t *testing.T) {
	f := newFixture(t, withRetention(withClaims(parallel(newSet("web", 2)), "data"), retain, del))
	f.sync("web")
	f.run()
	f.sync("web")
	for _, name := range []string{"data-web-0", "data-web-1"} {
		if got := owners(f.pvc(name)); len(got) != 0 {
			t.Errorf("%s owners %v, want none", name, got)
		}
	}
	f.updateSet("web", func(s *appsv1beta1.StatefulSet) { s.Spec.Replicas = ptr.To[int32](1) })
	f.sync("web")
	if got := owners(f.pvc("data-web-1")); !equalStrings(got, []string{"Pod/web-1*"}) {
		t.Errorf("scaled-away claim owners %v", got)
	}
	if got := f.collect(); !equalStrings(got, []string{"data-web-1"}) {
		t.Errorf("collected %v", got)
	}
}

func TestClaimOwnedByAnotherControllerIsLeftAlone(t *testing.T) {
	set := withRetention(withClaims(newSet("web", 1), "data"), del, retain)
	other := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{
		Name: "data-web-0", Namespace: ns, UID: "pvc-uid",
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "example.com/v1", Kind: "Keeper", Name: "k", UID: "keeper-uid", Controller: ptr.To(true)}},
	}}
	f := newFixture(t, set, other)
	f.sync("web")
	f.run()
	writes := f.sync("web")
	if got := only(writes, "update", "persistentvolumeclaims"); len(got) != 0 {
		t.Errorf("updated %v, owned by another controller", got)
	}
	if got := owners(f.pvc("data-web-0")); !equalStrings(got, []string{"Keeper/k*"}) {
		t.Errorf("owners %v", got)
	}
}

func TestVolumeClaimsStatus(t *testing.T) {
	set := withClaims(parallel(newSet("web", 2)), "data")
	set.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests = corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}
	f := newFixture(t, set)
	f.sync("web")
	// data-web-0 is bound with its capacity; data-web-1 not yet.
	pvc := f.pvc("data-web-0")
	pvc.Status.Capacity = corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}
	if _, err := f.kube.CoreV1().PersistentVolumeClaims(ns).UpdateStatus(f.ctx, pvc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	f.sync("web")
	got := f.set("web").Status.VolumeClaims
	if len(got) != 1 || got[0] != (appsv1beta1.VolumeClaimStatus{VolumeClaimName: "data", CompatibleReplicas: 2, CompatibleReadyReplicas: 1}) {
		t.Errorf("volumeClaims %+v", got)
	}
	// The template asks for more: no claim is compatible any more.
	f.updateSet("web", func(s *appsv1beta1.StatefulSet) {
		s.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests[corev1.ResourceStorage] = resource.MustParse("2Gi")
	})
	f.sync("web")
	got = f.set("web").Status.VolumeClaims
	if len(got) != 1 || got[0].CompatibleReplicas != 0 {
		t.Errorf("volumeClaims %+v", got)
	}
}
