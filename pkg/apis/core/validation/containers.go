package validation

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

const (
	maxContainerRestartRules     = 20
	maxContainerRestartExitCodes = 255
)

// containerContext carries what container validation needs to know about the
// rest of the pod spec.
type containerContext struct {
	// volumes are the pod's volumes by name.
	volumes map[string]*corev1.VolumeSource
	// extraVolumes are names that will be volumes of the pod although the
	// template does not declare them (volumeClaimTemplates).
	extraVolumes sets.Set[string]
	// claimNames are the names in spec.resourceClaims.
	claimNames sets.Set[string]
	// gracePeriod is spec.terminationGracePeriodSeconds or its default.
	gracePeriod int64
	restart     corev1.RestartPolicy
	hostUsers   bool
}

func (c *containerContext) hasVolume(name string) bool {
	if _, ok := c.volumes[name]; ok {
		return true
	}
	return c.extraVolumes.Has(name)
}

// validateAllContainers validates spec.containers, spec.initContainers and
// the names of spec.ephemeralContainers (which templates may not have at all;
// ValidatePodTemplateSpec reports that).
func validateAllContainers(spec *corev1.PodSpec, fldPath *field.Path, ctx *containerContext) field.ErrorList {
	var allErrs field.ErrorList
	names := sets.New[string]()
	checkName := func(name string, p *field.Path) {
		if name == "" {
			return
		}
		if names.Has(name) {
			allErrs = append(allErrs, field.Duplicate(p.Child("name"), name))
			return
		}
		names.Insert(name)
	}

	containersPath := fldPath.Child("containers")
	if len(spec.Containers) == 0 {
		allErrs = append(allErrs, field.Required(containersPath, ""))
	}
	for i := range spec.Containers {
		c := &spec.Containers[i]
		p := containersPath.Index(i)
		allErrs = append(allErrs, validateContainerCommon(c, p, ctx)...)
		checkName(c.Name, p)
		allErrs = append(allErrs, validateLifecycleAndProbes(c, p, ctx)...)
		if c.RestartPolicy != nil {
			allErrs = append(allErrs, validateEnum(*c.RestartPolicy, false, p.Child("restartPolicy"),
				corev1.ContainerRestartPolicyAlways, corev1.ContainerRestartPolicyOnFailure, corev1.ContainerRestartPolicyNever)...)
		}
		allErrs = append(allErrs, validateContainerRestartRules(c.RestartPolicyRules, p.Child("restartPolicyRules"))...)
	}
	// Regular containers run together: their host ports may not collide.
	allErrs = append(allErrs, checkHostPortConflicts(spec.Containers, containersPath)...)

	initPath := fldPath.Child("initContainers")
	for i := range spec.InitContainers {
		c := &spec.InitContainers[i]
		p := initPath.Index(i)
		allErrs = append(allErrs, validateContainerCommon(c, p, ctx)...)
		checkName(c.Name, p)

		sidecar := false
		if c.RestartPolicy != nil {
			allErrs = append(allErrs, validateEnum(*c.RestartPolicy, false, p.Child("restartPolicy"), corev1.ContainerRestartPolicyAlways)...)
			sidecar = *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
		}
		allErrs = append(allErrs, validateContainerRestartRules(c.RestartPolicyRules, p.Child("restartPolicyRules"))...)
		// Init containers run one by one, so only ports within one of them may collide.
		allErrs = append(allErrs, checkHostPortConflicts(spec.InitContainers[i:i+1], initPath)...)

		if sidecar {
			allErrs = append(allErrs, validateLifecycleAndProbes(c, p, ctx)...)
			continue
		}
		const msg = "may not be set for init containers without restartPolicy=Always"
		if c.Lifecycle != nil {
			allErrs = append(allErrs, field.Forbidden(p.Child("lifecycle"), msg))
		}
		if c.LivenessProbe != nil {
			allErrs = append(allErrs, field.Forbidden(p.Child("livenessProbe"), msg))
		}
		if c.ReadinessProbe != nil {
			allErrs = append(allErrs, field.Forbidden(p.Child("readinessProbe"), msg))
		}
		if c.StartupProbe != nil {
			allErrs = append(allErrs, field.Forbidden(p.Child("startupProbe"), msg))
		}
		if len(c.ResizePolicy) > 0 {
			allErrs = append(allErrs, field.Forbidden(p.Child("resizePolicy"), msg))
		}
	}

	ephemeralPath := fldPath.Child("ephemeralContainers")
	for i := range spec.EphemeralContainers {
		checkName(spec.EphemeralContainers[i].Name, ephemeralPath.Index(i))
	}
	return allErrs
}

