package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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

// SetDefaults_ImagePullJob applies OpenKruise's ImagePullJob defaults. The
// deletion-protection finalizer that OpenKruise's webhook also adds on create
// is left to the controller.
func SetDefaults_ImagePullJob(obj *ImagePullJob) {
	setDefaultsImagePullJobTemplate(&obj.Spec.ImagePullJobTemplate)
	if obj.Spec.ImagePullPolicy == "" {
		obj.Spec.ImagePullPolicy = PullIfNotPresent
	}
}

// SetDefaults_ImageListPullJob applies OpenKruise's ImageListPullJob
// defaults: those of ImagePullJob but imagePullPolicy, which each
// ImagePullJob made from the list defaults for itself.
func SetDefaults_ImageListPullJob(obj *ImageListPullJob) {
	setDefaultsImagePullJobTemplate(&obj.Spec.ImagePullJobTemplate)
}

// setDefaultsImagePullJobTemplate leaves a missing completionPolicy missing,
// for validation to report it as required.
func setDefaultsImagePullJobTemplate(template *ImagePullJobTemplate) {
	if template.CompletionPolicy != nil && template.CompletionPolicy.Type == "" {
		template.CompletionPolicy.Type = Always
	}
	if template.PullPolicy == nil {
		template.PullPolicy = &PullPolicy{}
	}
	if template.PullPolicy.TimeoutSeconds == nil {
		template.PullPolicy.TimeoutSeconds = ptr.To[int32](DefaultImagePullTimeoutSeconds)
	}
	if template.PullPolicy.BackoffLimit == nil {
		template.PullPolicy.BackoffLimit = ptr.To[int32](DefaultImagePullBackoffLimit)
	}
}

// SetDefaults_NodeImage gives every tag a creation time (now, to the second,
// as it will be stored) and a pull policy.
func SetDefaults_NodeImage(obj *NodeImage) {
	for _, image := range obj.Spec.Images {
		for i := range image.Tags {
			tag := &image.Tags[i]
			if tag.CreatedAt == nil {
				now := metav1.Now().Rfc3339Copy()
				tag.CreatedAt = &now
			}
			if tag.PullPolicy == nil {
				tag.PullPolicy = &ImageTagPullPolicy{}
			}
			SetDefaults_ImageTagPullPolicy(tag.PullPolicy)
		}
	}
}

// SetDefaults_ImageTagPullPolicy applies the timeout and retry defaults of a pull.
func SetDefaults_ImageTagPullPolicy(obj *ImageTagPullPolicy) {
	if obj.TimeoutSeconds == nil {
		obj.TimeoutSeconds = ptr.To[int32](DefaultImagePullTimeoutSeconds)
	}
	if obj.BackoffLimit == nil {
		obj.BackoffLimit = ptr.To[int32](DefaultImagePullBackoffLimit)
	}
}

// SetDefaults_StatefulSet applies OpenKruise's v1beta1 Advanced StatefulSet
// defaults, with its feature gates at their defaults: the PVC retention
// policy is filled in (StatefulSetAutoDeletePVC is on by default) and
// volumeClaimUpdateStrategy is not (StatefulSetAutoResizePVCGate is off).
func SetDefaults_StatefulSet(obj *StatefulSet) {
	spec := &obj.Spec
	if spec.PodManagementPolicy == "" {
		spec.PodManagementPolicy = OrderedReadyPodManagement
	}
	strategy := &spec.UpdateStrategy
	if strategy.Type == "" {
		strategy.Type = RollingUpdateStatefulSetStrategyType
	}
	if strategy.Type == RollingUpdateStatefulSetStrategyType {
		if strategy.RollingUpdate == nil {
			strategy.RollingUpdate = &RollingUpdateStatefulSetStrategy{}
		}
		rollingUpdate := strategy.RollingUpdate
		if rollingUpdate.Partition == nil {
			rollingUpdate.Partition = ptr.To[int32](0)
		}
		if rollingUpdate.MaxUnavailable == nil {
			rollingUpdate.MaxUnavailable = ptr.To(intstr.FromInt32(1))
		}
		if rollingUpdate.PodUpdatePolicy == "" {
			rollingUpdate.PodUpdatePolicy = RecreatePodUpdateStrategyType
		}
		if rollingUpdate.MinReadySeconds == nil {
			rollingUpdate.MinReadySeconds = ptr.To[int32](0)
		}
	}
	if spec.PersistentVolumeClaimRetentionPolicy == nil {
		spec.PersistentVolumeClaimRetentionPolicy = &StatefulSetPersistentVolumeClaimRetentionPolicy{}
	}
	policy := spec.PersistentVolumeClaimRetentionPolicy
	if policy.WhenDeleted == "" {
		policy.WhenDeleted = RetainPersistentVolumeClaimRetentionPolicyType
	}
	if policy.WhenScaled == "" {
		policy.WhenScaled = RetainPersistentVolumeClaimRetentionPolicyType
	}
	if spec.Replicas == nil {
		spec.Replicas = ptr.To[int32](1)
	}
	if spec.RevisionHistoryLimit == nil {
		spec.RevisionHistoryLimit = ptr.To[int32](10)
	}
}
