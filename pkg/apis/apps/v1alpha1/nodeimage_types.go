package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +genclient
// +genclient:nonNamespaced
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// NodeImage is the image pulling work of one node, named after the node:
// the job controllers write what to pull into its spec and the node's
// kruise-daemon reports what it did in its status.
type NodeImage struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`

	// +optional
	Spec NodeImageSpec `json:"spec,omitempty" protobuf:"bytes,2,opt,name=spec"`
	// +optional
	Status NodeImageStatus `json:"status,omitempty" protobuf:"bytes,3,opt,name=status"`
}

// NodeImageSpec is the desired state of a NodeImage.
type NodeImageSpec struct {
	// Images maps an image name, without tag, to what to pull of it. At
	// most 256 images.
	// +optional
	Images map[string]ImageSpec `json:"images,omitempty" protobuf:"bytes,1,rep,name=images"`
}

// ImageSpec is what to pull of one image.
type ImageSpec struct {
	// PullSecrets are the Secrets to pull with.
	// +optional
	// +listType=atomic
	PullSecrets []ReferenceObject `json:"pullSecrets,omitempty" protobuf:"bytes,1,rep,name=pullSecrets"`

	// Tags are the tags to pull, each at most once.
	// +listType=atomic
	Tags []ImageTagSpec `json:"tags" protobuf:"bytes,2,rep,name=tags"`

	// SandboxConfig is passed to the CRI PullImage call.
	// +optional
	SandboxConfig *SandboxConfig `json:"sandboxConfig,omitempty" protobuf:"bytes,3,opt,name=sandboxConfig"`
}

// ImageTagSpec is the pulling of one tag.
type ImageTagSpec struct {
	// Tag is the tag (or digest) to pull.
	Tag string `json:"tag" protobuf:"bytes,1,opt,name=tag"`

	// CreatedAt is when the tag was asked for. Defaults to the time of the
	// request.
	// +optional
	CreatedAt *metav1.Time `json:"createdAt,omitempty" protobuf:"bytes,2,opt,name=createdAt"`

	// PullPolicy tunes the pull; ttlSecondsAfterFinished must be set.
	// +optional
	PullPolicy *ImageTagPullPolicy `json:"pullPolicy,omitempty" protobuf:"bytes,3,opt,name=pullPolicy"`

	// OwnerReferences are the jobs that asked for the tag.
	// +optional
	// +listType=atomic
	OwnerReferences []corev1.ObjectReference `json:"ownerReferences,omitempty" protobuf:"bytes,4,rep,name=ownerReferences"`

	// Version is bumped each time a job asks for the tag again, so that the
	// daemon pulls anew; the status reports the version it handled.
	// +optional
	Version int64 `json:"version,omitempty" protobuf:"varint,5,opt,name=version"`

	// ImagePullPolicy is Always or IfNotPresent.
	// +optional
	ImagePullPolicy ImagePullPolicy `json:"imagePullPolicy,omitempty" protobuf:"bytes,6,opt,name=imagePullPolicy,casttype=ImagePullPolicy"`
}

// NodeImageStatus is what kruise-daemon reports of the node's pulls.
type NodeImageStatus struct {
	// Desired is the number of pull tasks in the spec, one per tag.
	Desired int32 `json:"desired" protobuf:"varint,1,opt,name=desired"`

	// Succeeded is the number of tags pulled.
	// +optional
	Succeeded int32 `json:"succeeded" protobuf:"varint,2,opt,name=succeeded"`

	// Failed is the number of tags that failed to pull.
	// +optional
	Failed int32 `json:"failed" protobuf:"varint,3,opt,name=failed"`

	// Pulling is the number of tags being pulled.
	// +optional
	Pulling int32 `json:"pulling" protobuf:"varint,4,opt,name=pulling"`

	// Waiting is the number of tags not started yet.
	// +optional
	Waiting int32 `json:"waiting" protobuf:"varint,5,opt,name=waiting"`

	// ImageStatuses maps an image name to the state of its tags.
	// +optional
	ImageStatuses map[string]ImageStatus `json:"imageStatuses,omitempty" protobuf:"bytes,6,rep,name=imageStatuses"`

	// FirstSyncStatus is the outcome of the first round of pulls after the
	// node joined, for systems that wait for a new node to be warmed up.
	// +optional
	FirstSyncStatus *SyncStatus `json:"firstSyncStatus,omitempty" protobuf:"bytes,7,opt,name=firstSyncStatus"`
}

// ImageStatus is the state of the pulls of one image.
type ImageStatus struct {
	// Tags is the state of each tag's pull.
	// +listType=atomic
	Tags []ImageTagStatus `json:"tags" protobuf:"bytes,1,rep,name=tags"`
}

// ImageTagStatus is the state of one tag's pull.
type ImageTagStatus struct {
	// Tag is the tag pulled.
	Tag string `json:"tag" protobuf:"bytes,1,opt,name=tag"`

	// Phase is Waiting, Pulling, Succeeded or Failed.
	Phase ImagePullPhase `json:"phase" protobuf:"bytes,2,opt,name=phase,casttype=ImagePullPhase"`

	// Progress is the percentage pulled; it may go back when a pull is retried.
	// +optional
	Progress int32 `json:"progress,omitempty" protobuf:"varint,3,opt,name=progress"`

	// StartTime is when the daemon started the pull.
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty" protobuf:"bytes,4,opt,name=startTime"`

	// CompletionTime is when the pull finished.
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty" protobuf:"bytes,5,opt,name=completionTime"`

	// Version is the spec version of the tag this state is for.
	// +optional
	Version int64 `json:"version,omitempty" protobuf:"varint,6,opt,name=version"`

	// ImageID is the ID of the pulled image.
	// +optional
	ImageID string `json:"imageID,omitempty" protobuf:"bytes,7,opt,name=imageID"`

	// Message says what went wrong, if anything.
	// +optional
	Message string `json:"message,omitempty" protobuf:"bytes,8,opt,name=message"`
}

// ImagePullPhase is the state of a tag's pull.
// +enum
type ImagePullPhase string

const (
	// ImagePhaseWaiting means the pull has not started.
	ImagePhaseWaiting ImagePullPhase = "Waiting"
	// ImagePhasePulling means the pull is under way.
	ImagePhasePulling ImagePullPhase = "Pulling"
	// ImagePhaseSucceeded means the image is on the node.
	ImagePhaseSucceeded ImagePullPhase = "Succeeded"
	// ImagePhaseFailed means the pull gave up.
	ImagePhaseFailed ImagePullPhase = "Failed"
)

// SyncStatus is the outcome of a round of pulls on the node.
type SyncStatus struct {
	// +optional
	SyncAt metav1.Time `json:"syncAt,omitempty" protobuf:"bytes,1,opt,name=syncAt"`
	// +optional
	Status SyncStatusPhase `json:"status,omitempty" protobuf:"bytes,2,opt,name=status,casttype=SyncStatusPhase"`
	// +optional
	Message string `json:"message,omitempty" protobuf:"bytes,3,opt,name=message"`
}

// SyncStatusPhase is the outcome of a round of pulls.
// +enum
type SyncStatusPhase string

const (
	// SyncStatusSucceeded means every pull succeeded.
	SyncStatusSucceeded SyncStatusPhase = "Succeeded"
	// SyncStatusFailed means some pull failed.
	SyncStatusFailed SyncStatusPhase = "Failed"
)

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// NodeImageList is a list of NodeImages.
type NodeImageList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`
	Items           []NodeImage `json:"items" protobuf:"bytes,2,rep,name=items"`
}
