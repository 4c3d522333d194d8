package workloadspread

import (
	"reflect"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
)

func intOrStr(v intstr.IntOrString) *intstr.IntOrString { return &v }

func TestMaxReplicas(t *testing.T) {
	for _, tc := range []struct {
		max      *intstr.IntOrString
		replicas int32
		want     int32
		wantErr  bool
	}{
		{nil, 6, -1, false},
		{intOrStr(intstr.FromInt32(2)), 6, 2, false},
		{intOrStr(intstr.FromString("33%")), 6, 2, false}, // 1.98 rounds up
		{intOrStr(intstr.FromString("34%")), 6, 3, false}, // 2.04 rounds up
		{intOrStr(intstr.FromString("50%")), 0, 0, false},
		{intOrStr(intstr.FromString("half")), 6, 0, true},
		{intOrStr(intstr.FromInt32(-1)), 6, 0, true},
	} {
		got, err := MaxReplicas(&appsv1beta1.WorkloadSpreadSubset{Name: "s", MaxReplicas: tc.max}, tc.replicas)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("MaxReplicas(%v of %d) = %d, %v; want %d, error %v", tc.max, tc.replicas, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestChooseSubset(t *testing.T) {
	unschedulable := []metav1.Condition{{Type: appsv1beta1.SubsetSchedulable, Status: metav1.ConditionFalse}}
	statuses := []appsv1beta1.WorkloadSpreadSubsetStatus{
		{Name: "full", MissingReplicas: 0},
		{Name: "unschedulable", MissingReplicas: 3, Conditions: unschedulable},
		{Name: "room", MissingReplicas: 1},
		{Name: "elastic", MissingReplicas: -1},
	}
	if got := ChooseSubset(statuses); got != 2 {
		t.Errorf("ChooseSubset = %d, want 2 (room)", got)
	}
	if got := ChooseSubset(statuses[:2]); got != -1 {
		t.Errorf("ChooseSubset without room = %d, want -1", got)
	}
	if got := ChooseSubset([]appsv1beta1.WorkloadSpreadSubsetStatus{{Name: "e", MissingReplicas: -1}}); got != 0 {
		t.Errorf("ChooseSubset of an uncapped subset = %d, want 0", got)
	}
}

func TestVersioning(t *testing.T) {
	v := NewVersioning([]string{"Deployment"})
	if !v.Enabled("ReplicaSet") {
		t.Error("deployment must imply replicaset")
	}
	if v.Enabled("CloneSet") {
		t.Error("cloneset not listed but enabled")
	}
	owned := func(kind string, labels map[string]string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: labels, OwnerReferences: []metav1.OwnerReference{{Kind: kind, Name: "w", Controller: new(true)}}}}
	}
	all := NewVersioning([]string{"replicaset", "cloneset", "statefulset"})
	for _, tc := range []struct {
		v    Versioning
		pod  *corev1.Pod
		want string
	}{
		{all, owned("ReplicaSet", map[string]string{appsv1.DefaultDeploymentUniqueLabelKey: "abc"}), "abc"},
		{all, owned("StatefulSet", map[string]string{appsv1.ControllerRevisionHashLabelKey: "web-7d9f8"}), "7d9f8"},
		{all, owned("ReplicaSet", nil), VersionIgnored},
		{all, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{appsv1.DefaultDeploymentUniqueLabelKey: "abc"}}}, VersionIgnored},
		{NewVersioning(nil), owned("ReplicaSet", map[string]string{appsv1.DefaultDeploymentUniqueLabelKey: "abc"}), VersionIgnored},
	} {
		if got := tc.v.PodVersion(tc.pod); got != tc.want {
			t.Errorf("PodVersion(%v) with %v = %q, want %q", tc.pod.Labels, tc.v.Kinds(), got, tc.want)
		}
	}

	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", UID: "d"}}
	d.Spec.Template.Labels = map[string]string{"app": "web"}
	d.Spec.Template.Spec.Containers = []corev1.Container{{Name: "c", Image: "new"}}
	rs := func(hash, image string) *appsv1.ReplicaSet {
		r := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{
			Labels:          map[string]string{appsv1.DefaultDeploymentUniqueLabelKey: hash},
			OwnerReferences: []metav1.OwnerReference{{Kind: "Deployment", UID: "d", Controller: new(true)}},
		}}
		r.Spec.Template.Labels = map[string]string{"app": "web", appsv1.DefaultDeploymentUniqueLabelKey: hash}
		r.Spec.Template.Spec.Containers = []corev1.Container{{Name: "c", Image: image}}
		return r
	}
	if got, err := v.DeploymentVersion(d, []*appsv1.ReplicaSet{rs("h1", "old"), rs("h2", "new")}); err != nil || got != "h2" {
		t.Errorf("DeploymentVersion = %q, %v; want h2", got, err)
	}
	if _, err := v.DeploymentVersion(d, []*appsv1.ReplicaSet{rs("h1", "old")}); err == nil {
		t.Error("DeploymentVersion without a current ReplicaSet: no error")
	}
	cs := &appsv1beta1.CloneSet{ObjectMeta: metav1.ObjectMeta{Generation: 2}}
	cs.Status.ObservedGeneration, cs.Status.UpdateRevision = 2, "cs-5f6c7"
	if got, err := all.CloneSetVersion(cs); err != nil || got != "5f6c7" {
		t.Errorf("CloneSetVersion = %q, %v; want 5f6c7", got, err)
	}
	cs.Generation = 3
	if _, err := all.CloneSetVersion(cs); err == nil {
		t.Error("CloneSetVersion of an unobserved generation: no error")
	}
	if got, _ := v.CloneSetVersion(cs); got != VersionIgnored {
		t.Errorf("CloneSetVersion not enabled = %q", got)
	}
}

