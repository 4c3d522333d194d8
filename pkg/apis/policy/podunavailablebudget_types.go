package policy

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// PubOperation is a voluntary disruption of a Pod that a budget can guard.
type PubOperation string

const (
	// PubDeleteOperation is deleting a Pod.
	PubDeleteOperation PubOperation = "DELETE"
	// PubUpdateOperation is an update of a Pod that disrupts it (an in-place
	// update restarting containers, say).
	PubUpdateOperation PubOperation = "UPDATE"
	// PubEvictOperation is evicting a Pod through the eviction subresource.
	PubEvictOperation PubOperation = "EVICT"
	// PubResizeOperation is resizing a Pod's resources in place. UPDATE
	// covers it too when in-place vertical scaling is turned off.
	PubResizeOperation PubOperation = "RESIZE"
)

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// PodUnavailableBudget limits how many of a set of Pods voluntary
// disruptions (deletes, evictions, disruptive updates) may make unavailable
// at once, like a PodDisruptionBudget that also covers in-place updates.
type PodUnavailableBudget struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   PodUnavailableBudgetSpec   `json:"spec,omitempty"`
	Status PodUnavailableBudgetStatus `json:"status,omitempty"`
}

// PodUnavailableBudgetSpec is the desired state of a PodUnavailableBudget.
type PodUnavailableBudgetSpec struct {
	// Selector picks the guarded Pods by label. Exactly one of selector and
	// targetRef is set, and neither changes after creation.
	Selector *metav1.LabelSelector `json:"selector,omitempty"`

	// TargetReference picks the guarded Pods as those of one workload.
	TargetReference *TargetReference `json:"targetRef,omitempty"`

	// MaxUnavailable is how many of the Pods may be unavailable after a
	// disruption. Exactly one of maxUnavailable and minAvailable is set.
	MaxUnavailable *intstr.IntOrString `json:"maxUnavailable,omitempty"`

	// MinAvailable is how many of the Pods must stay available after a disruption.
	MinAvailable *intstr.IntOrString `json:"minAvailable,omitempty"`

	// ProtectOperations are the disruptions the budget guards. Empty means
	// the annotation kruise.io/pub-protect-operations decides, and without
	// it DELETE, UPDATE and EVICT.
	ProtectOperations []PubOperation `json:"protectOperations,omitempty"`

	// ProtectTotalReplicas is the number of Pods the budget counts against,
	// for Pods whose workload cannot say (no workload, or no scale
	// subresource). Unset means the annotation
	// pub.kruise.io/protect-total-replicas decides, and without it the
	// workload's replicas.
	ProtectTotalReplicas *int32 `json:"protectTotalReplicas,omitempty"`

	// IgnoredPodSelector picks Pods that are never guarded.
	IgnoredPodSelector *metav1.LabelSelector `json:"ignoredPodSelector,omitempty"`
}

// TargetReference names a workload in the budget's namespace.
type TargetReference struct {
	// APIVersion of the workload; only its group is compared between budgets.
	APIVersion string `json:"apiVersion,omitempty"`
	// Kind of the workload.
	Kind string `json:"kind,omitempty"`
	// Name of the workload.
	Name string `json:"name,omitempty"`
}

// PodUnavailableBudgetStatus is the observed state of a PodUnavailableBudget.
type PodUnavailableBudgetStatus struct {
	// ObservedGeneration is the generation the counts below were computed
	// for; they mean nothing for any other.
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// DisruptedPods are Pods, by name, whose deletion or eviction was let
	// through but that the controller has not yet seen go, with when.
	DisruptedPods map[string]metav1.Time `json:"disruptedPods,omitempty"`

	// UnavailablePods are Pods, by name, that were let through a disruptive
	// update and have not yet become available again, with when.
	UnavailablePods map[string]metav1.Time `json:"unavailablePods,omitempty"`

	// UnavailableAllowed is how many more Pods may be disrupted now.
	UnavailableAllowed int32 `json:"unavailableAllowed"`

	// CurrentAvailable is how many of the Pods are available.
	CurrentAvailable int32 `json:"currentAvailable"`

	// DesiredAvailable is how many of the Pods must stay available.
	DesiredAvailable int32 `json:"desiredAvailable"`

	// TotalReplicas is how many Pods the budget counts against.
	TotalReplicas int32 `json:"totalReplicas"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// PodUnavailableBudgetList is a list of PodUnavailableBudgets.
type PodUnavailableBudgetList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []PodUnavailableBudget `json:"items"`
}
