package workloadspread

import (
	"encoding/json"
	"math"

	corev1 "k8s.io/api/core/v1"
	corehelpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
)

// IgnorePatchExistingPodsAnnotation, "true" on a WorkloadSpread, keeps the
// subset's patch labels and annotations off the Pods it adopts.
const IgnorePatchExistingPodsAnnotation = "workloadspread.kruise.io/ignore-patch-existing-pods-metadata"

// Adoptable says whether the controller should find a subset for a Pod:
// one the WorkloadSpread did not place (created before it, or while the
// webhook was not called) that runs on a node.
func Adoptable(ws *appsv1beta1.WorkloadSpread, pod *corev1.Pod) bool {
	m := MatchedOf(pod)
	return (m == nil || m.Name != ws.Name) && pod.Spec.NodeName != "" && IsActive(pod)
}

// AdoptSubset returns the subset a Pod already running on node belongs
// in, or "": among the subsets whose required node selector (ANDed into
// the Pod's own) matches the node and whose tolerations, with the Pod's,
// tolerate its taints, the one of highest score — its preferred terms'
// weight on the node first, then whether the Pod carries the labels and
// annotations of its patch, then whether it has room left (missing, by
// subset name: its maxReplicas less the Pods already in it).
func AdoptSubset(ws *appsv1beta1.WorkloadSpread, pod *corev1.Pod, node *corev1.Node, missing map[string]int32) string {
	best, bestScore := "", int64(-1)
	for i := range ws.Spec.Subsets {
		subset := &ws.Spec.Subsets[i]
		if !nodeFits(pod, node, subset) {
			continue
		}
		var score int64
		if len(subset.PreferredNodeSelector) > 0 {
			if terms, err := nodeaffinity.NewPreferredSchedulingTerms(subset.PreferredNodeSelector); err == nil {
				score = terms.Score(node) * 100
			}
		}
		if carriesPatchMetadata(pod, subset) {
			score += 10
		}
		if missing[subset.Name] > 0 {
			score++
		}
		if score > bestScore {
			best, bestScore = subset.Name, score
		}
	}
	return best
}

func nodeFits(pod *corev1.Pod, node *corev1.Node, subset *appsv1beta1.WorkloadSpreadSubset) bool {
	tolerations := append(append([]corev1.Toleration{}, pod.Spec.Tolerations...), subset.Tolerations...)
	noScheduleOrExecute := func(t *corev1.Taint) bool {
		return t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute
	}
	if _, untolerated := corehelpers.FindMatchingUntoleratedTaint(klog.Background(), node.Spec.Taints, tolerations, noScheduleOrExecute, true); untolerated {
		return false
	}
	if subset.RequiredNodeSelector == nil {
		return true
	}
	probe := pod.DeepCopy()
	probe.Annotations = nil
	if err := Inject(&appsv1beta1.WorkloadSpread{Spec: appsv1beta1.WorkloadSpreadSpec{Subsets: []appsv1beta1.WorkloadSpreadSubset{{
		Name: subset.Name, RequiredNodeSelector: subset.RequiredNodeSelector,
	}}}}, probe, subset.Name, ""); err != nil {
		return false
	}
	selector, err := nodeaffinity.NewNodeSelector(probe.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution)
	return err == nil && selector.Match(node)
}

// patchMetadata returns the labels and annotations of a subset's patch.
func patchMetadata(subset *appsv1beta1.WorkloadSpreadSubset) (labels, annotations map[string]string) {
	if subset.Patch == nil || len(subset.Patch.Raw) == 0 {
		return nil, nil
	}
	var patch struct {
		Metadata struct {
			Labels      map[string]string `json:"labels"`
			Annotations map[string]string `json:"annotations"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(subset.Patch.Raw, &patch); err != nil {
		return nil, nil
	}
	return patch.Metadata.Labels, patch.Metadata.Annotations
}

func carriesPatchMetadata(pod *corev1.Pod, subset *appsv1beta1.WorkloadSpreadSubset) bool {
	labels, annotations := patchMetadata(subset)
	if len(labels)+len(annotations) == 0 {
		return false
	}
	for k, v := range labels {
		if pod.Labels[k] != v {
			return false
		}
	}
	for k, v := range annotations {
		if pod.Annotations[k] != v {
			return false
		}
	}
	return true
}

// AdoptionPatch is the strategic merge patch that puts an adopted Pod in a
// subset: the matched-workloadspread annotation and, unless the
// WorkloadSpread says IgnorePatchExistingPodsAnnotation, the labels and
// annotations of the subset's patch (the rest of a patch cannot change on
// a running Pod).
func AdoptionPatch(ws *appsv1beta1.WorkloadSpread, subsetName string) ([]byte, error) {
	var labels, annotations map[string]string
	for i := range ws.Spec.Subsets {
		if ws.Spec.Subsets[i].Name == subsetName && ws.Annotations[IgnorePatchExistingPodsAnnotation] != "true" {
			labels, annotations = patchMetadata(&ws.Spec.Subsets[i])
		}
	}
	matched, err := json.Marshal(Matched{Name: ws.Name, Subset: subsetName})
	if err != nil {
		return nil, err
	}
	merged := map[string]string{}
	for k, v := range annotations {
		merged[k] = v
	}
	merged[MatchedAnnotation] = string(matched)
	metadata := map[string]any{"annotations": merged}
	if len(labels) > 0 {
		metadata["labels"] = labels
	}
	return json.Marshal(map[string]any{"metadata": metadata})
}

// MissingByVersion is, for the Pods of one version, each subset's
// maxReplicas less the Pods already in it (math.MaxInt32 for no cap): what
// AdoptSubset weighs.
func MissingByVersion(ws *appsv1beta1.WorkloadSpread, pods PodsBySubset, workloadReplicas int32) map[string]int32 {
	missing := map[string]int32{}
	for i := range ws.Spec.Subsets {
		subset := &ws.Spec.Subsets[i]
		max, err := MaxReplicas(subset, workloadReplicas)
		if err != nil || max < 0 {
			max = math.MaxInt32
		}
		missing[subset.Name] = max - int32(len(pods[subset.Name]))
	}
	return missing
}
