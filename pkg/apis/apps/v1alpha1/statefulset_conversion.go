package v1alpha1

import (
	"k8s.io/apimachinery/pkg/conversion"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/annotationstash"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
)

// statefulSetStash is what the hub's StatefulSet holds that v1alpha1 cannot
// express, laid out as in v1beta1. It only ever exists as JSON in an
// annotation: no OpenAPI, no deepcopy.
// +k8s:openapi-gen=false
// +k8s:deepcopy-gen=false
type statefulSetStash struct {
	Spec   *statefulSetSpecStash   `json:"spec,omitempty"`
	Status *statefulSetStatusStash `json:"status,omitempty"`
}

// +k8s:openapi-gen=false
// +k8s:deepcopy-gen=false
type statefulSetSpecStash struct {
	// VolumeClaimUpdateStrategy is only stashed when its type is set.
	VolumeClaimUpdateStrategy *apps.VolumeClaimUpdateStrategy `json:"volumeClaimUpdateStrategy,omitempty"`
	ReserveOrdinals           []intstr.IntOrString            `json:"reserveOrdinals,omitempty"`
	Lifecycle                 *apps.Lifecycle                 `json:"lifecycle,omitempty"`
	ScaleStrategy             *apps.StatefulSetScaleStrategy  `json:"scaleStrategy,omitempty"`
	// PersistentVolumeClaimRetentionPolicy is only stashed when it differs
	// from the default (Retain, Retain), which is what a v1alpha1 object
	// without a stash converts to.
	PersistentVolumeClaimRetentionPolicy *apps.StatefulSetPersistentVolumeClaimRetentionPolicy `json:"persistentVolumeClaimRetentionPolicy,omitempty"`
	Ordinals                             *apps.StatefulSetOrdinals                             `json:"ordinals,omitempty"`
}

// +k8s:openapi-gen=false
// +k8s:deepcopy-gen=false
type statefulSetStatusStash struct {
	UpdatedReadyReplicas     int32                    `json:"updatedReadyReplicas,omitempty"`
	UpdatedAvailableReplicas int32                    `json:"updatedAvailableReplicas,omitempty"`
	VolumeClaims             []apps.VolumeClaimStatus `json:"volumeClaims,omitempty"`
}

func Convert_v1alpha1_StatefulSet_To_apps_StatefulSet(in *StatefulSet, out *apps.StatefulSet, s conversion.Scope) error {
	if err := autoConvert_v1alpha1_StatefulSet_To_apps_StatefulSet(in, out, s); err != nil {
		return err
	}
	var stash statefulSetStash
	if annotationstash.Restore(&out.ObjectMeta, &stash) {
		if spec := stash.Spec; spec != nil {
			if spec.VolumeClaimUpdateStrategy != nil {
				out.Spec.VolumeClaimUpdateStrategy = *spec.VolumeClaimUpdateStrategy
			}
			out.Spec.ReserveOrdinals = spec.ReserveOrdinals
			out.Spec.Lifecycle = spec.Lifecycle
			out.Spec.ScaleStrategy = spec.ScaleStrategy
			out.Spec.PersistentVolumeClaimRetentionPolicy = spec.PersistentVolumeClaimRetentionPolicy
			out.Spec.Ordinals = spec.Ordinals
		}
		if status := stash.Status; status != nil {
			out.Status.UpdatedReadyReplicas = status.UpdatedReadyReplicas
			out.Status.UpdatedAvailableReplicas = status.UpdatedAvailableReplicas
			out.Status.VolumeClaims = status.VolumeClaims
		}
	}
	// v1beta1 defaults the retention policy; v1alpha1 cannot, so an object
	// written at v1alpha1 gets the same default here, and reads back the
	// same through either version.
	out.Spec.PersistentVolumeClaimRetentionPolicy = defaultedRetentionPolicy(out.Spec.PersistentVolumeClaimRetentionPolicy)
	return nil
}

