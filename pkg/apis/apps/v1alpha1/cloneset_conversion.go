package v1alpha1

import (
	"k8s.io/apimachinery/pkg/conversion"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/annotationstash"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
)

// cloneSetStash is what the hub's CloneSet holds that v1alpha1 cannot express.
// It only ever exists as JSON in an annotation: no OpenAPI, no deepcopy.
// +k8s:openapi-gen=false
// +k8s:deepcopy-gen=false
type cloneSetStash struct {
	// PodUpdatePolicy of an OnDelete CloneSet: v1alpha1 has a single type
	// field, taken by OnDelete.
	PodUpdatePolicy apps.CloneSetPodUpdateStrategyType `json:"podUpdatePolicy,omitempty"`
	// ExcludePreparingDelete has no v1alpha1 field. (The v1alpha1-era label
	// apps.kruise.io/cloneset-scaling-exclude-preparing-delete is left alone
	// as a label; the controller honours either.)
	ExcludePreparingDelete bool `json:"excludePreparingDelete,omitempty"`
}

func Convert_v1alpha1_CloneSet_To_apps_CloneSet(in *CloneSet, out *apps.CloneSet, s conversion.Scope) error {
	if err := autoConvert_v1alpha1_CloneSet_To_apps_CloneSet(in, out, s); err != nil {
		return err
	}
	var stash cloneSetStash
	if !annotationstash.Restore(&out.ObjectMeta, &stash) {
		return nil
	}
	out.Spec.ScaleStrategy.ExcludePreparingDelete = stash.ExcludePreparingDelete
	strategy := &out.Spec.UpdateStrategy
	if strategy.Type == apps.OnDeleteCloneSetUpdateStrategyType && stash.PodUpdatePolicy != "" {
		if strategy.RollingUpdate == nil {
			strategy.RollingUpdate = &apps.RollingUpdateCloneSetStrategy{}
		}
		strategy.RollingUpdate.PodUpdatePolicy = stash.PodUpdatePolicy
	}
	return nil
}

func Convert_apps_CloneSet_To_v1alpha1_CloneSet(in *apps.CloneSet, out *CloneSet, s conversion.Scope) error {
	if err := autoConvert_apps_CloneSet_To_v1alpha1_CloneSet(in, out, s); err != nil {
		return err
	}
	stash := cloneSetStash{ExcludePreparingDelete: in.Spec.ScaleStrategy.ExcludePreparingDelete}
	if in.Spec.UpdateStrategy.Type == apps.OnDeleteCloneSetUpdateStrategyType && in.Spec.UpdateStrategy.RollingUpdate != nil {
		stash.PodUpdatePolicy = in.Spec.UpdateStrategy.RollingUpdate.PodUpdatePolicy
	}
	return annotationstash.Stash(&out.ObjectMeta, stash)
}

func Convert_v1alpha1_CloneSetScaleStrategy_To_apps_CloneSetScaleStrategy(in *CloneSetScaleStrategy, out *apps.CloneSetScaleStrategy, s conversion.Scope) error {
	if err := autoConvert_v1alpha1_CloneSetScaleStrategy_To_apps_CloneSetScaleStrategy(in, out, s); err != nil {
		return err
	}
	out.EnablePVCReuse = !in.DisablePVCReuse
	return nil
}

func Convert_apps_CloneSetScaleStrategy_To_v1alpha1_CloneSetScaleStrategy(in *apps.CloneSetScaleStrategy, out *CloneSetScaleStrategy, s conversion.Scope) error {
	if err := autoConvert_apps_CloneSetScaleStrategy_To_v1alpha1_CloneSetScaleStrategy(in, out, s); err != nil {
		return err
	}
	out.DisablePVCReuse = !in.EnablePVCReuse
	return nil
}

