package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The types below are shared by ImagePullJob, ImageListPullJob and NodeImage:
// a job's template is copied, image by image and node by node, into the
// NodeImage of every node it targets.

const (
	// DefaultImagePullTimeoutSeconds is the default pullPolicy.timeoutSeconds.
	DefaultImagePullTimeoutSeconds = 600
	// DefaultImagePullBackoffLimit is the default pullPolicy.backoffLimit.
	DefaultImagePullBackoffLimit = 3
)

// ImagePullPolicy says whether kruise-daemon pulls an image it already has.
// +enum
type ImagePullPolicy string

const (
	// PullAlways pulls the image every time.
	PullAlways ImagePullPolicy = "Always"
	// PullIfNotPresent reports success without pulling when the node already
	// has the image.
	PullIfNotPresent ImagePullPolicy = "IfNotPresent"
)

// CompletionPolicyType says when a job is finished.
// +enum
type CompletionPolicyType string

const (
	// Always finishes the job once every selected node succeeded or failed,
	// or when activeDeadlineSeconds has passed.
	Always CompletionPolicyType = "Always"
	// Never keeps the job running, pulling on nodes that start to match later.
	Never CompletionPolicyType = "Never"
)

// CompletionPolicy says when a job is finished and how long it is kept after.
type CompletionPolicy struct {
	// Type is Always (the default) or Never.
	// +optional
	Type CompletionPolicyType `json:"type,omitempty" protobuf:"bytes,1,opt,name=type,casttype=CompletionPolicyType"`

	// ActiveDeadlineSeconds bounds how long an Always job may run, counted
	// from its start; nodes still pulling then count as failed.
	// +optional
	ActiveDeadlineSeconds *int64 `json:"activeDeadlineSeconds,omitempty" protobuf:"varint,2,opt,name=activeDeadlineSeconds"`

	// TTLSecondsAfterFinished is how long a finished Always job is kept
	// before it is deleted; unset keeps it forever, 0 deletes it at once.
	// +optional
	TTLSecondsAfterFinished *int32 `json:"ttlSecondsAfterFinished,omitempty" protobuf:"varint,3,opt,name=ttlSecondsAfterFinished"`
}

// PullPolicy tunes each node's pull.
type PullPolicy struct {
	// TimeoutSeconds bounds one pull attempt. Defaults to 600.
	// +optional
	TimeoutSeconds *int32 `json:"timeoutSeconds,omitempty" protobuf:"varint,1,opt,name=timeoutSeconds"`

	// BackoffLimit is how many times a failed pull is retried before the
	// node counts as failed. Defaults to 3.
	// +optional
	BackoffLimit *int32 `json:"backoffLimit,omitempty" protobuf:"varint,2,opt,name=backoffLimit"`
}

// SandboxConfig is metadata handed to the CRI PullImage call, for runtimes
// that pull differently depending on the sandbox.
type SandboxConfig struct {
	// +optional
	Labels map[string]string `json:"labels,omitempty" protobuf:"bytes,1,rep,name=labels"`
	// +optional
	Annotations map[string]string `json:"annotations,omitempty" protobuf:"bytes,2,rep,name=annotations"`
}

