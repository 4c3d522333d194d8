package validation

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
)

// PodValidationOptions tunes ValidatePodTemplateSpec for the object that
// embeds the template.
type PodValidationOptions struct {
	// RequiredRestartPolicy, when set, is the only restartPolicy the template
	// may use (Always for CloneSet, Advanced StatefulSet, Advanced DaemonSet).
	// An empty restartPolicy counts as Always, the value Kubernetes defaults
	// it to.
	RequiredRestartPolicy corev1.RestartPolicy
	// AllowedRestartPolicies, when non-empty, lists the restartPolicy values
	// the template may use (OnFailure and Never for BroadcastJob). An empty
	// restartPolicy counts as Always, as for RequiredRestartPolicy.
	AllowedRestartPolicies []corev1.RestartPolicy
	// ForbidActiveDeadlineSeconds rejects spec.activeDeadlineSeconds, as
	// Kubernetes does for the templates of long-running workloads.
	ForbidActiveDeadlineSeconds bool
	// WorkloadKind names the embedding kind in messages (e.g. "CloneSet").
	// Optional.
	WorkloadKind string
	// ExtraVolumeNames are volume names that exist although the pod spec does
	// not declare them: the names of the workload's volumeClaimTemplates,
	// which the controller adds as persistentVolumeClaim volumes. Volume
	// mounts and devices may refer to them.
	ExtraVolumeNames sets.Set[string]
}
