// Package fuzzer fills internal apps.kruise.io objects with random values the
// way they look after defaulting, for the round-trip tests: a value that
// defaulting would change (a nil replicas, an empty strategy type) cannot
// round-trip and says nothing about conversion.
package fuzzer

import (
	"encoding/json"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/randfill"

	runtimeserializer "k8s.io/apimachinery/pkg/runtime/serializer"

	corev1 "k8s.io/api/core/v1"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1alpha1"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
)

// Funcs returns the fuzzer functions for the apps.kruise.io internal types.
func Funcs(codecs runtimeserializer.CodecFactory) []interface{} {
	return []interface{}{
		fillCloneSetSpec,
		fillImagePullJobSpec,
		fillImageListPullJobSpec,
		fillImageTagSpec,
		func(r *apps.ReferenceObject, c randfill.Continue) {
			c.FillNoCustom(r)
			r.Mode = pick(c, "", apps.ReferenceObjectModeBatch)
		},
		func(s *apps.WorkloadSpreadScheduleStrategy, c randfill.Continue) {
			c.FillNoCustom(s)
			s.Type = pick(c, "", apps.AdaptiveWorkloadSpreadScheduleStrategyType, apps.FixedWorkloadSpreadScheduleStrategyType)
		},
		func(s *apps.WorkloadSpreadSubset, c randfill.Continue) {
			c.FillNoCustom(s)
			s.Patch = fillPodPatch(c)
		},
		func(s *apps.WorkloadSpreadSubsetStatus, c randfill.Continue) {
			c.FillNoCustom(s)
			s.Conditions = uniqueBy(s.Conditions, func(condition metav1.Condition) string { return condition.Type })
		},
		fillStatefulSetSpec,
	}
}

