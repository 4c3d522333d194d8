package validation

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
	corevalidation "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/core/validation"
)

// statefulSetInPlaceReadinessGate is the readiness gate an in-place updated
// Pod is held not-ready by; templates updated in place must declare it.
const statefulSetInPlaceReadinessGate corev1.PodConditionType = "InPlaceUpdateReady"

// ValidateStatefulSet validates a new StatefulSet.
func ValidateStatefulSet(sts *apps.StatefulSet) field.ErrorList {
	allErrs := validateStatefulSetObjectMeta(&sts.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, validateStatefulSetSpec(&sts.Spec, field.NewPath("spec"))...)
	return allErrs
}

// validateStatefulSetObjectMeta adds to the common checks that the name is
// a DNS label: it becomes the prefix of each Pod's hostname, which must be
// one (apps/v1 StatefulSet has the same rule). Only on create, as apps/v1
// does, so objects stored under the older rule can still be updated.
func validateStatefulSetObjectMeta(meta *metav1.ObjectMeta, fldPath *field.Path) field.ErrorList {
	allErrs := ValidateObjectMeta(meta, true, fldPath)
	if meta.Name != "" && len(apimachineryvalidation.NameIsDNSSubdomain(meta.Name, false)) == 0 {
		for _, msg := range apimachineryvalidation.NameIsDNSLabel(meta.Name, false) {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("name"), meta.Name, msg))
		}
	}
	return allErrs
}

// ValidateStatefulSetUpdate validates an update: the new object must be
// valid, only the fields OpenKruise lets change may change, volume claim
// templates may only change as their update strategy allows, and an
// InPlaceOnly StatefulSet may only change container images in its template.
func ValidateStatefulSetUpdate(sts, old *apps.StatefulSet) field.ErrorList {
	allErrs := ValidateObjectMetaUpdate(&sts.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	specPath := field.NewPath("spec")
	allErrs = append(allErrs, validateStatefulSetSpec(&sts.Spec, specPath)...)

	// Everything but the mutable fields must stay as it was. scaleStrategy
	// is mutable upstream too, although its message does not say so.
	unchanged := sts.Spec
	unchanged.Replicas = old.Spec.Replicas
	unchanged.Ordinals = old.Spec.Ordinals
	unchanged.Template = old.Spec.Template
	unchanged.ReserveOrdinals = old.Spec.ReserveOrdinals
	unchanged.Lifecycle = old.Spec.Lifecycle
	unchanged.RevisionHistoryLimit = old.Spec.RevisionHistoryLimit
	unchanged.PersistentVolumeClaimRetentionPolicy = old.Spec.PersistentVolumeClaimRetentionPolicy
	unchanged.VolumeClaimTemplates = old.Spec.VolumeClaimTemplates
	unchanged.VolumeClaimUpdateStrategy = old.Spec.VolumeClaimUpdateStrategy
	unchanged.UpdateStrategy = old.Spec.UpdateStrategy
	unchanged.ScaleStrategy = old.Spec.ScaleStrategy
	if !apiequality.Semantic.DeepEqual(unchanged, old.Spec) {
		allErrs = append(allErrs, field.Forbidden(specPath, "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'reserveOrdinals', 'lifecycle', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy', `volumeClaimTemplates`, `VolumeClaimUpdateStrategy` and 'updateStrategy' are forbidden"))
	}

	allErrs = append(allErrs, validateVolumeClaimTemplatesUpdate(&sts.Spec, &old.Spec, specPath.Child("volumeClaimTemplates"))...)

	if ru := sts.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.PodUpdatePolicy == apps.InPlaceOnlyPodUpdateStrategyType {
		if change := firstNonImageChange(&old.Spec.Template.Spec, &sts.Spec.Template.Spec); change != "" {
			allErrs = append(allErrs, field.Forbidden(specPath.Child("template"),
				fmt.Sprintf("invalid template modified with InPlaceOnly strategy: %s, currently only image update is allowed for InPlaceOnly", change)))
		}
	}
	return allErrs
}

// ValidateStatefulSetStatusUpdate validates a write to /status.
func ValidateStatefulSetStatusUpdate(sts, old *apps.StatefulSet) field.ErrorList {
	allErrs := ValidateObjectMetaUpdate(&sts.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	status := &sts.Status
	fldPath := field.NewPath("status")
	allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(status.ObservedGeneration, fldPath.Child("observedGeneration"))...)
	for _, counter := range []struct {
		name  string
		value int32
	}{
		{"replicas", status.Replicas},
		{"readyReplicas", status.ReadyReplicas},
		{"availableReplicas", status.AvailableReplicas},
		{"currentReplicas", status.CurrentReplicas},
		{"updatedReplicas", status.UpdatedReplicas},
		{"updatedReadyReplicas", status.UpdatedReadyReplicas},
		{"updatedAvailableReplicas", status.UpdatedAvailableReplicas},
	} {
		allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(counter.value), fldPath.Child(counter.name))...)
	}
	for i, claim := range status.VolumeClaims {
		claimPath := fldPath.Child("volumeClaims").Index(i)
		allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(claim.CompatibleReplicas), claimPath.Child("compatibleReplicas"))...)
		allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(claim.CompatibleReadyReplicas), claimPath.Child("compatibleReadyReplicas"))...)
	}
	if status.CollisionCount != nil {
		allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(*status.CollisionCount), fldPath.Child("collisionCount"))...)
	}
	if old.Status.CollisionCount != nil && (status.CollisionCount == nil || *status.CollisionCount < *old.Status.CollisionCount) {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("collisionCount"), status.CollisionCount, "cannot be decremented"))
	}
	return allErrs
}

