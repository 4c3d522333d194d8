package validation

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
	corevalidation "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/core/validation"
)

// workloadSpreadTargetGroups are the workload kinds a WorkloadSpread may
// target, with the API groups each may come from; the version is not
// significant. OpenKruise also admits custom workloads listed in its
// kruise-configuration ConfigMap, which this server does not read.
var workloadSpreadTargetGroups = map[string][]string{
	"CloneSet":    {apps.GroupName},
	"Deployment":  {"apps"},
	"ReplicaSet":  {"apps"},
	"Job":         {"batch"},
	"StatefulSet": {"apps", apps.GroupName},
}

// maxScheduleFailedSeconds is how long an adaptive WorkloadSpread keeps a
// subset marked unschedulable. Moving a Pod on through all later subsets must
// take less (5s less, for reconcile delays), or a Pod could go round and
// round subsets that have recovered in the meantime.
const maxScheduleFailedSeconds = 300

// ValidateWorkloadSpread validates a new WorkloadSpread. Whether another
// WorkloadSpread already targets the same workload is checked by the
// registry (see ValidateWorkloadSpreadConflict).
func ValidateWorkloadSpread(ws *apps.WorkloadSpread) field.ErrorList {
	allErrs := ValidateObjectMeta(&ws.ObjectMeta, true, field.NewPath("metadata"))
	allErrs = append(allErrs, validateWorkloadSpreadSpec(&ws.Spec, field.NewPath("spec"))...)
	return allErrs
}

// ValidateWorkloadSpreadUpdate validates an update: the new object must be
// valid and must still target the same workload (apiVersion may move to
// another version of the same group).
func ValidateWorkloadSpreadUpdate(ws, old *apps.WorkloadSpread) field.ErrorList {
	allErrs := ValidateObjectMetaUpdate(&ws.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, validateWorkloadSpreadSpec(&ws.Spec, field.NewPath("spec"))...)
	if ref, oldRef := ws.Spec.TargetReference, old.Spec.TargetReference; ref != nil && oldRef != nil && !SameWorkload(ref, oldRef) {
		allErrs = append(allErrs, field.Invalid(field.NewPath("spec", "targetRef"), *ref, "change TargetReference is not permitted for WorkloadSpread"))
	}
	return allErrs
}

