package validation

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/kruise-apiserver/kruise-apiserver/internal/sharedsamples"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
)

// imagePullErr is the type and path of one expected error. (The helpers of
// these tests carry an image-pull prefix so that they do not clash with
// other kinds' test helpers in this package.)
type imagePullErr struct {
	Type  field.ErrorType
	Field string
}

func (e imagePullErr) String() string { return fmt.Sprintf("%s %s", e.Type, e.Field) }

// checkImagePullErrors asserts that errs are exactly want, in any order.
func checkImagePullErrors(t *testing.T, errs field.ErrorList, want ...imagePullErr) {
	t.Helper()
	got := make([]string, 0, len(errs))
	for _, e := range errs {
		got = append(got, imagePullErr{e.Type, e.Field}.String())
	}
	exp := make([]string, 0, len(want))
	for _, w := range want {
		exp = append(exp, w.String())
	}
	sort.Strings(got)
	sort.Strings(exp)
	if strings.Join(got, "\n") != strings.Join(exp, "\n") {
		var full strings.Builder
		for _, e := range errs {
			fmt.Fprintf(&full, "  %s\n", e.Error())
		}
		t.Errorf("errors mismatch\n got: %v\nwant: %v\nfull errors:\n%s", got, exp, full.String())
	}
}

// checkImagePullDetail asserts that the only error carries OpenKruise's message.
func checkImagePullDetail(t *testing.T, errs field.ErrorList, detail string) {
	t.Helper()
	if detail == "" {
		return
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Detail, detail) {
		t.Errorf("want one error saying %q, got %v", detail, errs)
	}
}

func ipRequired(f string) imagePullErr     { return imagePullErr{field.ErrorTypeRequired, f} }
func ipInvalid(f string) imagePullErr      { return imagePullErr{field.ErrorTypeInvalid, f} }
func ipForbidden(f string) imagePullErr    { return imagePullErr{field.ErrorTypeForbidden, f} }
func ipDuplicate(f string) imagePullErr    { return imagePullErr{field.ErrorTypeDuplicate, f} }
func ipNotSupported(f string) imagePullErr { return imagePullErr{field.ErrorTypeNotSupported, f} }
func ipTooMany(f string) imagePullErr      { return imagePullErr{field.ErrorTypeTooMany, f} }

// validImagePullJob is a job as it looks after defaulting.
func validImagePullJob() *apps.ImagePullJob {
	return &apps.ImagePullJob{
		ObjectMeta: metav1.ObjectMeta{Name: "prewarm", Namespace: "default", ResourceVersion: "1"},
		Spec: apps.ImagePullJobSpec{
			Image:                "nginx:1.25.4",
			ImagePullJobTemplate: validImagePullJobTemplate(),
		},
	}
}

func validImagePullJobTemplate() apps.ImagePullJobTemplate {
	return apps.ImagePullJobTemplate{
		PullSecrets: []string{"dockerhub-credentials"},
		Selector: &apps.ImagePullJobNodeSelector{
			LabelSelector: metav1.LabelSelector{MatchLabels: map[string]string{"node-pool": "general"}},
		},
		Parallelism: ptr.To(intstr.FromInt32(5)),
		PullPolicy: &apps.PullPolicy{
			TimeoutSeconds: ptr.To[int32](apps.DefaultImagePullTimeoutSeconds),
			BackoffLimit:   ptr.To[int32](apps.DefaultImagePullBackoffLimit),
		},
		CompletionPolicy: &apps.CompletionPolicy{
			Type:                    apps.Always,
			ActiveDeadlineSeconds:   ptr.To[int64](1200),
			TTLSecondsAfterFinished: ptr.To[int32](300),
		},
		ImagePullPolicy: apps.PullIfNotPresent,
	}
}

