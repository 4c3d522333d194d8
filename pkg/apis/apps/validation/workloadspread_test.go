package validation

import (
	"sort"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/annotationstash"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
)

// fieldError is what the tests check of an error: its type and path.
type fieldError struct {
	Type  field.ErrorType
	Field string
}

func fieldErrors(errs field.ErrorList) []fieldError {
	out := make([]fieldError, 0, len(errs))
	for _, err := range errs {
		out = append(out, fieldError{err.Type, err.Field})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Field != out[j].Field {
			return out[i].Field < out[j].Field
		}
		return out[i].Type < out[j].Type
	})
	return out
}

func expectErrors(t *testing.T, errs field.ErrorList, want ...fieldError) {
	t.Helper()
	got := fieldErrors(errs)
	sort.Slice(want, func(i, j int) bool {
		if want[i].Field != want[j].Field {
			return want[i].Field < want[j].Field
		}
		return want[i].Type < want[j].Type
	})
	if len(got) != len(want) {
		t.Fatalf("got errors %v, want %v\n%v", got, want, errs.ToAggregate())
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("got errors %v, want %v\n%v", got, want, errs.ToAggregate())
		}
	}
}

func invalid(path string) fieldError  { return fieldError{field.ErrorTypeInvalid, path} }
func required(path string) fieldError { return fieldError{field.ErrorTypeRequired, path} }

func validWorkloadSpread() *apps.WorkloadSpread {
	return &apps.WorkloadSpread{
		ObjectMeta: metav1.ObjectMeta{Name: "ws", Namespace: "default"},
		Spec: apps.WorkloadSpreadSpec{
			TargetReference: &apps.TargetReference{APIVersion: "apps.kruise.io/v1beta1", Kind: "CloneSet", Name: "web"},
			Subsets: []apps.WorkloadSpreadSubset{
				{
					Name: "zone-a",
					RequiredNodeSelector: &corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{
						{Key: "topology.kubernetes.io/zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"zone-a"}},
					}},
					MaxReplicas: ptr.To(intstr.FromInt32(3)),
					Patch:       &runtime.RawExtension{Raw: []byte(`{"metadata":{"labels":{"subset":"zone-a"}}}`)},
				},
				{Name: "zone-b"},
			},
		},
	}
}

func percent(s string) *intstr.IntOrString { return ptr.To(intstr.FromString(s)) }
func count(n int32) *intstr.IntOrString    { return ptr.To(intstr.FromInt32(n)) }

