package validation

import (
	"fmt"
	"strconv"
	"strings"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
)

// ValidateImagePullJob validates a new ImagePullJob.
func ValidateImagePullJob(job *apps.ImagePullJob) field.ErrorList {
	allErrs := ValidateObjectMeta(&job.ObjectMeta, true, field.NewPath("metadata"))
	allErrs = append(allErrs, validateImagePullJobSpec(&job.Spec, field.NewPath("spec"))...)
	return allErrs
}

// ValidateImagePullJobUpdate validates an update. OpenKruise lets every
// field of the spec change but the pull secrets: the controller has
// already copied them to the nodes.
func ValidateImagePullJobUpdate(job, old *apps.ImagePullJob) field.ErrorList {
	allErrs := ValidateObjectMetaUpdate(&job.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, validateImagePullJobSpec(&job.Spec, field.NewPath("spec"))...)
	if !apiequality.Semantic.DeepEqual(job.Spec.PullSecrets, old.Spec.PullSecrets) {
		allErrs = append(allErrs, field.Forbidden(field.NewPath("spec", "pullSecrets"), "spec.pullSecrets is immutable"))
	}
	return allErrs
}

// ValidateImagePullJobStatusUpdate validates a write to /status.
func ValidateImagePullJobStatusUpdate(job, old *apps.ImagePullJob) field.ErrorList {
	allErrs := ValidateObjectMetaUpdate(&job.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	status := &job.Status
	fldPath := field.NewPath("status")
	allErrs = append(allErrs, ValidateNonnegative(int64(status.Desired), fldPath.Child("desired"))...)
	allErrs = append(allErrs, ValidateNonnegative(int64(status.Active), fldPath.Child("active"))...)
	allErrs = append(allErrs, ValidateNonnegative(int64(status.Succeeded), fldPath.Child("succeeded"))...)
	allErrs = append(allErrs, ValidateNonnegative(int64(status.Failed), fldPath.Child("failed"))...)
	return allErrs
}

func validateImagePullJobSpec(spec *apps.ImagePullJobSpec, fldPath *field.Path) field.ErrorList {
	allErrs := validateImageToPull(spec.Image, fldPath.Child("image"))
	allErrs = append(allErrs, validateImagePullJobTemplate(&spec.ImagePullJobTemplate, true, fldPath)...)
	return allErrs
}

// validateImageToPull requires image to be a reference kruise-daemon can pull.
func validateImageToPull(image string, fldPath *field.Path) field.ErrorList {
	if image == "" {
		return field.ErrorList{field.Required(fldPath, "image can not be empty")}
	}
	if reason := imageReferenceError(image); reason != "" {
		return field.ErrorList{field.Invalid(fldPath, image, fmt.Sprintf("invalid image %s: %s", image, reason))}
	}
	return nil
}

var (
	supportedCompletionPolicyTypes = []apps.CompletionPolicyType{apps.Always, apps.Never}
	supportedImagePullPolicies     = []apps.ImagePullPolicy{apps.PullAlways, apps.PullIfNotPresent}
)

// validateImagePullJobTemplate checks what both job kinds share; its fields
// are inlined in the spec, so fldPath is the spec's path. Only an
// ImagePullJob checks its deadline against the pull timeout (OpenKruise's
// ImageListPullJob webhook does not).
func validateImagePullJobTemplate(template *apps.ImagePullJobTemplate, checkDeadline bool, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for i, name := range template.PullSecrets {
		secretPath := fldPath.Child("pullSecrets").Index(i)
		if name == "" {
			allErrs = append(allErrs, field.Required(secretPath, "secret name can not be empty"))
			continue
		}
		for _, msg := range apimachineryvalidation.NameIsDNSSubdomain(name, false) {
			allErrs = append(allErrs, field.Invalid(secretPath, name, msg))
		}
	}

	if selector := template.Selector; selector != nil {
		selectorPath := fldPath.Child("selector")
		if len(selector.MatchLabels)+len(selector.MatchExpressions) > 0 && len(selector.Names) > 0 {
			allErrs = append(allErrs, field.Forbidden(selectorPath.Child("names"), "can not set both names and labelSelector in this spec.selector"))
		}
		allErrs = append(allErrs, metav1validation.ValidateLabelSelector(&selector.LabelSelector, metav1validation.LabelSelectorValidationOptions{}, selectorPath)...)
		seen := sets.New[string]()
		for i, name := range selector.Names {
			if seen.Has(name) {
				allErrs = append(allErrs, withDetail(field.Duplicate(selectorPath.Child("names").Index(i), name), "duplicated name in selector names"))
			}
			seen.Insert(name)
		}
	}
	if template.PodSelector != nil {
		podSelectorPath := fldPath.Child("podSelector")
		if template.Selector != nil {
			allErrs = append(allErrs, field.Forbidden(podSelectorPath, "can not set both selector and podSelector"))
		}
		allErrs = append(allErrs, metav1validation.ValidateLabelSelector(&template.PodSelector.LabelSelector, metav1validation.LabelSelectorValidationOptions{}, podSelectorPath)...)
	}

	allErrs = append(allErrs, validateParallelism(template.Parallelism, fldPath.Child("parallelism"))...)

	timeoutSeconds := int32(apps.DefaultImagePullTimeoutSeconds)
	if pullPolicy := template.PullPolicy; pullPolicy != nil {
		pullPolicyPath := fldPath.Child("pullPolicy")
		if pullPolicy.TimeoutSeconds != nil {
			timeoutSeconds = *pullPolicy.TimeoutSeconds
			allErrs = append(allErrs, ValidateNonnegative(int64(timeoutSeconds), pullPolicyPath.Child("timeoutSeconds"))...)
		}
		if pullPolicy.BackoffLimit != nil {
			allErrs = append(allErrs, ValidateNonnegative(int64(*pullPolicy.BackoffLimit), pullPolicyPath.Child("backoffLimit"))...)
		}
	}

	allErrs = append(allErrs, validateCompletionPolicy(template.CompletionPolicy, timeoutSeconds, checkDeadline, fldPath.Child("completionPolicy"))...)

	switch template.ImagePullPolicy {
	case "", apps.PullAlways, apps.PullIfNotPresent:
	default:
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("imagePullPolicy"), template.ImagePullPolicy, supportedImagePullPolicies))
	}
	return allErrs
}