// templateCases are the rules of the template both job kinds share; paths
// are under spec since the template is inlined.
var templateCases = []struct {
	name   string
	tweak  func(t *apps.ImagePullJobTemplate)
	want   []imagePullErr
	detail string
}{
	{name: "valid"},
	{
		name:  "empty pull secret name",
		tweak: func(t *apps.ImagePullJobTemplate) { t.PullSecrets = []string{""} },
		want:  []imagePullErr{ipRequired("spec.pullSecrets[0]")},
	},
	{
		name:  "invalid pull secret name",
		tweak: func(t *apps.ImagePullJobTemplate) { t.PullSecrets = []string{"Not_A_Name"} },
		want:  []imagePullErr{ipInvalid("spec.pullSecrets[0]")},
	},
	{
		name: "names and label selector together",
		tweak: func(t *apps.ImagePullJobTemplate) {
			t.Selector.Names = []string{"node-1"}
		},
		want:   []imagePullErr{ipForbidden("spec.selector.names")},
		detail: "can not set both names and labelSelector in this spec.selector",
	},
	{
		name: "duplicated node name",
		tweak: func(t *apps.ImagePullJobTemplate) {
			t.Selector = &apps.ImagePullJobNodeSelector{Names: []string{"node-1", "node-2", "node-1"}}
		},
		want:   []imagePullErr{ipDuplicate("spec.selector.names[2]")},
		detail: "duplicated name in selector names",
	},
	{
		name: "invalid node label selector",
		tweak: func(t *apps.ImagePullJobTemplate) {
			t.Selector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "pool", Operator: "Near"}}
		},
		want: []imagePullErr{ipInvalid("spec.selector.matchExpressions[0].operator")},
	},
	{
		name: "selector and podSelector together",
		tweak: func(t *apps.ImagePullJobTemplate) {
			t.PodSelector = &apps.ImagePullJobPodSelector{LabelSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}
		},
		want:   []imagePullErr{ipForbidden("spec.podSelector")},
		detail: "can not set both selector and podSelector",
	},
	{
		name: "invalid pod selector",
		tweak: func(t *apps.ImagePullJobTemplate) {
			t.Selector = nil
			t.PodSelector = &apps.ImagePullJobPodSelector{LabelSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "not valid"}}}
		},
		want: []imagePullErr{ipInvalid("spec.podSelector.matchLabels")},
	},
	{
		name:  "parallelism as a numeric string",
		tweak: func(t *apps.ImagePullJobTemplate) { t.Parallelism = ptr.To(intstr.FromString("3")) },
	},
	{
		name:   "parallelism as a percentage",
		tweak:  func(t *apps.ImagePullJobTemplate) { t.Parallelism = ptr.To(intstr.FromString("50%")) },
		want:   []imagePullErr{ipInvalid("spec.parallelism")},
		detail: "parallelism does not support percentage value",
	},
	{
		name:   "parallelism not a number",
		tweak:  func(t *apps.ImagePullJobTemplate) { t.Parallelism = ptr.To(intstr.FromString("many")) },
		want:   []imagePullErr{ipInvalid("spec.parallelism")},
		detail: "parallelism must be a valid integer",
	},
	{
		name:   "negative parallelism",
		tweak:  func(t *apps.ImagePullJobTemplate) { t.Parallelism = ptr.To(intstr.FromInt32(-1)) },
		want:   []imagePullErr{ipInvalid("spec.parallelism")},
		detail: "parallelism must be non-negative",
	},
	{
		name:   "negative parallelism string",
		tweak:  func(t *apps.ImagePullJobTemplate) { t.Parallelism = ptr.To(intstr.FromString("-2")) },
		want:   []imagePullErr{ipInvalid("spec.parallelism")},
		detail: "parallelism must be non-negative",
	},
	{
		name:  "negative backoff limit",
		tweak: func(t *apps.ImagePullJobTemplate) { t.PullPolicy.BackoffLimit = ptr.To[int32](-1) },
		want:  []imagePullErr{ipInvalid("spec.pullPolicy.backoffLimit")},
	},
	{
		name:  "missing completion policy",
		tweak: func(t *apps.ImagePullJobTemplate) { t.CompletionPolicy = nil },
		want:  []imagePullErr{ipRequired("spec.completionPolicy")},
	},
	{
		name: "deadline with Never",
		tweak: func(t *apps.ImagePullJobTemplate) {
			t.CompletionPolicy = &apps.CompletionPolicy{Type: apps.Never, ActiveDeadlineSeconds: ptr.To[int64](3600)}
		},
		want:   []imagePullErr{ipForbidden("spec.completionPolicy.activeDeadlineSeconds")},
		detail: "activeDeadlineSeconds and ttlSecondsAfterFinished can only work with Always CompletionPolicyType",
	},
	{
		name: "ttl with Never",
		tweak: func(t *apps.ImagePullJobTemplate) {
			t.CompletionPolicy = &apps.CompletionPolicy{Type: apps.Never, TTLSecondsAfterFinished: ptr.To[int32](60)}
		},
		want:   []imagePullErr{ipForbidden("spec.completionPolicy.ttlSecondsAfterFinished")},
		detail: "activeDeadlineSeconds and ttlSecondsAfterFinished can only work with Always CompletionPolicyType",
	},
	{
		name:   "unknown completion policy type",
		tweak:  func(t *apps.ImagePullJobTemplate) { t.CompletionPolicy.Type = "Sometimes" },
		want:   []imagePullErr{ipNotSupported("spec.completionPolicy.type")},
		detail: "unknown type of completionPolicy: Sometimes",
	},
	{
		name:  "negative ttl",
		tweak: func(t *apps.ImagePullJobTemplate) { t.CompletionPolicy.TTLSecondsAfterFinished = ptr.To[int32](-1) },
		want:  []imagePullErr{ipInvalid("spec.completionPolicy.ttlSecondsAfterFinished")},
	},
	{
		name:  "unknown image pull policy",
		tweak: func(t *apps.ImagePullJobTemplate) { t.ImagePullPolicy = "Never" },
		want:  []imagePullErr{ipNotSupported("spec.imagePullPolicy")},
	},
}