// ValidateWorkloadSpreadStatusUpdate validates a write to /status.
func ValidateWorkloadSpreadStatusUpdate(ws, old *apps.WorkloadSpread) field.ErrorList {
	allErrs := ValidateObjectMetaUpdate(&ws.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	fldPath := field.NewPath("status")
	allErrs = append(allErrs, ValidateNonnegative(ws.Status.ObservedGeneration, fldPath.Child("observedGeneration"))...)
	allErrs = append(allErrs, validateSubsetStatuses(ws.Status.SubsetStatuses, fldPath.Child("subsetStatuses"))...)
	for version, statuses := range ws.Status.VersionedSubsetStatuses {
		allErrs = append(allErrs, validateSubsetStatuses(statuses, fldPath.Child("versionedSubsetStatuses").Key(version))...)
	}
	return allErrs
}

// SameWorkload says whether two references name the same workload: same
// group, kind and name, whatever the version.
func SameWorkload(a, b *apps.TargetReference) bool {
	groupA, _ := schema.ParseGroupVersion(a.APIVersion)
	groupB, _ := schema.ParseGroupVersion(b.APIVersion)
	return groupA.Group == groupB.Group && a.Kind == b.Kind && a.Name == b.Name
}

// ValidateWorkloadSpreadConflict rejects ws when another of others (the
// WorkloadSpreads of its namespace) targets the same workload: two spreads
// would fight over the same Pods.
func ValidateWorkloadSpreadConflict(ws *apps.WorkloadSpread, others []apps.WorkloadSpread) field.ErrorList {
	ref := ws.Spec.TargetReference
	if ref == nil {
		return nil
	}
	for i := range others {
		other := &others[i]
		if other.Name == ws.Name || other.Spec.TargetReference == nil {
			continue
		}
		if SameWorkload(ref, other.Spec.TargetReference) {
			return field.ErrorList{field.Invalid(field.NewPath("spec", "targetRef"), *ref,
				fmt.Sprintf("ws.spec.targetRef is in conflict with other WorkloadSpread %s", other.Name))}
		}
	}
	return nil
}

// ValidateWorkloadSpreadPatches checks, for a target workload this server
// stores, that every subset's patch applied to the workload's Pod template
// still gives a valid Pod. claims are the workload's volumeClaimTemplates,
// which become volumes of its Pods.
func ValidateWorkloadSpreadPatches(ws *apps.WorkloadSpread, template *corev1.PodTemplateSpec, claims []corev1.PersistentVolumeClaim) field.ErrorList {
	original, err := json.Marshal(template)
	if err != nil {
		return field.ErrorList{field.InternalError(field.NewPath("spec", "subsets"), err)}
	}
	var allErrs field.ErrorList
	for i := range ws.Spec.Subsets {
		raw := patchBytes(ws.Spec.Subsets[i].Patch)
		if len(raw) == 0 {
			continue
		}
		fldPath := field.NewPath("spec", "subsets").Index(i).Child("patch")
		pod, errs := patchedPod(original, raw, fldPath)
		if len(errs) > 0 {
			// The patch itself is reported by ValidateWorkloadSpread.
			continue
		}
		patched := &corev1.PodTemplateSpec{ObjectMeta: pod.ObjectMeta, Spec: pod.Spec}
		allErrs = append(allErrs, corevalidation.ValidatePodTemplateSpec(patched, fldPath, corevalidation.PodValidationOptions{
			ExtraVolumeNames: corevalidation.VolumeClaimTemplateNames(claims),
		})...)
	}
	return allErrs
}

func validateWorkloadSpreadSpec(spec *apps.WorkloadSpreadSpec, fldPath *field.Path) field.ErrorList {
	allErrs := validateWorkloadSpreadTargetRef(spec.TargetReference, fldPath.Child("targetRef"))
	allErrs = append(allErrs, validateWorkloadSpreadSubsets(spec, fldPath.Child("subsets"))...)
	allErrs = append(allErrs, validateWorkloadSpreadScheduleStrategy(spec, fldPath.Child("scheduleStrategy"))...)
	if filter := spec.TargetFilter; filter != nil {
		allErrs = append(allErrs, validateWorkloadSpreadTargetFilter(filter, fldPath.Child("targetFilter"))...)
	}
	return allErrs
}

func validateWorkloadSpreadTargetRef(ref *apps.TargetReference, fldPath *field.Path) field.ErrorList {
	if ref == nil {
		return field.ErrorList{field.Required(fldPath, "no targetRef defined in WorkloadSpread")}
	}
	var allErrs field.ErrorList
	for _, part := range []struct{ name, value string }{
		{"apiVersion", ref.APIVersion}, {"kind", ref.Kind}, {"name", ref.Name},
	} {
		if part.value == "" {
			allErrs = append(allErrs, field.Required(fldPath.Child(part.name), "empty TargetReference is not valid for WorkloadSpread."))
		}
	}
	if len(allErrs) > 0 {
		return allErrs
	}
	for _, msg := range apimachineryvalidation.NameIsDNSSubdomain(ref.Name, false) {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("name"), ref.Name, msg))
	}
	groups, ok := workloadSpreadTargetGroups[ref.Kind]
	if !ok {
		return append(allErrs, field.Invalid(fldPath.Child("kind"), ref.Kind, "TargetReference's GroupKind is not permitted."))
	}
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil || !sets.New(groups...).Has(gv.Group) {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("apiVersion"), ref.APIVersion, fmt.Sprintf("TargetReference is not valid for %s.", ref.Kind)))
	}
	return allErrs
}

func validateWorkloadSpreadSubsets(spec *apps.WorkloadSpreadSpec, fldPath *field.Path) field.ErrorList {
	subsets := spec.Subsets
	if len(subsets) == 0 {
		return field.ErrorList{field.Required(fldPath, "subsets number must >= 1 in WorkloadSpread")}
	}
	var allErrs field.ErrorList
	names := sets.New[string]()
	for i := range subsets {
		subset := &subsets[i]
		subsetPath := fldPath.Index(i)
		switch {
		case subset.Name == "":
			allErrs = append(allErrs, field.Required(subsetPath.Child("name"), ""))
		case names.Has(subset.Name):
			allErrs = append(allErrs, field.Invalid(subsetPath.Child("name"), subset.Name, fmt.Sprintf("duplicated subset name %s", subset.Name)))
		}
		names.Insert(subset.Name)

		allErrs = append(allErrs, corevalidation.ValidateNodeSelectorTerm(subset.RequiredNodeSelector, subsetPath.Child("requiredNodeSelector"))...)
		allErrs = append(allErrs, corevalidation.ValidatePreferredSchedulingTerms(subset.PreferredNodeSelector, subsetPath.Child("preferredNodeSelector"))...)
		allErrs = append(allErrs, corevalidation.ValidateTolerations(subset.Tolerations, subsetPath.Child("tolerations"))...)
		allErrs = append(allErrs, validateSubsetPatch(patchBytes(subset.Patch), subsetPath.Child("patch"))...)
	}
	allErrs = append(allErrs, validateSubsetMaxReplicas(spec, fldPath)...)
	return allErrs
}

