package validation

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Downward API fields a container may read into an environment variable.
var envFieldPaths = sets.New(
	"metadata.name",
	"metadata.namespace",
	"metadata.uid",
	"spec.nodeName",
	"spec.serviceAccountName",
	"status.hostIP",
	"status.hostIPs",
	"status.podIP",
	"status.podIPs",
)

// Downward API fields a downwardAPI volume may project into a file.
var volumeFieldPaths = sets.New(
	"metadata.name",
	"metadata.namespace",
	"metadata.labels",
	"metadata.annotations",
	"metadata.uid",
)

// Container resources the downward API exposes (plus hugepages-<size>).
var resourceFieldResources = sets.New(
	"limits.cpu",
	"limits.memory",
	"limits.ephemeral-storage",
	"requests.cpu",
	"requests.memory",
	"requests.ephemeral-storage",
)

var resourceFieldHugePagesPrefixes = []string{"requests.hugepages-", "limits.hugepages-"}

var (
	cpuDivisors    = sets.New("1m", "1")
	memoryDivisors = sets.New("1", "1k", "1M", "1G", "1T", "1P", "1E", "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei")
)

// validateEnvVarName uses the relaxed rule Kubernetes applies since the
// RelaxedEnvironmentVariableValidation feature went GA: any printable ASCII
// character except '='.
func validateEnvVarName(name string, fldPath *field.Path) field.ErrorList {
	return invalidEach(fldPath, name, utilvalidation.IsRelaxedEnvVarName(name))
}

func validateEnv(vars []corev1.EnvVar, fldPath *field.Path, ctx *containerContext) field.ErrorList {
	var allErrs field.ErrorList
	for i, ev := range vars {
		p := fldPath.Index(i)
		if ev.Name == "" {
			allErrs = append(allErrs, field.Required(p.Child("name"), ""))
		} else {
			allErrs = append(allErrs, validateEnvVarName(ev.Name, p.Child("name"))...)
		}
		allErrs = append(allErrs, validateEnvVarValueFrom(ev, p.Child("valueFrom"), ctx)...)
	}
	return allErrs
}

