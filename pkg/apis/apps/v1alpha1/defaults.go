package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func addDefaultingFuncs(scheme *runtime.Scheme) error {
	return RegisterDefaults(scheme)
}

// SetDefaults_CloneSet applies OpenKruise's v1alpha1 CloneSet defaults.
func SetDefaults_CloneSet(obj *CloneSet) {
	spec := &obj.Spec
	if spec.Replicas == nil {
		spec.Replicas = ptr.To[int32](1)
	}
	if spec.RevisionHistoryLimit == nil {
		spec.RevisionHistoryLimit = ptr.To[int32](10)
	}
	strategy := &spec.UpdateStrategy
	switch strategy.Type {
	case "":
		strategy.Type = RecreateCloneSetUpdateStrategyType
	case InPlaceIfPossibleCloneSetUpdateStrategyType, InPlaceOnlyCloneSetUpdateStrategyType:
		if strategy.InPlaceUpdateStrategy == nil {
			strategy.InPlaceUpdateStrategy = &InPlaceUpdateStrategy{}
		}
	}
	if strategy.Partition == nil {
		strategy.Partition = ptr.To(intstr.FromInt32(0))
	}
	if strategy.MaxUnavailable == nil {
		strategy.MaxUnavailable = ptr.To(intstr.FromString(DefaultCloneSetMaxUnavailable))
	}
	if strategy.MaxSurge == nil {
		strategy.MaxSurge = ptr.To(intstr.FromInt32(0))
	}
}