// ImagePullJobTemplate is what an ImagePullJob and an ImageListPullJob hold
// besides their image(s).
type ImagePullJobTemplate struct {
	// PullSecrets names Secrets in the job's namespace to pull with; the
	// runtime decides which kinds it honours (docker: DockerConfig only).
	// +optional
	// +listType=atomic
	PullSecrets []string `json:"pullSecrets,omitempty" protobuf:"bytes,1,rep,name=pullSecrets"`

	// Selector picks nodes by name or by label; nil selects every node.
	// +optional
	Selector *ImagePullJobNodeSelector `json:"selector,omitempty" protobuf:"bytes,2,opt,name=selector"`

	// PodSelector picks the nodes running matching Pods (in the job's
	// namespace). It cannot be used with selector.
	// +optional
	PodSelector *ImagePullJobPodSelector `json:"podSelector,omitempty" protobuf:"bytes,3,opt,name=podSelector"`

	// Parallelism is how many nodes pull at once, a non-negative integer;
	// 0 pauses the job. Unset means 1.
	// +optional
	Parallelism *intstr.IntOrString `json:"parallelism,omitempty" protobuf:"bytes,4,opt,name=parallelism"`

	// PullPolicy tunes each node's pull; its fields are defaulted.
	// +optional
	PullPolicy *PullPolicy `json:"pullPolicy,omitempty" protobuf:"bytes,5,opt,name=pullPolicy"`

	// CompletionPolicy says when the job is finished. It must be given,
	// even if empty ({} means type Always).
	CompletionPolicy *CompletionPolicy `json:"completionPolicy" protobuf:"bytes,6,opt,name=completionPolicy"`

	// SandboxConfig is passed to the CRI PullImage call.
	// +optional
	SandboxConfig *SandboxConfig `json:"sandboxConfig,omitempty" protobuf:"bytes,7,opt,name=sandboxConfig"`

	// ImagePullPolicy is Always or IfNotPresent.
	// +optional
	ImagePullPolicy ImagePullPolicy `json:"imagePullPolicy,omitempty" protobuf:"bytes,8,opt,name=imagePullPolicy,casttype=ImagePullPolicy"`
}

// ImagePullJobNodeSelector picks nodes either by name or by label, not both.
type ImagePullJobNodeSelector struct {
	// Names lists the nodes to pull on.
	// +optional
	// +listType=atomic
	Names []string `json:"names,omitempty" protobuf:"bytes,1,rep,name=names"`

	// LabelSelector selects nodes by their labels.
	// +optional
	metav1.LabelSelector `json:",inline" protobuf:"bytes,2,opt,name=labelSelector"`
}

// ImagePullJobPodSelector picks the nodes that run matching Pods.
type ImagePullJobPodSelector struct {
	// LabelSelector selects Pods by their labels.
	// +optional
	metav1.LabelSelector `json:",inline" protobuf:"bytes,1,opt,name=labelSelector"`
}

// ReferenceObjectModeBatch marks a pull secret that kruise-daemon syncs once
// for every job using it, and that is removed together with its image
// entry; pull secrets without a mode are per-job copies from before.
const ReferenceObjectModeBatch = "batch"

// ReferenceObject names a Secret in a namespace.
type ReferenceObject struct {
	// +optional
	Namespace string `json:"namespace,omitempty" protobuf:"bytes,1,opt,name=namespace"`
	// +optional
	Name string `json:"name,omitempty" protobuf:"bytes,2,opt,name=name"`
	// Mode is "batch" for secrets synced once per node and cleaned up with
	// their image, or empty for per-job copies. v1alpha1 has no such field.
	// +optional
	Mode string `json:"mode,omitempty" protobuf:"bytes,3,opt,name=mode"`
}

// ImageTagPullPolicy tunes the pull of one tag on one node.
type ImageTagPullPolicy struct {
	// TimeoutSeconds bounds one pull attempt. Defaults to 600.
	// +optional
	TimeoutSeconds *int32 `json:"timeoutSeconds,omitempty" protobuf:"varint,1,opt,name=timeoutSeconds"`

	// BackoffLimit is how many times a failed pull is retried. Defaults to 3.
	// +optional
	BackoffLimit *int32 `json:"backoffLimit,omitempty" protobuf:"varint,2,opt,name=backoffLimit"`

	// TTLSecondsAfterFinished is how long the finished task is kept on the
	// node before it is removed; 0 removes it at once.
	// +optional
	TTLSecondsAfterFinished *int32 `json:"ttlSecondsAfterFinished,omitempty" protobuf:"varint,3,opt,name=ttlSecondsAfterFinished"`

	// ActiveDeadlineSeconds bounds how long the task may run from its start;
	// unset means no bound.
	// +optional
	ActiveDeadlineSeconds *int64 `json:"activeDeadlineSeconds,omitempty" protobuf:"varint,4,opt,name=activeDeadlineSeconds"`
}
