package validation

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/sets"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

const hugePagesPrefix = corev1.ResourceHugePagesPrefix

// Resources a container may request without a domain prefix.
var standardContainerResources = sets.New(corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage)

// Resources a pod may set in spec.resources (plus hugepages-<size>).
var podLevelResources = sets.New(corev1.ResourceCPU, corev1.ResourceMemory)

func isHugePages(name corev1.ResourceName) bool {
	return strings.HasPrefix(string(name), hugePagesPrefix)
}

// isNativeResource: unprefixed or in the kubernetes.io domain.
func isNativeResource(name corev1.ResourceName) bool {
	return !strings.Contains(string(name), "/") || strings.Contains(string(name), corev1.ResourceDefaultNamespacePrefix)
}

// isExtendedResource: a domain-prefixed resource outside kubernetes.io that
// can be quota'ed as requests.<name>.
func isExtendedResource(name corev1.ResourceName) bool {
	if isNativeResource(name) || strings.HasPrefix(string(name), corev1.DefaultResourceRequestsPrefix) {
		return false
	}
	return len(utilvalidation.IsQualifiedName(corev1.DefaultResourceRequestsPrefix+string(name))) == 0
}

// isOvercommitAllowed: extended resources and hugepages must be requested
// exactly at their limit.
func isOvercommitAllowed(name corev1.ResourceName) bool {
	return isNativeResource(name) && !isHugePages(name)
}

func sortedResourceNames(list corev1.ResourceList) []corev1.ResourceName {
	names := make([]corev1.ResourceName, 0, len(list))
	for n := range list {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return names[i] < names[j] })
	return names
}

// validateContainerResourceName: a qualified name that is either a standard
// container resource (cpu, memory, ephemeral-storage, hugepages-<size>) or a
// domain-prefixed (extended) resource.
func validateContainerResourceName(name corev1.ResourceName, fldPath *field.Path) field.ErrorList {
	if errs := validateQualifiedName(string(name), fldPath); len(errs) > 0 {
		return errs
	}
	if !strings.Contains(string(name), "/") {
		if !standardContainerResources.Has(name) && !isHugePages(name) {
			return field.ErrorList{field.Invalid(fldPath, name, "must be a standard resource for containers")}
		}
	} else if !isNativeResource(name) && !isExtendedResource(name) {
		return field.ErrorList{field.Invalid(fldPath, name, "doesn't follow extended resource name standard")}
	}
	return nil
}

// validatePodLevelResourceName: spec.resources supports cpu, memory and
// hugepages only.
func validatePodLevelResourceName(name corev1.ResourceName, fldPath *field.Path) field.ErrorList {
	if podLevelResources.Has(name) || (isHugePages(name) && len(utilvalidation.IsQualifiedName(string(name))) == 0) {
		return nil
	}
	return field.ErrorList{field.NotSupported(fldPath, name, []string{string(corev1.ResourceCPU), string(corev1.ResourceMemory), hugePagesPrefix + "<size>"})}
}

// validateResourceQuantity: non-negative, and whole for extended resources.
func validateResourceQuantity(name corev1.ResourceName, q resource.Quantity, fldPath *field.Path) field.ErrorList {
	if errs := validateNonnegativeQuantity(q, fldPath); len(errs) > 0 {
		return errs
	}
	if isExtendedResource(name) && q.MilliValue()%1000 != 0 {
		return field.ErrorList{field.Invalid(fldPath, q.String(), isNotIntegerErrorMsg)}
	}
	return nil
}

// validateResourceList validates limits or requests keyed by resource name.
func validateResourceLimitsAndRequests(limits, requests corev1.ResourceList, fldPath *field.Path,
	validateName func(corev1.ResourceName, *field.Path) field.ErrorList) field.ErrorList {
	var allErrs field.ErrorList
	limPath := fldPath.Child("limits")
	reqPath := fldPath.Child("requests")
	cpuOrMemory, hugePages := false, false

	for _, name := range sortedResourceNames(limits) {
		q := limits[name]
		p := limPath.Key(string(name))
		allErrs = append(allErrs, validateName(name, p)...)
		allErrs = append(allErrs, validateResourceQuantity(name, q, p)...)
		cpuOrMemory = cpuOrMemory || name == corev1.ResourceCPU || name == corev1.ResourceMemory
		hugePages = hugePages || isHugePages(name)
	}
	for _, name := range sortedResourceNames(requests) {
		q := requests[name]
		p := reqPath.Key(string(name))
		allErrs = append(allErrs, validateName(name, p)...)
		allErrs = append(allErrs, validateResourceQuantity(name, q, p)...)
		cpuOrMemory = cpuOrMemory || name == corev1.ResourceCPU || name == corev1.ResourceMemory
		hugePages = hugePages || isHugePages(name)

		limit, ok := limits[name]
		switch {
		case ok && !isOvercommitAllowed(name) && q.Cmp(limit) != 0:
			allErrs = append(allErrs, field.Invalid(p, q.String(), fmt.Sprintf("must be equal to %s limit of %s", name, limit.String())))
		case ok && q.Cmp(limit) > 0:
			allErrs = append(allErrs, field.Invalid(p, q.String(), fmt.Sprintf("must be less than or equal to %s limit of %s", name, limit.String())))
		case !ok && !isOvercommitAllowed(name):
			allErrs = append(allErrs, field.Required(limPath.Key(string(name)), "Limit must be set for non overcommitable resources"))
		}
	}
	if hugePages && !cpuOrMemory {
		allErrs = append(allErrs, field.Forbidden(fldPath, "HugePages require cpu or memory"))
	}
	return allErrs
}