func validateStatefulSetSpec(spec *apps.StatefulSetSpec, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList

	switch spec.PodManagementPolicy {
	case "":
		allErrs = append(allErrs, field.Required(fldPath.Child("podManagementPolicy"), ""))
	case apps.OrderedReadyPodManagement, apps.ParallelPodManagement:
	default:
		allErrs = append(allErrs, field.Invalid(fldPath.Child("podManagementPolicy"), spec.PodManagementPolicy,
			fmt.Sprintf("must be '%s' or '%s'", apps.OrderedReadyPodManagement, apps.ParallelPodManagement)))
	}

	allErrs = append(allErrs, validateReserveOrdinals(spec.ReserveOrdinals, fldPath.Child("reserveOrdinals"))...)
	if spec.ScaleStrategy != nil && spec.ScaleStrategy.MaxUnavailable != nil {
		allErrs = append(allErrs, validateStatefulSetMaxUnavailable(spec.ScaleStrategy.MaxUnavailable, spec.PodManagementPolicy,
			fldPath.Child("scaleStrategy", "maxUnavailable"))...)
	}
	allErrs = append(allErrs, validateStatefulSetUpdateStrategy(spec, fldPath)...)
	allErrs = append(allErrs, validateRetentionPolicy(spec.PersistentVolumeClaimRetentionPolicy, fldPath.Child("persistentVolumeClaimRetentionPolicy"))...)

	switch spec.VolumeClaimUpdateStrategy.Type {
	case "", apps.OnPodRollingUpdateVolumeClaimUpdateStrategyType, apps.OnPVCDeleteVolumeClaimUpdateStrategyType:
	default:
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("volumeClaimUpdateStrategy", "type"), spec.VolumeClaimUpdateStrategy.Type,
			[]string{string(apps.OnPodRollingUpdateVolumeClaimUpdateStrategyType), string(apps.OnPVCDeleteVolumeClaimUpdateStrategyType)}))
	}

	if spec.Replicas == nil {
		allErrs = append(allErrs, field.Required(fldPath.Child("replicas"), ""))
	} else {
		allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(*spec.Replicas), fldPath.Child("replicas"))...)
	}
	if spec.RevisionHistoryLimit != nil {
		allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(*spec.RevisionHistoryLimit), fldPath.Child("revisionHistoryLimit"))...)
	}
	if spec.Ordinals != nil {
		allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(spec.Ordinals.Start), fldPath.Child("ordinals", "start"))...)
	}
	// The controller makes serviceName each Pod's subdomain, which must be a
	// DNS label; apps/v1 StatefulSet checks it likewise.
	if spec.ServiceName != "" {
		for _, msg := range utilvalidation.IsDNS1123Label(spec.ServiceName) {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("serviceName"), spec.ServiceName, msg))
		}
	}

	allErrs = append(allErrs, ValidateWorkloadSelector(spec.Selector, spec.Template.Labels, "StatefulSet",
		fldPath.Child("selector"), fldPath.Child("template", "metadata", "labels"))...)
	allErrs = append(allErrs, corevalidation.ValidatePersistentVolumeClaimTemplates(spec.VolumeClaimTemplates, fldPath.Child("volumeClaimTemplates"))...)
	allErrs = append(allErrs, corevalidation.ValidatePodTemplateSpec(&spec.Template, fldPath.Child("template"), corevalidation.PodValidationOptions{
		RequiredRestartPolicy:       corev1.RestartPolicyAlways,
		ForbidActiveDeadlineSeconds: true,
		WorkloadKind:                "StatefulSet",
		ExtraVolumeNames:            corevalidation.VolumeClaimTemplateNames(spec.VolumeClaimTemplates),
	})...)
	allErrs = append(allErrs, ValidateLifecycle(spec.Lifecycle, fldPath.Child("lifecycle"))...)
	return allErrs
}