func twoSubsets() *appsv1beta1.WorkloadSpread {
	return &appsv1beta1.WorkloadSpread{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "ws"},
		Spec: appsv1beta1.WorkloadSpreadSpec{
			TargetReference: &appsv1beta1.TargetReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			Subsets: []appsv1beta1.WorkloadSpreadSubset{
				{Name: "a", MaxReplicas: intOrStr(intstr.FromString("50%"))},
				{Name: "b"},
			},
		},
	}
}

func TestAdmit(t *testing.T) {
	ws := twoSubsets()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	uid := func() string { return "made-up" }

	got, err := Admit(ws, "v1", "", 2, now, uid)
	if err != nil || got != (Admission{Subset: "a", UID: "made-up", StatusChanged: true}) {
		t.Fatalf("first Pod: %+v, %v", got, err)
	}
	a := ws.Status.VersionedSubsetStatuses["v1"][0]
	if a.MissingReplicas != 0 || !a.CreatingPods["made-up"].Time.Equal(now) {
		t.Errorf("subset a after the first Pod: %+v", a)
	}
	got, _ = Admit(ws, "v1", "pod-2", 2, now, uid)
	if got != (Admission{Subset: "b"}) {
		t.Errorf("second Pod goes to the uncapped subset without a record, got %+v", got)
	}
	// Another version starts from the spec.
	got, _ = Admit(ws, "v2", "pod-3", 2, now, uid)
	if got != (Admission{Subset: "a", StatusChanged: true}) {
		t.Errorf("first Pod of v2: %+v", got)
	}
	// A Pod already recorded keeps its subset and changes nothing.
	got, _ = Admit(ws, "v2", "pod-3", 2, now, uid)
	if got != (Admission{Subset: "a"}) {
		t.Errorf("recorded Pod: %+v", got)
	}
	// Full everywhere: no subset.
	full := twoSubsets()
	full.Spec.Subsets[1].MaxReplicas = intOrStr(intstr.FromInt32(0))
	full.Status.VersionedSubsetStatuses = map[string]appsv1beta1.WorkloadSpreadSubsetStatuses{"v1": {{Name: "a"}, {Name: "b"}}}
	if got, _ := Admit(full, "v1", "p", 2, now, uid); got != (Admission{}) {
		t.Errorf("no room: %+v", got)
	}

	if !RecordDeletion(ws, "v2", "pod-4", "a", now) {
		t.Error("RecordDeletion changed nothing")
	}
	if a := ws.Status.VersionedSubsetStatuses["v2"][0]; a.MissingReplicas != 1 || len(a.DeletingPods) != 1 {
		t.Errorf("subset a after a deletion: %+v", a)
	}
	if RecordDeletion(ws, "v2", "pod-4", "a", now) {
		t.Error("RecordDeletion twice changed the status")
	}
	if RecordDeletion(ws, "v2", "pod-5", "b", now) {
		t.Error("RecordDeletion in an uncapped subset changed the status")
	}
}

