package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Lifecycle holds the hooks a workload runs around a Pod's life: before it
// becomes Normal, before it is deleted and around an in-place update.
type Lifecycle struct {
	// PreDelete is the hook run before a Pod is deleted.
	// +optional
	PreDelete *LifecycleHook `json:"preDelete,omitempty" protobuf:"bytes,1,opt,name=preDelete"`
	// InPlaceUpdate is the hook run before a Pod is updated in place and
	// after the update has finished.
	// +optional
	InPlaceUpdate *LifecycleHook `json:"inPlaceUpdate,omitempty" protobuf:"bytes,2,opt,name=inPlaceUpdate"`
	// PreNormal is the hook run after a Pod is created, before it counts as Normal.
	// +optional
	PreNormal *LifecycleHook `json:"preNormal,omitempty" protobuf:"bytes,3,opt,name=preNormal"`
}

// LifecycleHook says what marks a Pod as held by a hook: labels and/or
// finalizers that some other party removes when it is done.
type LifecycleHook struct {
	// +optional
	LabelsHandler map[string]string `json:"labelsHandler,omitempty" protobuf:"bytes,1,rep,name=labelsHandler"`
	// +optional
	// +listType=atomic
	FinalizersHandler []string `json:"finalizersHandler,omitempty" protobuf:"bytes,2,rep,name=finalizersHandler"`
	// MarkPodNotReady sets the Pod's KruisePodReady condition to False while the
	// hook holds it (in-place update and pre-delete hooks only). Defaults to false.
	// +optional
	MarkPodNotReady bool `json:"markPodNotReady,omitempty" protobuf:"varint,3,opt,name=markPodNotReady"`
}

// UpdatePriorityStrategy orders the Pods of an update, by label value or by
// weighted selectors; only one of the two may be used.
type UpdatePriorityStrategy struct {
	// OrderPriority sorts Pods by the integer found in the value of each key,
	// first key first.
	// +optional
	// +listType=atomic
	OrderPriority []UpdatePriorityOrderTerm `json:"orderPriority,omitempty" protobuf:"bytes,1,rep,name=orderPriority"`
	// WeightPriority sorts Pods by the sum of the weights of the selectors they match.
	// +optional
	// +listType=atomic
	WeightPriority []UpdatePriorityWeightTerm `json:"weightPriority,omitempty" protobuf:"bytes,2,rep,name=weightPriority"`
}

// UpdatePriorityOrderTerm names a label whose value orders Pods.
type UpdatePriorityOrderTerm struct {
	// OrderedKey is the label key; the last integer in its value is the order.
	OrderedKey string `json:"orderedKey" protobuf:"bytes,1,opt,name=orderedKey"`
}

// UpdatePriorityWeightTerm gives Pods matching a selector a weight.
type UpdatePriorityWeightTerm struct {
	// Weight of the term, 1 to 100.
	Weight int32 `json:"weight" protobuf:"varint,1,opt,name=weight"`
	// MatchSelector selects Pods by label.
	MatchSelector metav1.LabelSelector `json:"matchSelector" protobuf:"bytes,2,opt,name=matchSelector"`
}

// InPlaceUpdateStrategy tunes in-place updates.
type InPlaceUpdateStrategy struct {
	// GracePeriodSeconds is how long a Pod stays not-ready before its images
	// are changed in place.
	// +optional
	GracePeriodSeconds int32 `json:"gracePeriodSeconds,omitempty" protobuf:"varint,1,opt,name=gracePeriodSeconds"`
	// ImagePreDownloadParallelism is how many nodes pull the new images ahead
	// of an in-place update at once (0 pauses the pre-download). Defaults to 1.
	// +optional
	ImagePreDownloadParallelism *intstr.IntOrString `json:"imagePreDownloadParallelism,omitempty" protobuf:"bytes,2,opt,name=imagePreDownloadParallelism"`
	// ImagePreDownloadTimeoutSeconds bounds each pre-download. Defaults to 600.
	// +optional
	ImagePreDownloadTimeoutSeconds *int32 `json:"imagePreDownloadTimeoutSeconds,omitempty" protobuf:"varint,3,opt,name=imagePreDownloadTimeoutSeconds"`
	// ImagePreDownloadMinUpdatedReadyPods is how many updated Pods must be ready
	// before images are pre-downloaded for the next batch.
	// +optional
	ImagePreDownloadMinUpdatedReadyPods *int32 `json:"imagePreDownloadMinUpdatedReadyPods,omitempty" protobuf:"varint,4,opt,name=imagePreDownloadMinUpdatedReadyPods"`
}

// UpdateScatterStrategy lists label key/value pairs whose Pods are spread
// over the update instead of being updated in one batch.
type UpdateScatterStrategy []UpdateScatterTerm

// UpdateScatterTerm is one label key/value pair to scatter.
type UpdateScatterTerm struct {
	Key   string `json:"key" protobuf:"bytes,1,opt,name=key"`
	Value string `json:"value" protobuf:"bytes,2,opt,name=value"`
}
