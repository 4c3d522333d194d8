package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/conversion"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/annotationstash"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
)

// workloadSpreadStash is what the hub's WorkloadSpread holds that v1alpha1
// cannot express: v1alpha1's subset conditions have no observedGeneration.
// Everything else differs only in field names.
//
// +k8s:openapi-gen=false
type workloadSpreadStash struct {
	// SubsetConditions are the observed generations of the conditions in
	// status.subsetStatuses.
	SubsetConditions []conditionGeneration `json:"subsetConditions,omitempty"`
	// VersionedSubsetConditions are those of
	// status.versionedSubsetStatuses, by version.
	VersionedSubsetConditions map[string][]conditionGeneration `json:"versionedSubsetConditions,omitempty"`
}

// conditionGeneration is the observedGeneration of one subset condition,
// with what is needed to find that condition again. The subset status is
// the one at Index if it still has the name Subset (names alone need not be
// unique), else the first one named Subset, so that a client that reorders
// or drops subset statuses does not move generations onto the wrong subset.
// Within it, condition types are unique (validation sees to that).
//
// +k8s:openapi-gen=false
type conditionGeneration struct {
	Index              int    `json:"index"`
	Subset             string `json:"subset"`
	Type               string `json:"type"`
	ObservedGeneration int64  `json:"observedGeneration"`
}

func Convert_v1alpha1_WorkloadSpread_To_apps_WorkloadSpread(in *WorkloadSpread, out *apps.WorkloadSpread, s conversion.Scope) error {
	if err := autoConvert_v1alpha1_WorkloadSpread_To_apps_WorkloadSpread(in, out, s); err != nil {
		return err
	}
	var stash workloadSpreadStash
	if !annotationstash.Restore(&out.ObjectMeta, &stash) {
		return nil
	}
	restoreConditionGenerations(out.Status.SubsetStatuses, stash.SubsetConditions)
	for version, generations := range stash.VersionedSubsetConditions {
		if statuses, ok := out.Status.VersionedSubsetStatuses[version]; ok {
			restoreConditionGenerations(statuses, generations)
		}
	}
	return nil
}

func Convert_apps_WorkloadSpread_To_v1alpha1_WorkloadSpread(in *apps.WorkloadSpread, out *WorkloadSpread, s conversion.Scope) error {
	if err := autoConvert_apps_WorkloadSpread_To_v1alpha1_WorkloadSpread(in, out, s); err != nil {
		return err
	}
	stash := workloadSpreadStash{SubsetConditions: conditionGenerations(in.Status.SubsetStatuses)}
	for version, statuses := range in.Status.VersionedSubsetStatuses {
		if generations := conditionGenerations(statuses); len(generations) > 0 {
			if stash.VersionedSubsetConditions == nil {
				stash.VersionedSubsetConditions = map[string][]conditionGeneration{}
			}
			stash.VersionedSubsetConditions[version] = generations
		}
	}
	return annotationstash.Stash(&out.ObjectMeta, stash)
}

// conditionGenerations lists the non-zero observed generations of the
// conditions of statuses.
func conditionGenerations(statuses []apps.WorkloadSpreadSubsetStatus) []conditionGeneration {
	var out []conditionGeneration
	for i := range statuses {
		for _, condition := range statuses[i].Conditions {
			if condition.ObservedGeneration != 0 {
				out = append(out, conditionGeneration{
					Index:              i,
					Subset:             statuses[i].Name,
					Type:               condition.Type,
					ObservedGeneration: condition.ObservedGeneration,
				})
			}
		}
	}
	return out
}

// restoreConditionGenerations puts stashed generations back on their
// conditions; those whose subset status or condition is gone are dropped.
func restoreConditionGenerations(statuses []apps.WorkloadSpreadSubsetStatus, generations []conditionGeneration) {
	for _, g := range generations {
		status := findSubsetStatus(statuses, g.Index, g.Subset)
		if status == nil {
			continue
		}
		for j := range status.Conditions {
			if status.Conditions[j].Type == g.Type {
				status.Conditions[j].ObservedGeneration = g.ObservedGeneration
				break
			}
		}
	}
}

func findSubsetStatus(statuses []apps.WorkloadSpreadSubsetStatus, index int, name string) *apps.WorkloadSpreadSubsetStatus {
	if index >= 0 && index < len(statuses) && statuses[index].Name == name {
		return &statuses[index]
	}
	for i := range statuses {
		if statuses[i].Name == name {
			return &statuses[i]
		}
	}
	return nil
}

