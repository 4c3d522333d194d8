package validation

import (
	"math"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
	corevalidation "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/core/validation"
)

// ValidateCloneSet validates a new CloneSet.
func ValidateCloneSet(cs *apps.CloneSet) field.ErrorList {
	allErrs := ValidateObjectMeta(&cs.ObjectMeta, true, field.NewPath("metadata"))
	allErrs = append(allErrs, validateCloneSetSpec(&cs.Spec, field.NewPath("spec"))...)
	return allErrs
}

// ValidateCloneSetUpdate validates an update: the new object must be valid
// and only the fields OpenKruise lets change may change.
func ValidateCloneSetUpdate(cs, old *apps.CloneSet) field.ErrorList {
	allErrs := ValidateObjectMetaUpdate(&cs.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, validateCloneSetSpec(&cs.Spec, field.NewPath("spec"))...)

	// Everything but the mutable fields must stay as it was.
	unchanged := cs.Spec
	unchanged.Replicas = old.Spec.Replicas
	unchanged.Template = old.Spec.Template
	unchanged.Lifecycle = old.Spec.Lifecycle
	unchanged.ScaleStrategy = old.Spec.ScaleStrategy
	unchanged.UpdateStrategy = old.Spec.UpdateStrategy
	unchanged.MinReadySeconds = old.Spec.MinReadySeconds
	unchanged.ProgressDeadlineSeconds = old.Spec.ProgressDeadlineSeconds
	unchanged.VolumeClaimTemplates = old.Spec.VolumeClaimTemplates
	unchanged.RevisionHistoryLimit = old.Spec.RevisionHistoryLimit
	if !apiequality.Semantic.DeepEqual(unchanged, old.Spec) {
		allErrs = append(allErrs, field.Forbidden(field.NewPath("spec"), "updates to cloneset spec for fields other than 'replicas', 'template', 'lifecycle', 'scaleStrategy', 'updateStrategy', 'minReadySeconds', 'progressDeadlineSeconds', 'volumeClaimTemplates' and 'revisionHistoryLimit' are forbidden"))
	}
	return allErrs
}

// ValidateCloneSetStatusUpdate validates a write to /status.
func ValidateCloneSetStatusUpdate(cs, old *apps.CloneSet) field.ErrorList {
	allErrs := ValidateObjectMetaUpdate(&cs.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	status := &cs.Status
	fldPath := field.NewPath("status")
	allErrs = append(allErrs, ValidateNonnegative(status.ObservedGeneration, fldPath.Child("observedGeneration"))...)
	for name, value := range map[string]int32{
		"replicas":                 status.Replicas,
		"readyReplicas":            status.ReadyReplicas,
		"availableReplicas":        status.AvailableReplicas,
		"updatedReplicas":          status.UpdatedReplicas,
		"updatedReadyReplicas":     status.UpdatedReadyReplicas,
		"updatedAvailableReplicas": status.UpdatedAvailableReplicas,
		"expectedUpdatedReplicas":  status.ExpectedUpdatedReplicas,
	} {
		allErrs = append(allErrs, ValidateNonnegative(int64(value), fldPath.Child(name))...)
	}
	if status.CollisionCount != nil {
		allErrs = append(allErrs, ValidateNonnegative(int64(*status.CollisionCount), fldPath.Child("collisionCount"))...)
	}
	if old.Status.CollisionCount != nil && (status.CollisionCount == nil || *status.CollisionCount < *old.Status.CollisionCount) {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("collisionCount"), status.CollisionCount, "cannot be decremented"))
	}
	return allErrs
}

func validateCloneSetSpec(spec *apps.CloneSetSpec, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	replicas := 0
	if spec.Replicas == nil {
		allErrs = append(allErrs, field.Required(fldPath.Child("replicas"), ""))
	} else {
		replicas = int(*spec.Replicas)
		allErrs = append(allErrs, ValidateNonnegative(int64(replicas), fldPath.Child("replicas"))...)
	}
	allErrs = append(allErrs, ValidateWorkloadSelector(spec.Selector, spec.Template.Labels, "CloneSet",
		fldPath.Child("selector"), fldPath.Child("template", "metadata", "labels"))...)

	allErrs = append(allErrs, corevalidation.ValidatePersistentVolumeClaimTemplates(spec.VolumeClaimTemplates, fldPath.Child("volumeClaimTemplates"))...)
	allErrs = append(allErrs, corevalidation.ValidatePodTemplateSpec(&spec.Template, fldPath.Child("template"), corevalidation.PodValidationOptions{
		RequiredRestartPolicy:       corev1.RestartPolicyAlways,
		ForbidActiveDeadlineSeconds: true,
		WorkloadKind:                "cloneset",
		ExtraVolumeNames:            corevalidation.VolumeClaimTemplateNames(spec.VolumeClaimTemplates),
	})...)

	if spec.RevisionHistoryLimit != nil {
		allErrs = append(allErrs, ValidateNonnegative(int64(*spec.RevisionHistoryLimit), fldPath.Child("revisionHistoryLimit"))...)
	}
	allErrs = append(allErrs, ValidateNonnegative(int64(spec.MinReadySeconds), fldPath.Child("minReadySeconds"))...)
	if spec.ProgressDeadlineSeconds != nil {
		deadline := *spec.ProgressDeadlineSeconds
		allErrs = append(allErrs, ValidateNonnegative(int64(deadline), fldPath.Child("progressDeadlineSeconds"))...)
		if deadline != math.MaxInt32 && deadline <= spec.MinReadySeconds {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("progressDeadlineSeconds"), deadline, "must be greater than minReadySeconds"))
		}
	}
	allErrs = append(allErrs, ValidateLifecycle(spec.Lifecycle, fldPath.Child("lifecycle"))...)
	allErrs = append(allErrs, validateCloneSetScaleStrategy(&spec.ScaleStrategy, fldPath.Child("scaleStrategy"))...)
	allErrs = append(allErrs, validateCloneSetUpdateStrategy(&spec.UpdateStrategy, replicas, fldPath.Child("updateStrategy"))...)
	return allErrs
}

