package v1beta1

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
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`

	// +optional
	Spec StatefulSetSpec `json:"spec,omitempty" protobuf:"bytes,2,opt,name=spec"`
	// +optional
	Status StatefulSetStatus `json:"status,omitempty" protobuf:"bytes,3,opt,name=status"`
}

// StatefulSetSpec is the desired state of a StatefulSet.
type StatefulSetSpec struct {
	// Replicas is the desired number of Pods. Defaults to 1.
	// +optional
	Replicas *int32 `json:"replicas,omitempty" protobuf:"varint,1,opt,name=replicas"`

	// Selector selects the Pods this StatefulSet owns; it must match the
	// template's labels and cannot change.
	Selector *metav1.LabelSelector `json:"selector" protobuf:"bytes,2,opt,name=selector"`

	// Template is the Pod every replica is made from; each Pod also gets its
	// own ordinal-based identity.
	Template corev1.PodTemplateSpec `json:"template" protobuf:"bytes,3,opt,name=template"`

	// VolumeClaimTemplates are PVCs created for each Pod, named
	// <template>-<pod>, and kept across the Pod's restarts and replacements.
	// +optional
	// +listType=atomic
	VolumeClaimTemplates []corev1.PersistentVolumeClaim `json:"volumeClaimTemplates,omitempty" protobuf:"bytes,4,rep,name=volumeClaimTemplates"`

	// VolumeClaimUpdateStrategy says when changes to volumeClaimTemplates
	// reach existing PVCs.
	// +optional
	VolumeClaimUpdateStrategy VolumeClaimUpdateStrategy `json:"volumeClaimUpdateStrategy,omitempty" protobuf:"bytes,5,opt,name=volumeClaimUpdateStrategy"`

	// ServiceName is the headless Service that gives the Pods their DNS names
	// (<pod>.<serviceName>.<namespace>.svc); it becomes each Pod's subdomain.
	// +optional
	ServiceName string `json:"serviceName,omitempty" protobuf:"bytes,6,opt,name=serviceName"`

	// PodManagementPolicy is OrderedReady (default: one Pod at a time, in
	// ordinal order, each waiting for the previous to be ready) or Parallel.
	// +optional
	PodManagementPolicy PodManagementPolicyType `json:"podManagementPolicy,omitempty" protobuf:"bytes,7,opt,name=podManagementPolicy,casttype=PodManagementPolicyType"`

	// UpdateStrategy tunes how Pods move to a new revision of the template.
	// +optional
	UpdateStrategy StatefulSetUpdateStrategy `json:"updateStrategy,omitempty" protobuf:"bytes,8,opt,name=updateStrategy"`

	// RevisionHistoryLimit is how many old ControllerRevisions are kept. Defaults to 10.
	// +optional
	RevisionHistoryLimit *int32 `json:"revisionHistoryLimit,omitempty" protobuf:"varint,9,opt,name=revisionHistoryLimit"`

	// ReserveOrdinals are ordinals no Pod may use; replicas still counts the
	// Pods that run, so reserving an ordinal moves its Pod to a new one.
	// Entries are integers or inclusive ranges "a-b".
	// +optional
	// +listType=atomic
	ReserveOrdinals []intstr.IntOrString `json:"reserveOrdinals,omitempty" protobuf:"bytes,10,rep,name=reserveOrdinals"`

	// Lifecycle holds the hooks around a Pod's creation, update and deletion.
	// +optional
	Lifecycle *Lifecycle `json:"lifecycle,omitempty" protobuf:"bytes,11,opt,name=lifecycle"`

	// ScaleStrategy tunes scaling.
	// +optional
	ScaleStrategy *StatefulSetScaleStrategy `json:"scaleStrategy,omitempty" protobuf:"bytes,12,opt,name=scaleStrategy"`

	// PersistentVolumeClaimRetentionPolicy says whether the PVCs made from
	// volumeClaimTemplates are deleted with the StatefulSet or on scale-in.
	// Defaults to Retain for both.
	// +optional
	PersistentVolumeClaimRetentionPolicy *StatefulSetPersistentVolumeClaimRetentionPolicy `json:"persistentVolumeClaimRetentionPolicy,omitempty" protobuf:"bytes,13,opt,name=persistentVolumeClaimRetentionPolicy"`

	// Ordinals sets the first ordinal; unset means 0.
	// +optional
	Ordinals *StatefulSetOrdinals `json:"ordinals,omitempty" protobuf:"bytes,14,opt,name=ordinals"`
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
	Type StatefulSetUpdateStrategyType `json:"type,omitempty" protobuf:"bytes,1,opt,name=type,casttype=StatefulSetUpdateStrategyType"`
	// RollingUpdate holds the rollout parameters; only for RollingUpdate.
	// +optional
	RollingUpdate *RollingUpdateStatefulSetStrategy `json:"rollingUpdate,omitempty" protobuf:"bytes,2,opt,name=rollingUpdate"`
}

// RollingUpdateStatefulSetStrategy holds rolling update parameters.
type RollingUpdateStatefulSetStrategy struct {
	// Partition is how many Pods stay at old revisions: the controller
	// updates replicas minus partition of them. Defaults to 0.
	// +optional
	Partition *int32 `json:"partition,omitempty" protobuf:"varint,1,opt,name=partition"`
	// MaxUnavailable is how many Pods may be unavailable during the update
	// (percentages round down, but never below 1). Anything but 1 needs the
	// Parallel pod management policy. Defaults to 1.
	// +optional
	MaxUnavailable *intstr.IntOrString `json:"maxUnavailable,omitempty" protobuf:"bytes,2,opt,name=maxUnavailable"`
	// PodUpdatePolicy is how each Pod is updated. Defaults to ReCreate.
	// +optional
	PodUpdatePolicy PodUpdateStrategyType `json:"podUpdatePolicy,omitempty" protobuf:"bytes,3,opt,name=podUpdatePolicy,casttype=PodUpdateStrategyType"`
	// Paused stops the update where it is.
	// +optional
	Paused bool `json:"paused,omitempty" protobuf:"varint,4,opt,name=paused"`
	// UnorderedUpdate, when set, updates Pods by priority rather than by
	// ordinal; it needs the Parallel pod management policy.
	// +optional
	UnorderedUpdate *UnorderedUpdateStrategy `json:"unorderedUpdate,omitempty" protobuf:"bytes,5,opt,name=unorderedUpdate"`
	// InPlaceUpdateStrategy tunes in-place updates.
	// +optional
	InPlaceUpdateStrategy *InPlaceUpdateStrategy `json:"inPlaceUpdateStrategy,omitempty" protobuf:"bytes,6,opt,name=inPlaceUpdateStrategy"`
	// MinReadySeconds is how long an updated Pod must be ready before it
	// counts as available, 0 to 300. Defaults to 0.
	// +optional
	MinReadySeconds *int32 `json:"minReadySeconds,omitempty" protobuf:"varint,7,opt,name=minReadySeconds"`
}

// UnorderedUpdateStrategy orders an update by priority instead of ordinal.
type UnorderedUpdateStrategy struct {
	// PriorityStrategy weighs or orders the Pods to update.
	// +optional
	PriorityStrategy *UpdatePriorityStrategy `json:"priorityStrategy,omitempty" protobuf:"bytes,1,opt,name=priorityStrategy"`
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

// VolumeClaimUpdateStrategyType is when volumeClaimTemplates changes reach PVCs.
// +enum
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
	// +optional
	Type VolumeClaimUpdateStrategyType `json:"type,omitempty" protobuf:"bytes,1,opt,name=type,casttype=VolumeClaimUpdateStrategyType"`
}

// PersistentVolumeClaimRetentionPolicyType is what happens to PVCs made from
// volumeClaimTemplates.
// +enum
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
	// +optional
	WhenDeleted PersistentVolumeClaimRetentionPolicyType `json:"whenDeleted,omitempty" protobuf:"bytes,1,opt,name=whenDeleted,casttype=PersistentVolumeClaimRetentionPolicyType"`
	// WhenScaled applies to the PVCs of Pods removed by a scale-in.
	// +optional
	WhenScaled PersistentVolumeClaimRetentionPolicyType `json:"whenScaled,omitempty" protobuf:"bytes,2,opt,name=whenScaled,casttype=PersistentVolumeClaimRetentionPolicyType"`
}

// StatefulSetOrdinals sets how replicas are numbered.
type StatefulSetOrdinals struct {
	// Start is the first ordinal: Pods are numbered from start to
	// start+replicas-1 (skipping reserved ordinals).
	// +optional
	Start int32 `json:"start" protobuf:"varint,1,opt,name=start"`
}

// StatefulSetScaleStrategy tunes scaling.
type StatefulSetScaleStrategy struct {
	// MaxUnavailable caps the unavailable Pods while scaling (percentages
	// round down, never below 1); only with the Parallel pod management policy.
	// +optional
	MaxUnavailable *intstr.IntOrString `json:"maxUnavailable,omitempty" protobuf:"bytes,1,opt,name=maxUnavailable"`
}

// StatefulSetStatus is the observed state of a StatefulSet.
type StatefulSetStatus struct {
	// ObservedGeneration is the generation the controller last acted on.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty" protobuf:"varint,1,opt,name=observedGeneration"`
	// Replicas is the number of Pods the StatefulSet has.
	Replicas int32 `json:"replicas" protobuf:"varint,2,opt,name=replicas"`
	// ReadyReplicas is the number of Pods with a Ready condition.
	ReadyReplicas int32 `json:"readyReplicas" protobuf:"varint,3,opt,name=readyReplicas"`
	// AvailableReplicas is the number of Pods ready for at least minReadySeconds.
	AvailableReplicas int32 `json:"availableReplicas" protobuf:"varint,4,opt,name=availableReplicas"`
	// CurrentReplicas is the number of Pods at currentRevision.
	CurrentReplicas int32 `json:"currentReplicas" protobuf:"varint,5,opt,name=currentReplicas"`
	// UpdatedReplicas is the number of Pods at updateRevision.
	UpdatedReplicas int32 `json:"updatedReplicas" protobuf:"varint,6,opt,name=updatedReplicas"`
	// UpdatedReadyReplicas is the number of Pods at updateRevision that are ready.
	// +optional
	UpdatedReadyReplicas int32 `json:"updatedReadyReplicas,omitempty" protobuf:"varint,7,opt,name=updatedReadyReplicas"`
	// UpdatedAvailableReplicas is the number of Pods at updateRevision that are available.
	// +optional
	UpdatedAvailableReplicas int32 `json:"updatedAvailableReplicas,omitempty" protobuf:"varint,8,opt,name=updatedAvailableReplicas"`
	// CurrentRevision is the revision the Pods below currentReplicas were made from.
	// +optional
	CurrentRevision string `json:"currentRevision,omitempty" protobuf:"bytes,9,opt,name=currentRevision"`
	// UpdateRevision is the name of the newest ControllerRevision.
	// +optional
	UpdateRevision string `json:"updateRevision,omitempty" protobuf:"bytes,10,opt,name=updateRevision"`
	// CollisionCount counts hash collisions of revision names.
	// +optional
	CollisionCount *int32 `json:"collisionCount,omitempty" protobuf:"varint,11,opt,name=collisionCount"`
	// Conditions are the latest observations of the StatefulSet's state.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +patchMergeKey=type
	// +patchStrategy=merge
	Conditions []StatefulSetCondition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type" protobuf:"bytes,12,rep,name=conditions"`
	// LabelSelector is spec.selector in string form, for the /scale subresource and HPAs.
	// +optional
	LabelSelector string `json:"labelSelector,omitempty" protobuf:"bytes,13,opt,name=labelSelector"`
	// VolumeClaims reports, per volumeClaimTemplate, how many PVCs already
	// match the template.
	// +optional
	// +listType=atomic
	VolumeClaims []VolumeClaimStatus `json:"volumeClaims,omitempty" protobuf:"bytes,14,rep,name=volumeClaims"`
}

