package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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

// SetDefaults_StatefulSet applies OpenKruise's Advanced StatefulSet defaults
// to the fields v1alpha1 has. The PVC retention policy, which v1alpha1 has
// no field for, is defaulted on conversion to the hub instead (see
// Convert_v1alpha1_StatefulSet_To_apps_StatefulSet).
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
	if spec.Replicas == nil {
		spec.Replicas = ptr.To[int32](1)
	}
	if spec.RevisionHistoryLimit == nil {
		spec.RevisionHistoryLimit = ptr.To[int32](10)
	}
}
