package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// PubOperation is a voluntary disruption of a Pod that a budget can guard.
// +enum
type PubOperation string

const (
	// PubProtectOperationAnnotation is the v1alpha1-era form of
	// spec.protectOperations, still honoured when the field is empty.
	//
	// Deprecated: use spec.protectOperations.
	PubProtectOperationAnnotation = "kruise.io/pub-protect-operations"
	// PubProtectTotalReplicasAnnotation is the v1alpha1-era form of
	// spec.protectTotalReplicas, still honoured when the field is unset.
	//
	// Deprecated: use spec.protectTotalReplicas.
	PubProtectTotalReplicasAnnotation = "pub.kruise.io/protect-total-replicas"
	// PodPubNoProtectionAnnotation, set to a true value on a Pod, lets every
	// disruption of that Pod through.
	//
	// Deprecated: use spec.ignoredPodSelector.
	PodPubNoProtectionAnnotation = "pub.kruise.io/no-protect"

	// PubUpdateOperation is an update of a Pod that disrupts it.
	PubUpdateOperation PubOperation = "UPDATE"
	// PubDeleteOperation is deleting a Pod.
	PubDeleteOperation PubOperation = "DELETE"
	// PubEvictOperation is evicting a Pod.
	PubEvictOperation PubOperation = "EVICT"
	// PubResizeOperation is resizing a Pod's resources in place; UPDATE
	// covers it too when in-place vertical scaling is turned off.
	PubResizeOperation PubOperation = "RESIZE"
)

// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// PodUnavailableBudget limits how many of a set of Pods voluntary
// disruptions (deletes, evictions, disruptive updates) may make unavailable
// at once.
type PodUnavailableBudget struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`

	// +optional
	Spec PodUnavailableBudgetSpec `json:"spec,omitempty" protobuf:"bytes,2,opt,name=spec"`
	// +optional
	Status PodUnavailableBudgetStatus `json:"status,omitempty" protobuf:"bytes,3,opt,name=status"`
}

// PodUnavailableBudgetSpec is the desired state of a PodUnavailableBudget.
type PodUnavailableBudgetSpec struct {
	// Selector picks the guarded Pods by label. Exactly one of selector and
	// targetRef is set, and neither changes after creation.
	// +optional
	Selector *metav1.LabelSelector `json:"selector,omitempty" protobuf:"bytes,1,opt,name=selector"`

	// TargetReference picks the guarded Pods as those of one workload.
	// +optional
	TargetReference *TargetReference `json:"targetRef,omitempty" protobuf:"bytes,2,opt,name=targetRef"`

	// MaxUnavailable is how many of the Pods may be unavailable after a
	// disruption. Exactly one of maxUnavailable and minAvailable is set.
	// +optional
	MaxUnavailable *intstr.IntOrString `json:"maxUnavailable,omitempty" protobuf:"bytes,3,opt,name=maxUnavailable"`

	// MinAvailable is how many of the Pods must stay available after a disruption.
	// +optional
	MinAvailable *intstr.IntOrString `json:"minAvailable,omitempty" protobuf:"bytes,4,opt,name=minAvailable"`

	// ProtectOperations are the disruptions the budget guards. Empty means
	// DELETE, UPDATE and EVICT (or what the legacy annotation lists).
	// +optional
	// +listType=atomic
	ProtectOperations []PubOperation `json:"protectOperations,omitempty" protobuf:"bytes,5,rep,name=protectOperations,casttype=PubOperation"`

	// ProtectTotalReplicas is the number of Pods the budget counts against,
	// for Pods whose workload cannot say (no workload, or no scale
	// subresource). At least 1.
	// +optional
	ProtectTotalReplicas *int32 `json:"protectTotalReplicas,omitempty" protobuf:"varint,6,opt,name=protectTotalReplicas"`

	// IgnoredPodSelector picks Pods that are never guarded.
	// +optional
	IgnoredPodSelector *metav1.LabelSelector `json:"ignoredPodSelector,omitempty" protobuf:"bytes,7,opt,name=ignoredPodSelector"`
}

// TargetReference names a workload in the budget's namespace.
type TargetReference struct {
	// APIVersion of the workload.
	// +optional
	APIVersion string `json:"apiVersion,omitempty" protobuf:"bytes,1,opt,name=apiVersion"`
	// Kind of the workload.
	// +optional
	Kind string `json:"kind,omitempty" protobuf:"bytes,2,opt,name=kind"`
	// Name of the workload.
	// +optional
	Name string `json:"name,omitempty" protobuf:"bytes,3,opt,name=name"`
}

// PodUnavailableBudgetStatus is the observed state of a PodUnavailableBudget.
type PodUnavailableBudgetStatus struct {
	// ObservedGeneration is the generation the counts below were computed
	// for; they mean nothing for any other.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty" protobuf:"varint,1,opt,name=observedGeneration"`

	// DisruptedPods are Pods, by name, whose deletion or eviction was let
	// through but that the controller has not yet seen go, with when.
	// +optional
	DisruptedPods map[string]metav1.Time `json:"disruptedPods,omitempty" protobuf:"bytes,2,rep,name=disruptedPods"`

	// UnavailablePods are Pods, by name, that were let through a disruptive
	// update and have not yet become available again, with when.
	// +optional
	UnavailablePods map[string]metav1.Time `json:"unavailablePods,omitempty" protobuf:"bytes,3,rep,name=unavailablePods"`

	// UnavailableAllowed is how many more Pods may be disrupted now.
	UnavailableAllowed int32 `json:"unavailableAllowed" protobuf:"varint,4,opt,name=unavailableAllowed"`

	// CurrentAvailable is how many of the Pods are available.
	CurrentAvailable int32 `json:"currentAvailable" protobuf:"varint,5,opt,name=currentAvailable"`

	// DesiredAvailable is how many of the Pods must stay available.
	DesiredAvailable int32 `json:"desiredAvailable" protobuf:"varint,6,opt,name=desiredAvailable"`

	// TotalReplicas is how many Pods the budget counts against.
	TotalReplicas int32 `json:"totalReplicas" protobuf:"varint,7,opt,name=totalReplicas"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// PodUnavailableBudgetList is a list of PodUnavailableBudgets.
type PodUnavailableBudgetList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`
	Items           []PodUnavailableBudget `json:"items" protobuf:"bytes,2,rep,name=items"`
}