// VolumeClaimStatus says how far the PVCs of one template have caught up with it.
type VolumeClaimStatus struct {
	// VolumeClaimName is the name of the volumeClaimTemplate.
	VolumeClaimName string `json:"volumeClaimName" protobuf:"bytes,1,opt,name=volumeClaimName"`
	// CompatibleReplicas counts PVCs whose requested storage is at least the template's.
	CompatibleReplicas int32 `json:"compatibleReplicas" protobuf:"varint,2,opt,name=compatibleReplicas"`
	// CompatibleReadyReplicas counts those whose capacity has also reached the request.
	CompatibleReadyReplicas int32 `json:"compatibleReadyReplicas" protobuf:"varint,3,opt,name=compatibleReadyReplicas"`
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
	Type StatefulSetConditionType `json:"type" protobuf:"bytes,1,opt,name=type,casttype=StatefulSetConditionType"`
	// Status is True, False or Unknown.
	Status corev1.ConditionStatus `json:"status" protobuf:"bytes,2,opt,name=status,casttype=k8s.io/api/core/v1.ConditionStatus"`
	// LastTransitionTime is when the status last changed.
	// +optional
	LastTransitionTime metav1.Time `json:"lastTransitionTime,omitempty" protobuf:"bytes,3,opt,name=lastTransitionTime"`
	// Reason is a machine-readable reason for the last transition.
	// +optional
	Reason string `json:"reason,omitempty" protobuf:"bytes,4,opt,name=reason"`
	// Message is a human-readable explanation.
	// +optional
	Message string `json:"message,omitempty" protobuf:"bytes,5,opt,name=message"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// StatefulSetList is a list of StatefulSets.
type StatefulSetList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`
	Items           []StatefulSet `json:"items" protobuf:"bytes,2,rep,name=items"`
}