var reserveOrdinalRange = regexp.MustCompile(`^\d+-\d+$`)

// validateReserveOrdinals accepts non-negative integers and ranges "a-b"
// with a <= b, as the controller parses them.
func validateReserveOrdinals(ordinals []intstr.IntOrString, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for i, ordinal := range ordinals {
		switch ordinal.Type {
		case intstr.Int:
			if ordinal.IntVal < 0 {
				allErrs = append(allErrs, field.Invalid(fldPath.Index(i), ordinal.IntVal,
					fmt.Sprintf("%d th reserve ordinal is negative: %d", i, ordinal.IntVal)))
			}
		case intstr.String:
			if !reserveOrdinalRange.MatchString(ordinal.StrVal) {
				allErrs = append(allErrs, field.Invalid(fldPath.Index(i), ordinal.StrVal,
					fmt.Sprintf("%d th reserve ordinal is not a valid range: %s", i, ordinal.StrVal)))
			}
			if err := checkOrdinalRange(ordinal.StrVal); err != nil {
				allErrs = append(allErrs, field.Invalid(fldPath.Index(i), ordinal.StrVal,
					fmt.Sprintf("%d th reserve ordinal is invalid: %s, err = %s", i, ordinal.StrVal, err)))
			}
		}
	}
	return allErrs
}

// checkOrdinalRange parses "a-b" the way the controller does.
func checkOrdinalRange(s string) error {
	bounds := strings.Split(s, "-")
	if len(bounds) != 2 {
		return fmt.Errorf("invalid range %s", s)
	}
	start, err := strconv.Atoi(bounds[0])
	if err != nil {
		return err
	}
	end, err := strconv.Atoi(bounds[1])
	if err != nil {
		return err
	}
	if start > end {
		return fmt.Errorf("invalid range %s", s)
	}
	return nil
}

