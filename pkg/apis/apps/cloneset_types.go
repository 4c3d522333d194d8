package apps

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

const (
	// DefaultCloneSetMaxUnavailable is the default rollingUpdate.maxUnavailable.
	DefaultCloneSetMaxUnavailable = "20%"
)

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// CloneSet manages a set of interchangeable Pods (and their PVCs) with
// in-place update, partitioned rollouts and selective scale-in.
type CloneSet struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   CloneSetSpec   `json:"spec,omitempty"`
	Status CloneSetStatus `json:"status,omitempty"`
}

// CloneSetSpec is the desired state of a CloneSet.
type CloneSetSpec struct {
	// Replicas is the desired number of Pods. Defaults to 1.
	Replicas *int32 `json:"replicas,omitempty"`

	// Selector selects the Pods this CloneSet owns; it must match the
	// template's labels and cannot change.
	Selector *metav1.LabelSelector `json:"selector"`

	// Template is the Pod every replica is made from.
	Template corev1.PodTemplateSpec `json:"template"`

	// VolumeClaimTemplates are PVCs created for each Pod, named
	// <template>-<pod>; they are deleted with their Pod.
	VolumeClaimTemplates []corev1.PersistentVolumeClaim `json:"volumeClaimTemplates,omitempty"`

	// ScaleStrategy tunes how Pods are created and deleted.
	ScaleStrategy CloneSetScaleStrategy `json:"scaleStrategy,omitempty"`

	// UpdateStrategy tunes how Pods move to a new revision of the template.
	UpdateStrategy CloneSetUpdateStrategy `json:"updateStrategy,omitempty"`

	// RevisionHistoryLimit is how many old ControllerRevisions are kept. Defaults to 10.
	RevisionHistoryLimit *int32 `json:"revisionHistoryLimit,omitempty"`

	// MinReadySeconds is how long a new Pod must be ready, without a
	// container crashing, before it counts as available. Defaults to 0.
	MinReadySeconds int32 `json:"minReadySeconds,omitempty"`

	// Lifecycle holds the hooks around a Pod's creation, update and deletion.
	Lifecycle *Lifecycle `json:"lifecycle,omitempty"`

	// ProgressDeadlineSeconds is how long the CloneSet may take to make
	// progress before its Progressing condition reports ProgressDeadlineExceeded.
	// Time spent paused does not count. Unset means no deadline is tracked.
	ProgressDeadlineSeconds *int32 `json:"progressDeadlineSeconds,omitempty"`
}

// CloneSetScaleStrategy tunes scale-out and scale-in.
type CloneSetScaleStrategy struct {
	// PodsToDelete names Pods to delete first; names of Pods that no longer
	// exist are dropped from the list by the controller.
	PodsToDelete []string `json:"podsToDelete,omitempty"`

	// MaxUnavailable caps the unavailable Pods while scaling out; scale-out
	// waits while more are unavailable.
	MaxUnavailable *intstr.IntOrString `json:"maxUnavailable,omitempty"`

	// EnablePVCReuse lets a new Pod reuse the PVCs of a deleted one instead of
	// creating new ones. Defaults to false (v1alpha1's disablePVCReuse defaults
	// to reuse; the two are converted as each other's negation).
	EnablePVCReuse bool `json:"enablePVCReuse,omitempty"`

	// ExcludePreparingDelete makes scaling count Pods in the PreparingDelete
	// lifecycle state as gone. Defaults to false.
	ExcludePreparingDelete bool `json:"excludePreparingDelete,omitempty"`
}

// CloneSetUpdateStrategyType is how a CloneSet rolls out a new revision.
type CloneSetUpdateStrategyType string

const (
	// RollingUpdateCloneSetUpdateStrategyType updates Pods in batches (the default).
	RollingUpdateCloneSetUpdateStrategyType CloneSetUpdateStrategyType = "RollingUpdate"
	// OnDeleteCloneSetUpdateStrategyType leaves Pods alone until they are deleted.
	OnDeleteCloneSetUpdateStrategyType CloneSetUpdateStrategyType = "OnDelete"
)

// CloneSetPodUpdateStrategyType is how one Pod is moved to a new revision.
type CloneSetPodUpdateStrategyType string

const (
	// RecreateCloneSetPodUpdateStrategyType deletes the Pod and creates a new one (the default).
	RecreateCloneSetPodUpdateStrategyType CloneSetPodUpdateStrategyType = "ReCreate"
	// InPlaceIfPossibleCloneSetPodUpdateStrategyType updates the Pod in place
	// when only in-place-updatable fields changed, and recreates it otherwise.
	InPlaceIfPossibleCloneSetPodUpdateStrategyType CloneSetPodUpdateStrategyType = "InPlaceIfPossible"
	// InPlaceOnlyCloneSetPodUpdateStrategyType always updates in place.
	InPlaceOnlyCloneSetPodUpdateStrategyType CloneSetPodUpdateStrategyType = "InPlaceOnly"
)