// validateContainerResources checks a container's resources: names,
// non-negative quantities, requests ≤ limits, and claims that refer to
// spec.resourceClaims.
func validateContainerResources(req *corev1.ResourceRequirements, fldPath *field.Path, podClaims sets.Set[string]) field.ErrorList {
	var allErrs field.ErrorList
	allErrs = append(allErrs, validateResourceLimitsAndRequests(req.Limits, req.Requests, fldPath, validateContainerResourceName)...)
	allErrs = append(allErrs, validateResourceClaimRefs(req.Claims, fldPath.Child("claims"), podClaims)...)
	return allErrs
}

func validateResourceClaimRefs(claims []corev1.ResourceClaim, fldPath *field.Path, podClaims sets.Set[string]) field.ErrorList {
	var allErrs field.ErrorList
	seen := sets.New[string]()
	for i, c := range claims {
		p := fldPath.Index(i)
		if c.Name == "" {
			allErrs = append(allErrs, field.Required(p.Child("name"), ""))
		} else {
			key := c.Name
			if c.Request != "" {
				key += "/" + c.Request
			}
			if seen.Has(key) {
				allErrs = append(allErrs, field.Duplicate(p, key))
			}
			seen.Insert(key)
			if !podClaims.Has(c.Name) {
				allErrs = append(allErrs, field.NotFound(p.Child("name"), c.Name))
			}
		}
		if c.Request != "" {
			allErrs = append(allErrs, validateDNS1123Label(c.Request, p.Child("request"))...)
		}
	}
	return allErrs
}

// validatePodResourceClaims checks spec.resourceClaims and returns their
// names.
func validatePodResourceClaims(claims []corev1.PodResourceClaim, fldPath *field.Path) (sets.Set[string], field.ErrorList) {
	var allErrs field.ErrorList
	names := sets.New[string]()
	for i, c := range claims {
		p := fldPath.Index(i)
		switch {
		case c.Name == "":
			allErrs = append(allErrs, field.Required(p.Child("name"), ""))
		case names.Has(c.Name):
			allErrs = append(allErrs, field.Duplicate(p.Child("name"), c.Name))
		default:
			allErrs = append(allErrs, validateDNS1123Label(c.Name, p.Child("name"))...)
			names.Insert(c.Name)
		}
		switch {
		case c.ResourceClaimName != nil && c.ResourceClaimTemplateName != nil:
			allErrs = append(allErrs, field.Invalid(p, c.Name, "at most one of `resourceClaimName` or `resourceClaimTemplateName` may be specified"))
		case c.ResourceClaimName == nil && c.ResourceClaimTemplateName == nil:
			allErrs = append(allErrs, field.Invalid(p, c.Name, "must specify one of: `resourceClaimName`, `resourceClaimTemplateName`"))
		}
		if c.ResourceClaimName != nil {
			allErrs = append(allErrs, validateDNS1123Subdomain(*c.ResourceClaimName, p.Child("resourceClaimName"))...)
		}
		if c.ResourceClaimTemplateName != nil {
			allErrs = append(allErrs, validateDNS1123Subdomain(*c.ResourceClaimTemplateName, p.Child("resourceClaimTemplateName"))...)
		}
	}
	return names, allErrs
}

// validatePodResources checks pod-level spec.resources.
func validatePodResources(req *corev1.ResourceRequirements, fldPath *field.Path) field.ErrorList {
	if req == nil {
		return nil
	}
	var allErrs field.ErrorList
	if req.Claims != nil {
		allErrs = append(allErrs, field.Forbidden(fldPath.Child("claims"), "claims cannot be set for Resources at pod-level"))
	}
	allErrs = append(allErrs, validateResourceLimitsAndRequests(req.Limits, req.Requests, fldPath, validatePodLevelResourceName)...)
	return allErrs
}

// validateOverhead checks spec.overhead like container limits.
func validateOverhead(overhead corev1.ResourceList, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for _, name := range sortedResourceNames(overhead) {
		p := fldPath.Key(string(name))
		allErrs = append(allErrs, validateContainerResourceName(name, p)...)
		allErrs = append(allErrs, validateResourceQuantity(name, overhead[name], p)...)
	}
	return allErrs
}

// validateResizePolicy checks in-place resize policies: cpu and memory only,
// once each, and NotRequired when the pod never restarts containers.
func validateResizePolicy(policies []corev1.ContainerResizePolicy, fldPath *field.Path, podRestart corev1.RestartPolicy) field.ErrorList {
	var allErrs field.ErrorList
	seen := sets.New[corev1.ResourceName]()
	for i, p := range policies {
		ip := fldPath.Index(i)
		if p.ResourceName != "" && seen.Has(p.ResourceName) {
			allErrs = append(allErrs, field.Duplicate(ip.Child("resourceName"), p.ResourceName))
		}
		seen.Insert(p.ResourceName)
		allErrs = append(allErrs, validateEnum(p.ResourceName, false, ip.Child("resourceName"), corev1.ResourceCPU, corev1.ResourceMemory)...)
		errs := validateEnum(p.RestartPolicy, false, ip.Child("restartPolicy"), corev1.NotRequired, corev1.RestartContainer)
		allErrs = append(allErrs, errs...)
		if len(errs) == 0 && podRestart == corev1.RestartPolicyNever && p.RestartPolicy != corev1.NotRequired {
			allErrs = append(allErrs, field.Invalid(ip.Child("restartPolicy"), p.RestartPolicy, "must be 'NotRequired' when `restartPolicy` is 'Never'"))
		}
	}
	return allErrs
}