func TestValidateImagePullJob(t *testing.T) {
	for _, tc := range templateCases {
		t.Run(tc.name, func(t *testing.T) {
			job := validImagePullJob()
			if tc.tweak != nil {
				tc.tweak(&job.Spec.ImagePullJobTemplate)
			}
			errs := ValidateImagePullJob(job)
			checkImagePullErrors(t, errs, tc.want...)
			checkImagePullDetail(t, errs, tc.detail)
		})
	}

	for _, tc := range []struct {
		name   string
		tweak  func(job *apps.ImagePullJob)
		want   []imagePullErr
		detail string
	}{
		{
			name:   "empty image",
			tweak:  func(job *apps.ImagePullJob) { job.Spec.Image = "" },
			want:   []imagePullErr{ipRequired("spec.image")},
			detail: "image can not be empty",
		},
		{
			name:   "unparsable image",
			tweak:  func(job *apps.ImagePullJob) { job.Spec.Image = "Nginx:latest" },
			want:   []imagePullErr{ipInvalid("spec.image")},
			detail: "invalid image Nginx:latest: invalid reference format: repository name (library/Nginx) must be lowercase",
		},
		{
			name: "deadline shorter than the default pull timeout",
			tweak: func(job *apps.ImagePullJob) {
				job.Spec.PullPolicy = nil
				job.Spec.CompletionPolicy.ActiveDeadlineSeconds = ptr.To[int64](599)
			},
			want:   []imagePullErr{ipInvalid("spec.completionPolicy.activeDeadlineSeconds")},
			detail: "completionPolicy.activeDeadlineSeconds must be greater than pullPolicy.timeoutSeconds(default 600)",
		},
		{
			name: "deadline shorter than the pull timeout",
			tweak: func(job *apps.ImagePullJob) {
				job.Spec.PullPolicy.TimeoutSeconds = ptr.To[int32](1800)
				job.Spec.CompletionPolicy.ActiveDeadlineSeconds = ptr.To[int64](1200)
			},
			want: []imagePullErr{ipInvalid("spec.completionPolicy.activeDeadlineSeconds")},
		},
		{
			name: "deadline equal to the pull timeout",
			tweak: func(job *apps.ImagePullJob) {
				job.Spec.CompletionPolicy.ActiveDeadlineSeconds = ptr.To[int64](apps.DefaultImagePullTimeoutSeconds)
			},
		},
		{
			name:  "namespace required",
			tweak: func(job *apps.ImagePullJob) { job.Namespace = "" },
			want:  []imagePullErr{ipRequired("metadata.namespace")},
		},
		{
			name: "stash annotation left on the hub",
			tweak: func(job *apps.ImagePullJob) {
				job.Annotations = map[string]string{"apiserver.kruise.io/v1beta1-fields": "{}"}
			},
			want: []imagePullErr{ipInvalid("metadata.annotations[apiserver.kruise.io/v1beta1-fields]")},
		},
		{
			name: "invalid deletion protection label",
			tweak: func(job *apps.ImagePullJob) {
				job.Labels = map[string]string{"policy.kruise.io/delete-protection": "Sometimes"}
			},
			want: []imagePullErr{ipNotSupported("metadata.labels[policy.kruise.io/delete-protection]")},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			job := validImagePullJob()
			tc.tweak(job)
			errs := ValidateImagePullJob(job)
			checkImagePullErrors(t, errs, tc.want...)
			checkImagePullDetail(t, errs, tc.detail)
		})
	}
}

