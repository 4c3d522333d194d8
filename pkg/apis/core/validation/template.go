package validation

import (
	"fmt"
	"math"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// podDeletionCostAnnotation is the annotation ReplicaSet-like controllers use
// to pick pods to delete; Kubernetes requires an int32 value.
const podDeletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost"

// defaultTerminationGracePeriodSeconds is what Kubernetes defaults
// spec.terminationGracePeriodSeconds to.
const defaultTerminationGracePeriodSeconds int64 = corev1.DefaultTerminationGracePeriodSeconds

// ValidatePodTemplateSpec validates a pod template embedded in a workload:
// its metadata (labels and annotations; name, namespace and generateName are
// not required) and its pod spec. fldPath is the path of the template itself,
// e.g. field.NewPath("spec", "template").
func ValidatePodTemplateSpec(spec *corev1.PodTemplateSpec, fldPath *field.Path, opts PodValidationOptions) field.ErrorList {
	if spec == nil {
		return field.ErrorList{field.Required(fldPath, "")}
	}
	var allErrs field.ErrorList
	allErrs = append(allErrs, validateTemplateMetadata(&spec.ObjectMeta, fldPath.Child("metadata"))...)

	specPath := fldPath.Child("spec")
	allErrs = append(allErrs, ValidatePodSpec(&spec.Spec, specPath, opts)...)
	if len(spec.Spec.EphemeralContainers) > 0 {
		allErrs = append(allErrs, field.Forbidden(specPath.Child("ephemeralContainers"), "ephemeral containers not allowed in pod template"))
	}
	return allErrs
}

func validateTemplateMetadata(meta *metav1.ObjectMeta, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	allErrs = append(allErrs, metav1validation.ValidateLabels(meta.Labels, fldPath.Child("labels"))...)
	allErrs = append(allErrs, apimachineryvalidation.ValidateAnnotations(meta.Annotations, fldPath.Child("annotations"))...)
	if v, ok := meta.Annotations[podDeletionCostAnnotation]; ok {
		if _, err := strconv.ParseInt(v, 10, 32); err != nil {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("annotations").Key(podDeletionCostAnnotation), v, "must be a 32bit integer"))
		}
	}
	return allErrs
}

// ValidatePodSpec validates a pod spec that belongs to a pod template (it
// does not apply the checks Kubernetes reserves for real pods).
func ValidatePodSpec(spec *corev1.PodSpec, fldPath *field.Path, opts PodValidationOptions) field.ErrorList {
	if spec == nil {
		return field.ErrorList{field.Required(fldPath, "")}
	}
	var allErrs field.ErrorList

	gracePeriod := defaultTerminationGracePeriodSeconds
	if spec.TerminationGracePeriodSeconds != nil {
		gracePeriod = *spec.TerminationGracePeriodSeconds
		allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(gracePeriod, fldPath.Child("terminationGracePeriodSeconds"))...)
	}

	vols, volErrs := validateVolumes(spec.Volumes, fldPath.Child("volumes"))
	allErrs = append(allErrs, volErrs...)

	claimNames, claimErrs := validatePodResourceClaims(spec.ResourceClaims, fldPath.Child("resourceClaims"))
	allErrs = append(allErrs, claimErrs...)

	ctx := &containerContext{
		volumes:      vols,
		extraVolumes: opts.ExtraVolumeNames,
		claimNames:   claimNames,
		gracePeriod:  gracePeriod,
		restart:      spec.RestartPolicy,
		hostUsers:    spec.HostUsers == nil || *spec.HostUsers,
	}
	allErrs = append(allErrs, validateAllContainers(spec, fldPath, ctx)...)
	allErrs = append(allErrs, validateHostNetworkPorts(spec, fldPath)...)

	allErrs = append(allErrs, validatePodRestartPolicy(spec.RestartPolicy, fldPath.Child("restartPolicy"), opts)...)
	allErrs = append(allErrs, validateEnum(spec.DNSPolicy, true, fldPath.Child("dnsPolicy"),
		corev1.DNSClusterFirstWithHostNet, corev1.DNSClusterFirst, corev1.DNSDefault, corev1.DNSNone)...)
	allErrs = append(allErrs, validatePodDNSConfig(spec.DNSConfig, spec.DNSPolicy, fldPath.Child("dnsConfig"))...)

	if spec.ActiveDeadlineSeconds != nil {
		p := fldPath.Child("activeDeadlineSeconds")
		if opts.ForbidActiveDeadlineSeconds {
			allErrs = append(allErrs, field.Forbidden(p, fmt.Sprintf("activeDeadlineSeconds in %s is not Supported", kindOr(opts, "this workload's pod template"))))
		} else if v := *spec.ActiveDeadlineSeconds; v < 1 || v > math.MaxInt32 {
			allErrs = append(allErrs, field.Invalid(p, v, inclusiveRange(1, math.MaxInt32)))
		}
	}

	allErrs = append(allErrs, metav1validation.ValidateLabels(spec.NodeSelector, fldPath.Child("nodeSelector"))...)
	if spec.ServiceAccountName != "" {
		allErrs = append(allErrs, invalidEach(fldPath.Child("serviceAccountName"), spec.ServiceAccountName,
			apimachineryvalidation.ValidateServiceAccountName(spec.ServiceAccountName, false))...)
	}
	if spec.NodeName != "" {
		allErrs = append(allErrs, invalidEach(fldPath.Child("nodeName"), spec.NodeName,
			apimachineryvalidation.NameIsDNSSubdomain(spec.NodeName, false))...)
	}
	if spec.Hostname != "" {
		allErrs = append(allErrs, validateDNS1123Label(spec.Hostname, fldPath.Child("hostname"))...)
	}
	if spec.Subdomain != "" {
		allErrs = append(allErrs, validateDNS1123Label(spec.Subdomain, fldPath.Child("subdomain"))...)
	}
	if spec.HostnameOverride != nil {
		allErrs = append(allErrs, validateHostnameOverride(spec, fldPath.Child("hostnameOverride"))...)
	}
	if spec.PriorityClassName != "" {
		allErrs = append(allErrs, invalidEach(fldPath.Child("priorityClassName"), spec.PriorityClassName,
			apimachineryvalidation.NameIsDNSSubdomain(spec.PriorityClassName, false))...)
	}
	if spec.RuntimeClassName != nil {
		allErrs = append(allErrs, invalidEach(fldPath.Child("runtimeClassName"), *spec.RuntimeClassName,
			apimachineryvalidation.NameIsDNSSubdomain(*spec.RuntimeClassName, false))...)
	}
	if spec.PreemptionPolicy != nil {
		allErrs = append(allErrs, validateEnum(*spec.PreemptionPolicy, false, fldPath.Child("preemptionPolicy"),
			corev1.PreemptLowerPriority, corev1.PreemptNever)...)
	}
	if spec.OS != nil {
		allErrs = append(allErrs, validateEnum(spec.OS.Name, false, fldPath.Child("os", "name"), corev1.Linux, corev1.Windows)...)
	}

	allErrs = append(allErrs, validateImagePullSecrets(spec.ImagePullSecrets, fldPath.Child("imagePullSecrets"))...)
	allErrs = append(allErrs, validateReadinessGates(spec.ReadinessGates, fldPath.Child("readinessGates"))...)
	allErrs = append(allErrs, validateSchedulingGates(spec.SchedulingGates, fldPath.Child("schedulingGates"))...)
	allErrs = append(allErrs, validateHostAliases(spec.HostAliases, fldPath.Child("hostAliases"))...)
	allErrs = append(allErrs, validateTolerations(spec.Tolerations, fldPath.Child("tolerations"))...)
	allErrs = append(allErrs, validateAffinity(spec.Affinity, fldPath.Child("affinity"))...)
	allErrs = append(allErrs, validateTopologySpreadConstraints(spec.TopologySpreadConstraints, fldPath.Child("topologySpreadConstraints"))...)
	allErrs = append(allErrs, validatePodSecurityContext(spec, fldPath)...)
	allErrs = append(allErrs, validateOverhead(spec.Overhead, fldPath.Child("overhead"))...)
	allErrs = append(allErrs, validatePodResources(spec.Resources, fldPath.Child("resources"))...)
	return allErrs
}