func Convert_apps_StatefulSet_To_v1alpha1_StatefulSet(in *apps.StatefulSet, out *StatefulSet, s conversion.Scope) error {
	if err := autoConvert_apps_StatefulSet_To_v1alpha1_StatefulSet(in, out, s); err != nil {
		return err
	}
	spec := statefulSetSpecStash{
		ReserveOrdinals: in.Spec.ReserveOrdinals,
		Lifecycle:       in.Spec.Lifecycle,
		ScaleStrategy:   in.Spec.ScaleStrategy,
		Ordinals:        in.Spec.Ordinals,
	}
	if in.Spec.VolumeClaimUpdateStrategy.Type != "" {
		spec.VolumeClaimUpdateStrategy = &apps.VolumeClaimUpdateStrategy{Type: in.Spec.VolumeClaimUpdateStrategy.Type}
	}
	if policy := in.Spec.PersistentVolumeClaimRetentionPolicy; policy != nil && !isDefaultRetentionPolicy(policy) {
		spec.PersistentVolumeClaimRetentionPolicy = policy
	}
	status := statefulSetStatusStash{
		UpdatedReadyReplicas:     in.Status.UpdatedReadyReplicas,
		UpdatedAvailableReplicas: in.Status.UpdatedAvailableReplicas,
		VolumeClaims:             in.Status.VolumeClaims,
	}
	var stash statefulSetStash
	if spec.VolumeClaimUpdateStrategy != nil || len(spec.ReserveOrdinals) > 0 || spec.Lifecycle != nil ||
		spec.ScaleStrategy != nil || spec.PersistentVolumeClaimRetentionPolicy != nil || spec.Ordinals != nil {
		stash.Spec = &spec
	}
	if status.UpdatedReadyReplicas != 0 || status.UpdatedAvailableReplicas != 0 || len(status.VolumeClaims) > 0 {
		stash.Status = &status
	}
	return annotationstash.Stash(&out.ObjectMeta, stash)
}

// The spec and status of v1alpha1 are those of the hub minus the stashed
// fields, which Convert_apps_StatefulSet_To_v1alpha1_StatefulSet handles.

func Convert_apps_StatefulSetSpec_To_v1alpha1_StatefulSetSpec(in *apps.StatefulSetSpec, out *StatefulSetSpec, s conversion.Scope) error {
	return autoConvert_apps_StatefulSetSpec_To_v1alpha1_StatefulSetSpec(in, out, s)
}

func Convert_apps_StatefulSetStatus_To_v1alpha1_StatefulSetStatus(in *apps.StatefulSetStatus, out *StatefulSetStatus, s conversion.Scope) error {
	return autoConvert_apps_StatefulSetStatus_To_v1alpha1_StatefulSetStatus(in, out, s)
}

func isDefaultRetentionPolicy(policy *apps.StatefulSetPersistentVolumeClaimRetentionPolicy) bool {
	return policy.WhenDeleted == apps.RetainPersistentVolumeClaimRetentionPolicyType &&
		policy.WhenScaled == apps.RetainPersistentVolumeClaimRetentionPolicyType
}

// defaultedRetentionPolicy fills in what v1beta1 defaulting would, without
// modifying policy (it may be shared with the object converted from).
func defaultedRetentionPolicy(policy *apps.StatefulSetPersistentVolumeClaimRetentionPolicy) *apps.StatefulSetPersistentVolumeClaimRetentionPolicy {
	out := &apps.StatefulSetPersistentVolumeClaimRetentionPolicy{}
	if policy != nil {
		*out = *policy
	}
	if out.WhenDeleted == "" {
		out.WhenDeleted = apps.RetainPersistentVolumeClaimRetentionPolicyType
	}
	if out.WhenScaled == "" {
		out.WhenScaled = apps.RetainPersistentVolumeClaimRetentionPolicyType
	}
	return out
}