// v1beta1 renamed the two node selector fields of a subset.
func Convert_v1alpha1_WorkloadSpreadSubset_To_apps_WorkloadSpreadSubset(in *WorkloadSpreadSubset, out *apps.WorkloadSpreadSubset, s conversion.Scope) error {
	if err := autoConvert_v1alpha1_WorkloadSpreadSubset_To_apps_WorkloadSpreadSubset(in, out, s); err != nil {
		return err
	}
	out.RequiredNodeSelector = in.RequiredNodeSelectorTerm
	out.PreferredNodeSelector = in.PreferredNodeSelectorTerms
	return nil
}

func Convert_apps_WorkloadSpreadSubset_To_v1alpha1_WorkloadSpreadSubset(in *apps.WorkloadSpreadSubset, out *WorkloadSpreadSubset, s conversion.Scope) error {
	if err := autoConvert_apps_WorkloadSpreadSubset_To_v1alpha1_WorkloadSpreadSubset(in, out, s); err != nil {
		return err
	}
	out.RequiredNodeSelectorTerm = in.RequiredNodeSelector
	out.PreferredNodeSelectorTerms = in.PreferredNodeSelector
	return nil
}

// The hub, like v1beta1, holds subset conditions as metav1.Condition. The
// conversion keeps every field as it is, an empty reason included (OpenKruise's
// own conversion writes "Unknown" there, which would not convert back);
// observedGeneration is stashed by the WorkloadSpread conversion.
func Convert_v1alpha1_WorkloadSpreadSubsetCondition_To_v1_Condition(in *WorkloadSpreadSubsetCondition, out *metav1.Condition, s conversion.Scope) error {
	*out = metav1.Condition{
		Type:               string(in.Type),
		Status:             metav1.ConditionStatus(in.Status),
		LastTransitionTime: in.LastTransitionTime,
		Reason:             in.Reason,
		Message:            in.Message,
	}
	return nil
}

func Convert_v1_Condition_To_v1alpha1_WorkloadSpreadSubsetCondition(in *metav1.Condition, out *WorkloadSpreadSubsetCondition, s conversion.Scope) error {
	*out = WorkloadSpreadSubsetCondition{
		Type:               WorkloadSpreadSubsetConditionType(in.Type),
		Status:             corev1.ConditionStatus(in.Status),
		LastTransitionTime: in.LastTransitionTime,
		Reason:             in.Reason,
		Message:            in.Message,
	}
	return nil
}

// conversion-gen converts a map only when its values convert by a single
// call; the subset status lists of versionedSubsetStatuses get these.
func Convert_v1alpha1_WorkloadSpreadSubsetStatuses_To_Slice_apps_WorkloadSpreadSubsetStatus(in *WorkloadSpreadSubsetStatuses, out *[]apps.WorkloadSpreadSubsetStatus, s conversion.Scope) error {
	return Convert_Slice_v1alpha1_WorkloadSpreadSubsetStatus_To_Slice_apps_WorkloadSpreadSubsetStatus((*[]WorkloadSpreadSubsetStatus)(in), out, s)
}

func Convert_Slice_apps_WorkloadSpreadSubsetStatus_To_v1alpha1_WorkloadSpreadSubsetStatuses(in *[]apps.WorkloadSpreadSubsetStatus, out *WorkloadSpreadSubsetStatuses, s conversion.Scope) error {
	return Convert_Slice_apps_WorkloadSpreadSubsetStatus_To_Slice_v1alpha1_WorkloadSpreadSubsetStatus(in, (*[]WorkloadSpreadSubsetStatus)(out), s)
}

func Convert_Slice_v1alpha1_WorkloadSpreadSubsetStatus_To_Slice_apps_WorkloadSpreadSubsetStatus(in *[]WorkloadSpreadSubsetStatus, out *[]apps.WorkloadSpreadSubsetStatus, s conversion.Scope) error {
	if *in == nil {
		*out = nil
		return nil
	}
	*out = make([]apps.WorkloadSpreadSubsetStatus, len(*in))
	for i := range *in {
		if err := Convert_v1alpha1_WorkloadSpreadSubsetStatus_To_apps_WorkloadSpreadSubsetStatus(&(*in)[i], &(*out)[i], s); err != nil {
			return err
		}
	}
	return nil
}

func Convert_Slice_apps_WorkloadSpreadSubsetStatus_To_Slice_v1alpha1_WorkloadSpreadSubsetStatus(in *[]apps.WorkloadSpreadSubsetStatus, out *[]WorkloadSpreadSubsetStatus, s conversion.Scope) error {
	if *in == nil {
		*out = nil
		return nil
	}
	*out = make([]WorkloadSpreadSubsetStatus, len(*in))
	for i := range *in {
		if err := Convert_apps_WorkloadSpreadSubsetStatus_To_v1alpha1_WorkloadSpreadSubsetStatus(&(*in)[i], &(*out)[i], s); err != nil {
			return err
		}
	}
	return nil
}
