package workloadspread

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
)

func poolTerm(pool string) *corev1.NodeSelectorTerm {
	return &corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "pool", Operator: corev1.NodeSelectorOpIn, Values: []string{pool}}}}
}

func TestAdoptSubset(t *testing.T) {
	armTaint := []corev1.Taint{{Key: "arch", Value: "arm", Effect: corev1.TaintEffectNoSchedule}}
	ws := &appsv1beta1.WorkloadSpread{ObjectMeta: metav1.ObjectMeta{Name: "ws"}, Spec: appsv1beta1.WorkloadSpreadSpec{Subsets: []appsv1beta1.WorkloadSpreadSubset{
		{Name: "x86", RequiredNodeSelector: poolTerm("x86")},
		{Name: "arm", RequiredNodeSelector: poolTerm("arm"), Tolerations: []corev1.Toleration{{Key: "arch", Operator: corev1.TolerationOpEqual, Value: "arm"}}},
	}}}
	node := func(pool string, taints []corev1.Taint) *corev1.Node {
		return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: pool, Labels: map[string]string{"pool": pool}}, Spec: corev1.NodeSpec{Taints: taints}}
	}
	pod := &corev1.Pod{}
	all := map[string]int32{"x86": 1, "arm": 1}
	for _, tc := range []struct {
		name string
		ws   *appsv1beta1.WorkloadSpread
		node *corev1.Node
		want string
	}{
		{"x86 node", ws, node("x86", nil), "x86"},
		{"tainted arm node, tolerated by the subset", ws, node("arm", armTaint), "arm"},
		{"node of no pool", ws, node("mips", nil), ""},
		{"tainted arm node, not tolerated", func() *appsv1beta1.WorkloadSpread {
			w := ws.DeepCopy()
			w.Spec.Subsets[1].Tolerations = nil
			return w
		}(), node("arm", armTaint), ""},
	} {
		if got := AdoptSubset(tc.ws, pod, tc.node, all); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}

	// Pods' own required terms are ANDed with the subset's.
	onlyX86 := &corev1.Pod{Spec: corev1.PodSpec{Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{*poolTerm("x86")}},
	}}}}
	if got := AdoptSubset(ws, onlyX86, node("arm", armTaint), all); got != "" {
		t.Errorf("a Pod requiring x86 adopted into %q on an arm node", got)
	}

	// No required selectors: preferred weight, then patch metadata, then room.
	open := &appsv1beta1.WorkloadSpread{Spec: appsv1beta1.WorkloadSpreadSpec{Subsets: []appsv1beta1.WorkloadSpreadSubset{
		{Name: "a"}, {Name: "b"}, {Name: "c", Patch: &runtime.RawExtension{Raw: []byte(`{"metadata":{"labels":{"tier":"c"}}}`)}},
	}}}
	if got := AdoptSubset(open, pod, node("x86", nil), map[string]int32{"a": 0, "b": 3, "c": 0}); got != "b" {
		t.Errorf("room: %q, want b", got)
	}
	labelled := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"tier": "c"}}}
	if got := AdoptSubset(open, labelled, node("x86", nil), map[string]int32{"a": 0, "b": 3, "c": 0}); got != "c" {
		t.Errorf("patch metadata: %q, want c", got)
	}
	open.Spec.Subsets[0].PreferredNodeSelector = []corev1.PreferredSchedulingTerm{{Weight: 1, Preference: *poolTerm("x86")}}
	if got := AdoptSubset(open, labelled, node("x86", nil), map[string]int32{"a": 0, "b": 3, "c": 0}); got != "a" {
		t.Errorf("preferred: %q, want a", got)
	}
}

func TestAdoptionPatch(t *testing.T) {
	ws := &appsv1beta1.WorkloadSpread{ObjectMeta: metav1.ObjectMeta{Name: "ws"}, Spec: appsv1beta1.WorkloadSpreadSpec{Subsets: []appsv1beta1.WorkloadSpreadSubset{
		{Name: "a", Patch: &runtime.RawExtension{Raw: []byte(`{"metadata":{"labels":{"tier":"a"},"annotations":{"note":"x"}},"spec":{"priorityClassName":"p"}}`)}},
	}}}
	patch, err := AdoptionPatch(ws, "a")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"metadata":{"annotations":{"apps.kruise.io/matched-workloadspread":"{\"name\":\"ws\",\"subset\":\"a\"}","note":"x"},"labels":{"tier":"a"}}}`
	if string(patch) != want {
		t.Errorf("patch %s, want %s", patch, want)
	}
	ws.Annotations = map[string]string{IgnorePatchExistingPodsAnnotation: "true"}
	patch, _ = AdoptionPatch(ws, "a")
	if want := `{"metadata":{"annotations":{"apps.kruise.io/matched-workloadspread":"{\"name\":\"ws\",\"subset\":\"a\"}"}}}`; string(patch) != want {
		t.Errorf("patch %s, want %s", patch, want)
	}
}