func TestAdmitStatefulSetByOrdinal(t *testing.T) {
	ws := twoSubsets()
	ws.Spec.TargetReference.APIVersion, ws.Spec.TargetReference.Kind = "apps.kruise.io/v1beta1", "StatefulSet"
	ws.Spec.Subsets[0].MaxReplicas = intOrStr(intstr.FromInt32(2))
	for name, want := range map[string]string{"db-0": "a", "db-1": "a", "db-2": "b", "db-10": "b", "nameless": ""} {
		got, err := Admit(ws, VersionIgnored, name, 4, time.Now(), nil)
		if err != nil || got.Subset != want || got.StatusChanged {
			t.Errorf("%s: %+v, %v; want subset %q", name, got, err, want)
		}
	}
}

func TestInject(t *testing.T) {
	ws := twoSubsets()
	ws.Spec.Subsets[0].RequiredNodeSelector = &corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{
		{Key: "arch", Operator: corev1.NodeSelectorOpIn, Values: []string{"x86"}},
	}}
	ws.Spec.Subsets[0].PreferredNodeSelector = []corev1.PreferredSchedulingTerm{{Weight: 5, Preference: corev1.NodeSelectorTerm{
		MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpExists}},
	}}}
	ws.Spec.Subsets[0].Tolerations = []corev1.Toleration{{Key: "arch", Operator: corev1.TolerationOpExists}}
	ws.Spec.Subsets[0].Patch = &runtime.RawExtension{Raw: []byte(`{"metadata":{"labels":{"subset":"a"}},"spec":{"containers":[{"name":"c","env":[{"name":"ARCH","value":"x86"}]}]}}`)}

	term := func(key string) corev1.NodeSelectorTerm {
		return corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: key, Operator: corev1.NodeSelectorOpExists}}}
	}
	pod := &corev1.Pod{Spec: corev1.PodSpec{
		Containers: []corev1.Container{{Name: "c", Image: "i"}},
		Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{term("one"), term("two")},
		}}},
	}}
	if err := Inject(ws, pod, "a", "u1"); err != nil {
		t.Fatal(err)
	}
	for i, term := range pod.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		if len(term.MatchExpressions) != 2 || term.MatchExpressions[1].Key != "arch" {
			t.Errorf("required term %d does not AND the subset's: %+v", i, term)
		}
	}
	if n := len(pod.Spec.Affinity.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution); n != 1 {
		t.Errorf("preferred terms: %d", n)
	}
	if len(pod.Spec.Tolerations) != 1 {
		t.Errorf("tolerations: %+v", pod.Spec.Tolerations)
	}
	if pod.Labels["subset"] != "a" || len(pod.Spec.Containers) != 1 || pod.Spec.Containers[0].Image != "i" ||
		!reflect.DeepEqual(pod.Spec.Containers[0].Env, []corev1.EnvVar{{Name: "ARCH", Value: "x86"}}) {
		t.Errorf("patch not merged: labels %v containers %+v", pod.Labels, pod.Spec.Containers)
	}
	if m := MatchedOf(pod); m == nil || *m != (Matched{Name: "ws", Subset: "a", UID: "u1"}) {
		t.Errorf("annotation %q", pod.Annotations[MatchedAnnotation])
	}
	if want := `{"name":"ws","subset":"a","uid":"u1"}`; pod.Annotations[MatchedAnnotation] != want {
		t.Errorf("annotation %q, want %q", pod.Annotations[MatchedAnnotation], want)
	}

	bare := &corev1.Pod{}
	if err := Inject(ws, bare, "a", ""); err != nil {
		t.Fatal(err)
	}
	if terms := bare.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms; len(terms) != 1 || terms[0].MatchExpressions[0].Key != "arch" {
		t.Errorf("Pod without required terms: %+v", terms)
	}
	if err := Inject(ws, &corev1.Pod{}, "nope", ""); err == nil {
		t.Error("unknown subset: no error")
	}
}

