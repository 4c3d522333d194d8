package workloadspread

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/strategicpatch"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
)

const (
	// MatchedAnnotation, on a Pod, names the WorkloadSpread and subset the
	// Pod was placed in, as JSON (see Matched).
	MatchedAnnotation = "apps.kruise.io/matched-workloadspread"
	// PodDeletionCostAnnotation is Kubernetes' hint to the ReplicaSet (and
	// CloneSet) controller of which Pods to delete first: lower first.
	PodDeletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost"

	// PodDeletionCostPositive and PodDeletionCostNegative are the units of
	// the deletion costs the controller writes (see DeletionCosts).
	PodDeletionCostPositive = 100
	PodDeletionCostNegative = -100

	// CreatingPodTimeout is how long a Pod the webhook placed stays in
	// creatingPods (counted in its subset) without the controller seeing
	// it; after that the creation is taken to have failed.
	CreatingPodTimeout = 30 * time.Second
	// DeletingPodTimeout is the same for deletingPods.
	DeletingPodTimeout = 15 * time.Second

	// UnmatchedSubset groups the Pods that are in no subset of the spec
	// (their subset was removed, or they predate the WorkloadSpread).
	UnmatchedSubset = "kruise.io/workloadspread-fake-subset-name"
)

// SystemNamespaces are the cluster's own namespaces, whose Pods WorkloadSpreads
// never act on: neither the webhook nor the controller. pkg/webhook's
// SystemNamespaces, which every pod-level webhook skips, is this set.
var SystemNamespaces = sets.New("kube-system", "kube-public", "kube-node-lease")

// Matched is the value of the matched-workloadspread annotation.
type Matched struct {
	// Name of the WorkloadSpread.
	Name string `json:"name"`
	// Subset the Pod was placed in.
	Subset string `json:"subset"`
	// UID identifies the Pod in creatingPods when it had no name yet at
	// admission (generateName); the webhook makes it up.
	UID string `json:"uid,omitempty"`
}

// MatchedOf returns the Pod's matched-workloadspread annotation, or nil if
// it has none or it does not parse.
func MatchedOf(pod *corev1.Pod) *Matched {
	value, ok := pod.Annotations[MatchedAnnotation]
	if !ok || value == "" {
		return nil
	}
	m := &Matched{}
	if err := json.Unmarshal([]byte(value), m); err != nil || m.Name == "" || m.Subset == "" {
		return nil
	}
	return m
}

// Workload kinds a WorkloadSpread may target, and the group each lives in.
var (
	CloneSetKind    = appsv1beta1.SchemeGroupVersion.WithKind("CloneSet").GroupKind()
	StatefulSetKind = appsv1beta1.SchemeGroupVersion.WithKind("StatefulSet").GroupKind()
	DeploymentKind  = schema.GroupKind{Group: "apps", Kind: "Deployment"}
	ReplicaSetKind  = schema.GroupKind{Group: "apps", Kind: "ReplicaSet"}
)

// TargetGroupKind returns the group and kind a WorkloadSpread targets.
func TargetGroupKind(ws *appsv1beta1.WorkloadSpread) schema.GroupKind {
	ref := ws.Spec.TargetReference
	if ref == nil {
		return schema.GroupKind{}
	}
	gv, _ := schema.ParseGroupVersion(ref.APIVersion)
	return schema.GroupKind{Group: gv.Group, Kind: ref.Kind}
}

// OwnerGroupKind returns the group and kind an owner reference refers to.
func OwnerGroupKind(ref *metav1.OwnerReference) schema.GroupKind {
	gv, _ := schema.ParseGroupVersion(ref.APIVersion)
	return schema.GroupKind{Group: gv.Group, Kind: ref.Kind}
}

// Selects says whether a WorkloadSpread's targetFilter selects Pods with
// these labels; no filter selects all.
func Selects(ws *appsv1beta1.WorkloadSpread, podLabels map[string]string) (bool, error) {
	if ws.Spec.TargetFilter == nil || ws.Spec.TargetFilter.Selector == nil {
		return true, nil
	}
	selector, err := metav1.LabelSelectorAsSelector(ws.Spec.TargetFilter.Selector)
	if err != nil {
		return false, err
	}
	return selector.Matches(labels.Set(podLabels)), nil
}

