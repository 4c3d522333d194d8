package validation

import (
	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var supportedAccessModes = []corev1.PersistentVolumeAccessMode{
	corev1.ReadWriteOnce, corev1.ReadOnlyMany, corev1.ReadWriteMany, corev1.ReadWriteOncePod,
}

// ValidatePersistentVolumeClaimTemplates validates a workload's
// volumeClaimTemplates: each needs a unique DNS-subdomain metadata.name and a
// valid claim spec. fldPath is the path of the list, e.g.
// field.NewPath("spec", "volumeClaimTemplates").
func ValidatePersistentVolumeClaimTemplates(templates []corev1.PersistentVolumeClaim, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	names := sets.New[string]()
	for i := range templates {
		t := &templates[i]
		p := fldPath.Index(i)
		mp := p.Child("metadata")
		namePath := mp.Child("name")
		if t.Name == "" {
			allErrs = append(allErrs, field.Required(namePath, ""))
		} else {
			allErrs = append(allErrs, invalidEach(namePath, t.Name, apimachineryvalidation.NameIsDNSSubdomain(t.Name, false))...)
			if names.Has(t.Name) {
				allErrs = append(allErrs, field.Duplicate(namePath, t.Name))
			}
			names.Insert(t.Name)
		}
		allErrs = append(allErrs, metav1validation.ValidateLabels(t.Labels, mp.Child("labels"))...)
		allErrs = append(allErrs, apimachineryvalidation.ValidateAnnotations(t.Annotations, mp.Child("annotations"))...)
		allErrs = append(allErrs, validatePersistentVolumeClaimSpec(&t.Spec, p.Child("spec"))...)
	}
	return allErrs
}

// VolumeClaimTemplateNames returns the names of the templates, for
// PodValidationOptions.ExtraVolumeNames.
func VolumeClaimTemplateNames(templates []corev1.PersistentVolumeClaim) sets.Set[string] {
	names := sets.New[string]()
	for i := range templates {
		if templates[i].Name != "" {
			names.Insert(templates[i].Name)
		}
	}
	return names
}

// validatePersistentVolumeClaimSpec checks a claim spec used as a template:
// access modes, a positive storage request, volume mode, class names and
// data sources.
func validatePersistentVolumeClaimSpec(spec *corev1.PersistentVolumeClaimSpec, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList

	modesPath := fldPath.Child("accessModes")
	if len(spec.AccessModes) == 0 {
		allErrs = append(allErrs, field.Required(modesPath, "at least 1 access mode is required"))
	}
	rwop, other := false, false
	for i, mode := range spec.AccessModes {
		if errs := validateEnum(mode, false, modesPath.Index(i), supportedAccessModes...); len(errs) > 0 {
			allErrs = append(allErrs, errs...)
			continue
		}
		if mode == corev1.ReadWriteOncePod {
			rwop = true
		} else {
			other = true
		}
	}
	if rwop && other {
		allErrs = append(allErrs, field.Forbidden(modesPath, "may not use ReadWriteOncePod with other access modes"))
	}

	if spec.Selector != nil {
		allErrs = append(allErrs, metav1validation.ValidateLabelSelector(spec.Selector, metav1validation.LabelSelectorValidationOptions{}, fldPath.Child("selector"))...)
	}

	// Kubernetes requires the storage request even when the claim is
	// populated from a data source.
	storagePath := fldPath.Child("resources", "requests").Key(string(corev1.ResourceStorage))
	if storage, ok := spec.Resources.Requests[corev1.ResourceStorage]; !ok {
		allErrs = append(allErrs, field.Required(storagePath, ""))
	} else {
		allErrs = append(allErrs, validatePositiveQuantity(storage, storagePath)...)
	}
	for _, name := range sortedResourceNames(spec.Resources.Requests) {
		if name != corev1.ResourceStorage {
			allErrs = append(allErrs, validateNonnegativeQuantity(spec.Resources.Requests[name], fldPath.Child("resources", "requests").Key(string(name)))...)
		}
	}
	for _, name := range sortedResourceNames(spec.Resources.Limits) {
		allErrs = append(allErrs, validateNonnegativeQuantity(spec.Resources.Limits[name], fldPath.Child("resources", "limits").Key(string(name)))...)
	}

	if spec.StorageClassName != nil && *spec.StorageClassName != "" {
		allErrs = append(allErrs, invalidEach(fldPath.Child("storageClassName"), *spec.StorageClassName,
			apimachineryvalidation.NameIsDNSSubdomain(*spec.StorageClassName, false))...)
	}
	if spec.VolumeAttributesClassName != nil && *spec.VolumeAttributesClassName != "" {
		allErrs = append(allErrs, invalidEach(fldPath.Child("volumeAttributesClassName"), *spec.VolumeAttributesClassName,
			apimachineryvalidation.NameIsDNSSubdomain(*spec.VolumeAttributesClassName, false))...)
	}
	if spec.VolumeMode != nil {
		allErrs = append(allErrs, validateEnum(*spec.VolumeMode, true, fldPath.Child("volumeMode"),
			corev1.PersistentVolumeBlock, corev1.PersistentVolumeFilesystem)...)
	}
	if spec.VolumeName != "" {
		allErrs = append(allErrs, invalidEach(fldPath.Child("volumeName"), spec.VolumeName,
			apimachineryvalidation.NameIsDNSSubdomain(spec.VolumeName, false))...)
	}

	if ds := spec.DataSource; ds != nil {
		allErrs = append(allErrs, validateDataSource(ds.APIGroup, ds.Kind, ds.Name, fldPath.Child("dataSource"))...)
	}
	if ref := spec.DataSourceRef; ref != nil {
		allErrs = append(allErrs, validateDataSource(ref.APIGroup, ref.Kind, ref.Name, fldPath.Child("dataSourceRef"))...)
		if ref.Namespace != nil && *ref.Namespace != "" {
			allErrs = append(allErrs, invalidEach(fldPath.Child("dataSourceRef", "namespace"), *ref.Namespace,
				apimachineryvalidation.ValidateNamespaceName(*ref.Namespace, false))...)
			if spec.DataSource != nil {
				allErrs = append(allErrs, field.Invalid(fldPath.Child("dataSource"), spec.DataSource.Name, "may not be specified when dataSourceRef.namespace is specified"))
			}
		} else if ds := spec.DataSource; ds != nil && !sameDataSource(ds, ref) {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("dataSource"), ds.Name, "must match dataSourceRef"))
		}
	}
	return allErrs
}

// validateDataSource: kind and name are required; the core group only offers
// PersistentVolumeClaim as a source.
func validateDataSource(apiGroup *string, kind, name string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if name == "" {
		allErrs = append(allErrs, field.Required(fldPath.Child("name"), ""))
	}
	if kind == "" {
		allErrs = append(allErrs, field.Required(fldPath.Child("kind"), ""))
	}
	group := ""
	if apiGroup != nil {
		group = *apiGroup
	}
	if group != "" {
		allErrs = append(allErrs, validateDNS1123Subdomain(group, fldPath.Child("apiGroup"))...)
	} else if kind != "" && kind != "PersistentVolumeClaim" {
		allErrs = append(allErrs, field.NotSupported(fldPath, kind, []string{"PersistentVolumeClaim"}))
	}
	return allErrs
}

func sameDataSource(ds *corev1.TypedLocalObjectReference, ref *corev1.TypedObjectReference) bool {
	g1, g2 := "", ""
	if ds.APIGroup != nil {
		g1 = *ds.APIGroup
	}
	if ref.APIGroup != nil {
		g2 = *ref.APIGroup
	}
	return g1 == g2 && ds.Kind == ref.Kind && ds.Name == ref.Name
}