func TestValidateWorkloadSpread(t *testing.T) {
	cases := []struct {
		name   string
		modify func(ws *apps.WorkloadSpread)
		want   []fieldError
	}{
		{name: "valid", modify: func(ws *apps.WorkloadSpread) {}},
		{name: "targetRef missing", want: []fieldError{required("spec.targetRef")},
			modify: func(ws *apps.WorkloadSpread) { ws.Spec.TargetReference = nil }},
		{name: "targetRef without apiVersion", want: []fieldError{required("spec.targetRef.apiVersion")},
			modify: func(ws *apps.WorkloadSpread) { ws.Spec.TargetReference.APIVersion = "" }},
		{name: "targetRef without kind and name", want: []fieldError{required("spec.targetRef.kind"), required("spec.targetRef.name")},
			modify: func(ws *apps.WorkloadSpread) { ws.Spec.TargetReference.Kind, ws.Spec.TargetReference.Name = "", "" }},
		{name: "targetRef of a kind not permitted", want: []fieldError{invalid("spec.targetRef.kind")},
			modify: func(ws *apps.WorkloadSpread) { ws.Spec.TargetReference.Kind = "DaemonSet" }},
		{name: "CloneSet of another group", want: []fieldError{invalid("spec.targetRef.apiVersion")},
			modify: func(ws *apps.WorkloadSpread) { ws.Spec.TargetReference.APIVersion = "apps/v1" }},
		{name: "unparsable apiVersion", want: []fieldError{invalid("spec.targetRef.apiVersion")},
			modify: func(ws *apps.WorkloadSpread) { ws.Spec.TargetReference.APIVersion = "apps.kruise.io/v1/x" }},
		{name: "Deployment", modify: func(ws *apps.WorkloadSpread) {
			*ws.Spec.TargetReference = apps.TargetReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"}
		}},
		{name: "Deployment of another group", want: []fieldError{invalid("spec.targetRef.apiVersion")}, modify: func(ws *apps.WorkloadSpread) {
			*ws.Spec.TargetReference = apps.TargetReference{APIVersion: "extensions/v1beta1", Kind: "Deployment", Name: "web"}
		}},
		{name: "ReplicaSet", modify: func(ws *apps.WorkloadSpread) {
			*ws.Spec.TargetReference = apps.TargetReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web"}
		}},
		{name: "Job", modify: func(ws *apps.WorkloadSpread) {
			*ws.Spec.TargetReference = apps.TargetReference{APIVersion: "batch/v1", Kind: "Job", Name: "web"}
		}},
		{name: "Advanced StatefulSet", modify: func(ws *apps.WorkloadSpread) {
			*ws.Spec.TargetReference = apps.TargetReference{APIVersion: "apps.kruise.io/v1beta1", Kind: "StatefulSet", Name: "web"}
		}},
		{name: "StatefulSet of another group", want: []fieldError{invalid("spec.targetRef.apiVersion")}, modify: func(ws *apps.WorkloadSpread) {
			*ws.Spec.TargetReference = apps.TargetReference{APIVersion: "batch/v1", Kind: "StatefulSet", Name: "web"}
		}},
		{name: "workload name not an object name", want: []fieldError{invalid("spec.targetRef.name")},
			modify: func(ws *apps.WorkloadSpread) { ws.Spec.TargetReference.Name = "Web_1" }},
		{name: "no subsets", want: []fieldError{required("spec.subsets")},
			modify: func(ws *apps.WorkloadSpread) { ws.Spec.Subsets = nil }},
		{name: "subset without a name", want: []fieldError{required("spec.subsets[1].name")},
			modify: func(ws *apps.WorkloadSpread) { ws.Spec.Subsets[1].Name = "" }},
		{name: "repeated subset name", want: []fieldError{invalid("spec.subsets[1].name")},
			modify: func(ws *apps.WorkloadSpread) { ws.Spec.Subsets[1].Name = "zone-a" }},
		{name: "bad required node selector operator", want: []fieldError{invalid("spec.subsets[0].requiredNodeSelector.matchExpressions[0].operator")},
			modify: func(ws *apps.WorkloadSpread) {
				ws.Spec.Subsets[0].RequiredNodeSelector.MatchExpressions[0].Operator = "Within"
			}},
		{name: "bad required node selector value", want: []fieldError{invalid("spec.subsets[0].requiredNodeSelector.matchExpressions[0].values[0]")},
			modify: func(ws *apps.WorkloadSpread) {
				ws.Spec.Subsets[0].RequiredNodeSelector.MatchExpressions[0].Values = []string{"zone a"}
			}},
		{name: "preferred term weight out of range", want: []fieldError{invalid("spec.subsets[0].preferredNodeSelector[0].weight")},
			modify: func(ws *apps.WorkloadSpread) {
				ws.Spec.Subsets[0].PreferredNodeSelector = []corev1.PreferredSchedulingTerm{{Weight: 0, Preference: corev1.NodeSelectorTerm{
					MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "pool", Operator: corev1.NodeSelectorOpExists}},
				}}}
			}},
		{name: "preferred term without values for In", want: []fieldError{required("spec.subsets[0].preferredNodeSelector[0].preference.matchExpressions[0].values")},
			modify: func(ws *apps.WorkloadSpread) {
				ws.Spec.Subsets[0].PreferredNodeSelector = []corev1.PreferredSchedulingTerm{{Weight: 10, Preference: corev1.NodeSelectorTerm{
					MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "pool", Operator: corev1.NodeSelectorOpIn}},
				}}}
			}},
		{name: "toleration with unknown operator", want: []fieldError{{field.ErrorTypeNotSupported, "spec.subsets[1].tolerations[0].operator"}},
			modify: func(ws *apps.WorkloadSpread) {
				ws.Spec.Subsets[1].Tolerations = []corev1.Toleration{{Key: "spot", Operator: "Matches", Effect: corev1.TaintEffectNoSchedule}}
			}},
		{name: "toleration seconds without NoExecute", want: []fieldError{invalid("spec.subsets[1].tolerations[0].effect")},
			modify: func(ws *apps.WorkloadSpread) {
				ws.Spec.Subsets[1].Tolerations = []corev1.Toleration{{Key: "spot", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule, TolerationSeconds: ptr.To[int64](5)}}
			}},
		{name: "patch not an object", want: []fieldError{invalid("spec.subsets[0].patch")},
			modify: func(ws *apps.WorkloadSpread) { ws.Spec.Subsets[0].Patch = rawPatch(`["metadata"]`) }},
		{name: "patch not matching a Pod", want: []fieldError{invalid("spec.subsets[0].patch")},
			modify: func(ws *apps.WorkloadSpread) { ws.Spec.Subsets[0].Patch = rawPatch(`{"spec":{"containers":"nginx"}}`) }},
		{name: "patch with an invalid label", want: []fieldError{invalid("spec.subsets[0].patch.metadata.labels")},
			modify: func(ws *apps.WorkloadSpread) {
				ws.Spec.Subsets[0].Patch = rawPatch(`{"metadata":{"labels":{"subset":"zone a"}}}`)
			}},
		{name: "patch of the Pod spec", modify: func(ws *apps.WorkloadSpread) {
			ws.Spec.Subsets[0].Patch = rawPatch(`{"spec":{"containers":[{"name":"nginx","resources":{"limits":{"cpu":"500m"}}}]}}`)
		}},
		{name: "maxReplicas of mixed types", want: []fieldError{invalid("spec.subsets[1].maxReplicas")},
			modify: func(ws *apps.WorkloadSpread) { ws.Spec.Subsets[1].MaxReplicas = percent("50%") }},
		{name: "StatefulSet with a percentage", want: []fieldError{invalid("spec.subsets[0].maxReplicas")}, modify: func(ws *apps.WorkloadSpread) {
			*ws.Spec.TargetReference = apps.TargetReference{APIVersion: "apps/v1", Kind: "StatefulSet", Name: "web"}
			ws.Spec.Subsets[0].MaxReplicas = percent("50%")
		}},
		{name: "StatefulSet with integers", modify: func(ws *apps.WorkloadSpread) {
			*ws.Spec.TargetReference = apps.TargetReference{APIVersion: "apps/v1", Kind: "StatefulSet", Name: "web"}
		}},
		{name: "negative maxReplicas", want: []fieldError{invalid("spec.subsets[0].maxReplicas")},
			modify: func(ws *apps.WorkloadSpread) { ws.Spec.Subsets[0].MaxReplicas = count(-1) }},
		{name: "maxReplicas neither integer nor percentage", want: []fieldError{invalid("spec.subsets[0].maxReplicas")},
			modify: func(ws *apps.WorkloadSpread) { ws.Spec.Subsets[0].MaxReplicas = percent("half") }},
		{name: "percentages over 100%", want: []fieldError{invalid("spec.subsets[1].maxReplicas")}, modify: func(ws *apps.WorkloadSpread) {
			ws.Spec.Subsets[0].MaxReplicas = percent("60%")
			ws.Spec.Subsets[1].MaxReplicas = percent("50%")
		}},
		{name: "percentages under 100% with the last subset capped", want: []fieldError{invalid("spec.subsets[1].maxReplicas")}, modify: func(ws *apps.WorkloadSpread) {
			ws.Spec.Subsets[0].MaxReplicas = percent("40%")
			ws.Spec.Subsets[1].MaxReplicas = percent("50%")
		}},
		{name: "percentages under 100% with the last subset uncapped", modify: func(ws *apps.WorkloadSpread) {
			ws.Spec.Subsets[0].MaxReplicas = percent("40%")
		}},
		{name: "percentages of exactly 100%", modify: func(ws *apps.WorkloadSpread) {
			ws.Spec.Subsets[0].MaxReplicas = percent("40%")
			ws.Spec.Subsets[1].MaxReplicas = percent("60%")
		}},
		{name: "unknown schedule strategy", want: []fieldError{{field.ErrorTypeNotSupported, "spec.scheduleStrategy.type"}},
			modify: func(ws *apps.WorkloadSpread) { ws.Spec.ScheduleStrategy.Type = "Random" }},
		{name: "adaptive parameters with Fixed", want: []fieldError{invalid("spec.scheduleStrategy.type")}, modify: func(ws *apps.WorkloadSpread) {
			ws.Spec.ScheduleStrategy = apps.WorkloadSpreadScheduleStrategy{Type: apps.FixedWorkloadSpreadScheduleStrategyType, Adaptive: &apps.AdaptiveWorkloadSpreadStrategy{}}
		}},
		{name: "adaptive with the last subset capped", want: []fieldError{invalid("spec.subsets[1].maxReplicas")}, modify: func(ws *apps.WorkloadSpread) {
			ws.Spec.ScheduleStrategy = apps.WorkloadSpreadScheduleStrategy{Type: apps.AdaptiveWorkloadSpreadScheduleStrategyType, Adaptive: &apps.AdaptiveWorkloadSpreadStrategy{}}
			ws.Spec.Subsets[1].MaxReplicas = count(2)
		}},
		{name: "adaptive at the longest reschedule time", modify: func(ws *apps.WorkloadSpread) {
			ws.Spec.ScheduleStrategy = apps.WorkloadSpreadScheduleStrategy{Type: apps.AdaptiveWorkloadSpreadScheduleStrategyType,
				Adaptive: &apps.AdaptiveWorkloadSpreadStrategy{RescheduleCriticalSeconds: ptr.To[int32](295)}}
		}},
		{name: "adaptive reschedule time too long for the subsets", want: []fieldError{invalid("spec.scheduleStrategy.adaptive.rescheduleCriticalSeconds")}, modify: func(ws *apps.WorkloadSpread) {
			ws.Spec.Subsets = append(ws.Spec.Subsets[:1], apps.WorkloadSpreadSubset{Name: "zone-c", MaxReplicas: count(1)}, ws.Spec.Subsets[1])
			ws.Spec.ScheduleStrategy = apps.WorkloadSpreadScheduleStrategy{Type: apps.AdaptiveWorkloadSpreadScheduleStrategyType,
				Adaptive: &apps.AdaptiveWorkloadSpreadStrategy{RescheduleCriticalSeconds: ptr.To[int32](148)}}
		}},
		{name: "negative reschedule time", want: []fieldError{invalid("spec.scheduleStrategy.adaptive.rescheduleCriticalSeconds")}, modify: func(ws *apps.WorkloadSpread) {
			ws.Spec.ScheduleStrategy = apps.WorkloadSpreadScheduleStrategy{Type: apps.AdaptiveWorkloadSpreadScheduleStrategyType,
				Adaptive: &apps.AdaptiveWorkloadSpreadStrategy{RescheduleCriticalSeconds: ptr.To[int32](-1)}}
		}},
		{name: "target filter", modify: func(ws *apps.WorkloadSpread) {
			ws.Spec.TargetFilter = &apps.TargetFilter{
				Selector:         &metav1.LabelSelector{MatchLabels: map[string]string{"role": "worker"}},
				ReplicasPathList: []string{"spec.tfReplicaSpecs.Worker.replicas", "spec.subsets.1.replicas"},
			}
		}},
		{name: "target filter with a bad selector", want: []fieldError{invalid("spec.targetFilter.selector.matchExpressions[0].operator")}, modify: func(ws *apps.WorkloadSpread) {
			ws.Spec.TargetFilter = &apps.TargetFilter{Selector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
				{Key: "role", Operator: "Is", Values: []string{"worker"}},
			}}}
		}},
		{name: "target filter with a bad replicas path", want: []fieldError{invalid("spec.targetFilter.replicasPathList[1]"), invalid("spec.targetFilter.replicasPathList[2]")},
			modify: func(ws *apps.WorkloadSpread) {
				ws.Spec.TargetFilter = &apps.TargetFilter{ReplicasPathList: []string{"spec.replicas", "spec..replicas", ""}}
			}},
		{name: "left-over stash annotation", want: []fieldError{invalid("metadata.annotations[" + annotationstash.Key + "]")},
			modify: func(ws *apps.WorkloadSpread) { ws.Annotations = map[string]string{annotationstash.Key: "{}"} }},
		{name: "bad deletion protection label", want: []fieldError{{field.ErrorTypeNotSupported, "metadata.labels[policy.kruise.io/delete-protection]"}},
			modify: func(ws *apps.WorkloadSpread) {
				ws.Labels = map[string]string{"policy.kruise.io/delete-protection": "Sometimes"}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ws := validWorkloadSpread()
			tc.modify(ws)
			expectErrors(t, ValidateWorkloadSpread(ws), tc.want...)
		})
	}
}

