package validation

import (
	"fmt"
	"sort"

	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
)

// MaxNodeImageImages is the most images one NodeImage may list.
const MaxNodeImageImages = 256

// ValidateNodeImage validates a new NodeImage.
func ValidateNodeImage(ni *apps.NodeImage) field.ErrorList {
	allErrs := ValidateObjectMeta(&ni.ObjectMeta, false, field.NewPath("metadata"))
	allErrs = append(allErrs, validateNodeImageSpec(&ni.Spec, field.NewPath("spec"))...)
	return allErrs
}

// ValidateNodeImageUpdate validates an update; the whole spec may change.
func ValidateNodeImageUpdate(ni, old *apps.NodeImage) field.ErrorList {
	allErrs := ValidateObjectMetaUpdate(&ni.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, validateNodeImageSpec(&ni.Spec, field.NewPath("spec"))...)
	return allErrs
}

// ValidateNodeImageStatusUpdate validates a write to /status.
func ValidateNodeImageStatusUpdate(ni, old *apps.NodeImage) field.ErrorList {
	allErrs := ValidateObjectMetaUpdate(&ni.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	status := &ni.Status
	fldPath := field.NewPath("status")
	allErrs = append(allErrs, ValidateNonnegative(int64(status.Desired), fldPath.Child("desired"))...)
	allErrs = append(allErrs, ValidateNonnegative(int64(status.Succeeded), fldPath.Child("succeeded"))...)
	allErrs = append(allErrs, ValidateNonnegative(int64(status.Failed), fldPath.Child("failed"))...)
	allErrs = append(allErrs, ValidateNonnegative(int64(status.Pulling), fldPath.Child("pulling"))...)
	allErrs = append(allErrs, ValidateNonnegative(int64(status.Waiting), fldPath.Child("waiting"))...)
	return allErrs
}

func validateNodeImageSpec(spec *apps.NodeImageSpec, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	imagesPath := fldPath.Child("images")
	if n := len(spec.Images); n > MaxNodeImageImages {
		allErrs = append(allErrs, withDetail(field.TooMany(imagesPath, n, MaxNodeImageImages),
			fmt.Sprintf("spec images length %v can not be more than %v", n, MaxNodeImageImages)))
	}
	// Sorted, so that the errors come in the same order every time.
	names := make([]string, 0, len(spec.Images))
	for name := range spec.Images {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		image := spec.Images[name]
		imagePath := imagesPath.Key(name)
		if name == "" {
			allErrs = append(allErrs, field.Required(imagePath, "image name can not be empty"))
		}
		for i, secret := range image.PullSecrets {
			allErrs = append(allErrs, validatePullSecretReference(secret, imagePath.Child("pullSecrets").Index(i))...)
		}
		allErrs = append(allErrs, validateImageTags(name, image.Tags, imagePath.Child("tags"))...)
	}
	return allErrs
}

// validatePullSecretReference checks the Secret a node pulls with.
func validatePullSecretReference(secret apps.ReferenceObject, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if secret.Name == "" {
		allErrs = append(allErrs, field.Required(fldPath.Child("name"), ""))
	} else {
		for _, msg := range apimachineryvalidation.NameIsDNSSubdomain(secret.Name, false) {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("name"), secret.Name, msg))
		}
	}
	if secret.Namespace != "" {
		for _, msg := range apimachineryvalidation.ValidateNamespaceName(secret.Namespace, false) {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("namespace"), secret.Namespace, msg))
		}
	}
	return allErrs
}

func validateImageTags(image string, tags []apps.ImageTagSpec, fldPath *field.Path) field.ErrorList {
	// OpenKruise's CRD requires the list, though it may be empty.
	if tags == nil {
		return field.ErrorList{field.Required(fldPath, "")}
	}
	var allErrs field.ErrorList
	seen := sets.New[string]()
	for i := range tags {
		tag := &tags[i]
		tagPath := fldPath.Index(i)
		if tag.Tag == "" {
			allErrs = append(allErrs, field.Required(tagPath.Child("tag"), fmt.Sprintf("tag for image %s can not be empty", image)))
		} else if seen.Has(tag.Tag) {
			allErrs = append(allErrs, withDetail(field.Duplicate(tagPath.Child("tag"), tag.Tag), fmt.Sprintf("duplicated tag %s for image %s", tag.Tag, image)))
		}
		seen.Insert(tag.Tag)

		fullName := image + "/" + tag.Tag
		if tag.CreatedAt == nil {
			allErrs = append(allErrs, field.Required(tagPath.Child("createdAt"), fmt.Sprintf("createAt field for %s can not be empty", fullName)))
		}
		if tag.Version < 0 {
			allErrs = append(allErrs, field.Invalid(tagPath.Child("version"), tag.Version, fmt.Sprintf("version for %s can not be less than 0", fullName)))
		}
		allErrs = append(allErrs, validateImageTagPullPolicy(tag.PullPolicy, fullName, tagPath.Child("pullPolicy"))...)
		switch tag.ImagePullPolicy {
		case "", apps.PullAlways, apps.PullIfNotPresent:
		default:
			allErrs = append(allErrs, field.NotSupported(tagPath.Child("imagePullPolicy"), tag.ImagePullPolicy, supportedImagePullPolicies))
		}
	}
	return allErrs
}

func validateImageTagPullPolicy(policy *apps.ImageTagPullPolicy, fullName string, fldPath *field.Path) field.ErrorList {
	if policy == nil {
		return field.ErrorList{field.Required(fldPath, fmt.Sprintf("pullPolicy field for %s must set", fullName))}
	}
	var allErrs field.ErrorList
	if policy.TTLSecondsAfterFinished == nil {
		allErrs = append(allErrs, field.Required(fldPath.Child("ttlSecondsAfterFinished"), fmt.Sprintf("pullPolicy.ttlSecondsAfterFinished for %s must set", fullName)))
	} else {
		allErrs = append(allErrs, ValidateNonnegative(int64(*policy.TTLSecondsAfterFinished), fldPath.Child("ttlSecondsAfterFinished"))...)
	}
	if policy.TimeoutSeconds != nil {
		allErrs = append(allErrs, ValidateNonnegative(int64(*policy.TimeoutSeconds), fldPath.Child("timeoutSeconds"))...)
	}
	if policy.BackoffLimit != nil {
		allErrs = append(allErrs, ValidateNonnegative(int64(*policy.BackoffLimit), fldPath.Child("backoffLimit"))...)
	}
	if policy.ActiveDeadlineSeconds != nil {
		allErrs = append(allErrs, ValidateNonnegative(*policy.ActiveDeadlineSeconds, fldPath.Child("activeDeadlineSeconds"))...)
	}
	return allErrs
}