func validateCloneSetScaleStrategy(strategy *apps.CloneSetScaleStrategy, fldPath *field.Path) field.ErrorList {
	allErrs := ValidateUniqueStrings(strategy.PodsToDelete, fldPath.Child("podsToDelete"))
	for i, name := range strategy.PodsToDelete {
		if name == "" {
			allErrs = append(allErrs, field.Required(fldPath.Child("podsToDelete").Index(i), "pod name can not be empty"))
		}
	}
	allErrs = append(allErrs, ValidateIntOrPercent(strategy.MaxUnavailable, false, fldPath.Child("maxUnavailable"))...)
	return allErrs
}

var (
	supportedCloneSetUpdateTypes = []string{
		string(apps.RollingUpdateCloneSetUpdateStrategyType), string(apps.OnDeleteCloneSetUpdateStrategyType),
	}
	supportedCloneSetPodUpdatePolicies = []string{
		string(apps.RecreateCloneSetPodUpdateStrategyType),
		string(apps.InPlaceIfPossibleCloneSetPodUpdateStrategyType),
		string(apps.InPlaceOnlyCloneSetPodUpdateStrategyType),
	}
)

func validateCloneSetUpdateStrategy(strategy *apps.CloneSetUpdateStrategy, replicas int, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	switch strategy.Type {
	case apps.RollingUpdateCloneSetUpdateStrategyType, apps.OnDeleteCloneSetUpdateStrategyType:
	default:
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("type"), strategy.Type, supportedCloneSetUpdateTypes))
	}
	rollingUpdate := strategy.RollingUpdate
	if rollingUpdate == nil {
		return allErrs
	}
	// v1alpha1 clients see rollingUpdate.podUpdatePolicy as
	// updateStrategy.type; the path below is the v1beta1 (storage) one.
	fldPath = fldPath.Child("rollingUpdate")
	switch rollingUpdate.PodUpdatePolicy {
	case apps.RecreateCloneSetPodUpdateStrategyType, apps.InPlaceIfPossibleCloneSetPodUpdateStrategyType, apps.InPlaceOnlyCloneSetPodUpdateStrategyType:
	case "":
		if strategy.Type != apps.OnDeleteCloneSetUpdateStrategyType {
			allErrs = append(allErrs, field.Required(fldPath.Child("podUpdatePolicy"), ""))
		}
	default:
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("podUpdatePolicy"), rollingUpdate.PodUpdatePolicy, supportedCloneSetPodUpdatePolicies))
	}

	partitionErrs := ValidateIntOrPercent(rollingUpdate.Partition, false, fldPath.Child("partition"))
	allErrs = append(allErrs, partitionErrs...)
	maxUnavailableErrs := ValidateIntOrPercent(rollingUpdate.MaxUnavailable, false, fldPath.Child("maxUnavailable"))
	allErrs = append(allErrs, maxUnavailableErrs...)
	maxSurgeErrs := ValidateIntOrPercent(rollingUpdate.MaxSurge, false, fldPath.Child("maxSurge"))
	allErrs = append(allErrs, maxSurgeErrs...)

	if len(maxUnavailableErrs) == 0 && len(maxSurgeErrs) == 0 {
		maxUnavailable := ScaledValue(rollingUpdate.MaxUnavailable, replicas, true)
		maxSurge := ScaledValue(rollingUpdate.MaxSurge, replicas, true)
		if rollingUpdate.PodUpdatePolicy == apps.InPlaceOnlyCloneSetPodUpdateStrategyType && maxSurge > 0 {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("maxSurge"), rollingUpdate.MaxSurge.String(), "can not use maxSurge with podUpdatePolicy InPlaceOnly"))
		}
		if replicas > 0 && maxUnavailable < 1 && maxSurge < 1 {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("maxUnavailable"), rollingUpdate.MaxUnavailable.String(), "maxUnavailable and maxSurge should not both be less than 1"))
		}
	}
	allErrs = append(allErrs, ValidateUpdatePriorityStrategy(rollingUpdate.PriorityStrategy, fldPath.Child("priorityStrategy"))...)
	allErrs = append(allErrs, ValidateUpdateScatterStrategy(rollingUpdate.ScatterStrategy, fldPath.Child("scatterStrategy"))...)
	allErrs = append(allErrs, ValidateInPlaceUpdateStrategy(rollingUpdate.InPlaceUpdateStrategy, fldPath.Child("inPlaceUpdateStrategy"))...)
	return allErrs
}