func TestValidateWorkloadSpreadUpdate(t *testing.T) {
	cases := []struct {
		name   string
		old    func(ws *apps.WorkloadSpread)
		modify func(ws *apps.WorkloadSpread)
		want   []fieldError
	}{
		{name: "subsets change", modify: func(ws *apps.WorkloadSpread) { ws.Spec.Subsets[0].MaxReplicas = count(5) }},
		{name: "target moves to another version of its group", modify: func(ws *apps.WorkloadSpread) {
			ws.Spec.TargetReference.APIVersion = "apps.kruise.io/v1alpha1"
		}},
		{name: "target renamed", want: []fieldError{invalid("spec.targetRef")},
			modify: func(ws *apps.WorkloadSpread) { ws.Spec.TargetReference.Name = "api" }},
		{name: "target of another kind", want: []fieldError{invalid("spec.targetRef")}, modify: func(ws *apps.WorkloadSpread) {
			*ws.Spec.TargetReference = apps.TargetReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"}
		}},
		{name: "target of another group", want: []fieldError{invalid("spec.targetRef")},
			old: func(ws *apps.WorkloadSpread) {
				*ws.Spec.TargetReference = apps.TargetReference{APIVersion: "apps.kruise.io/v1beta1", Kind: "StatefulSet", Name: "web"}
			},
			modify: func(ws *apps.WorkloadSpread) { ws.Spec.TargetReference.APIVersion = "apps/v1" }},
		{name: "new spec still validated", want: []fieldError{required("spec.subsets")},
			modify: func(ws *apps.WorkloadSpread) { ws.Spec.Subsets = nil }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old := validWorkloadSpread()
			if tc.old != nil {
				tc.old(old)
			}
			old.ResourceVersion = "1"
			ws := old.DeepCopy()
			tc.modify(ws)
			expectErrors(t, ValidateWorkloadSpreadUpdate(ws, old), tc.want...)
		})
	}
}

