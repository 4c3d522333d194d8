package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ImageListPullJob pulls several images on a set of nodes; the controller
// runs it as one ImagePullJob per image, owned by the list job.
type ImageListPullJob struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`

	// +optional
	Spec ImageListPullJobSpec `json:"spec,omitempty" protobuf:"bytes,2,opt,name=spec"`
	// +optional
	Status ImageListPullJobStatus `json:"status,omitempty" protobuf:"bytes,3,opt,name=status"`
}

// ImageListPullJobSpec is the desired state of an ImageListPullJob.
type ImageListPullJobSpec struct {
	// Images are the images to pull: at least one, at most 255, no repeats.
	// +listType=atomic
	Images []string `json:"images" protobuf:"bytes,1,rep,name=images"`

	ImagePullJobTemplate `json:",inline" protobuf:"bytes,2,opt,name=imagePullJobTemplate"`
}

// ImageListPullJobStatus is the observed state of an ImageListPullJob,
// counted in ImagePullJobs.
type ImageListPullJobStatus struct {
	// StartTime is when the controller first acted on the job.
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty" protobuf:"bytes,1,opt,name=startTime"`

	// CompletionTime is when every ImagePullJob had finished.
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty" protobuf:"bytes,2,opt,name=completionTime"`

	// Desired is the number of ImagePullJobs, one per image.
	Desired int32 `json:"desired" protobuf:"varint,3,opt,name=desired"`

	// Active is the number of ImagePullJobs running.
	// +optional
	Active int32 `json:"active" protobuf:"varint,4,opt,name=active"`

	// Completed is the number of ImagePullJobs that finished.
	// +optional
	Completed int32 `json:"completed" protobuf:"varint,5,opt,name=completed"`

	// Succeeded is the number of ImagePullJobs that finished on every node.
	// +optional
	Succeeded int32 `json:"succeeded" protobuf:"varint,6,opt,name=succeeded"`

	// OpenKruise declares a list of pointers; a list of values has the same
	// JSON and, having no nil elements, a protobuf encoding.

	// FailedImageStatuses describes the ImagePullJobs with failed nodes.
	// +optional
	// +listType=atomic
	FailedImageStatuses []FailedImageStatus `json:"failedImageStatuses,omitempty" protobuf:"bytes,7,rep,name=failedImageStatuses"`
}

// FailedImageStatus describes an ImagePullJob of the list with failed nodes.
type FailedImageStatus struct {
	// ImagePullJob is the name of the ImagePullJob.
	// +optional
	ImagePullJob string `json:"imagePullJob,omitempty" protobuf:"bytes,1,opt,name=imagePullJob"`

	// Name is the image.
	// +optional
	Name string `json:"name,omitempty" protobuf:"bytes,2,opt,name=name"`

	// Message is the ImagePullJob's status message.
	// +optional
	Message string `json:"message,omitempty" protobuf:"bytes,3,opt,name=message"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ImageListPullJobList is a list of ImageListPullJobs.
type ImageListPullJobList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`
	Items           []ImageListPullJob `json:"items" protobuf:"bytes,2,rep,name=items"`
}