// validateSubsetMaxReplicas applies OpenKruise's rules on the subsets'
// caps, in its order and, like it, stops at the first broken one: all of
// one type, integers only for StatefulSets, percentages adding up to at most
// 100%, and below 100% only when the last subset takes the rest (no cap).
func validateSubsetMaxReplicas(spec *apps.WorkloadSpreadSpec, fldPath *field.Path) field.ErrorList {
	subsets := spec.Subsets
	statefulSet := spec.TargetReference != nil && spec.TargetReference.Kind == "StatefulSet"
	var firstType *intstr.Type
	percentSum := 0
	for i := range subsets {
		maxReplicas := subsets[i].MaxReplicas
		if maxReplicas == nil {
			continue
		}
		path := fldPath.Index(i).Child("maxReplicas")
		if firstType == nil {
			firstType = &maxReplicas.Type
		} else if maxReplicas.Type != *firstType {
			return field.ErrorList{field.Invalid(path, maxReplicas.String(), "the maxReplicas type of all subsets must be the same")}
		}
		if statefulSet && maxReplicas.Type != intstr.Int {
			return field.ErrorList{field.Invalid(path, maxReplicas.String(), "the maxReplicas type must be Int for StatefulSet")}
		}
		value, err := intstr.GetScaledValueFromIntOrPercent(maxReplicas, 100, true)
		if err != nil || value < 0 {
			return field.ErrorList{field.Invalid(path, maxReplicas.String(), "maxReplicas is not valid for subset")}
		}
		if maxReplicas.Type == intstr.String {
			percentSum += value
			if percentSum > 100 {
				return field.ErrorList{field.Invalid(path, maxReplicas.String(), "the sum of all subset's maxReplicas exceeds 100% is no permitted")}
			}
		}
	}
	last := len(subsets) - 1
	if firstType != nil && *firstType == intstr.String && percentSum < 100 && subsets[last].MaxReplicas != nil {
		return field.ErrorList{field.Invalid(fldPath.Index(last).Child("maxReplicas"), subsets[last].MaxReplicas.String(),
			"maxReplicas sum of all subsets must equal 100% when type is specified as percent")}
	}
	return nil
}

// validateSubsetPatch requires a patch to be a JSON object that applies as
// a strategic merge patch to a Pod, with valid labels and annotations. Its
// Pod spec part can only be judged against the workload's template (see
// ValidateWorkloadSpreadPatches).
func validateSubsetPatch(raw []byte, fldPath *field.Path) field.ErrorList {
	if len(raw) == 0 {
		return nil
	}
	pod, errs := patchedPod([]byte("{}"), raw, fldPath)
	if len(errs) > 0 {
		return errs
	}
	metaPath := fldPath.Child("metadata")
	allErrs := metav1validation.ValidateLabels(pod.Labels, metaPath.Child("labels"))
	allErrs = append(allErrs, apimachineryvalidation.ValidateAnnotations(pod.Annotations, metaPath.Child("annotations"))...)
	return allErrs
}

func patchBytes(patch *runtime.RawExtension) []byte {
	if patch == nil {
		return nil
	}
	return patch.Raw
}

// patchedPod applies patch to original (a Pod or Pod template, as JSON) the
// way the Pod webhook applies a subset's patch to a new Pod.
func patchedPod(original, patch []byte, fldPath *field.Path) (*corev1.Pod, field.ErrorList) {
	var object map[string]interface{}
	if err := json.Unmarshal(patch, &object); err != nil || object == nil {
		return nil, field.ErrorList{field.Invalid(fldPath, string(patch), "must be a JSON object (a strategic merge patch of a Pod)")}
	}
	modified, err := strategicpatch.StrategicMergePatch(original, patch, &corev1.Pod{})
	if err != nil {
		return nil, field.ErrorList{field.Invalid(fldPath, string(patch), fmt.Sprintf("failed to merge patch: %v", err))}
	}
	pod := &corev1.Pod{}
	if err := json.Unmarshal(modified, pod); err != nil {
		return nil, field.ErrorList{field.Invalid(fldPath, string(patch), fmt.Sprintf("failed to unmarshal: %v", err))}
	}
	return pod, nil
}

