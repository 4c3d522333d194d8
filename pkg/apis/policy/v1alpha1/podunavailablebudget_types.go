package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// PubOperation is a voluntary disruption of a Pod that a budget can guard.
// v1alpha1 has no field of this type: the operations are listed in the
// annotation PubProtectOperationAnnotation.
// +enum
type PubOperation string

const (
	// PubProtectOperationAnnotation lists, comma-separated, the operations
	// the budget guards (e.g. "DELETE,EVICT"). Without it DELETE, UPDATE and
	// EVICT are guarded.
	PubProtectOperationAnnotation = "kruise.io/pub-protect-operations"
	// PubProtectTotalReplicasAnnotation is the number of Pods the budget
	// counts against, as a decimal int32, for Pods whose workload cannot say
	// (no workload, or no scale subresource).
	PubProtectTotalReplicasAnnotation = "pub.kruise.io/protect-total-replicas"
	// PodPubNoProtectionAnnotation, set to a true value on a Pod, lets every
	// disruption of that Pod through (for forced deletes).
	PodPubNoProtectionAnnotation = "pub.kruise.io/no-protect"

	// PubUpdateOperation is an update of a Pod that disrupts it.
	PubUpdateOperation PubOperation = "UPDATE"
	// PubDeleteOperation is deleting a Pod.
	PubDeleteOperation PubOperation = "DELETE"
	// PubEvictOperation is evicting a Pod.
	PubEvictOperation PubOperation = "EVICT"
	// PubResizeOperation is resizing a Pod's resources in place.
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
	// for; they mean nothing for any other. (Unlike v1beta1, v1alpha1 always
	// writes it, zero included.)
	// +optional
	ObservedGeneration int64 `json:"observedGeneration" protobuf:"varint,1,opt,name=observedGeneration"`

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
