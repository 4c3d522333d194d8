package v1beta1

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// WorkloadSpread spreads the Pods of one workload over subsets of nodes
// (zones, node pools, ...), capping how many Pods each subset gets and
// patching the Pods placed in it.
type WorkloadSpread struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`

	// +optional
	Spec WorkloadSpreadSpec `json:"spec,omitempty" protobuf:"bytes,2,opt,name=spec"`
	// +optional
	Status WorkloadSpreadStatus `json:"status,omitempty" protobuf:"bytes,3,opt,name=status"`
}

// WorkloadSpreadSpec is the desired spread.
type WorkloadSpreadSpec struct {
	// TargetReference is the workload whose Pods are spread. Its group, kind
	// and name cannot change.
	TargetReference *TargetReference `json:"targetRef" protobuf:"bytes,1,opt,name=targetRef"`

	// TargetFilter narrows the spread to some of the workload's Pods.
	// +optional
	TargetFilter *TargetFilter `json:"targetFilter,omitempty" protobuf:"bytes,2,opt,name=targetFilter"`

	// Subsets are tried in order for every new Pod.
	// +listType=map
	// +listMapKey=name
	// +patchMergeKey=name
	// +patchStrategy=merge
	Subsets []WorkloadSpreadSubset `json:"subsets" patchStrategy:"merge" patchMergeKey:"name" protobuf:"bytes,3,rep,name=subsets"`

	// ScheduleStrategy says whether Pods that cannot be scheduled in their
	// subset are moved on to the next one.
	// +optional
	ScheduleStrategy WorkloadSpreadScheduleStrategy `json:"scheduleStrategy,omitempty" protobuf:"bytes,4,opt,name=scheduleStrategy"`
}

// TargetReference names a workload in the same namespace. PersistentPodState
// refers to its StatefulSet with the same type (upstream declares it there).
type TargetReference struct {
	// APIVersion of the workload; only its group is significant.
	APIVersion string `json:"apiVersion" protobuf:"bytes,1,opt,name=apiVersion"`
	// Kind of the workload.
	Kind string `json:"kind" protobuf:"bytes,2,opt,name=kind"`
	// Name of the workload.
	Name string `json:"name" protobuf:"bytes,3,opt,name=name"`
}

// TargetFilter limits a WorkloadSpread to the workload's Pods that match
// Selector, and says where in the workload to read how many of them there
// should be.
type TargetFilter struct {
	// Selector picks the Pods that are spread; the others are left alone.
	// +optional
	Selector *metav1.LabelSelector `json:"selector,omitempty" protobuf:"bytes,1,opt,name=selector"`
	// ReplicasPathList are dot-separated paths into the workload object
	// (array elements by index, e.g. "spec.tfReplicaSpecs.Worker.replicas");
	// the sum of the integers found there is the replica count percentages
	// are taken of. Empty means the workload's own replica count.
	// +optional
	// +listType=atomic
	ReplicasPathList []string `json:"replicasPathList,omitempty" protobuf:"bytes,2,rep,name=replicasPathList"`
}

// WorkloadSpreadScheduleStrategyType is how a WorkloadSpread deals with Pods
// that cannot be scheduled in their subset.
// +enum
type WorkloadSpreadScheduleStrategyType string

const (
	// AdaptiveWorkloadSpreadScheduleStrategyType moves Pods that stay
	// unschedulable to a later subset, and may check a subset's capacity
	// before placing a Pod there.
	AdaptiveWorkloadSpreadScheduleStrategyType WorkloadSpreadScheduleStrategyType = "Adaptive"
	// FixedWorkloadSpreadScheduleStrategyType keeps Pods where they were
	// placed. An empty type means the same.
	FixedWorkloadSpreadScheduleStrategyType WorkloadSpreadScheduleStrategyType = "Fixed"
)

// WorkloadSpreadScheduleStrategy selects and tunes the schedule strategy.
type WorkloadSpreadScheduleStrategy struct {
	// Type is Adaptive, Fixed or empty (Fixed).
	// +optional
	Type WorkloadSpreadScheduleStrategyType `json:"type,omitempty" protobuf:"bytes,1,opt,name=type,casttype=WorkloadSpreadScheduleStrategyType"`
	// Adaptive tunes the Adaptive strategy; it may only be set with it.
	// +optional
	Adaptive *AdaptiveWorkloadSpreadStrategy `json:"adaptive,omitempty" protobuf:"bytes,2,opt,name=adaptive"`
}

// AdaptiveWorkloadSpreadStrategy tunes the Adaptive strategy.
type AdaptiveWorkloadSpreadStrategy struct {
	// DisableSimulationSchedule skips the check of a subset's node resources
	// before a Pod is placed in it.
	// +optional
	DisableSimulationSchedule bool `json:"disableSimulationSchedule,omitempty" protobuf:"varint,1,opt,name=disableSimulationSchedule"`
	// RescheduleCriticalSeconds is how long a Pod may stay unschedulable in
	// its subset before it is moved to a later one.
	// +optional
	RescheduleCriticalSeconds *int32 `json:"rescheduleCriticalSeconds,omitempty" protobuf:"varint,2,opt,name=rescheduleCriticalSeconds"`
}

// WorkloadSpreadSubset is one group of nodes and what Pods placed there get.
type WorkloadSpreadSubset struct {
	// Name identifies the subset; names are unique within a WorkloadSpread.
	Name string `json:"name" protobuf:"bytes,1,opt,name=name"`
	// RequiredNodeSelector is ANDed into every required node selector term
	// of the Pods placed in the subset (v1alpha1: requiredNodeSelectorTerm).
	// +optional
	RequiredNodeSelector *corev1.NodeSelectorTerm `json:"requiredNodeSelector,omitempty" protobuf:"bytes,2,opt,name=requiredNodeSelector"`
	// PreferredNodeSelector is added to the Pods' preferred node affinity
	// (v1alpha1: preferredNodeSelectorTerms).
	// +optional
	// +listType=atomic
	PreferredNodeSelector []corev1.PreferredSchedulingTerm `json:"preferredNodeSelector,omitempty" protobuf:"bytes,3,rep,name=preferredNodeSelector"`
	// Tolerations are added to the Pods placed in the subset.
	// +optional
	// +listType=atomic
	Tolerations []corev1.Toleration `json:"tolerations,omitempty" protobuf:"bytes,4,rep,name=tolerations"`
	// MaxReplicas caps the Pods in the subset: a number, or a percentage of
	// the workload's replicas (rounded up). Unset means no cap.
	// +optional
	MaxReplicas *intstr.IntOrString `json:"maxReplicas,omitempty" protobuf:"bytes,5,opt,name=maxReplicas"`
	// Patch is a strategic merge patch, a JSON object, applied to the Pods
	// placed in the subset. It has no schema of its own, so patches of a
	// WorkloadSpread (strategic or server-side apply) replace it whole.
	// OpenKruise's Go type is not a pointer; this one is, so that a subset
	// without a patch is written without one rather than as "patch": null,
	// as OpenKruise's CRD stores it.
	// +optional
	// +patchStrategy=replace
	// +mapType=atomic
	Patch *runtime.RawExtension `json:"patch,omitempty" patchStrategy:"replace" protobuf:"bytes,6,opt,name=patch"`
}

// WorkloadSpreadStatus is the observed spread.
type WorkloadSpreadStatus struct {
	// ObservedGeneration is the generation the controller last acted on.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty" protobuf:"varint,1,opt,name=observedGeneration"`
	// SubsetStatuses holds one entry per subset, in spec order.
	// +optional
	// +listType=atomic
	SubsetStatuses []WorkloadSpreadSubsetStatus `json:"subsetStatuses,omitempty" protobuf:"bytes,2,rep,name=subsetStatuses"`
	// VersionedSubsetStatuses holds subset statuses per Pod template
	// version, so that Pods of the old and the new version are counted
	// apart during a rolling update.
	// +optional
	VersionedSubsetStatuses map[string]WorkloadSpreadSubsetStatuses `json:"versionedSubsetStatuses,omitempty" protobuf:"bytes,3,rep,name=versionedSubsetStatuses"`
}