func TestValidateWorkloadSpreadStatusUpdate(t *testing.T) {
	condition := func(conditionType string) metav1.Condition {
		return metav1.Condition{Type: conditionType, Status: metav1.ConditionFalse, Reason: "Unschedulable"}
	}
	cases := []struct {
		name   string
		status apps.WorkloadSpreadStatus
		want   []fieldError
	}{
		{name: "valid", status: apps.WorkloadSpreadStatus{
			ObservedGeneration: 2,
			SubsetStatuses: []apps.WorkloadSpreadSubsetStatus{
				{Name: "zone-a", Replicas: 3, MissingReplicas: 0, Conditions: []metav1.Condition{condition(apps.SubsetSchedulable)}},
				{Name: "zone-b", Replicas: 1, MissingReplicas: -1},
			},
			VersionedSubsetStatuses: map[string][]apps.WorkloadSpreadSubsetStatus{"5d8f": {{Name: "zone-a", Replicas: 1, MissingReplicas: 2}}},
		}},
		{name: "negative observedGeneration", want: []fieldError{invalid("status.observedGeneration")},
			status: apps.WorkloadSpreadStatus{ObservedGeneration: -1}},
		{name: "negative replicas", want: []fieldError{invalid("status.subsetStatuses[0].replicas")},
			status: apps.WorkloadSpreadStatus{SubsetStatuses: []apps.WorkloadSpreadSubsetStatus{{Name: "zone-a", Replicas: -1}}}},
		{name: "missingReplicas below -1", want: []fieldError{invalid("status.subsetStatuses[0].missingReplicas")},
			status: apps.WorkloadSpreadStatus{SubsetStatuses: []apps.WorkloadSpreadSubsetStatus{{Name: "zone-a", MissingReplicas: -2}}}},
		{name: "repeated condition type", want: []fieldError{{field.ErrorTypeDuplicate, "status.subsetStatuses[0].conditions[1].type"}},
			status: apps.WorkloadSpreadStatus{SubsetStatuses: []apps.WorkloadSpreadSubsetStatus{{Name: "zone-a",
				Conditions: []metav1.Condition{condition(apps.SubsetSchedulable), condition(apps.SubsetSchedulable)}}}}},
		{name: "negative condition observedGeneration", want: []fieldError{invalid("status.subsetStatuses[0].conditions[0].observedGeneration")},
			status: apps.WorkloadSpreadStatus{SubsetStatuses: []apps.WorkloadSpreadSubsetStatus{{Name: "zone-a",
				Conditions: []metav1.Condition{{Type: apps.SubsetSchedulable, ObservedGeneration: -3}}}}}},
		{name: "versioned statuses checked too", want: []fieldError{invalid("status.versionedSubsetStatuses[5d8f][0].replicas")},
			status: apps.WorkloadSpreadStatus{VersionedSubsetStatuses: map[string][]apps.WorkloadSpreadSubsetStatus{
				"5d8f": {{Name: "zone-a", Replicas: -1}},
			}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old := validWorkloadSpread()
			old.ResourceVersion = "1"
			ws := old.DeepCopy()
			ws.Status = tc.status
			expectErrors(t, ValidateWorkloadSpreadStatusUpdate(ws, old), tc.want...)
		})
	}
}