var supportedWorkloadSpreadScheduleStrategyTypes = []string{
	string(apps.AdaptiveWorkloadSpreadScheduleStrategyType),
	string(apps.FixedWorkloadSpreadScheduleStrategyType),
	"",
}

func validateWorkloadSpreadScheduleStrategy(spec *apps.WorkloadSpreadSpec, fldPath *field.Path) field.ErrorList {
	strategy := &spec.ScheduleStrategy
	var allErrs field.ErrorList
	switch strategy.Type {
	case apps.AdaptiveWorkloadSpreadScheduleStrategyType, apps.FixedWorkloadSpreadScheduleStrategyType, "":
	default:
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("type"), strategy.Type, supportedWorkloadSpreadScheduleStrategyTypes))
	}
	adaptive := strategy.Adaptive
	if adaptive == nil {
		return allErrs
	}
	if strategy.Type != apps.AdaptiveWorkloadSpreadScheduleStrategyType {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("type"), strategy.Type, "the scheduleStrategy's type must be adaptive when using adaptive scheduleStrategy"))
	}
	subsets := spec.Subsets
	if len(subsets) > 1 && subsets[len(subsets)-1].MaxReplicas != nil {
		last := len(subsets) - 1
		allErrs = append(allErrs, field.Invalid(field.NewPath("spec", "subsets").Index(last).Child("maxReplicas"), subsets[last].MaxReplicas.String(),
			"the last subset's maxReplicas must be not specified when using adaptive scheduleStrategy"))
	}
	allowedMax := int32(math.MaxInt32)
	if len(subsets) > 1 {
		allowedMax = int32(maxScheduleFailedSeconds-5) / int32(len(subsets)-1)
	}
	if seconds := adaptive.RescheduleCriticalSeconds; seconds != nil && (*seconds < 0 || *seconds > allowedMax) {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("adaptive", "rescheduleCriticalSeconds"), *seconds,
			fmt.Sprintf("rescheduleCriticalSeconds < 0 or rescheduleCriticalSeconds > %d is not permitted", allowedMax)))
	}
	return allErrs
}

func validateWorkloadSpreadTargetFilter(filter *apps.TargetFilter, fldPath *field.Path) field.ErrorList {
	selectorPath := fldPath.Child("selector")
	allErrs := metav1validation.ValidateLabelSelector(filter.Selector, metav1validation.LabelSelectorValidationOptions{}, selectorPath)
	if len(allErrs) == 0 {
		if _, err := metav1.LabelSelectorAsSelector(filter.Selector); err != nil {
			allErrs = append(allErrs, field.Invalid(selectorPath, filter.Selector, err.Error()))
		}
	}
	for i, path := range filter.ReplicasPathList {
		if path == "" || strings.Contains(path, "..") || strings.HasPrefix(path, ".") || strings.HasSuffix(path, ".") {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("replicasPathList").Index(i), path,
				"must be a dot-separated path to an integer field of the workload, e.g. spec.replicas"))
		}
	}
	return allErrs
}

func validateSubsetStatuses(statuses []apps.WorkloadSpreadSubsetStatus, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for i := range statuses {
		status := &statuses[i]
		statusPath := fldPath.Index(i)
		allErrs = append(allErrs, ValidateNonnegative(int64(status.Replicas), statusPath.Child("replicas"))...)
		if status.MissingReplicas < -1 {
			allErrs = append(allErrs, field.Invalid(statusPath.Child("missingReplicas"), status.MissingReplicas, "must be -1 (no limit) or greater"))
		}
		// Condition types key the list, as in v1beta1; the stash that
		// carries their observedGeneration through v1alpha1 relies on it.
		types := sets.New[string]()
		for j := range status.Conditions {
			condition := &status.Conditions[j]
			conditionPath := statusPath.Child("conditions").Index(j)
			if types.Has(condition.Type) {
				allErrs = append(allErrs, field.Duplicate(conditionPath.Child("type"), condition.Type))
			}
			types.Insert(condition.Type)
			allErrs = append(allErrs, ValidateNonnegative(condition.ObservedGeneration, conditionPath.Child("observedGeneration"))...)
		}
	}
	return allErrs
}