// validateStatefulSetMaxUnavailable checks a maxUnavailable of the rolling
// update or of scaling: a non-negative integer or a percentage, worth at
// least one Pod, and anything but 1 only with Parallel pod management.
func validateStatefulSetMaxUnavailable(maxUnavailable *intstr.IntOrString, policy apps.PodManagementPolicyType, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	switch maxUnavailable.Type {
	case intstr.Int:
		allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(maxUnavailable.IntVal), fldPath)...)
	case intstr.String:
		for _, msg := range utilvalidation.IsValidPercent(maxUnavailable.StrVal) {
			allErrs = append(allErrs, field.Invalid(fldPath, maxUnavailable.StrVal, msg))
		}
	}
	if value, err := intstr.GetScaledValueFromIntOrPercent(maxUnavailable, 1, true); err != nil {
		allErrs = append(allErrs, field.Invalid(fldPath, maxUnavailable.String(), fmt.Sprintf("getValueFromIntOrPercent error: %v", err)))
	} else if value < 1 {
		allErrs = append(allErrs, field.Invalid(fldPath, value, "should not be less than 1"))
	}
	if policy != apps.ParallelPodManagement && (maxUnavailable.Type != intstr.Int || maxUnavailable.IntVal != 1) {
		allErrs = append(allErrs, field.Invalid(fldPath, maxUnavailable.String(), "can only work with Parallel PodManagementPolicyType"))
	}
	return allErrs
}

func validateStatefulSetUpdateStrategy(spec *apps.StatefulSetSpec, fldPath *field.Path) field.ErrorList {
	strategy := &spec.UpdateStrategy
	strategyPath := fldPath.Child("updateStrategy")
	switch strategy.Type {
	case "":
		return field.ErrorList{field.Required(strategyPath, "")}
	case apps.OnDeleteStatefulSetStrategyType:
		if strategy.RollingUpdate != nil {
			return field.ErrorList{field.Invalid(strategyPath.Child("rollingUpdate"), strategy.RollingUpdate,
				fmt.Sprintf("only allowed for updateStrategy '%s'", apps.RollingUpdateStatefulSetStrategyType))}
		}
		return nil
	case apps.RollingUpdateStatefulSetStrategyType:
	default:
		return field.ErrorList{field.Invalid(strategyPath.Child("type"), strategy.Type,
			fmt.Sprintf("must be '%s' or '%s'", apps.RollingUpdateStatefulSetStrategyType, apps.OnDeleteStatefulSetStrategyType))}
	}

	rollingUpdate := strategy.RollingUpdate
	if rollingUpdate == nil {
		return nil
	}
	var allErrs field.ErrorList
	rollingPath := strategyPath.Child("rollingUpdate")
	if rollingUpdate.Partition == nil {
		allErrs = append(allErrs, field.Required(rollingPath.Child("partition"), ""))
	} else {
		allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(*rollingUpdate.Partition), rollingPath.Child("partition"))...)
	}
	if minReady := rollingUpdate.MinReadySeconds; minReady == nil {
		allErrs = append(allErrs, field.Required(rollingPath.Child("minReadySeconds"), ""))
	} else {
		allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(*minReady), rollingPath.Child("minReadySeconds"))...)
		if *minReady > apps.MaxMinReadySeconds {
			allErrs = append(allErrs, field.Invalid(rollingPath.Child("minReadySeconds"), *minReady, "must be no more than 300 seconds"))
		}
	}
	if rollingUpdate.MaxUnavailable == nil {
		allErrs = append(allErrs, field.Required(rollingPath.Child("maxUnavailable"), ""))
	} else {
		allErrs = append(allErrs, validateStatefulSetMaxUnavailable(rollingUpdate.MaxUnavailable, spec.PodManagementPolicy, rollingPath.Child("maxUnavailable"))...)
	}

	switch rollingUpdate.PodUpdatePolicy {
	case "":
		allErrs = append(allErrs, field.Required(rollingPath.Child("podUpdatePolicy"), ""))
	case apps.RecreatePodUpdateStrategyType:
	case apps.InPlaceIfPossiblePodUpdateStrategyType, apps.InPlaceOnlyPodUpdateStrategyType:
		if !hasReadinessGate(spec.Template.Spec.ReadinessGates, statefulSetInPlaceReadinessGate) {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("template", "spec", "readinessGates"), spec.Template.Spec.ReadinessGates,
				fmt.Sprintf("must contains %v when podUpdatePolicy is %v", statefulSetInPlaceReadinessGate, rollingUpdate.PodUpdatePolicy)))
		}
	default:
		allErrs = append(allErrs, field.Invalid(rollingPath.Child("podUpdatePolicy"), rollingUpdate.PodUpdatePolicy,
			fmt.Sprintf("must be '%s', %s or '%s'", apps.RecreatePodUpdateStrategyType,
				apps.InPlaceIfPossiblePodUpdateStrategyType, apps.InPlaceOnlyPodUpdateStrategyType)))
	}

	if unordered := rollingUpdate.UnorderedUpdate; unordered != nil {
		unorderedPath := rollingPath.Child("unorderedUpdate")
		if spec.PodManagementPolicy != apps.ParallelPodManagement {
			allErrs = append(allErrs, field.Required(unorderedPath, "unorderedUpdate can only work with Parallel PodManagementPolicyType"))
		}
		allErrs = append(allErrs, ValidateUpdatePriorityStrategy(unordered.PriorityStrategy, unorderedPath.Child("priorityStrategy"))...)
	}
	allErrs = append(allErrs, ValidateInPlaceUpdateStrategy(rollingUpdate.InPlaceUpdateStrategy, rollingPath.Child("inPlaceUpdateStrategy"))...)
	return allErrs
}