// validateEnvVarValueFrom requires exactly one source in valueFrom, and no
// value next to it.
func validateEnvVarValueFrom(ev corev1.EnvVar, fldPath *field.Path, ctx *containerContext) field.ErrorList {
	if ev.ValueFrom == nil {
		return nil
	}
	var allErrs field.ErrorList
	src := ev.ValueFrom
	n := 0
	if src.FieldRef != nil {
		n++
		allErrs = append(allErrs, validateObjectFieldSelector(src.FieldRef, envFieldPaths, fldPath.Child("fieldRef"))...)
	}
	if src.ResourceFieldRef != nil {
		n++
		allErrs = append(allErrs, validateResourceFieldSelector(src.ResourceFieldRef, false, fldPath.Child("resourceFieldRef"))...)
	}
	if src.ConfigMapKeyRef != nil {
		n++
		allErrs = append(allErrs, validateKeySelector(src.ConfigMapKeyRef.Name, src.ConfigMapKeyRef.Key, fldPath.Child("configMapKeyRef"))...)
	}
	if src.SecretKeyRef != nil {
		n++
		allErrs = append(allErrs, validateKeySelector(src.SecretKeyRef.Name, src.SecretKeyRef.Key, fldPath.Child("secretKeyRef"))...)
	}
	if src.FileKeyRef != nil {
		n++
		allErrs = append(allErrs, validateFileKeySelector(src.FileKeyRef, fldPath.Child("fileKeyRef"), ctx)...)
	}
	switch {
	case n == 0:
		allErrs = append(allErrs, field.Invalid(fldPath, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef`, `secretKeyRef` or `fileKeyRef`"))
	case ev.Value != "":
		allErrs = append(allErrs, field.Invalid(fldPath, "", "may not be specified when `value` is not empty"))
	case n > 1:
		allErrs = append(allErrs, field.Invalid(fldPath, "", "may not have more than one field specified at a time"))
	}
	return allErrs
}

// validateObjectFieldSelector checks a downward API fieldRef against the
// supported paths; labels and annotations may be subscripted
// (metadata.labels['key']). apiVersion may be empty (defaulted to v1).
func validateObjectFieldSelector(fs *corev1.ObjectFieldSelector, supported sets.Set[string], fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if fs.APIVersion != "" && fs.APIVersion != "v1" {
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("apiVersion"), fs.APIVersion, []string{"v1"}))
	}
	if fs.FieldPath == "" {
		return append(allErrs, field.Required(fldPath.Child("fieldPath"), ""))
	}
	if p, subscript, ok := splitSubscriptedPath(fs.FieldPath); ok {
		switch p {
		case "metadata.annotations":
			allErrs = append(allErrs, validateQualifiedName(strings.ToLower(subscript), fldPath.Child("fieldPath"))...)
		case "metadata.labels":
			allErrs = append(allErrs, validateQualifiedName(subscript, fldPath.Child("fieldPath"))...)
		default:
			allErrs = append(allErrs, field.Invalid(fldPath.Child("fieldPath"), fs.FieldPath, "does not support subscript"))
		}
		return allErrs
	}
	if !supported.Has(fs.FieldPath) {
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("fieldPath"), fs.FieldPath, sets.List(supported)))
	}
	return allErrs
}

// validateResourceFieldSelector checks a downward API resourceFieldRef;
// volumes must name the container, env vars default to their own.
func validateResourceFieldSelector(fs *corev1.ResourceFieldSelector, volume bool, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if volume && fs.ContainerName == "" {
		allErrs = append(allErrs, field.Required(fldPath.Child("containerName"), ""))
	}
	if fs.Resource == "" {
		return append(allErrs, field.Required(fldPath.Child("resource"), ""))
	}
	hugePages := false
	for _, prefix := range resourceFieldHugePagesPrefixes {
		if strings.HasPrefix(fs.Resource, prefix) {
			hugePages = true
		}
	}
	if !hugePages && !resourceFieldResources.Has(fs.Resource) {
		return append(allErrs, field.NotSupported(fldPath.Child("resource"), fs.Resource, sets.List(resourceFieldResources)))
	}
	if fs.Divisor.IsZero() {
		return allErrs
	}
	divisor := fs.Divisor.String()
	switch {
	case strings.HasSuffix(fs.Resource, ".cpu"):
		if !cpuDivisors.Has(divisor) {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("divisor"), divisor, "only divisor's values 1m and 1 are supported with the cpu resource"))
		}
	default: // memory, ephemeral-storage, hugepages
		if !memoryDivisors.Has(divisor) {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("divisor"), divisor,
				"only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the "+resourceKind(fs.Resource)+" resource"))
		}
	}
	return allErrs
}

func resourceKind(r string) string {
	switch {
	case strings.HasSuffix(r, ".memory"):
		return "memory"
	case strings.HasSuffix(r, ".ephemeral-storage"):
		return "local ephemeral storage"
	default:
		return "hugepages"
	}
}

// validateKeySelector checks a configMapKeyRef or secretKeyRef.
func validateKeySelector(name, key string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	allErrs = append(allErrs, validateObjectName(name, apimachineryvalidation.NameIsDNSSubdomain, fldPath.Child("name"))...)
	if key == "" {
		allErrs = append(allErrs, field.Required(fldPath.Child("key"), ""))
	} else {
		allErrs = append(allErrs, invalidEach(fldPath.Child("key"), key, utilvalidation.IsConfigMapKey(key))...)
	}
	return allErrs
}

// validateFileKeySelector checks an env var read from a file in an emptyDir
// volume of the pod.
func validateFileKeySelector(s *corev1.FileKeySelector, fldPath *field.Path, ctx *containerContext) field.ErrorList {
	var allErrs field.ErrorList
	if s.VolumeName == "" {
		allErrs = append(allErrs, field.Required(fldPath.Child("volumeName"), ""))
	} else if vol, ok := ctx.volumes[s.VolumeName]; !ok {
		allErrs = append(allErrs, field.NotFound(fldPath.Child("volumeName"), s.VolumeName))
	} else if vol.EmptyDir == nil {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("volumeName"), s.VolumeName, "must refer to an emptyDir volume"))
	}
	if s.Path == "" {
		allErrs = append(allErrs, field.Required(fldPath.Child("path"), ""))
	} else {
		allErrs = append(allErrs, validateLocalDescendingPath(s.Path, fldPath.Child("path"))...)
	}
	if s.Key == "" {
		allErrs = append(allErrs, field.Required(fldPath.Child("key"), ""))
	} else {
		allErrs = append(allErrs, validateEnvVarName(s.Key, fldPath.Child("key"))...)
	}
	return allErrs
}

// validateEnvFrom requires exactly one of configMapRef and secretRef per
// entry, with a name, and a valid prefix.
func validateEnvFrom(sources []corev1.EnvFromSource, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for i, ev := range sources {
		p := fldPath.Index(i)
		if ev.Prefix != "" {
			allErrs = append(allErrs, validateEnvVarName(ev.Prefix, p.Child("prefix"))...)
		}
		n := 0
		if ev.ConfigMapRef != nil {
			n++
			allErrs = append(allErrs, validateEnvFromName(ev.ConfigMapRef.Name, p.Child("configMapRef", "name"))...)
		}
		if ev.SecretRef != nil {
			n++
			allErrs = append(allErrs, validateEnvFromName(ev.SecretRef.Name, p.Child("secretRef", "name"))...)
		}
		switch {
		case n == 0:
			allErrs = append(allErrs, field.Invalid(p, "", "must specify one of: `configMapRef` or `secretRef`"))
		case n > 1:
			allErrs = append(allErrs, field.Invalid(p, "", "may not have more than one field specified at a time"))
		}
	}
	return allErrs
}

func validateEnvFromName(name string, fldPath *field.Path) field.ErrorList {
	if name == "" {
		return field.ErrorList{field.Required(fldPath, "")}
	}
	return invalidEach(fldPath, name, apimachineryvalidation.NameIsDNSSubdomain(name, true))
}
