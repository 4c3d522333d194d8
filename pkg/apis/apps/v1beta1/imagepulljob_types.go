package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ImagePullJob has kruise-daemon pull one image on a set of nodes, ahead of
// the Pods that will need it.
type ImagePullJob struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec ImagePullJobSpec `json:"spec,omitempty"`
	// +optional
	Status ImagePullJobStatus `json:"status,omitempty"`
}

// ImagePullJobSpec is the desired state of an ImagePullJob.
type ImagePullJobSpec struct {
	// Image is the image to pull, as a container image reference.
	Image string `json:"image"`

	ImagePullJobTemplate `json:",inline"`
}

// ImagePullJobStatus is the observed state of an ImagePullJob.
type ImagePullJobStatus struct {
	// StartTime is when the controller first acted on the job.
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`

	// CompletionTime is when the job finished.
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`

	// Desired is the number of nodes to pull on.
	Desired int32 `json:"desired"`

	// Active is the number of nodes pulling now.
	// +optional
	Active int32 `json:"active"`

	// Succeeded is the number of nodes that have the image.
	// +optional
	Succeeded int32 `json:"succeeded"`

	// Failed is the number of nodes that gave up.
	// +optional
	Failed int32 `json:"failed"`

	// Message summarises progress, e.g. "job has completed".
	// +optional
	Message string `json:"message,omitempty"`

	// FailedNodes names the nodes that failed to pull.
	// +optional
	// +listType=atomic
	FailedNodes []string `json:"failedNodes,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ImagePullJobList is a list of ImagePullJobs.
type ImagePullJobList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ImagePullJob `json:"items"`
}
