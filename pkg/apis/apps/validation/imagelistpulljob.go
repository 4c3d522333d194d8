package validation

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
)

// MaxImageListPullJobImages is the most images one ImageListPullJob may pull.
const MaxImageListPullJobImages = 255

// ValidateImageListPullJob validates a new ImageListPullJob.
func ValidateImageListPullJob(job *apps.ImageListPullJob) field.ErrorList {
	allErrs := ValidateObjectMeta(&job.ObjectMeta, true, field.NewPath("metadata"))
	allErrs = append(allErrs, validateImageListPullJobSpec(&job.Spec, field.NewPath("spec"))...)
	return allErrs
}

// ValidateImageListPullJobUpdate validates an update; OpenKruise lets the
// whole spec change.
func ValidateImageListPullJobUpdate(job, old *apps.ImageListPullJob) field.ErrorList {
	allErrs := ValidateObjectMetaUpdate(&job.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, validateImageListPullJobSpec(&job.Spec, field.NewPath("spec"))...)
	return allErrs
}

// ValidateImageListPullJobStatusUpdate validates a write to /status.
func ValidateImageListPullJobStatusUpdate(job, old *apps.ImageListPullJob) field.ErrorList {
	allErrs := ValidateObjectMetaUpdate(&job.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	status := &job.Status
	fldPath := field.NewPath("status")
	allErrs = append(allErrs, ValidateNonnegative(int64(status.Desired), fldPath.Child("desired"))...)
	allErrs = append(allErrs, ValidateNonnegative(int64(status.Active), fldPath.Child("active"))...)
	allErrs = append(allErrs, ValidateNonnegative(int64(status.Completed), fldPath.Child("completed"))...)
	allErrs = append(allErrs, ValidateNonnegative(int64(status.Succeeded), fldPath.Child("succeeded"))...)
	return allErrs
}

func validateImageListPullJobSpec(spec *apps.ImageListPullJobSpec, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	imagesPath := fldPath.Child("images")
	switch n := len(spec.Images); {
	case n == 0:
		allErrs = append(allErrs, field.Required(imagesPath, "image can not be empty"))
	case n > MaxImageListPullJobImages:
		allErrs = append(allErrs, withDetail(field.TooMany(imagesPath, n, MaxImageListPullJobImages),
			fmt.Sprintf("the maximum number of images cannot > %d", MaxImageListPullJobImages)))
	}
	seen := sets.New[string]()
	for i, image := range spec.Images {
		if seen.Has(image) {
			allErrs = append(allErrs, withDetail(field.Duplicate(imagesPath.Index(i), image), "images cannot have duplicate values"))
			continue
		}
		seen.Insert(image)
		allErrs = append(allErrs, validateImageToPull(image, imagesPath.Index(i))...)
	}
	allErrs = append(allErrs, validateImagePullJobTemplate(&spec.ImagePullJobTemplate, false, fldPath)...)
	return allErrs
}
