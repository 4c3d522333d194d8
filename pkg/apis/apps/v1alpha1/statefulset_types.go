package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

const (
	// MaxMinReadySeconds caps rollingUpdate.minReadySeconds of a StatefulSet.
	MaxMinReadySeconds = 300
)

// +genclient
// +genclient:method=GetScale,verb=get,subresource=scale,result=k8s.io/api/autoscaling/v1.Scale
// +genclient:method=UpdateScale,verb=update,subresource=scale,input=k8s.io/api/autoscaling/v1.Scale,result=k8s.io/api/autoscaling/v1.Scale
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// StatefulSet (Advanced StatefulSet) runs Pods with stable names and storage,
// like apps/v1 StatefulSet, plus in-place update, parallel rollouts, reserved
// ordinals and lifecycle hooks.
type StatefulSet struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec StatefulSetSpec `json:"spec,omitempty"`
	// +optional
	Status StatefulSetStatus `json:"status,omitempty"`
}

// StatefulSetSpec is the desired state of a StatefulSet.
type StatefulSetSpec struct {
	// Replicas is the desired number of Pods. Defaults to 1.
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`

	// Selector selects the Pods this StatefulSet owns; it must match the
	// template's labels and cannot change.
	Selector *metav1.LabelSelector `json:"selector"`

	// Template is the Pod every replica is made from; each Pod also gets its
	// own ordinal-based identity.
	Template corev1.PodTemplateSpec `json:"template"`

	// VolumeClaimTemplates are PVCs created for each Pod, named
	// <template>-<pod>, and kept across the Pod's restarts and replacements.
	// +optional
	// +listType=atomic
	VolumeClaimTemplates []corev1.PersistentVolumeClaim `json:"volumeClaimTemplates,omitempty"`

	// ServiceName is the headless Service that gives the Pods their DNS names
	// (<pod>.<serviceName>.<namespace>.svc); it becomes each Pod's subdomain.
	// +optional
	ServiceName string `json:"serviceName,omitempty"`

	// PodManagementPolicy is OrderedReady (default: one Pod at a time, in
	// ordinal order, each waiting for the previous to be ready) or Parallel.
	// +optional
	PodManagementPolicy PodManagementPolicyType `json:"podManagementPolicy,omitempty"`

	// UpdateStrategy tunes how Pods move to a new revision of the template.
	// +optional
	UpdateStrategy StatefulSetUpdateStrategy `json:"updateStrategy,omitempty"`

	// RevisionHistoryLimit is how many old ControllerRevisions are kept. Defaults to 10.
	// +optional
	RevisionHistoryLimit *int32 `json:"revisionHistoryLimit,omitempty"`
}

// PodManagementPolicyType is how Pods are created and deleted when scaling.
// +enum
type PodManagementPolicyType string

const (
	// OrderedReadyPodManagement creates Pods one at a time in ordinal order,
	// each once the previous is ready, and deletes them in reverse (the default).
	OrderedReadyPodManagement PodManagementPolicyType = "OrderedReady"
	// ParallelPodManagement creates and deletes Pods without waiting.
	ParallelPodManagement PodManagementPolicyType = "Parallel"
)

// StatefulSetUpdateStrategyType is how a StatefulSet rolls out a new revision.
// +enum
type StatefulSetUpdateStrategyType string

const (
	// RollingUpdateStatefulSetStrategyType replaces Pods in order (the default).
	RollingUpdateStatefulSetStrategyType StatefulSetUpdateStrategyType = "RollingUpdate"
	// OnDeleteStatefulSetStrategyType leaves Pods alone until they are deleted.
	OnDeleteStatefulSetStrategyType StatefulSetUpdateStrategyType = "OnDelete"
)

// StatefulSetUpdateStrategy tunes updates.
type StatefulSetUpdateStrategy struct {
	// Type is RollingUpdate (default) or OnDelete.
	// +optional
	Type StatefulSetUpdateStrategyType `json:"type,omitempty"`
	// RollingUpdate holds the rollout parameters; only for RollingUpdate.
	// +optional
	RollingUpdate *RollingUpdateStatefulSetStrategy `json:"rollingUpdate,omitempty"`
}

// RollingUpdateStatefulSetStrategy holds rolling update parameters.
type RollingUpdateStatefulSetStrategy struct {
	// Partition keeps Pods at old revisions: those below this ordinal (with
	// unorderedUpdate: this many Pods). v1beta1 carries the same value.
	// Defaults to 0.
	// +optional
	Partition *int32 `json:"partition,omitempty"`
	// MaxUnavailable is how many Pods may be unavailable during the update
	// (percentages round down, but never below 1). Anything but 1 needs the
	// Parallel pod management policy. Defaults to 1.
	// +optional
	MaxUnavailable *intstr.IntOrString `json:"maxUnavailable,omitempty"`
	// PodUpdatePolicy is how each Pod is updated. Defaults to ReCreate.
	// +optional
	PodUpdatePolicy PodUpdateStrategyType `json:"podUpdatePolicy,omitempty"`
	// Paused stops the update where it is.
	// +optional
	Paused bool `json:"paused,omitempty"`
	// UnorderedUpdate, when set, updates Pods by priority rather than by
	// ordinal; it needs the Parallel pod management policy.
	// +optional
	UnorderedUpdate *UnorderedUpdateStrategy `json:"unorderedUpdate,omitempty"`
	// InPlaceUpdateStrategy tunes in-place updates.
	// +optional
	InPlaceUpdateStrategy *InPlaceUpdateStrategy `json:"inPlaceUpdateStrategy,omitempty"`
	// MinReadySeconds is how long an updated Pod must be ready before it
	// counts as available, 0 to 300. Defaults to 0.
	// +optional
	MinReadySeconds *int32 `json:"minReadySeconds,omitempty"`
}

// UnorderedUpdateStrategy orders an update by priority instead of ordinal.
type UnorderedUpdateStrategy struct {
	// PriorityStrategy weighs or orders the Pods to update.
	// +optional
	PriorityStrategy *UpdatePriorityStrategy `json:"priorityStrategy,omitempty"`
}

// PodUpdateStrategyType is how one Pod is moved to a new revision.
// +enum
type PodUpdateStrategyType string

const (
	// RecreatePodUpdateStrategyType deletes the Pod and creates a new one (the default).
	RecreatePodUpdateStrategyType PodUpdateStrategyType = "ReCreate"
	// InPlaceIfPossiblePodUpdateStrategyType updates the Pod in place when
	// only in-place-updatable fields changed, and recreates it otherwise.
	InPlaceIfPossiblePodUpdateStrategyType PodUpdateStrategyType = "InPlaceIfPossible"
	// InPlaceOnlyPodUpdateStrategyType always updates in place; only image
	// changes are then allowed in the template.
	InPlaceOnlyPodUpdateStrategyType PodUpdateStrategyType = "InPlaceOnly"
)

// StatefulSetStatus is the observed state of a StatefulSet.
type StatefulSetStatus struct {
	// ObservedGeneration is the generation the controller last acted on.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Replicas is the number of Pods the StatefulSet has.
	Replicas int32 `json:"replicas"`
	// ReadyReplicas is the number of Pods with a Ready condition.
	ReadyReplicas int32 `json:"readyReplicas"`
	// AvailableReplicas is the number of Pods ready for at least minReadySeconds.
	AvailableReplicas int32 `json:"availableReplicas"`
	// CurrentReplicas is the number of Pods at currentRevision.
	CurrentReplicas int32 `json:"currentReplicas"`
	// UpdatedReplicas is the number of Pods at updateRevision.
	UpdatedReplicas int32 `json:"updatedReplicas"`
	// CurrentRevision is the revision the Pods below currentReplicas were made from.
	// +optional
	CurrentRevision string `json:"currentRevision,omitempty"`
	// UpdateRevision is the name of the newest ControllerRevision.
	// +optional
	UpdateRevision string `json:"updateRevision,omitempty"`
	// CollisionCount counts hash collisions of revision names.
	// +optional
	CollisionCount *int32 `json:"collisionCount,omitempty"`
	// Conditions are the latest observations of the StatefulSet's state.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +patchMergeKey=type
	// +patchStrategy=merge
	Conditions []StatefulSetCondition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`
	// LabelSelector is spec.selector in string form, for the /scale subresource and HPAs.
	// +optional
	LabelSelector string `json:"labelSelector,omitempty"`
}

// StatefulSetConditionType is a kind of StatefulSet condition.
type StatefulSetConditionType string

const (
	// FailedCreatePod means the controller failed to create a Pod.
	FailedCreatePod StatefulSetConditionType = "FailedCreatePod"
	// FailedUpdatePod means the controller failed to update a Pod.
	FailedUpdatePod StatefulSetConditionType = "FailedUpdatePod"
)

// StatefulSetCondition is one observation of a StatefulSet's state (the
// shape of apps/v1 StatefulSetCondition).
type StatefulSetCondition struct {
	// Type of the condition.
	Type StatefulSetConditionType `json:"type"`
	// Status is True, False or Unknown.
	Status corev1.ConditionStatus `json:"status"`
	// LastTransitionTime is when the status last changed.
	// +optional
	LastTransitionTime metav1.Time `json:"lastTransitionTime,omitempty"`
	// Reason is a machine-readable reason for the last transition.
	// +optional
	Reason string `json:"reason,omitempty"`
	// Message is a human-readable explanation.
	// +optional
	Message string `json:"message,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// StatefulSetList is a list of StatefulSets.
type StatefulSetList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []StatefulSet `json:"items"`
}