// WorkloadSpreadSubsetStatuses is the subset statuses of one Pod template
// version. It exists only so that VersionedSubsetStatuses, a map of lists,
// has a protobuf encoding (a map value cannot be repeated); in JSON it is a
// plain list.
// +protobuf.nullable=true
// +protobuf.options.(gogoproto.goproto_stringer)=false
type WorkloadSpreadSubsetStatuses []WorkloadSpreadSubsetStatus

// String is what protobuf's generated String methods print for it.
func (s WorkloadSpreadSubsetStatuses) String() string {
	return fmt.Sprintf("%v", []WorkloadSpreadSubsetStatus(s))
}

// SubsetSchedulable is the subset condition type that says whether the
// subset's nodes can take more of the workload's Pods; a Pod that fails to
// schedule there makes it False for a while.
const SubsetSchedulable = "Schedulable"

// WorkloadSpreadSubsetStatus is the observed state of one subset.
type WorkloadSpreadSubsetStatus struct {
	// Name of the subset.
	Name string `json:"name" protobuf:"bytes,1,opt,name=name"`
	// Replicas is the number of active Pods in the subset.
	Replicas int32 `json:"replicas" protobuf:"varint,2,opt,name=replicas"`
	// Conditions of the subset, one per type.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty" protobuf:"bytes,3,rep,name=conditions"`
	// MissingReplicas is how many more Pods the subset may take; -1 means
	// no cap.
	MissingReplicas int32 `json:"missingReplicas" protobuf:"varint,4,opt,name=missingReplicas"`
	// CreatingPods are Pods placed in the subset at admission that the
	// controller has not seen yet, by name, with the time of admission.
	// +optional
	CreatingPods map[string]metav1.Time `json:"creatingPods,omitempty" protobuf:"bytes,5,rep,name=creatingPods"`
	// DeletingPods are Pods being deleted from the subset that the
	// controller has not seen gone yet.
	// +optional
	DeletingPods map[string]metav1.Time `json:"deletingPods,omitempty" protobuf:"bytes,6,rep,name=deletingPods"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// WorkloadSpreadList is a list of WorkloadSpreads.
type WorkloadSpreadList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`
	Items           []WorkloadSpread `json:"items" protobuf:"bytes,2,rep,name=items"`
}
