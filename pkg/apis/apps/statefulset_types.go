package apps

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

const (
	// MaxMinReadySeconds caps rollingUpdate.minReadySeconds of a StatefulSet.
	MaxMinReadySeconds = 300
)

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// StatefulSet (Advanced StatefulSet) runs Pods with stable names and storage,
// like apps/v1 StatefulSet, plus in-place update, parallel rollouts, reserved
// ordinals and lifecycle hooks.
type StatefulSet struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   StatefulSetSpec   `json:"spec,omitempty"`
	Status StatefulSetStatus `json:"status,omitempty"`
}

// StatefulSetSpec is the desired state of a StatefulSet.
type StatefulSetSpec struct {
	// Replicas is the desired number of Pods. Defaults to 1.
	Replicas *int32 `json:"replicas,omitempty"`

	// Selector selects the Pods this StatefulSet owns; it must match the
	// template's labels and cannot change.
	Selector *metav1.LabelSelector `json:"selector"`

	// Template is the Pod every replica is made from; each Pod also gets its
	// own ordinal-based identity.
	Template corev1.PodTemplateSpec `json:"template"`

	// VolumeClaimTemplates are PVCs created for each Pod, named
	// <template>-<pod>, and kept across the Pod's restarts and replacements.
	VolumeClaimTemplates []corev1.PersistentVolumeClaim `json:"volumeClaimTemplates,omitempty"`

	// VolumeClaimUpdateStrategy says when changes to volumeClaimTemplates
	// reach existing PVCs.
	VolumeClaimUpdateStrategy VolumeClaimUpdateStrategy `json:"volumeClaimUpdateStrategy,omitempty"`

	// ServiceName is the headless Service that gives the Pods their DNS names
	// (<pod>.<serviceName>.<namespace>.svc); it becomes each Pod's subdomain.
	ServiceName string `json:"serviceName,omitempty"`

	// PodManagementPolicy is OrderedReady (default: one Pod at a time, in
	// ordinal order, each waiting for the previous to be ready) or Parallel.
	PodManagementPolicy PodManagementPolicyType `json:"podManagementPolicy,omitempty"`

	// UpdateStrategy tunes how Pods move to a new revision of the template.
	UpdateStrategy StatefulSetUpdateStrategy `json:"updateStrategy,omitempty"`

	// RevisionHistoryLimit is how many old ControllerRevisions are kept. Defaults to 10.
	RevisionHistoryLimit *int32 `json:"revisionHistoryLimit,omitempty"`

	// ReserveOrdinals are ordinals no Pod may use; replicas still counts the
	// Pods that run, so reserving an ordinal moves its Pod to a new one.
	// Entries are integers or inclusive ranges "a-b".
	ReserveOrdinals []intstr.IntOrString `json:"reserveOrdinals,omitempty"`

	// Lifecycle holds the hooks around a Pod's creation, update and deletion.
	Lifecycle *Lifecycle `json:"lifecycle,omitempty"`

	// ScaleStrategy tunes scaling.
	ScaleStrategy *StatefulSetScaleStrategy `json:"scaleStrategy,omitempty"`

	// PersistentVolumeClaimRetentionPolicy says whether the PVCs made from
	// volumeClaimTemplates are deleted with the StatefulSet or on scale-in.
	// Defaults to Retain for both.
	PersistentVolumeClaimRetentionPolicy *StatefulSetPersistentVolumeClaimRetentionPolicy `json:"persistentVolumeClaimRetentionPolicy,omitempty"`

	// Ordinals sets the first ordinal; unset means 0.
	Ordinals *StatefulSetOrdinals `json:"ordinals,omitempty"`
}

// PodManagementPolicyType is how Pods are created and deleted when scaling.
type PodManagementPolicyType string

const (
	// OrderedReadyPodManagement creates Pods one at a time in ordinal order,
	// each once the previous is ready, and deletes them in reverse (the default).
	OrderedReadyPodManagement PodManagementPolicyType = "OrderedReady"
	// ParallelPodManagement creates and deletes Pods without waiting.
	ParallelPodManagement PodManagementPolicyType = "Parallel"
)

// StatefulSetUpdateStrategyType is how a StatefulSet rolls out a new revision.
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
	Type StatefulSetUpdateStrategyType `json:"type,omitempty"`
	// RollingUpdate holds the rollout parameters; only for RollingUpdate.
	RollingUpdate *RollingUpdateStatefulSetStrategy `json:"rollingUpdate,omitempty"`
}

// RollingUpdateStatefulSetStrategy holds rolling update parameters.
type RollingUpdateStatefulSetStrategy struct {
	// Partition is how many Pods stay at old revisions: the controller
	// updates replicas minus partition of them. Defaults to 0.
	Partition *int32 `json:"partition,omitempty"`
	// MaxUnavailable is how many Pods may be unavailable during the update
	// (percentages round down, but never below 1). Anything but 1 needs the
	// Parallel pod management policy. Defaults to 1.
	MaxUnavailable *intstr.IntOrString `json:"maxUnavailable,omitempty"`
	// PodUpdatePolicy is how each Pod is updated. Defaults to ReCreate.
	PodUpdatePolicy PodUpdateStrategyType `json:"podUpdatePolicy,omitempty"`
	// Paused stops the update where it is.
	Paused bool `json:"paused,omitempty"`
	// UnorderedUpdate, when set, updates Pods by priority rather than by
	// ordinal; it needs the Parallel pod management policy.
	UnorderedUpdate *UnorderedUpdateStrategy `json:"unorderedUpdate,omitempty"`
	// InPlaceUpdateStrategy tunes in-place updates.
	InPlaceUpdateStrategy *InPlaceUpdateStrategy `json:"inPlaceUpdateStrategy,omitempty"`
	// MinReadySeconds is how long an updated Pod must be ready before it
	// counts as available, 0 to 300. Defaults to 0.
	MinReadySeconds *int32 `json:"minReadySeconds,omitempty"`
}