func hasReadinessGate(gates []corev1.PodReadinessGate, condition corev1.PodConditionType) bool {
	for _, gate := range gates {
		if gate.ConditionType == condition {
			return true
		}
	}
	return false
}

var supportedRetentionPolicies = []string{
	string(apps.RetainPersistentVolumeClaimRetentionPolicyType), string(apps.DeletePersistentVolumeClaimRetentionPolicyType),
}

func validateRetentionPolicy(policy *apps.StatefulSetPersistentVolumeClaimRetentionPolicy, fldPath *field.Path) field.ErrorList {
	if policy == nil {
		return nil
	}
	var allErrs field.ErrorList
	for _, p := range []struct {
		name  string
		value apps.PersistentVolumeClaimRetentionPolicyType
	}{{"whenDeleted", policy.WhenDeleted}, {"whenScaled", policy.WhenScaled}} {
		switch p.value {
		case apps.RetainPersistentVolumeClaimRetentionPolicyType, apps.DeletePersistentVolumeClaimRetentionPolicyType:
		default:
			allErrs = append(allErrs, field.NotSupported(fldPath.Child(p.name), p.value, supportedRetentionPolicies))
		}
	}
	return allErrs
}

// validateVolumeClaimTemplatesUpdate: with the OnPodRollingUpdate strategy
// the controller resizes existing PVCs as Pods roll, so templates may not be
// added, removed or renamed, and may change only in size unless their
// storage class and access modes stay as they were. (Whether the storage
// class allows expansion is not checked: StorageClasses are not ours.)
func validateVolumeClaimTemplatesUpdate(spec, old *apps.StatefulSetSpec, fldPath *field.Path) field.ErrorList {
	if spec.VolumeClaimUpdateStrategy.Type != apps.OnPodRollingUpdateVolumeClaimUpdateStrategyType {
		return nil
	}
	if len(spec.VolumeClaimTemplates) != len(old.VolumeClaimTemplates) {
		return field.ErrorList{field.Invalid(fldPath, len(spec.VolumeClaimTemplates), "volumeClaimTemplate can not be added or deleted when OnRollingUpdate")}
	}
	oldByName := make(map[string]*corev1.PersistentVolumeClaim, len(old.VolumeClaimTemplates))
	for i := range old.VolumeClaimTemplates {
		oldByName[old.VolumeClaimTemplates[i].Name] = &old.VolumeClaimTemplates[i]
	}
	var allErrs field.ErrorList
	for i := range spec.VolumeClaimTemplates {
		template := &spec.VolumeClaimTemplates[i]
		oldTemplate, ok := oldByName[template.Name]
		if !ok {
			allErrs = append(allErrs, field.Forbidden(fldPath.Index(i).Child("metadata", "name"), "volumeClaimTemplate name can not be modified"))
			continue
		}
		if !sameClaimClassAndAccessModes(oldTemplate, template) {
			allErrs = append(allErrs, field.Invalid(fldPath.Index(i), template.Name, "volumeClaimTemplate can not be modified when OnRollingUpdate"))
		}
	}
	return allErrs
}