// validateParallelism accepts a non-negative integer, also written as a
// string ("5"), but no percentage: the job has no total to take it of.
func validateParallelism(parallelism *intstr.IntOrString, fldPath *field.Path) field.ErrorList {
	if parallelism == nil {
		return nil
	}
	value := int64(parallelism.IntVal)
	if parallelism.Type == intstr.String {
		if strings.HasSuffix(parallelism.StrVal, "%") {
			return field.ErrorList{field.Invalid(fldPath, parallelism.StrVal, "parallelism does not support percentage value")}
		}
		parsed, err := strconv.ParseInt(parallelism.StrVal, 10, 32)
		if err != nil {
			return field.ErrorList{field.Invalid(fldPath, parallelism.StrVal, fmt.Sprintf("parallelism must be a valid integer: %v", err))}
		}
		value = parsed
	}
	if value < 0 {
		return field.ErrorList{field.Invalid(fldPath, parallelism.String(), "parallelism must be non-negative")}
	}
	return nil
}

func validateCompletionPolicy(policy *apps.CompletionPolicy, timeoutSeconds int32, checkDeadline bool, fldPath *field.Path) field.ErrorList {
	if policy == nil {
		return field.ErrorList{field.Required(fldPath, "")}
	}
	var allErrs field.ErrorList
	deadlinePath := fldPath.Child("activeDeadlineSeconds")
	ttlPath := fldPath.Child("ttlSecondsAfterFinished")
	switch policy.Type {
	case apps.Always:
		if policy.ActiveDeadlineSeconds != nil {
			deadline := *policy.ActiveDeadlineSeconds
			if checkDeadline && int64(timeoutSeconds) > deadline {
				allErrs = append(allErrs, field.Invalid(deadlinePath, deadline, "completionPolicy.activeDeadlineSeconds must be greater than pullPolicy.timeoutSeconds(default 600)"))
			} else {
				allErrs = append(allErrs, ValidateNonnegative(deadline, deadlinePath)...)
			}
		}
		if policy.TTLSecondsAfterFinished != nil {
			allErrs = append(allErrs, ValidateNonnegative(int64(*policy.TTLSecondsAfterFinished), ttlPath)...)
		}
	case apps.Never:
		const msg = "activeDeadlineSeconds and ttlSecondsAfterFinished can only work with Always CompletionPolicyType"
		if policy.ActiveDeadlineSeconds != nil {
			allErrs = append(allErrs, field.Forbidden(deadlinePath, msg))
		}
		if policy.TTLSecondsAfterFinished != nil {
			allErrs = append(allErrs, field.Forbidden(ttlPath, msg))
		}
	default:
		allErrs = append(allErrs, withDetail(field.NotSupported(fldPath.Child("type"), policy.Type, supportedCompletionPolicyTypes),
			fmt.Sprintf("unknown type of completionPolicy: %s (supported values: %q, %q)", policy.Type, apps.Always, apps.Never)))
	}
	return allErrs
}

// withDetail replaces the generated detail of err with OpenKruise's message.
func withDetail(err *field.Error, detail string) *field.Error {
	err.Detail = detail
	return err
}