// validatePodRestartPolicy checks the enum and the restart policies the
// embedding workload allows. The empty value is what an undefaulted object
// carries; Kubernetes defaults it to Always.
func validatePodRestartPolicy(policy corev1.RestartPolicy, fldPath *field.Path, opts PodValidationOptions) field.ErrorList {
	if errs := validateEnum(policy, true, fldPath,
		corev1.RestartPolicyAlways, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever); len(errs) > 0 {
		return errs
	}
	effective := policy
	if effective == "" {
		effective = corev1.RestartPolicyAlways
	}
	var allErrs field.ErrorList
	if opts.RequiredRestartPolicy != "" && effective != opts.RequiredRestartPolicy {
		allErrs = append(allErrs, field.NotSupported(fldPath, policy, stringsOf(opts.RequiredRestartPolicy)))
	}
	if len(opts.AllowedRestartPolicies) > 0 && !sets.New(opts.AllowedRestartPolicies...).Has(effective) {
		allErrs = append(allErrs, field.NotSupported(fldPath, policy, stringsOf(opts.AllowedRestartPolicies...)))
	}
	return allErrs
}

func validateHostnameOverride(spec *corev1.PodSpec, fldPath *field.Path) field.ErrorList {
	return validateDNS1123Subdomain(*spec.HostnameOverride, fldPath)
}

// validateImagePullSecrets requires a name in every entry (an empty entry is
// ignored by the kubelet; Kubernetes only warns about it).
func validateImagePullSecrets(secrets []corev1.LocalObjectReference, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for i, s := range secrets {
		if s.Name == "" {
			allErrs = append(allErrs, field.Required(fldPath.Index(i).Child("name"), ""))
		}
	}
	return allErrs
}

func validateReadinessGates(gates []corev1.PodReadinessGate, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for i, g := range gates {
		allErrs = append(allErrs, validateQualifiedName(string(g.ConditionType), fldPath.Index(i).Child("conditionType"))...)
	}
	return allErrs
}

func validateSchedulingGates(gates []corev1.PodSchedulingGate, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	seen := sets.New[string]()
	for i, g := range gates {
		p := fldPath.Index(i).Child("name")
		allErrs = append(allErrs, validateQualifiedName(g.Name, p)...)
		if seen.Has(g.Name) {
			allErrs = append(allErrs, field.Duplicate(p, g.Name))
		}
		seen.Insert(g.Name)
	}
	return allErrs
}