// VersionedFuncs returns fuzzer functions for the served versions: they
// keep enum fields within what validation accepts (or empty, for defaulting
// to fill in), since only valid objects are ever stored and converted.
func VersionedFuncs(codecs runtimeserializer.CodecFactory) []interface{} {
	return []interface{}{
		func(s *v1alpha1.CloneSetUpdateStrategy, c randfill.Continue) {
			c.FillNoCustom(s)
			s.Type = pick(c, "", v1alpha1.OnDeleteCloneSetUpdateStrategyType, v1alpha1.RecreateCloneSetUpdateStrategyType,
				v1alpha1.InPlaceIfPossibleCloneSetUpdateStrategyType, v1alpha1.InPlaceOnlyCloneSetUpdateStrategyType)
		},
		func(s *v1alpha1.WorkloadSpreadScheduleStrategy, c randfill.Continue) {
			c.FillNoCustom(s)
			s.Type = pick(c, "", v1alpha1.AdaptiveWorkloadSpreadScheduleStrategyType, v1alpha1.FixedWorkloadSpreadScheduleStrategyType)
		},
		func(s *v1beta1.WorkloadSpreadScheduleStrategy, c randfill.Continue) {
			c.FillNoCustom(s)
			s.Type = pick(c, "", v1beta1.AdaptiveWorkloadSpreadScheduleStrategyType, v1beta1.FixedWorkloadSpreadScheduleStrategyType)
		},
		func(s *v1alpha1.WorkloadSpreadSubset, c randfill.Continue) {
			c.FillNoCustom(s)
			s.Patch = fillPodPatch(c)
		},
		func(s *v1beta1.WorkloadSpreadSubset, c randfill.Continue) {
			c.FillNoCustom(s)
			s.Patch = fillPodPatch(c)
		},
		func(s *v1alpha1.WorkloadSpreadSubsetStatus, c randfill.Continue) {
			c.FillNoCustom(s)
			s.Conditions = uniqueBy(s.Conditions, func(condition v1alpha1.WorkloadSpreadSubsetCondition) string { return string(condition.Type) })
		},
		func(s *v1beta1.WorkloadSpreadSubsetStatus, c randfill.Continue) {
			c.FillNoCustom(s)
			s.Conditions = uniqueBy(s.Conditions, func(condition metav1.Condition) string { return condition.Type })
		},
		func(s *v1beta1.CloneSetUpdateStrategy, c randfill.Continue) {
			c.FillNoCustom(s)
			s.Type = pick(c, "", v1beta1.RollingUpdateCloneSetUpdateStrategyType, v1beta1.OnDeleteCloneSetUpdateStrategyType)
			if s.RollingUpdate != nil {
				s.RollingUpdate.PodUpdatePolicy = pick(c, "", v1beta1.RecreateCloneSetPodUpdateStrategyType,
					v1beta1.InPlaceIfPossibleCloneSetPodUpdateStrategyType, v1beta1.InPlaceOnlyCloneSetPodUpdateStrategyType)
			}
		},

		func(p *v1alpha1.CompletionPolicy, c randfill.Continue) {
			c.FillNoCustom(p)
			p.Type = pick(c, "", v1alpha1.Always, v1alpha1.Never)
		},
		func(p *v1beta1.CompletionPolicy, c randfill.Continue) {
			c.FillNoCustom(p)
			p.Type = pick(c, "", v1beta1.Always, v1beta1.Never)
		},
		func(t *v1alpha1.ImagePullJobTemplate, c randfill.Continue) {
			c.FillNoCustom(t)
			t.ImagePullPolicy = pick(c, "", v1alpha1.PullAlways, v1alpha1.PullIfNotPresent)
		},
		func(t *v1beta1.ImagePullJobTemplate, c randfill.Continue) {
			c.FillNoCustom(t)
			t.ImagePullPolicy = pick(c, "", v1beta1.PullAlways, v1beta1.PullIfNotPresent)
		},
		func(t *v1alpha1.ImageTagSpec, c randfill.Continue) {
			c.FillNoCustom(t)
			t.ImagePullPolicy = pick(c, "", v1alpha1.PullAlways, v1alpha1.PullIfNotPresent)
		},
		func(t *v1beta1.ImageTagSpec, c randfill.Continue) {
			c.FillNoCustom(t)
			t.ImagePullPolicy = pick(c, "", v1beta1.PullAlways, v1beta1.PullIfNotPresent)
		},
		func(r *v1beta1.ReferenceObject, c randfill.Continue) {
			c.FillNoCustom(r)
			r.Mode = pick(c, "", v1beta1.ReferenceObjectModeBatch)
		},
		func(t *v1alpha1.ImageTagStatus, c randfill.Continue) {
			c.FillNoCustom(t)
			t.Phase = pick(c, v1alpha1.ImagePhaseWaiting, v1alpha1.ImagePhasePulling, v1alpha1.ImagePhaseSucceeded, v1alpha1.ImagePhaseFailed)
		},
		func(t *v1beta1.ImageTagStatus, c randfill.Continue) {
			c.FillNoCustom(t)
			t.Phase = pick(c, v1beta1.ImagePhaseWaiting, v1beta1.ImagePhasePulling, v1beta1.ImagePhaseSucceeded, v1beta1.ImagePhaseFailed)
		},
		func(s *v1alpha1.SyncStatus, c randfill.Continue) {
			c.FillNoCustom(s)
			s.Status = pick(c, "", v1alpha1.SyncStatusSucceeded, v1alpha1.SyncStatusFailed)
		},
		func(s *v1beta1.SyncStatus, c randfill.Continue) {
			c.FillNoCustom(s)
			s.Status = pick(c, "", v1beta1.SyncStatusSucceeded, v1beta1.SyncStatusFailed)
		},
		func(s *v1alpha1.StatefulSetSpec, c randfill.Continue) {
			c.FillNoCustom(s)
			s.PodManagementPolicy = pick(c, "", v1alpha1.OrderedReadyPodManagement, v1alpha1.ParallelPodManagement)
			s.UpdateStrategy.Type = pick(c, "", v1alpha1.RollingUpdateStatefulSetStrategyType, v1alpha1.OnDeleteStatefulSetStrategyType)
			if s.UpdateStrategy.RollingUpdate != nil {
				s.UpdateStrategy.RollingUpdate.PodUpdatePolicy = pick(c, "", v1alpha1.RecreatePodUpdateStrategyType,
					v1alpha1.InPlaceIfPossiblePodUpdateStrategyType, v1alpha1.InPlaceOnlyPodUpdateStrategyType)
			}
		},
		func(s *v1beta1.StatefulSetSpec, c randfill.Continue) {
			c.FillNoCustom(s)
			s.PodManagementPolicy = pick(c, "", v1beta1.OrderedReadyPodManagement, v1beta1.ParallelPodManagement)
			s.UpdateStrategy.Type = pick(c, "", v1beta1.RollingUpdateStatefulSetStrategyType, v1beta1.OnDeleteStatefulSetStrategyType)
			if s.UpdateStrategy.RollingUpdate != nil {
				s.UpdateStrategy.RollingUpdate.PodUpdatePolicy = pick(c, "", v1beta1.RecreatePodUpdateStrategyType,
					v1beta1.InPlaceIfPossiblePodUpdateStrategyType, v1beta1.InPlaceOnlyPodUpdateStrategyType)
			}
			s.VolumeClaimUpdateStrategy.Type = pick(c, "", v1beta1.OnPodRollingUpdateVolumeClaimUpdateStrategyType,
				v1beta1.OnPVCDeleteVolumeClaimUpdateStrategyType)
			if policy := s.PersistentVolumeClaimRetentionPolicy; policy != nil {
				policy.WhenDeleted = pick(c, "", v1beta1.RetainPersistentVolumeClaimRetentionPolicyType, v1beta1.DeletePersistentVolumeClaimRetentionPolicyType)
				policy.WhenScaled = pick(c, "", v1beta1.RetainPersistentVolumeClaimRetentionPolicyType, v1beta1.DeletePersistentVolumeClaimRetentionPolicyType)
			}
		},
	}
}

