package storageintern

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
)

// A Pod template's containers each have two resource lists (requests and
// limits), each a Go map of Quantities: about 650 bytes apiece, a quarter of
// a CloneSet's heap in the watch cache, and most workloads repeat a handful
// of the same values (docs/performance.md).

// resourceLists holds one copy of each resource list seen, keyed by its
// canonical text; callers hold Tables.mu.
type resourceLists map[string]corev1.ResourceList

func (lists *resourceLists) internObject(obj runtime.Object) {
	switch o := obj.(type) {
	case *apps.CloneSet:
		lists.internPodSpec(&o.Spec.Template.Spec)
		lists.internClaims(o.Spec.VolumeClaimTemplates)
	case *apps.StatefulSet:
		lists.internPodSpec(&o.Spec.Template.Spec)
		lists.internClaims(o.Spec.VolumeClaimTemplates)
	}
}

func (lists *resourceLists) internPodSpec(spec *corev1.PodSpec) {
	for _, containers := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for i := range containers {
			lists.internRequirements(&containers[i].Resources)
		}
	}
	for i := range spec.EphemeralContainers {
		lists.internRequirements(&spec.EphemeralContainers[i].Resources)
	}
	if spec.Resources != nil {
		lists.internRequirements(spec.Resources)
	}
}

func (lists *resourceLists) internRequirements(r *corev1.ResourceRequirements) {
	r.Requests = lists.intern(r.Requests)
	r.Limits = lists.intern(r.Limits)
}

func (lists *resourceLists) internClaims(claims []corev1.PersistentVolumeClaim) {
	for i := range claims {
		r := &claims[i].Spec.Resources
		r.Requests = lists.intern(r.Requests)
		r.Limits = lists.intern(r.Limits)
	}
}

// intern returns the table's list equal to list, adding list if it has
// none. Two lists are equal when they name the same resources with
// quantities that serialize the same (Quantity.String is what both
// protobuf and JSON write).
func (lists *resourceLists) intern(list corev1.ResourceList) corev1.ResourceList {
	if len(list) == 0 {
		return list
	}
	key := resourceListKey(list)
	if shared, ok := (*lists)[key]; ok {
		return shared
	}
	if len(*lists) >= maxEntries {
		*lists = resourceLists{}
	}
	(*lists)[key] = list
	return list
}

func resourceListKey(list corev1.ResourceList) string {
	names := make([]corev1.ResourceName, 0, len(list))
	for name := range list {
		names = append(names, name)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, name := range names {
		q := list[name]
		b.WriteString(string(name))
		b.WriteByte('=')
		b.WriteString(q.String())
		b.WriteByte(';')
	}
	return b.String()
}