// UnorderedUpdateStrategy orders an update by priority instead of ordinal.
type UnorderedUpdateStrategy struct {
	// PriorityStrategy weighs or orders the Pods to update.
	PriorityStrategy *UpdatePriorityStrategy `json:"priorityStrategy,omitempty"`
}

// PodUpdateStrategyType is how one Pod is moved to a new revision.
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

// VolumeClaimUpdateStrategyType is when volumeClaimTemplates changes reach PVCs.
type VolumeClaimUpdateStrategyType string

const (
	// OnPodRollingUpdateVolumeClaimUpdateStrategyType updates a Pod's PVCs
	// as the Pod itself is rolled; templates may then only grow in size.
	OnPodRollingUpdateVolumeClaimUpdateStrategyType VolumeClaimUpdateStrategyType = "OnPodRollingUpdate"
	// OnPVCDeleteVolumeClaimUpdateStrategyType applies changes only to PVCs
	// created after the user deletes the old ones.
	OnPVCDeleteVolumeClaimUpdateStrategyType VolumeClaimUpdateStrategyType = "OnDelete"
)

// VolumeClaimUpdateStrategy says when volumeClaimTemplates changes reach PVCs.
type VolumeClaimUpdateStrategy struct {
	// Type is OnPodRollingUpdate or OnDelete.
	Type VolumeClaimUpdateStrategyType `json:"type,omitempty"`
}

// PersistentVolumeClaimRetentionPolicyType is what happens to PVCs made from
// volumeClaimTemplates.
type PersistentVolumeClaimRetentionPolicyType string

const (
	// RetainPersistentVolumeClaimRetentionPolicyType keeps the PVCs (the default).
	RetainPersistentVolumeClaimRetentionPolicyType PersistentVolumeClaimRetentionPolicyType = "Retain"
	// DeletePersistentVolumeClaimRetentionPolicyType deletes them.
	DeletePersistentVolumeClaimRetentionPolicyType PersistentVolumeClaimRetentionPolicyType = "Delete"
)

// StatefulSetPersistentVolumeClaimRetentionPolicy says what happens to the
// PVCs when the StatefulSet is deleted and when it scales in.
type StatefulSetPersistentVolumeClaimRetentionPolicy struct {
	// WhenDeleted applies when the StatefulSet is deleted.
	WhenDeleted PersistentVolumeClaimRetentionPolicyType `json:"whenDeleted,omitempty"`
	// WhenScaled applies to the PVCs of Pods removed by a scale-in.
	WhenScaled PersistentVolumeClaimRetentionPolicyType `json:"whenScaled,omitempty"`
}

// StatefulSetOrdinals sets how replicas are numbered.
type StatefulSetOrdinals struct {
	// Start is the first ordinal: Pods are numbered from start to
	// start+replicas-1 (skipping reserved ordinals).
	Start int32 `json:"start"`
}

// StatefulSetScaleStrategy tunes scaling.
type StatefulSetScaleStrategy struct {
	// MaxUnavailable caps the unavailable Pods while scaling (percentages
	// round down, never below 1); only with the Parallel pod management policy.
	MaxUnavailable *intstr.IntOrString `json:"maxUnavailable,omitempty"`
}

// StatefulSetStatus is the observed state of a StatefulSet.
type StatefulSetStatus struct {
	// ObservedGeneration is the generation the controller last acted on.
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
	// UpdatedReadyReplicas is the number of Pods at updateRevision that are ready.
	UpdatedReadyReplicas int32 `json:"updatedReadyReplicas,omitempty"`
	// UpdatedAvailableReplicas is the number of Pods at updateRevision that are available.
	UpdatedAvailableReplicas int32 `json:"updatedAvailableReplicas,omitempty"`
	// CurrentRevision is the revision the Pods below currentReplicas were made from.
	CurrentRevision string `json:"currentRevision,omitempty"`
	// UpdateRevision is the name of the newest ControllerRevision.
	UpdateRevision string `json:"updateRevision,omitempty"`
	// CollisionCount counts hash collisions of revision names.
	CollisionCount *int32 `json:"collisionCount,omitempty"`
	// Conditions are the latest observations of the StatefulSet's state.
	Conditions []StatefulSetCondition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`
	// LabelSelector is spec.selector in string form, for the /scale subresource and HPAs.
	LabelSelector string `json:"labelSelector,omitempty"`
	// VolumeClaims reports, per volumeClaimTemplate, how many PVCs already
	// match the template.
	VolumeClaims []VolumeClaimStatus `json:"volumeClaims,omitempty"`
}

// VolumeClaimStatus says how far the PVCs of one template have caught up with it.
type VolumeClaimStatus struct {
	// VolumeClaimName is the name of the volumeClaimTemplate.
	VolumeClaimName string `json:"volumeClaimName"`
	// CompatibleReplicas counts PVCs whose requested storage is at least the template's.
	CompatibleReplicas int32 `json:"compatibleReplicas"`
	// CompatibleReadyReplicas counts those whose capacity has also reached the request.
	CompatibleReadyReplicas int32 `json:"compatibleReadyReplicas"`
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
	LastTransitionTime metav1.Time `json:"lastTransitionTime,omitempty"`
	// Reason is a machine-readable reason for the last transition.
	Reason string `json:"reason,omitempty"`
	// Message is a human-readable explanation.
	Message string `json:"message,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// StatefulSetList is a list of StatefulSets.
type StatefulSetList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []StatefulSet `json:"items"`
}
