package storageintern

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
)

func resources(cpu, memory string) corev1.ResourceRequirements {
	list := func() corev1.ResourceList {
		return corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(memory)}
	}
	return corev1.ResourceRequirements{Requests: list(), Limits: list()}
}

func cloneSet(name string, main, sidecar corev1.ResourceRequirements) *apps.CloneSet {
	cs := &apps.CloneSet{}
	cs.Name = name
	cs.Spec.Template.Spec.InitContainers = []corev1.Container{{Name: "init", Resources: sidecar}}
	cs.Spec.Template.Spec.Containers = []corev1.Container{{Name: "main", Resources: main}, {Name: "sidecar", Resources: sidecar}}
	cs.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{Spec: corev1.PersistentVolumeClaimSpec{
		Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
	}}}
	return cs
}

func sameMap(a, b corev1.ResourceList) bool {
	return a != nil && reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

func TestEqualResourceListsAreShared(t *testing.T) {
	tables := NewTables()
	a := cloneSet("a", resources("500m", "1Gi"), resources("100m", "64Mi"))
	// Written differently, serialized the same: shared too.
	b := cloneSet("b", resources("0.5", "1024Mi"), resources("100m", "64Mi"))
	c := cloneSet("c", resources("1", "1Gi"), resources("100m", "64Mi"))
	want := c.DeepCopy()
	for _, cs := range []*apps.CloneSet{a, b, c} {
		tables.Intern(cs)
	}
	ac, bc, cc := a.Spec.Template.Spec.Containers, b.Spec.Template.Spec.Containers, c.Spec.Template.Spec.Containers
	if !sameMap(ac[0].Resources.Requests, bc[0].Resources.Requests) || !sameMap(ac[0].Resources.Limits, bc[0].Resources.Limits) {
		t.Error("equal main container resources are not shared")
	}
	if !sameMap(ac[1].Resources.Requests, cc[1].Resources.Requests) || !sameMap(ac[1].Resources.Requests, ac[1].Resources.Limits) {
		t.Error("equal sidecar resource lists are not shared")
	}
	if !sameMap(a.Spec.Template.Spec.InitContainers[0].Resources.Limits, ac[1].Resources.Limits) {
		t.Error("init container's resource list is not shared")
	}
	if !sameMap(a.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests, c.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests) {
		t.Error("claim template's resource list is not shared")
	}
	if sameMap(ac[0].Resources.Requests, cc[0].Resources.Requests) {
		t.Error("different resource lists share one map")
	}
	if !reflect.DeepEqual(c, want) {
		t.Error("interning changed what an object says")
	}
	if _, lists := tables.Len(); lists != 4 { // 500m/1Gi, 100m/64Mi, 1/1Gi, storage 1Gi
		t.Errorf("tables hold %d resource lists, want 4", lists)
	}
}

func TestStatefulSetResourceListsAreShared(t *testing.T) {
	tables := NewTables()
	var sets []*apps.StatefulSet
	for _, name := range []string{"a", "b"} {
		sts := &apps.StatefulSet{}
		sts.Name = name
		sts.Spec.Template.Spec.Containers = []corev1.Container{{Name: "main", Resources: resources("1", "2Gi")}}
		tables.Intern(sts)
		sets = append(sets, sts)
	}
	if !sameMap(sets[0].Spec.Template.Spec.Containers[0].Resources.Requests, sets[1].Spec.Template.Spec.Containers[0].Resources.Requests) {
		t.Error("equal resource lists of StatefulSets are not shared")
	}
}

func TestEmptyResourceListsStayAsTheyAre(t *testing.T) {
	tables := NewTables()
	cs := cloneSet("a", corev1.ResourceRequirements{Requests: corev1.ResourceList{}}, corev1.ResourceRequirements{})
	tables.Intern(cs)
	main := cs.Spec.Template.Spec.Containers[0].Resources
	if main.Requests == nil || len(main.Requests) != 0 || main.Limits != nil {
		t.Errorf("empty and nil lists changed: %#v", main)
	}
}

func TestResourceListTableIsBounded(t *testing.T) {
	tables := NewTables()
	for i := 0; i < maxEntries+10; i++ {
		cs := cloneSet("a", corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: *resource.NewMilliQuantity(int64(i+1), resource.DecimalSI)}}, corev1.ResourceRequirements{})
		tables.Intern(cs)
	}
	if _, n := tables.Len(); n > maxEntries {
		t.Fatalf("tables hold %d resource lists, more than %d", n, maxEntries)
	}
}