func pick[T any](c randfill.Continue, values ...T) T {
	return values[c.Intn(len(values))]
}

// uniqueBy keeps the first item of each key: validation rejects repeated
// keys of list-map items (subset condition types, for one).
func uniqueBy[T any](items []T, key func(T) string) []T {
	if items == nil {
		return nil
	}
	seen := map[string]bool{}
	out := make([]T, 0, len(items))
	for _, item := range items {
		if k := key(item); !seen[k] {
			seen[k] = true
			out = append(out, item)
		}
	}
	return out
}

// fillPodPatch returns no patch or a small Pod patch, a JSON object in the
// compact form a decoded request carries: random bytes would neither pass
// validation nor survive re-encoding unchanged.
func fillPodPatch(c randfill.Continue) *runtime.RawExtension {
	if c.Bool() {
		return nil
	}
	labels := map[string]string{}
	for n := c.Intn(3); n > 0; n-- {
		labels["example.com/"+c.String(8)] = c.String(8)
	}
	patch := map[string]interface{}{"metadata": map[string]interface{}{"labels": labels}}
	if c.Bool() {
		patch["spec"] = map[string]interface{}{"priorityClassName": c.String(10)}
	}
	raw, err := json.Marshal(patch)
	if err != nil {
		panic(err)
	}
	return &runtime.RawExtension{Raw: raw}
}

func fillIntOrString(c randfill.Continue) *intstr.IntOrString {
	if c.Bool() {
		return ptr.To(intstr.FromInt32(c.Int31n(100)))
	}
	return ptr.To(intstr.FromString(pick(c, "0%", "20%", "50%", "100%")))
}