// sameClaimClassAndAccessModes compares what a PVC resize cannot change. A
// template without a storage class matches any (the default class).
func sameClaimClassAndAccessModes(old, claim *corev1.PersistentVolumeClaim) bool {
	if old.Spec.StorageClassName != nil && claim.Spec.StorageClassName != nil &&
		*old.Spec.StorageClassName != *claim.Spec.StorageClassName {
		return false
	}
	if len(old.Spec.AccessModes) != len(claim.Spec.AccessModes) {
		return false
	}
	for i := range old.Spec.AccessModes {
		if old.Spec.AccessModes[i] != claim.Spec.AccessModes[i] {
			return false
		}
	}
	return true
}

var containerImagePointer = regexp.MustCompile(`^/containers/[0-9]+/image$`)

// firstNonImageChange returns the first difference between two Pod specs,
// as a JSON patch operation and pointer ("replace /containers/0/name"),
// that is not a change of a container's image; "" when there is none.
func firstNonImageChange(old, spec *corev1.PodSpec) string {
	var oldTree, newTree interface{}
	if !jsonTree(old, &oldTree) || !jsonTree(spec, &newTree) {
		if apiequality.Semantic.DeepEqual(old, spec) {
			return ""
		}
		return "replace /"
	}
	return firstJSONChange("", oldTree, newTree, func(op, pointer string) bool {
		return op == "replace" && containerImagePointer.MatchString(pointer)
	})
}

func jsonTree(v interface{}, out *interface{}) bool {
	data, err := json.Marshal(v)
	if err != nil {
		return false
	}
	return json.Unmarshal(data, out) == nil
}

// firstJSONChange walks two decoded JSON values in a fixed order and returns
// the first change that allowed does not accept.
func firstJSONChange(pointer string, old, cur interface{}, allowed func(op, pointer string) bool) string {
	report := func(op, p string) string {
		if allowed(op, p) {
			return ""
		}
		return op + " " + p
	}
	switch o := old.(type) {
	case map[string]interface{}:
		c, ok := cur.(map[string]interface{})
		if !ok {
			return report("replace", pointer)
		}
		keys := make([]string, 0, len(o)+len(c))
		for k := range o {
			keys = append(keys, k)
		}
		for k := range c {
			if _, ok := o[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := pointer + "/" + escapeJSONPointer(k)
			ov, inOld := o[k]
			cv, inCur := c[k]
			var change string
			switch {
			case !inCur:
				change = report("remove", p)
			case !inOld:
				change = report("add", p)
			default:
				change = firstJSONChange(p, ov, cv, allowed)
			}
			if change != "" {
				return change
			}
		}
		return ""
	case []interface{}:
		c, ok := cur.([]interface{})
		if !ok {
			return report("replace", pointer)
		}
		for i := 0; i < len(o) || i < len(c); i++ {
			p := pointer + "/" + strconv.Itoa(i)
			var change string
			switch {
			case i >= len(c):
				change = report("remove", p)
			case i >= len(o):
				change = report("add", p)
			default:
				change = firstJSONChange(p, o[i], c[i], allowed)
			}
			if change != "" {
				return change
			}
		}
		return ""
	default:
		if apiequality.Semantic.DeepEqual(old, cur) {
			return ""
		}
		return report("replace", pointer)
	}
}

func escapeJSONPointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}