func TestValidateWorkloadSpreadConflict(t *testing.T) {
	other := func(name, apiVersion, kind, workload string) apps.WorkloadSpread {
		return apps.WorkloadSpread{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
			Spec:       apps.WorkloadSpreadSpec{TargetReference: &apps.TargetReference{APIVersion: apiVersion, Kind: kind, Name: workload}},
		}
	}
	cases := []struct {
		name   string
		others []apps.WorkloadSpread
		want   []fieldError
	}{
		{name: "alone"},
		{name: "itself", others: []apps.WorkloadSpread{other("ws", "apps.kruise.io/v1beta1", "CloneSet", "web")}},
		{name: "other workloads", others: []apps.WorkloadSpread{
			other("a", "apps.kruise.io/v1beta1", "CloneSet", "api"),
			other("b", "apps/v1", "Deployment", "web"),
			other("c", "apps/v1", "CloneSet", "web"),
			{ObjectMeta: metav1.ObjectMeta{Name: "d"}},
		}},
		{name: "same workload at another version", want: []fieldError{invalid("spec.targetRef")},
			others: []apps.WorkloadSpread{other("a", "apps.kruise.io/v1alpha1", "CloneSet", "web")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			expectErrors(t, ValidateWorkloadSpreadConflict(validWorkloadSpread(), tc.others), tc.want...)
		})
	}
}