// HasPercentage says whether a subset's maxReplicas is a percentage, so
// that the workload's replica count is needed.
func HasPercentage(ws *appsv1beta1.WorkloadSpread) bool {
	for i := range ws.Spec.Subsets {
		if m := ws.Spec.Subsets[i].MaxReplicas; m != nil && m.Type == intstr.String {
			return true
		}
	}
	return false
}

// MaxReplicas is how many Pods a subset may hold: its maxReplicas, a
// percentage of workloadReplicas rounded up, or -1 (no cap) when unset.
func MaxReplicas(subset *appsv1beta1.WorkloadSpreadSubset, workloadReplicas int32) (int32, error) {
	if subset.MaxReplicas == nil {
		return -1, nil
	}
	n, err := intstr.GetScaledValueFromIntOrPercent(subset.MaxReplicas, int(workloadReplicas), true)
	if err != nil {
		return 0, fmt.Errorf("subset %q: maxReplicas: %w", subset.Name, err)
	}
	if n < 0 {
		return 0, fmt.Errorf("subset %q: maxReplicas %s is negative", subset.Name, subset.MaxReplicas.String())
	}
	return int32(n), nil
}

// InitialSubsetStatuses are the statuses of subsets no Pod has been counted
// in yet: each may take its maxReplicas.
func InitialSubsetStatuses(ws *appsv1beta1.WorkloadSpread, workloadReplicas int32) (appsv1beta1.WorkloadSpreadSubsetStatuses, error) {
	statuses := make(appsv1beta1.WorkloadSpreadSubsetStatuses, 0, len(ws.Spec.Subsets))
	for i := range ws.Spec.Subsets {
		max, err := MaxReplicas(&ws.Spec.Subsets[i], workloadReplicas)
		if err != nil {
			return nil, err
		}
		statuses = append(statuses, appsv1beta1.WorkloadSpreadSubsetStatus{Name: ws.Spec.Subsets[i].Name, MissingReplicas: max})
	}
	return statuses, nil
}

// ChooseSubset returns the index of the first subset, in order, that is not
// marked unschedulable and has room (missingReplicas > 0, or -1 for no
// cap), or -1 if there is none.
func ChooseSubset(statuses []appsv1beta1.WorkloadSpreadSubsetStatus) int {
	for i := range statuses {
		s := &statuses[i]
		if !schedulable(s) {
			continue
		}
		if s.MissingReplicas > 0 || s.MissingReplicas == -1 {
			return i
		}
	}
	return -1
}

func schedulable(s *appsv1beta1.WorkloadSpreadSubsetStatus) bool {
	for _, c := range s.Conditions {
		if c.Type == appsv1beta1.SubsetSchedulable && c.Status == metav1.ConditionFalse {
			return false
		}
	}
	return true
}

// Admission is what admitting one new Pod decided.
type Admission struct {
	// Subset the Pod goes to; empty if none has room (the Pod is then
	// created unchanged, as OpenKruise does).
	Subset string
	// UID is the id the Pod was recorded under in creatingPods when it has
	// no name yet; it goes into the Pod's annotation.
	UID string
	// StatusChanged says whether ws.Status was changed and must be written.
	StatusChanged bool
}