func TestValidateImagePullJobUpdate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		tweak func(job *apps.ImagePullJob)
		want  []imagePullErr
	}{
		{name: "unchanged", tweak: func(*apps.ImagePullJob) {}},
		{
			name: "image, selector and policies may change",
			tweak: func(job *apps.ImagePullJob) {
				job.Spec.Image = "nginx:1.26.0"
				job.Spec.Selector = &apps.ImagePullJobNodeSelector{Names: []string{"node-1"}}
				job.Spec.Parallelism = ptr.To(intstr.FromInt32(1))
				job.Spec.CompletionPolicy = &apps.CompletionPolicy{Type: apps.Never}
				job.Spec.ImagePullPolicy = apps.PullAlways
			},
		},
		{
			name:  "pull secrets are immutable",
			tweak: func(job *apps.ImagePullJob) { job.Spec.PullSecrets = append(job.Spec.PullSecrets, "another") },
			want:  []imagePullErr{ipForbidden("spec.pullSecrets")},
		},
		{
			name:  "the updated spec must be valid",
			tweak: func(job *apps.ImagePullJob) { job.Spec.Image = "" },
			want:  []imagePullErr{ipRequired("spec.image")},
		},
		{
			name:  "name is immutable",
			tweak: func(job *apps.ImagePullJob) { job.Name = "other" },
			want:  []imagePullErr{ipInvalid("metadata.name")},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old := validImagePullJob()
			job := validImagePullJob()
			tc.tweak(job)
			checkImagePullErrors(t, ValidateImagePullJobUpdate(job, old), tc.want...)
		})
	}

	// A pull secret list emptied by storage (nil) is the same as an empty one.
	old := validImagePullJob()
	old.Spec.PullSecrets = []string{}
	job := validImagePullJob()
	job.Spec.PullSecrets = nil
	checkImagePullErrors(t, ValidateImagePullJobUpdate(job, old))
}

func TestValidateImagePullJobStatusUpdate(t *testing.T) {
	old := validImagePullJob()
	job := validImagePullJob()
	job.Status = apps.ImagePullJobStatus{Desired: 3, Active: 1, Succeeded: 1, Failed: 1, Message: "job is running, progress 66.7%", FailedNodes: []string{"node-3"}}
	checkImagePullErrors(t, ValidateImagePullJobStatusUpdate(job, old))

	job.Status = apps.ImagePullJobStatus{Desired: -1, Active: -1, Succeeded: -1, Failed: -1}
	checkImagePullErrors(t, ValidateImagePullJobStatusUpdate(job, old),
		ipInvalid("status.desired"), ipInvalid("status.active"), ipInvalid("status.succeeded"), ipInvalid("status.failed"))
}

func validImageListPullJob() *apps.ImageListPullJob {
	return &apps.ImageListPullJob{
		ObjectMeta: metav1.ObjectMeta{Name: "release-images", Namespace: "default", ResourceVersion: "1"},
		Spec: apps.ImageListPullJobSpec{
			Images:               []string{"nginx:1.25.4", "redis:7.2.4", "ghcr.io/example/batch-worker:2.3.1"},
			ImagePullJobTemplate: validImagePullJobTemplate(),
		},
	}
}

