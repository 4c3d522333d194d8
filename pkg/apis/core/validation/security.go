package validation

import (
	"fmt"
	"regexp"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

const sysctlMaxLength = 253

// A sysctl name is a dot- or slash-separated path of segments of lowercase
// alphanumerics, '-' and '_'.
const sysctlSegmentFmt = "[a-z0-9]([-_a-z0-9]*[a-z0-9])?"

var sysctlNameRegexp = regexp.MustCompile("^(" + sysctlSegmentFmt + "[\\./])*" + sysctlSegmentFmt + "$")

// validatePodSecurityContext checks spec.securityContext and the
// host-namespace fields that interact with it.
func validatePodSecurityContext(spec *corev1.PodSpec, specPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if spec.ShareProcessNamespace != nil && *spec.ShareProcessNamespace && spec.HostPID {
		allErrs = append(allErrs, field.Invalid(specPath.Child("shareProcessNamespace"), *spec.ShareProcessNamespace, "ShareProcessNamespace and HostPID cannot both be enabled"))
	}
	if spec.HostUsers != nil && !*spec.HostUsers {
		const msg = "when `hostUsers` is false"
		if spec.HostNetwork {
			allErrs = append(allErrs, field.Forbidden(specPath.Child("hostNetwork"), msg))
		}
		if spec.HostPID {
			allErrs = append(allErrs, field.Forbidden(specPath.Child("hostPID"), msg))
		}
		if spec.HostIPC {
			allErrs = append(allErrs, field.Forbidden(specPath.Child("hostIPC"), msg))
		}
	}

	sc := spec.SecurityContext
	if sc == nil {
		return allErrs
	}
	fldPath := specPath.Child("securityContext")
	allErrs = append(allErrs, validateOptionalUserID(sc.RunAsUser, fldPath.Child("runAsUser"))...)
	allErrs = append(allErrs, validateOptionalGroupID(sc.RunAsGroup, fldPath.Child("runAsGroup"))...)
	allErrs = append(allErrs, validateOptionalGroupID(sc.FSGroup, fldPath.Child("fsGroup"))...)
	for i := range sc.SupplementalGroups {
		allErrs = append(allErrs, validateOptionalGroupID(&sc.SupplementalGroups[i], fldPath.Child("supplementalGroups").Index(i))...)
	}
	if sc.SupplementalGroupsPolicy != nil {
		allErrs = append(allErrs, validateEnum(*sc.SupplementalGroupsPolicy, false, fldPath.Child("supplementalGroupsPolicy"),
			corev1.SupplementalGroupsPolicyMerge, corev1.SupplementalGroupsPolicyStrict)...)
	}
	if sc.FSGroupChangePolicy != nil {
		allErrs = append(allErrs, validateEnum(*sc.FSGroupChangePolicy, false, fldPath.Child("fsGroupChangePolicy"),
			corev1.FSGroupChangeOnRootMismatch, corev1.FSGroupChangeAlways)...)
	}
	if sc.SELinuxChangePolicy != nil {
		allErrs = append(allErrs, validateEnum(*sc.SELinuxChangePolicy, false, fldPath.Child("seLinuxChangePolicy"),
			corev1.SELinuxChangePolicyRecursive, corev1.SELinuxChangePolicyMountOption)...)
	}
	allErrs = append(allErrs, validateSysctls(sc.Sysctls, fldPath.Child("sysctls"))...)
	allErrs = append(allErrs, validateSeccompProfile(sc.SeccompProfile, fldPath.Child("seccompProfile"))...)
	allErrs = append(allErrs, validateAppArmorProfile(sc.AppArmorProfile, fldPath.Child("appArmorProfile"))...)
	return allErrs
}

func validateSysctls(sysctls []corev1.Sysctl, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	names := sets.New[string]()
	for i, s := range sysctls {
		p := fldPath.Index(i).Child("name")
		switch {
		case s.Name == "":
			allErrs = append(allErrs, field.Required(p, ""))
		case len(s.Name) > sysctlMaxLength || !sysctlNameRegexp.MatchString(s.Name):
			allErrs = append(allErrs, field.Invalid(p, s.Name,
				fmt.Sprintf("must have at most %d characters and match regex %s", sysctlMaxLength, sysctlNameRegexp.String())))
		case names.Has(s.Name):
			allErrs = append(allErrs, field.Duplicate(p, s.Name))
		}
		names.Insert(s.Name)
	}
	return allErrs
}

// validateContainerSecurityContext checks a container's securityContext.
func validateContainerSecurityContext(sc *corev1.SecurityContext, fldPath *field.Path, hostUsers bool) field.ErrorList {
	if sc == nil {
		return nil
	}
	var allErrs field.ErrorList
	allErrs = append(allErrs, validateOptionalUserID(sc.RunAsUser, fldPath.Child("runAsUser"))...)
	allErrs = append(allErrs, validateOptionalGroupID(sc.RunAsGroup, fldPath.Child("runAsGroup"))...)
	if sc.ProcMount != nil {
		p := fldPath.Child("procMount")
		errs := validateEnum(*sc.ProcMount, false, p, corev1.DefaultProcMount, corev1.UnmaskedProcMount)
		allErrs = append(allErrs, errs...)
		if len(errs) == 0 && *sc.ProcMount == corev1.UnmaskedProcMount && hostUsers {
			allErrs = append(allErrs, field.Invalid(p, *sc.ProcMount, "`hostUsers` must be false to use `Unmasked`"))
		}
	}
	if caps := sc.Capabilities; caps != nil {
		for i, c := range caps.Add {
			if c == "" {
				allErrs = append(allErrs, field.Required(fldPath.Child("capabilities", "add").Index(i), "capability name must not be empty"))
			}
		}
		for i, c := range caps.Drop {
			if c == "" {
				allErrs = append(allErrs, field.Required(fldPath.Child("capabilities", "drop").Index(i), "capability name must not be empty"))
			}
		}
	}
	if sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation {
		if sc.Privileged != nil && *sc.Privileged {
			allErrs = append(allErrs, field.Invalid(fldPath, "allowPrivilegeEscalation=false, privileged=true", "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"))
		}
		if sc.Capabilities != nil {
			for _, c := range sc.Capabilities.Add {
				if c == "CAP_SYS_ADMIN" || c == "SYS_ADMIN" {
					allErrs = append(allErrs, field.Invalid(fldPath, "allowPrivilegeEscalation=false, capabilities.add="+string(c), "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"))
				}
			}
		}
	}
	allErrs = append(allErrs, validateSeccompProfile(sc.SeccompProfile, fldPath.Child("seccompProfile"))...)
	allErrs = append(allErrs, validateAppArmorProfile(sc.AppArmorProfile, fldPath.Child("appArmorProfile"))...)
	return allErrs
}

// validateSeccompProfile: localhostProfile is required with, and only
// allowed with, type Localhost.
func validateSeccompProfile(sp *corev1.SeccompProfile, fldPath *field.Path) field.ErrorList {
	if sp == nil {
		return nil
	}
	var allErrs field.ErrorList
	allErrs = append(allErrs, validateEnum(sp.Type, false, fldPath.Child("type"),
		corev1.SeccompProfileTypeLocalhost, corev1.SeccompProfileTypeRuntimeDefault, corev1.SeccompProfileTypeUnconfined)...)
	lp := fldPath.Child("localhostProfile")
	if sp.Type == corev1.SeccompProfileTypeLocalhost {
		if sp.LocalhostProfile == nil {
			allErrs = append(allErrs, field.Required(lp, "must be set when seccomp type is Localhost"))
		} else {
			allErrs = append(allErrs, validateLocalDescendingPath(*sp.LocalhostProfile, lp)...)
		}
	} else if sp.LocalhostProfile != nil {
		allErrs = append(allErrs, field.Invalid(lp, *sp.LocalhostProfile, "can only be set when seccomp type is Localhost"))
	}
	return allErrs
}

// validateAppArmorProfile: localhostProfile is required with, and only
// allowed with, type Localhost.
func validateAppArmorProfile(ap *corev1.AppArmorProfile, fldPath *field.Path) field.ErrorList {
	if ap == nil {
		return nil
	}
	var allErrs field.ErrorList
	allErrs = append(allErrs, validateEnum(ap.Type, false, fldPath.Child("type"),
		corev1.AppArmorProfileTypeLocalhost, corev1.AppArmorProfileTypeRuntimeDefault, corev1.AppArmorProfileTypeUnconfined)...)
	lp := fldPath.Child("localhostProfile")
	if ap.Type == corev1.AppArmorProfileTypeLocalhost {
		if ap.LocalhostProfile == nil || *ap.LocalhostProfile == "" {
			allErrs = append(allErrs, field.Required(lp, "must be set when AppArmor type is Localhost"))
		}
	} else if ap.LocalhostProfile != nil {
		allErrs = append(allErrs, field.Invalid(lp, *ap.LocalhostProfile, "can only be set when AppArmor type is Localhost"))
	}
	return allErrs
}