func TestValidateWorkloadSpreadPatches(t *testing.T) {
	template := &corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "nginx", Image: "nginx",
			VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}},
		}}},
	}
	claims := []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"}}}
	cases := []struct {
		name  string
		patch string
		want  []fieldError
	}{
		{name: "labels", patch: `{"metadata":{"labels":{"subset":"zone-a"}}}`},
		{name: "container resources", patch: `{"spec":{"containers":[{"name":"nginx","resources":{"limits":{"cpu":"500m"}}}]}}`},
		// Strategic merge puts containers new to the template first.
		{name: "container without image", patch: `{"spec":{"containers":[{"name":"sidecar"}]}}`,
			want: []fieldError{required("spec.subsets[0].patch.spec.containers[0].image")}},
		{name: "bad restart policy", patch: `{"spec":{"restartPolicy":"Sometimes"}}`,
			want: []fieldError{{field.ErrorTypeNotSupported, "spec.subsets[0].patch.spec.restartPolicy"}}},
		{name: "broken patch left to spec validation", patch: `[1]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ws := validWorkloadSpread()
			ws.Spec.Subsets[0].Patch = rawPatch(tc.patch)
			expectErrors(t, ValidateWorkloadSpreadPatches(ws, template, claims), tc.want...)
		})
	}
}

func rawPatch(patch string) *runtime.RawExtension {
	return &runtime.RawExtension{Raw: []byte(patch)}
}