// validateContainerCommon applies the checks shared by regular and init
// containers.
func validateContainerCommon(c *corev1.Container, fldPath *field.Path, ctx *containerContext) field.ErrorList {
	var allErrs field.ErrorList

	namePath := fldPath.Child("name")
	if c.Name == "" {
		allErrs = append(allErrs, field.Required(namePath, ""))
	} else {
		allErrs = append(allErrs, validateDNS1123Label(c.Name, namePath)...)
	}

	imagePath := fldPath.Child("image")
	if c.Image == "" {
		allErrs = append(allErrs, field.Required(imagePath, ""))
	} else if c.Image != strings.TrimSpace(c.Image) {
		allErrs = append(allErrs, field.Invalid(imagePath, c.Image, "must not have leading or trailing whitespace"))
	}

	allErrs = append(allErrs, validateEnum(c.ImagePullPolicy, true, fldPath.Child("imagePullPolicy"),
		corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever)...)
	allErrs = append(allErrs, validateEnum(c.TerminationMessagePolicy, true, fldPath.Child("terminationMessagePolicy"),
		corev1.TerminationMessageReadFile, corev1.TerminationMessageFallbackToLogsOnError)...)

	allErrs = append(allErrs, validateContainerPorts(c.Ports, fldPath.Child("ports"))...)
	allErrs = append(allErrs, validateEnv(c.Env, fldPath.Child("env"), ctx)...)
	allErrs = append(allErrs, validateEnvFrom(c.EnvFrom, fldPath.Child("envFrom"))...)
	allErrs = append(allErrs, validateVolumeMounts(c, fldPath.Child("volumeMounts"), ctx)...)
	allErrs = append(allErrs, validateVolumeDevices(c, fldPath.Child("volumeDevices"), ctx)...)
	allErrs = append(allErrs, validateContainerResources(&c.Resources, fldPath.Child("resources"), ctx.claimNames)...)
	allErrs = append(allErrs, validateResizePolicy(c.ResizePolicy, fldPath.Child("resizePolicy"), ctx.restart)...)
	allErrs = append(allErrs, validateContainerSecurityContext(c.SecurityContext, fldPath.Child("securityContext"), ctx.hostUsers)...)
	return allErrs
}

// validateContainerPorts checks one container's ports: containerPort
// required and in range, hostPort in range, protocol enum, and port names
// that are valid IANA service names, unique within the container.
func validateContainerPorts(ports []corev1.ContainerPort, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	names := sets.New[string]()
	for i, port := range ports {
		p := fldPath.Index(i)
		if port.Name != "" {
			namePath := p.Child("name")
			allErrs = append(allErrs, invalidEach(namePath, port.Name, utilvalidation.IsValidPortName(port.Name))...)
			if names.Has(port.Name) {
				allErrs = append(allErrs, field.Duplicate(namePath, port.Name))
			}
			names.Insert(port.Name)
		}
		if port.ContainerPort == 0 {
			allErrs = append(allErrs, field.Required(p.Child("containerPort"), ""))
		} else {
			allErrs = append(allErrs, invalidEach(p.Child("containerPort"), port.ContainerPort, utilvalidation.IsValidPortNum(int(port.ContainerPort)))...)
		}
		if port.HostPort != 0 {
			allErrs = append(allErrs, invalidEach(p.Child("hostPort"), port.HostPort, utilvalidation.IsValidPortNum(int(port.HostPort)))...)
		}
		allErrs = append(allErrs, validateEnum(port.Protocol, true, p.Child("protocol"),
			corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP)...)
		if port.HostIP != "" {
			allErrs = append(allErrs, utilvalidation.IsValidIPForLegacyField(p.Child("hostIP"), port.HostIP, false, nil)...)
		}
	}
	return allErrs
}