// defaultPodTemplate applies the declarative (+default) core/v1 defaults
// that decoding applies to embedded Pod templates and PVC templates, by
// running the generated v1beta1 CloneSet defaulter over a scratch object that
// holds them.
func defaultPodTemplate(template *corev1.PodTemplateSpec, claims []corev1.PersistentVolumeClaim) {
	scratch := &v1beta1.CloneSet{Spec: v1beta1.CloneSetSpec{Template: *template, VolumeClaimTemplates: claims}}
	v1beta1.SetObjectDefaults_CloneSet(scratch)
	*template = scratch.Spec.Template
}

func fillCloneSetSpec(s *apps.CloneSetSpec, c randfill.Continue) {
	c.FillNoCustom(s)
	defaultPodTemplate(&s.Template, s.VolumeClaimTemplates)
	if s.Replicas == nil {
		s.Replicas = ptr.To(c.Int31n(1000))
	}
	if s.RevisionHistoryLimit == nil {
		s.RevisionHistoryLimit = ptr.To(c.Int31n(20))
	}

	strategy := &s.UpdateStrategy
	strategy.Type = pick(c, apps.RollingUpdateCloneSetUpdateStrategyType, apps.OnDeleteCloneSetUpdateStrategyType)
	if strategy.RollingUpdate == nil {
		strategy.RollingUpdate = &apps.RollingUpdateCloneSetStrategy{}
	}
	rollingUpdate := strategy.RollingUpdate
	policies := []apps.CloneSetPodUpdateStrategyType{
		apps.RecreateCloneSetPodUpdateStrategyType,
		apps.InPlaceIfPossibleCloneSetPodUpdateStrategyType,
		apps.InPlaceOnlyCloneSetPodUpdateStrategyType,
	}
	if strategy.Type == apps.OnDeleteCloneSetUpdateStrategyType {
		policies = append(policies, "")
	}
	rollingUpdate.PodUpdatePolicy = pick(c, policies...)
	if rollingUpdate.PodUpdatePolicy == apps.InPlaceIfPossibleCloneSetPodUpdateStrategyType ||
		rollingUpdate.PodUpdatePolicy == apps.InPlaceOnlyCloneSetPodUpdateStrategyType {
		if rollingUpdate.InPlaceUpdateStrategy == nil {
			rollingUpdate.InPlaceUpdateStrategy = &apps.InPlaceUpdateStrategy{}
		}
	}
	rollingUpdate.Partition = fillIntOrString(c)
	rollingUpdate.MaxUnavailable = fillIntOrString(c)
	rollingUpdate.MaxSurge = fillIntOrString(c)
}

// fillImagePullJobTemplate sets what defaulting sets on both job kinds: a
// full pull policy and, when there is a completion policy (a missing one is
// left missing, for validation to reject), its type.
func fillImagePullJobTemplate(t *apps.ImagePullJobTemplate, c randfill.Continue) {
	if t.PullPolicy == nil {
		t.PullPolicy = &apps.PullPolicy{}
	}
	if t.PullPolicy.TimeoutSeconds == nil {
		t.PullPolicy.TimeoutSeconds = ptr.To(c.Int31n(3600))
	}
	if t.PullPolicy.BackoffLimit == nil {
		t.PullPolicy.BackoffLimit = ptr.To(c.Int31n(10))
	}
	if t.CompletionPolicy != nil {
		t.CompletionPolicy.Type = pick(c, apps.Always, apps.Never)
	}
}

func fillImagePullJobSpec(s *apps.ImagePullJobSpec, c randfill.Continue) {
	c.FillNoCustom(s)
	fillImagePullJobTemplate(&s.ImagePullJobTemplate, c)
	s.ImagePullPolicy = pick(c, apps.PullAlways, apps.PullIfNotPresent)
}