// Admit places a new Pod of the given version in a subset, recording it in
// ws.Status: in creatingPods of the subset in versionedSubsetStatuses
// [version] (created from the spec if absent), whose missingReplicas it
// decrements. podName is the Pod's name, empty if it only has a
// generateName; newUID makes up an id for it then. A Pod already recorded
// keeps its subset.
//
// Counting per version is what keeps the spread of a rolling update: the
// new version's Pods are held to the caps by themselves, so the old Pods
// still running in a capped subset do not push them all to the next one.
// With versioning off every Pod is VersionIgnored and shares one list.
//
// Pods of a StatefulSet are placed by ordinal instead, without any status
// change: subsets take consecutive ranges of ordinals, each as wide as its
// maxReplicas.
func Admit(ws *appsv1beta1.WorkloadSpread, version, podName string, workloadReplicas int32, now time.Time, newUID func() string) (Admission, error) {
	if len(ws.Spec.Subsets) == 0 {
		return Admission{}, nil
	}
	if TargetGroupKind(ws).Kind == StatefulSetKind.Kind {
		return Admission{Subset: subsetByOrdinal(ws, podName)}, nil
	}
	// A lone uncapped subset takes every Pod; nothing to count.
	if len(ws.Spec.Subsets) == 1 && ws.Spec.Subsets[0].MaxReplicas == nil {
		return Admission{Subset: ws.Spec.Subsets[0].Name}, nil
	}

	statuses := ws.Status.VersionedSubsetStatuses[version]

	if len(statuses) == 0 {
		var err error
		if statuses, err = InitialSubsetStatuses(ws, workloadReplicas); err != nil {
			return Admission{}, err
		}

	}
	if podName != "" {
		if i := recordedIn(statuses, podName); i >= 0 {
			return Admission{Subset: statuses[i].Name}, nil
		}
	}
	i := ChooseSubset(statuses)
	if i < 0 {
		return Admission{}, nil
	}
	chosen := &statuses[i]
	admission := Admission{Subset: chosen.Name}
	// An uncapped subset needs no record: nothing is counted against it.
	if chosen.MissingReplicas == -1 {
		return admission, nil
	}
	id := podName
	if id == "" {
		id = newUID()
		admission.UID = id
	}
	if chosen.CreatingPods == nil {
		chosen.CreatingPods = map[string]metav1.Time{}
	}
	chosen.CreatingPods[id] = metav1.NewTime(now)
	if chosen.MissingReplicas > 0 {
		chosen.MissingReplicas--
	}
	if ws.Status.VersionedSubsetStatuses == nil {
		ws.Status.VersionedSubsetStatuses = map[string]appsv1beta1.WorkloadSpreadSubsetStatuses{}
	}
	ws.Status.VersionedSubsetStatuses[version] = statuses
	admission.StatusChanged = true
	return admission, nil
}

// RecordDeletion records in ws.Status that a Pod placed in subset is being
// deleted (or evicted): it goes into deletingPods of its version's subset,
// whose missingReplicas goes up so that a replacement may be placed there
// before the controller sees the Pod gone. It returns whether the status
// changed.
func RecordDeletion(ws *appsv1beta1.WorkloadSpread, version, podName, subset string, now time.Time) bool {
	statuses := ws.Status.VersionedSubsetStatuses[version]
	if podName == "" || recordedIn(statuses, podName) >= 0 {
		return false
	}
	for i := range statuses {
		s := &statuses[i]
		if s.Name != subset {
			continue
		}
		if s.MissingReplicas == -1 {
			return false
		}
		if s.DeletingPods == nil {
			s.DeletingPods = map[string]metav1.Time{}
		}
		s.DeletingPods[podName] = metav1.NewTime(now)
		s.MissingReplicas++
		return true
	}
	return false
}

// recordedIn returns the index of the subset whose creatingPods or
// deletingPods holds the Pod, or -1.
func recordedIn(statuses []appsv1beta1.WorkloadSpreadSubsetStatus, podName string) int {
	for i := range statuses {
		if _, ok := statuses[i].CreatingPods[podName]; ok {
			return i
		}
		if _, ok := statuses[i].DeletingPods[podName]; ok {
			return i
		}
	}
	return -1
}

var statefulPodName = regexp.MustCompile(`^(.*)-([0-9]+)$`)

// subsetByOrdinal places the StatefulSet Pod with this name by its ordinal:
// the first schedulable subset whose cumulative maxReplicas exceeds it.
func subsetByOrdinal(ws *appsv1beta1.WorkloadSpread, podName string) string {
	m := statefulPodName.FindStringSubmatch(podName)
	if m == nil {
		return ""
	}
	ordinal, err := strconv.ParseInt(m[2], 10, 32)
	if err != nil {
		return ""
	}
	var threshold int64
	for i := range ws.Spec.Subsets {
		subset := &ws.Spec.Subsets[i]
		if !subsetSchedulable(ws, subset.Name) {
			continue
		}
		limit := int64(math.MaxInt32)
		if subset.MaxReplicas != nil {
			limit = int64(subset.MaxReplicas.IntValue())
		}
		threshold += limit
		if ordinal < threshold {
			return subset.Name
		}
	}
	return ""
}