// v1alpha1 keeps the rollout parameters beside a type that says how each Pod
// is updated; the hub, like v1beta1, nests them under rollingUpdate and moves
// that type to rollingUpdate.podUpdatePolicy, leaving type for
// RollingUpdate/OnDelete.
func Convert_v1alpha1_CloneSetUpdateStrategy_To_apps_CloneSetUpdateStrategy(in *CloneSetUpdateStrategy, out *apps.CloneSetUpdateStrategy, s conversion.Scope) error {
	rollingUpdate := &apps.RollingUpdateCloneSetStrategy{
		Partition:      in.Partition,
		MaxUnavailable: in.MaxUnavailable,
		MaxSurge:       in.MaxSurge,
		Paused:         in.Paused,
	}
	if in.PriorityStrategy != nil {
		rollingUpdate.PriorityStrategy = &apps.UpdatePriorityStrategy{}
		if err := Convert_v1alpha1_UpdatePriorityStrategy_To_apps_UpdatePriorityStrategy(in.PriorityStrategy, rollingUpdate.PriorityStrategy, s); err != nil {
			return err
		}
	}
	if in.ScatterStrategy != nil {
		rollingUpdate.ScatterStrategy = make(apps.UpdateScatterStrategy, len(in.ScatterStrategy))
		for i := range in.ScatterStrategy {
			rollingUpdate.ScatterStrategy[i] = apps.UpdateScatterTerm{Key: in.ScatterStrategy[i].Key, Value: in.ScatterStrategy[i].Value}
		}
	}
	if in.InPlaceUpdateStrategy != nil {
		rollingUpdate.InPlaceUpdateStrategy = &apps.InPlaceUpdateStrategy{}
		if err := Convert_v1alpha1_InPlaceUpdateStrategy_To_apps_InPlaceUpdateStrategy(in.InPlaceUpdateStrategy, rollingUpdate.InPlaceUpdateStrategy, s); err != nil {
			return err
		}
	}

	if in.Type == OnDeleteCloneSetUpdateStrategyType {
		out.Type = apps.OnDeleteCloneSetUpdateStrategyType
		if isEmptyRollingUpdate(rollingUpdate) {
			rollingUpdate = nil
		}
	} else {
		out.Type = apps.RollingUpdateCloneSetUpdateStrategyType
		rollingUpdate.PodUpdatePolicy = apps.CloneSetPodUpdateStrategyType(in.Type)
	}
	out.RollingUpdate = rollingUpdate
	return nil
}

func Convert_apps_CloneSetUpdateStrategy_To_v1alpha1_CloneSetUpdateStrategy(in *apps.CloneSetUpdateStrategy, out *CloneSetUpdateStrategy, s conversion.Scope) error {
	*out = CloneSetUpdateStrategy{}
	rollingUpdate := in.RollingUpdate
	if in.Type == apps.OnDeleteCloneSetUpdateStrategyType {
		// The pod update policy of an OnDelete CloneSet goes to the stash
		// (see Convert_apps_CloneSet_To_v1alpha1_CloneSet).
		out.Type = OnDeleteCloneSetUpdateStrategyType
	} else if rollingUpdate != nil {
		out.Type = CloneSetUpdateStrategyType(rollingUpdate.PodUpdatePolicy)
	}
	if rollingUpdate == nil {
		return nil
	}
	out.Partition = rollingUpdate.Partition
	out.MaxUnavailable = rollingUpdate.MaxUnavailable
	out.MaxSurge = rollingUpdate.MaxSurge
	out.Paused = rollingUpdate.Paused
	if rollingUpdate.PriorityStrategy != nil {
		out.PriorityStrategy = &UpdatePriorityStrategy{}
		if err := Convert_apps_UpdatePriorityStrategy_To_v1alpha1_UpdatePriorityStrategy(rollingUpdate.PriorityStrategy, out.PriorityStrategy, s); err != nil {
			return err
		}
	}
	if rollingUpdate.ScatterStrategy != nil {
		out.ScatterStrategy = make(UpdateScatterStrategy, len(rollingUpdate.ScatterStrategy))
		for i := range rollingUpdate.ScatterStrategy {
			out.ScatterStrategy[i] = UpdateScatterTerm{Key: rollingUpdate.ScatterStrategy[i].Key, Value: rollingUpdate.ScatterStrategy[i].Value}
		}
	}
	if rollingUpdate.InPlaceUpdateStrategy != nil {
		out.InPlaceUpdateStrategy = &InPlaceUpdateStrategy{}
		if err := Convert_apps_InPlaceUpdateStrategy_To_v1alpha1_InPlaceUpdateStrategy(rollingUpdate.InPlaceUpdateStrategy, out.InPlaceUpdateStrategy, s); err != nil {
			return err
		}
	}
	return nil
}

func isEmptyRollingUpdate(r *apps.RollingUpdateCloneSetStrategy) bool {
	return r.Partition == nil && r.MaxUnavailable == nil && r.MaxSurge == nil && !r.Paused &&
		r.PriorityStrategy == nil && r.ScatterStrategy == nil && r.InPlaceUpdateStrategy == nil &&
		r.PodUpdatePolicy == ""
}