// CloneSetUpdateStrategy tunes updates.
type CloneSetUpdateStrategy struct {
	// Type is RollingUpdate (default) or OnDelete.
	Type CloneSetUpdateStrategyType `json:"type,omitempty"`
	// RollingUpdate holds the rollout parameters. This server always fills it
	// in with defaults, also for OnDelete, so that it converts to v1alpha1 and
	// back unchanged.
	RollingUpdate *RollingUpdateCloneSetStrategy `json:"rollingUpdate,omitempty"`
}

// RollingUpdateCloneSetStrategy holds rolling update parameters.
type RollingUpdateCloneSetStrategy struct {
	// Partition is how many Pods (or what percentage, rounded up) stay at old
	// revisions. Defaults to 0.
	Partition *intstr.IntOrString `json:"partition,omitempty"`
	// MaxUnavailable is how many Pods may be unavailable during the update.
	// Percentages round up, or down when maxSurge > 0. Defaults to 20%.
	MaxUnavailable *intstr.IntOrString `json:"maxUnavailable,omitempty"`
	// MaxSurge is how many Pods may be created above replicas during the
	// update. Percentages round up. Defaults to 0.
	MaxSurge *intstr.IntOrString `json:"maxSurge,omitempty"`
	// PodUpdatePolicy is how each Pod is updated. Defaults to ReCreate.
	PodUpdatePolicy CloneSetPodUpdateStrategyType `json:"podUpdatePolicy,omitempty"`
	// Paused stops the update where it is.
	Paused bool `json:"paused,omitempty"`
	// PriorityStrategy orders the Pods to update.
	PriorityStrategy *UpdatePriorityStrategy `json:"priorityStrategy,omitempty"`
	// ScatterStrategy spreads Pods with given labels over the update batches.
	ScatterStrategy UpdateScatterStrategy `json:"scatterStrategy,omitempty"`
	// InPlaceUpdateStrategy tunes in-place updates.
	InPlaceUpdateStrategy *InPlaceUpdateStrategy `json:"inPlaceUpdateStrategy,omitempty"`
}

// CloneSetStatus is the observed state of a CloneSet.
type CloneSetStatus struct {
	// ObservedGeneration is the generation the controller last acted on.
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Replicas is the number of Pods the CloneSet has.
	Replicas int32 `json:"replicas"`
	// ReadyReplicas is the number of Pods with a Ready condition.
	ReadyReplicas int32 `json:"readyReplicas"`
	// AvailableReplicas is the number of Pods ready for at least minReadySeconds.
	AvailableReplicas int32 `json:"availableReplicas"`
	// UpdatedReplicas is the number of Pods at updateRevision.
	UpdatedReplicas int32 `json:"updatedReplicas"`
	// UpdatedReadyReplicas is the number of Pods at updateRevision that are ready.
	UpdatedReadyReplicas int32 `json:"updatedReadyReplicas"`
	// UpdatedAvailableReplicas is the number of Pods at updateRevision that are available.
	UpdatedAvailableReplicas int32 `json:"updatedAvailableReplicas,omitempty"`
	// ExpectedUpdatedReplicas is replicas minus the scaled partition.
	ExpectedUpdatedReplicas int32 `json:"expectedUpdatedReplicas,omitempty"`
	// UpdateRevision is the name of the newest ControllerRevision.
	UpdateRevision string `json:"updateRevision,omitempty"`
	// CurrentRevision is the name of the revision most Pods were made from.
	CurrentRevision string `json:"currentRevision,omitempty"`
	// CollisionCount counts hash collisions of revision names.
	CollisionCount *int32 `json:"collisionCount,omitempty"`
	// Conditions are the latest observations of the CloneSet's state.
	Conditions []CloneSetCondition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`
	// LabelSelector is spec.selector in string form, for the /scale subresource and HPAs.
	LabelSelector string `json:"labelSelector,omitempty"`
}

// CloneSetConditionType is a kind of CloneSet condition.
type CloneSetConditionType string

const (
	// CloneSetConditionFailedScale means the controller failed to create or delete Pods or PVCs.
	CloneSetConditionFailedScale CloneSetConditionType = "FailedScale"
	// CloneSetConditionFailedUpdate means the controller failed to update Pods.
	CloneSetConditionFailedUpdate CloneSetConditionType = "FailedUpdate"
	// CloneSetConditionTypeProgressing reports progress of a rollout.
	CloneSetConditionTypeProgressing CloneSetConditionType = "Progressing"
)

// CloneSetCondition is one observation of a CloneSet's state.
type CloneSetCondition struct {
	// Type of the condition.
	Type CloneSetConditionType `json:"type"`
	// Status is True, False or Unknown.
	Status corev1.ConditionStatus `json:"status"`
	// LastUpdateTime is when the condition was last updated.
	LastUpdateTime metav1.Time `json:"lastUpdateTime,omitempty"`
	// LastTransitionTime is when the status last changed.
	LastTransitionTime metav1.Time `json:"lastTransitionTime,omitempty"`
	// Reason is a machine-readable reason for the last transition.
	Reason string `json:"reason,omitempty"`
	// Message is a human-readable explanation.
	Message string `json:"message,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// CloneSetList is a list of CloneSets.
type CloneSetList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []CloneSet `json:"items"`
}