func subsetSchedulable(ws *appsv1beta1.WorkloadSpread, name string) bool {
	for i := range ws.Status.SubsetStatuses {
		if ws.Status.SubsetStatuses[i].Name == name {
			return schedulable(&ws.Status.SubsetStatuses[i])
		}
	}
	return true
}

// Inject applies a subset to a Pod being created: its tolerations, its
// required node selector ANDed into every required term of the Pod (or as
// the only term), its preferred terms, its patch (a strategic merge patch),
// and the matched-workloadspread annotation.
func Inject(ws *appsv1beta1.WorkloadSpread, pod *corev1.Pod, subsetName, uid string) error {
	var subset *appsv1beta1.WorkloadSpreadSubset
	for i := range ws.Spec.Subsets {
		if ws.Spec.Subsets[i].Name == subsetName {
			subset = &ws.Spec.Subsets[i]
		}
	}
	if subset == nil {
		return fmt.Errorf("workloadspread %s/%s has no subset %q", ws.Namespace, ws.Name, subsetName)
	}

	pod.Spec.Tolerations = append(pod.Spec.Tolerations, subset.Tolerations...)
	if subset.RequiredNodeSelector != nil || len(subset.PreferredNodeSelector) > 0 {
		if pod.Spec.Affinity == nil {
			pod.Spec.Affinity = &corev1.Affinity{}
		}
		if pod.Spec.Affinity.NodeAffinity == nil {
			pod.Spec.Affinity.NodeAffinity = &corev1.NodeAffinity{}
		}
		affinity := pod.Spec.Affinity.NodeAffinity
		affinity.PreferredDuringSchedulingIgnoredDuringExecution = append(affinity.PreferredDuringSchedulingIgnoredDuringExecution,
			subset.PreferredNodeSelector...)
		if required := subset.RequiredNodeSelector; required != nil {
			if affinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
				affinity.RequiredDuringSchedulingIgnoredDuringExecution = &corev1.NodeSelector{}
			}
			terms := affinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
			if len(terms) == 0 {
				terms = []corev1.NodeSelectorTerm{*required.DeepCopy()}
			} else {
				// Terms are ORed; to confine the Pod to the subset the
				// subset's requirements must hold in each of them.
				for i := range terms {
					terms[i].MatchExpressions = append(terms[i].MatchExpressions, required.MatchExpressions...)
					terms[i].MatchFields = append(terms[i].MatchFields, required.MatchFields...)
				}
			}
			affinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms = terms
		}
	}

	if subset.Patch != nil && len(subset.Patch.Raw) > 0 {
		original, err := json.Marshal(pod)
		if err != nil {
			return err
		}
		patched, err := strategicpatch.StrategicMergePatch(original, subset.Patch.Raw, &corev1.Pod{})
		if err != nil {
			return fmt.Errorf("workloadspread %s/%s subset %q: patch: %w", ws.Namespace, ws.Name, subsetName, err)
		}
		out := &corev1.Pod{}
		if err := json.Unmarshal(patched, out); err != nil {
			return fmt.Errorf("workloadspread %s/%s subset %q: patch: %w", ws.Namespace, ws.Name, subsetName, err)
		}
		// The Priority admission plugin ran before this webhook; a patched
		// priorityClassName with the old priority would be rejected, so
		// leave priority for the plugin's reinvocation to fill in.
		if out.Spec.PriorityClassName != pod.Spec.PriorityClassName {
			out.Spec.Priority = nil
		}
		*pod = *out
	}

	value, err := json.Marshal(Matched{Name: ws.Name, Subset: subsetName, UID: uid})
	if err != nil {
		return err
	}
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	pod.Annotations[MatchedAnnotation] = string(value)
	return nil
}