func TestComputeStatus(t *testing.T) {
	ws := twoSubsets()
	ws.Generation = 4
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	recent, old := metav1.NewTime(now.Add(-time.Second)), metav1.NewTime(now.Add(-time.Minute))
	ws.Status.VersionedSubsetStatuses = map[string]appsv1beta1.WorkloadSpreadSubsetStatuses{
		"v1": {{Name: "a", CreatingPods: map[string]metav1.Time{"seen-uid": recent, "pending": recent, "lost": old}}},
		"v0": {{Name: "a", CreatingPods: map[string]metav1.Time{"gone": old}}},
	}
	pod := func(name string, matched string, phase corev1.PodPhase) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{MatchedAnnotation: matched}}}
		p.Status.Phase = phase
		return p
	}
	pods := []*corev1.Pod{
		pod("p1", `{"name":"ws","subset":"a","uid":"seen-uid"}`, corev1.PodRunning),
		pod("p2", `{"name":"ws","subset":"b"}`, corev1.PodRunning),
		pod("p3", `{"name":"ws","subset":"b"}`, corev1.PodSucceeded),
		pod("p4", `{"name":"other","subset":"a"}`, corev1.PodRunning),
	}
	g := Group(ws, pods, NewVersioning(nil))
	if len(g.All[UnmatchedSubset]) != 1 {
		t.Errorf("Pods of another WorkloadSpread are in no subset: %v", g.All)
	}
	// All Pods are VersionIgnored here; v1's records are merged by version key.
	g.Versions["v1"] = g.Versions[VersionIgnored]
	delete(g.Versions, VersionIgnored)
	c, err := ComputeStatus(ws, g, 4, now)
	if err != nil {
		t.Fatal(err)
	}
	if c.Status.ObservedGeneration != 4 {
		t.Errorf("observedGeneration %d", c.Status.ObservedGeneration)
	}
	a := c.Status.VersionedSubsetStatuses["v1"][0]
	// max 2 (50% of 4): one Pod seen, one still creating.
	if a.Replicas != 1 || a.MissingReplicas != 0 || len(a.CreatingPods) != 1 || a.CreatingPods["pending"].Time.IsZero() {
		t.Errorf("subset a of v1: %+v", a)
	}
	if b := c.Status.SubsetStatuses[1]; b.Replicas != 1 || b.MissingReplicas != -1 {
		t.Errorf("subset b: %+v (a finished Pod is not active)", b)
	}
	if _, ok := c.Status.VersionedSubsetStatuses["v0"]; ok {
		t.Error("a version without Pods or live records is kept")
	}
	if len(c.Expired) != 2 || c.RecheckAfter != CreatingPodTimeout-time.Second {
		t.Errorf("expired %v, recheck after %v", c.Expired, c.RecheckAfter)
	}
}

func TestDeletionCosts(t *testing.T) {
	ws := twoSubsets()
	ws.Spec.Subsets[0].MaxReplicas = intOrStr(intstr.FromInt32(1))
	running := func(name string, ready bool, age time.Duration) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(time.Unix(0, 0).Add(-age))}}
		p.Spec.NodeName, p.Status.Phase = "n", corev1.PodRunning
		status := corev1.ConditionFalse
		if ready {
			status = corev1.ConditionTrue
		}
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: status}}
		return p
	}
	a1, a2, b1, lost := running("a1", true, time.Hour), running("a2", false, time.Minute), running("b1", true, 0), running("lost", true, 0)
	pods := PodsBySubset{"a": {a1, a2}, "b": {b1}, UnmatchedSubset: {lost}}
	costs, err := DeletionCosts(ws, pods, 4, false)
	if err != nil {
		t.Fatal(err)
	}
	want := map[*corev1.Pod]string{a1: "200", a2: "-100", b1: "100", lost: "-300"}
	if !reflect.DeepEqual(costs, want) {
		t.Errorf("costs %v, want %v", names(costs), names(want))
	}
	costs, _ = DeletionCosts(ws, pods, 4, true)
	want = map[*corev1.Pod]string{a1: "100", a2: "-200", b1: "200", lost: "-300"}
	if !reflect.DeepEqual(costs, want) {
		t.Errorf("reversed costs %v, want %v", names(costs), names(want))
	}
}