// fillImageListPullJobSpec leaves imagePullPolicy possibly empty: it is not
// defaulted on list jobs.
func fillImageListPullJobSpec(s *apps.ImageListPullJobSpec, c randfill.Continue) {
	c.FillNoCustom(s)
	fillImagePullJobTemplate(&s.ImagePullJobTemplate, c)
	s.ImagePullPolicy = pick(c, "", apps.PullAlways, apps.PullIfNotPresent)
}

// fillImageTagSpec gives every tag the creation time and pull policy
// defaulting gives it.
func fillImageTagSpec(t *apps.ImageTagSpec, c randfill.Continue) {
	c.FillNoCustom(t)
	if t.CreatedAt == nil {
		t.CreatedAt = &metav1.Time{}
		c.Fill(t.CreatedAt)
	}
	if t.PullPolicy == nil {
		t.PullPolicy = &apps.ImageTagPullPolicy{}
	}
	if t.PullPolicy.TimeoutSeconds == nil {
		t.PullPolicy.TimeoutSeconds = ptr.To(c.Int31n(3600))
	}
	if t.PullPolicy.BackoffLimit == nil {
		t.PullPolicy.BackoffLimit = ptr.To(c.Int31n(10))
	}
	t.ImagePullPolicy = pick(c, "", apps.PullAlways, apps.PullIfNotPresent)
}

func fillStatefulSetSpec(s *apps.StatefulSetSpec, c randfill.Continue) {
	c.FillNoCustom(s)
	defaultPodTemplate(&s.Template, s.VolumeClaimTemplates)
	if s.Replicas == nil {
		s.Replicas = ptr.To(c.Int31n(1000))
	}
	if s.RevisionHistoryLimit == nil {
		s.RevisionHistoryLimit = ptr.To(c.Int31n(20))
	}
	s.PodManagementPolicy = pick(c, apps.OrderedReadyPodManagement, apps.ParallelPodManagement)
	s.VolumeClaimUpdateStrategy.Type = pick(c, "", apps.OnPodRollingUpdateVolumeClaimUpdateStrategyType,
		apps.OnPVCDeleteVolumeClaimUpdateStrategyType)

	retentionPolicies := []apps.PersistentVolumeClaimRetentionPolicyType{
		apps.RetainPersistentVolumeClaimRetentionPolicyType, apps.DeletePersistentVolumeClaimRetentionPolicyType,
	}
	s.PersistentVolumeClaimRetentionPolicy = &apps.StatefulSetPersistentVolumeClaimRetentionPolicy{
		WhenDeleted: pick(c, retentionPolicies...),
		WhenScaled:  pick(c, retentionPolicies...),
	}

	strategy := &s.UpdateStrategy
	podUpdatePolicies := []apps.PodUpdateStrategyType{
		apps.RecreatePodUpdateStrategyType,
		apps.InPlaceIfPossiblePodUpdateStrategyType,
		apps.InPlaceOnlyPodUpdateStrategyType,
	}
	strategy.Type = pick(c, apps.RollingUpdateStatefulSetStrategyType, apps.OnDeleteStatefulSetStrategyType)
	if strategy.Type == apps.OnDeleteStatefulSetStrategyType {
		// Defaulting leaves an OnDelete strategy alone.
		if strategy.RollingUpdate != nil {
			strategy.RollingUpdate.PodUpdatePolicy = pick(c, append(podUpdatePolicies, "")...)
		}
		return
	}
	if strategy.RollingUpdate == nil {
		strategy.RollingUpdate = &apps.RollingUpdateStatefulSetStrategy{}
	}
	rollingUpdate := strategy.RollingUpdate
	rollingUpdate.PodUpdatePolicy = pick(c, podUpdatePolicies...)
	if rollingUpdate.Partition == nil {
		rollingUpdate.Partition = ptr.To(c.Int31n(100))
	}
	rollingUpdate.MaxUnavailable = fillIntOrString(c)
	if rollingUpdate.MinReadySeconds == nil {
		rollingUpdate.MinReadySeconds = ptr.To(c.Int31n(300))
	}
}