// checkHostPortConflicts reports host ports used twice (same protocol, host IP
// and port) across the given containers.
func checkHostPortConflicts(containers []corev1.Container, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	seen := sets.New[string]()
	for ci := range containers {
		for pi, port := range containers[ci].Ports {
			if port.HostPort == 0 {
				continue
			}
			protocol := port.Protocol
			if protocol == "" {
				protocol = corev1.ProtocolTCP
			}
			key := fmt.Sprintf("%s/%s/%d", protocol, port.HostIP, port.HostPort)
			if seen.Has(key) {
				allErrs = append(allErrs, field.Duplicate(fldPath.Index(ci).Child("ports").Index(pi).Child("hostPort"), key))
				continue
			}
			seen.Insert(key)
		}
	}
	return allErrs
}

// validateHostNetworkPorts: with hostNetwork the host port is the container
// port; a template may leave it 0 (it is defaulted on the pod).
func validateHostNetworkPorts(spec *corev1.PodSpec, fldPath *field.Path) field.ErrorList {
	if !spec.HostNetwork {
		return nil
	}
	var allErrs field.ErrorList
	for ci := range spec.Containers {
		for pi, port := range spec.Containers[ci].Ports {
			if port.HostPort != 0 && port.HostPort != port.ContainerPort {
				allErrs = append(allErrs, field.Invalid(fldPath.Child("containers").Index(ci).Child("ports").Index(pi).Child("hostPort"),
					port.HostPort, "must match `containerPort` when `hostNetwork` is true"))
			}
		}
	}
	return allErrs
}

// validateContainerRestartRules checks the shape of restartPolicyRules.
func validateContainerRestartRules(rules []corev1.ContainerRestartRule, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if len(rules) > maxContainerRestartRules {
		allErrs = append(allErrs, field.TooMany(fldPath, len(rules), maxContainerRestartRules))
	}
	for i, rule := range rules {
		p := fldPath.Index(i)
		allErrs = append(allErrs, validateEnum(rule.Action, false, p.Child("action"),
			corev1.ContainerRestartRuleActionRestart, corev1.ContainerRestartRuleActionRestartAllContainers)...)
		if rule.ExitCodes == nil {
			allErrs = append(allErrs, field.Required(p.Child("exitCodes"), "must be specified"))
			continue
		}
		ep := p.Child("exitCodes")
		allErrs = append(allErrs, validateEnum(rule.ExitCodes.Operator, false, ep.Child("operator"),
			corev1.ContainerRestartRuleOnExitCodesOpIn, corev1.ContainerRestartRuleOnExitCodesOpNotIn)...)
		if len(rule.ExitCodes.Values) > maxContainerRestartExitCodes {
			allErrs = append(allErrs, field.TooMany(ep.Child("values"), len(rule.ExitCodes.Values), maxContainerRestartExitCodes))
		}
	}
	return allErrs
}

// validateLifecycleAndProbes validates the fields only regular containers and
// sidecar (restartable init) containers may set.
func validateLifecycleAndProbes(c *corev1.Container, fldPath *field.Path, ctx *containerContext) field.ErrorList {
	var allErrs field.ErrorList
	if c.Lifecycle != nil {
		allErrs = append(allErrs, validateLifecycle(c.Lifecycle, fldPath.Child("lifecycle"), ctx.gracePeriod)...)
	}
	allErrs = append(allErrs, validateProbe(c.LivenessProbe, livenessProbe, fldPath.Child("livenessProbe"), ctx.gracePeriod)...)
	allErrs = append(allErrs, validateProbe(c.ReadinessProbe, readinessProbe, fldPath.Child("readinessProbe"), ctx.gracePeriod)...)
	allErrs = append(allErrs, validateProbe(c.StartupProbe, startupProbe, fldPath.Child("startupProbe"), ctx.gracePeriod)...)
	return allErrs
}