func names(costs map[*corev1.Pod]string) map[string]string {
	out := map[string]string{}
	for p, c := range costs {
		out[p.Name] = c
	}
	return out
}

func TestAdaptiveReschedule(t *testing.T) {
	ws := twoSubsets()
	ws.Spec.ScheduleStrategy = appsv1beta1.WorkloadSpreadScheduleStrategy{
		Type:     appsv1beta1.AdaptiveWorkloadSpreadScheduleStrategyType,
		Adaptive: &appsv1beta1.AdaptiveWorkloadSpreadStrategy{RescheduleCriticalSeconds: new(int32(10))},
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	pending := func(name string, age time.Duration) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(now.Add(-age)),
			Annotations: map[string]string{MatchedAnnotation: `{"name":"ws","subset":"a"}`}}}
		p.Status.Phase = corev1.PodPending
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable}}
		return p
	}
	stuck, young := pending("stuck", 20*time.Second), pending("young", 5*time.Second)
	g := Group(ws, []*corev1.Pod{stuck, young}, NewVersioning(nil))
	c, err := ComputeStatus(ws, g, 4, now)
	if err != nil {
		t.Fatal(err)
	}
	condition := func(s appsv1beta1.WorkloadSpreadSubsetStatus) string {
		for _, c := range s.Conditions {
			if c.Type == appsv1beta1.SubsetSchedulable {
				return string(c.Status) + "/" + c.Reason
			}
		}
		return ""
	}
	a, b := c.Status.SubsetStatuses[0], c.Status.SubsetStatuses[1]
	if condition(a) != "False/PodUnschedulable" || condition(b) != "True/Sufficient" {
		t.Errorf("conditions a %q b %q", condition(a), condition(b))
	}
	if got := c.Unschedulable["a"]; len(got) != 1 || got[0] != stuck {
		t.Errorf("unschedulable %v, want the stuck Pod only", c.Unschedulable)
	}
	if c.RecheckAfter != 5*time.Second {
		t.Errorf("recheck after %v, want when the young Pod times out", c.RecheckAfter)
	}
	versioned := c.Status.VersionedSubsetStatuses[VersionIgnored]
	if condition(versioned[0]) != "False/PodUnschedulable" || ChooseSubset(versioned) != 1 {
		t.Errorf("the webhook's list must skip subset a: %+v", versioned)
	}

	// No Pod stuck any more: a stays unschedulable for five minutes.
	ws.Status = c.Status
	for _, tc := range []struct {
		after     time.Duration
		want      string
		recovered bool
	}{{time.Minute, "False/PodUnschedulable", false}, {6 * time.Minute, "True/Sufficient", true}} {
		c, err := ComputeStatus(ws, Group(ws, nil, NewVersioning(nil)), 4, now.Add(tc.after))
		if err != nil {
			t.Fatal(err)
		}
		if got := condition(c.Status.SubsetStatuses[0]); got != tc.want || (len(c.Recovered) == 1) != tc.recovered {
			t.Errorf("after %v: condition %q, recovered %v", tc.after, got, c.Recovered)
		}
	}

	// Without the strategy the condition goes.
	ws.Spec.ScheduleStrategy = appsv1beta1.WorkloadSpreadScheduleStrategy{}
	c, _ = ComputeStatus(ws, Group(ws, nil, NewVersioning(nil)), 4, now)
	if len(c.Status.SubsetStatuses[0].Conditions) != 0 {
		t.Errorf("conditions kept without Adaptive: %+v", c.Status.SubsetStatuses[0].Conditions)
	}
}
