package apps

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ImageListPullJob pulls several images on a set of nodes; the controller
// runs it as one ImagePullJob per image, owned by the list job.
type ImageListPullJob struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ImageListPullJobSpec   `json:"spec,omitempty"`
	Status ImageListPullJobStatus `json:"status,omitempty"`
}

// ImageListPullJobSpec is the desired state of an ImageListPullJob.
type ImageListPullJobSpec struct {
	// Images are the images to pull: at least one, at most 255, no repeats.
	Images []string `json:"images"`

	ImagePullJobTemplate `json:",inline"`
}

// ImageListPullJobStatus is the observed state of an ImageListPullJob,
// counted in ImagePullJobs.
type ImageListPullJobStatus struct {
	// StartTime is when the controller first acted on the job.
	StartTime *metav1.Time `json:"startTime,omitempty"`

	// CompletionTime is when every ImagePullJob had finished.
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`

	// Desired is the number of ImagePullJobs, one per image.
	Desired int32 `json:"desired"`

	// Active is the number of ImagePullJobs running.
	Active int32 `json:"active"`

	// Completed is the number of ImagePullJobs that finished.
	Completed int32 `json:"completed"`

	// Succeeded is the number of ImagePullJobs that finished on every node.
	Succeeded int32 `json:"succeeded"`

	// FailedImageStatuses describes the ImagePullJobs with failed nodes.
	FailedImageStatuses []FailedImageStatus `json:"failedImageStatuses,omitempty"`
}

// FailedImageStatus describes an ImagePullJob of the list with failed nodes.
type FailedImageStatus struct {
	// ImagePullJob is the name of the ImagePullJob.
	ImagePullJob string `json:"imagePullJob,omitempty"`

	// Name is the image.
	Name string `json:"name,omitempty"`

	// Message is the ImagePullJob's status message.
	Message string `json:"message,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ImageListPullJobList is a list of ImageListPullJobs.
type ImageListPullJobList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ImageListPullJob `json:"items"`
}
