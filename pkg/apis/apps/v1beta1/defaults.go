package v1beta1

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func addDefaultingFuncs(scheme *runtime.Scheme) error {
	return RegisterDefaults(scheme)
}

// SetDefaults_CloneSet applies OpenKruise's v1beta1 CloneSet defaults, with
// one difference: rollingUpdate is filled in for OnDelete CloneSets too
// (partition, maxUnavailable and maxSurge; podUpdatePolicy stays as given).
// v1alpha1 always defaults those fields, whatever the type, so without this a
// v1beta1 OnDelete CloneSet written back through v1alpha1 would come back with
// a rollingUpdate it never had.
func SetDefaults_CloneSet(obj *CloneSet) {
	spec := &obj.Spec
	if spec.Replicas == nil {
		spec.Replicas = ptr.To[int32](1)
	}
	if spec.RevisionHistoryLimit == nil {
		spec.RevisionHistoryLimit = ptr.To[int32](10)
	}
	strategy := &spec.UpdateStrategy
	if strategy.Type == "" {
		strategy.Type = RollingUpdateCloneSetUpdateStrategyType
	}
	if strategy.RollingUpdate == nil {
		strategy.RollingUpdate = &RollingUpdateCloneSetStrategy{}
	}
	rollingUpdate := strategy.RollingUpdate
	if strategy.Type == RollingUpdateCloneSetUpdateStrategyType && rollingUpdate.PodUpdatePolicy == "" {
		rollingUpdate.PodUpdatePolicy = RecreateCloneSetPodUpdateStrategyType
	}
	switch rollingUpdate.PodUpdatePolicy {
	case InPlaceIfPossibleCloneSetPodUpdateStrategyType, InPlaceOnlyCloneSetPodUpdateStrategyType:
		if rollingUpdate.InPlaceUpdateStrategy == nil {
			rollingUpdate.InPlaceUpdateStrategy = &InPlaceUpdateStrategy{}
		}
	}
	if rollingUpdate.Partition == nil {
		rollingUpdate.Partition = ptr.To(intstr.FromInt32(0))
	}
	if rollingUpdate.MaxUnavailable == nil {
		rollingUpdate.MaxUnavailable = ptr.To(intstr.FromString(DefaultCloneSetMaxUnavailable))
	}
	if rollingUpdate.MaxSurge == nil {
		rollingUpdate.MaxSurge = ptr.To(intstr.FromInt32(0))
	}
}