func TestValidateImageListPullJob(t *testing.T) {
	for _, tc := range templateCases {
		t.Run(tc.name, func(t *testing.T) {
			job := validImageListPullJob()
			if tc.tweak != nil {
				tc.tweak(&job.Spec.ImagePullJobTemplate)
			}
			errs := ValidateImageListPullJob(job)
			checkImagePullErrors(t, errs, tc.want...)
			checkImagePullDetail(t, errs, tc.detail)
		})
	}

	tooMany := make([]string, MaxImageListPullJobImages+1)
	for i := range tooMany {
		tooMany[i] = fmt.Sprintf("registry.example.com/image-%d:v1", i)
	}
	for _, tc := range []struct {
		name   string
		tweak  func(job *apps.ImageListPullJob)
		want   []imagePullErr
		detail string
	}{
		{
			name:   "no images",
			tweak:  func(job *apps.ImageListPullJob) { job.Spec.Images = nil },
			want:   []imagePullErr{ipRequired("spec.images")},
			detail: "image can not be empty",
		},
		{
			name:   "empty image",
			tweak:  func(job *apps.ImageListPullJob) { job.Spec.Images[1] = "" },
			want:   []imagePullErr{ipRequired("spec.images[1]")},
			detail: "image can not be empty",
		},
		{
			name:  "unparsable image",
			tweak: func(job *apps.ImageListPullJob) { job.Spec.Images[2] = "nginx:-bad" },
			want:  []imagePullErr{ipInvalid("spec.images[2]")},
		},
		{
			name:   "repeated image",
			tweak:  func(job *apps.ImageListPullJob) { job.Spec.Images[2] = job.Spec.Images[0] },
			want:   []imagePullErr{ipDuplicate("spec.images[2]")},
			detail: "images cannot have duplicate values",
		},
		{
			name:   "too many images",
			tweak:  func(job *apps.ImageListPullJob) { job.Spec.Images = tooMany },
			want:   []imagePullErr{ipTooMany("spec.images")},
			detail: "the maximum number of images cannot > 255",
		},
		{
			name:  "as many images as allowed",
			tweak: func(job *apps.ImageListPullJob) { job.Spec.Images = tooMany[:MaxImageListPullJobImages] },
		},
		{
			// OpenKruise checks the deadline of each ImagePullJob the list
			// makes, not the list's.
			name: "deadline shorter than the pull timeout",
			tweak: func(job *apps.ImageListPullJob) {
				job.Spec.CompletionPolicy.ActiveDeadlineSeconds = ptr.To[int64](60)
			},
		},
		{
			name:  "imagePullPolicy may be left empty",
			tweak: func(job *apps.ImageListPullJob) { job.Spec.ImagePullPolicy = "" },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			job := validImageListPullJob()
			tc.tweak(job)
			errs := ValidateImageListPullJob(job)
			checkImagePullErrors(t, errs, tc.want...)
			checkImagePullDetail(t, errs, tc.detail)
		})
	}
}

func TestValidateImageListPullJobUpdate(t *testing.T) {
	old := validImageListPullJob()
	job := validImageListPullJob()
	job.Spec.Images = append(job.Spec.Images, "busybox:1.36")
	job.Spec.PullSecrets = nil
	checkImagePullErrors(t, ValidateImageListPullJobUpdate(job, old))

	job.Spec.Images = nil
	checkImagePullErrors(t, ValidateImageListPullJobUpdate(job, old), ipRequired("spec.images"))
}

func TestValidateImageListPullJobStatusUpdate(t *testing.T) {
	old := validImageListPullJob()
	job := validImageListPullJob()
	job.Status = apps.ImageListPullJobStatus{Desired: 3, Active: 1, Completed: 2, Succeeded: 1,
		FailedImageStatuses: []apps.FailedImageStatus{{ImagePullJob: "release-images-x", Name: "redis:7.2.4", Message: "node-3 failed"}}}
	checkImagePullErrors(t, ValidateImageListPullJobStatusUpdate(job, old))

	job.Status = apps.ImageListPullJobStatus{Desired: -1, Active: -1, Completed: -1, Succeeded: -1}
	checkImagePullErrors(t, ValidateImageListPullJobStatusUpdate(job, old),
		ipInvalid("status.desired"), ipInvalid("status.active"), ipInvalid("status.completed"), ipInvalid("status.succeeded"))
}

// The shared invalid sample without a completionPolicy must be rejected for
// that, as OpenKruise's CRD schema rejects it.
func TestMissingCompletionPolicySample(t *testing.T) {
	path := filepath.Join(sharedsamples.Dir(t), "samples-invalid", "imagepulljob", "20230323-imagelistpulljob-1.yaml")
	obj, err := decodeSample(t, path)
	if err != nil {
		t.Fatalf("decoding: %v", err)
	}
	errs := validateHub(t, obj)
	for _, e := range errs {
		if e.Type == field.ErrorTypeRequired && e.Field == "spec.completionPolicy" {
			return
		}
	}
	t.Fatalf("want spec.completionPolicy: Required value, got %v", errs)
}
