package validation

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"
)

// sampleWorkload is the part of an OpenKruise workload manifest this package
// validates.
type sampleWorkload struct {
	Kind string `json:"kind"`
	Spec struct {
		Template             corev1.PodTemplateSpec         `json:"template"`
		VolumeClaimTemplates []corev1.PersistentVolumeClaim `json:"volumeClaimTemplates"`
	} `json:"spec"`
}

// sharedDir locates the OpenKruise reference data (outside the repository).
func sharedDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("KRUISE_SHARED_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "..", "..", "shared")
	}
	if _, err := os.Stat(filepath.Join(dir, "samples")); err != nil {
		t.Skipf("OpenKruise samples not found in %s (set KRUISE_SHARED_DIR): %v", dir, err)
	}
	return dir
}

// optionsForKind mirrors what each OpenKruise webhook requires of templates.
func optionsForKind(kind string, w *sampleWorkload) PodValidationOptions {
	switch kind {
	case "BroadcastJob":
		return PodValidationOptions{
			AllowedRestartPolicies: []corev1.RestartPolicy{corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever},
			WorkloadKind:           kind,
		}
	default: // CloneSet, StatefulSet, DaemonSet
		return PodValidationOptions{
			RequiredRestartPolicy:       corev1.RestartPolicyAlways,
			ForbidActiveDeadlineSeconds: true,
			WorkloadKind:                kind,
			ExtraVolumeNames:            VolumeClaimTemplateNames(w.Spec.VolumeClaimTemplates),
		}
	}
}

// TestSampleTemplates checks that the pod and claim templates of the upstream
// and written OpenKruise samples are accepted.
func TestSampleTemplates(t *testing.T) {
	shared := sharedDir(t)
	dirs := []string{
		"samples/cloneset",
		"samples/statefulset",
		"samples/written/cloneset",
		"samples/written/statefulset",
		"samples/daemonset",
		"samples/written/daemonset",
		"samples/broadcastjob",
	}
	checked := 0
	for _, d := range dirs {
		files, err := filepath.Glob(filepath.Join(shared, d, "*.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			name := strings.TrimPrefix(f, shared+string(filepath.Separator))
			t.Run(name, func(t *testing.T) {
				data, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				var w sampleWorkload
				if err := yaml.Unmarshal(data, &w); err != nil {
					t.Fatalf("decoding: %v", err)
				}
				if len(w.Spec.Template.Spec.Containers) == 0 {
					t.Fatalf("sample has no spec.template containers")
				}
				specPath := field.NewPath("spec")
				errs := ValidatePodTemplateSpec(&w.Spec.Template, specPath.Child("template"), optionsForKind(w.Kind, &w))
				errs = append(errs, ValidatePersistentVolumeClaimTemplates(w.Spec.VolumeClaimTemplates, specPath.Child("volumeClaimTemplates"))...)
				if len(errs) > 0 {
					t.Errorf("sample rejected:\n%s", errsString(errs))
				}
			})
			checked++
		}
	}
	if checked < 10 {
		t.Fatalf("only %d samples found under %s", checked, shared)
	}
}

// TestSampleClaimTemplateMountNeedsExtraVolumeNames shows why
// ExtraVolumeNames exists: the written CloneSet sample mounts its claim
// template "cache", which the pod spec does not declare.
func TestSampleClaimTemplateMountNeedsExtraVolumeNames(t *testing.T) {
	shared := sharedDir(t)
	data, err := os.ReadFile(filepath.Join(shared, "samples/written/cloneset/v1beta1-web-frontend-full.yaml"))
	if err != nil {
		t.Skip(err)
	}
	var w sampleWorkload
	if err := yaml.Unmarshal(data, &w); err != nil {
		t.Fatal(err)
	}
	errs := ValidatePodTemplateSpec(&w.Spec.Template, field.NewPath("spec", "template"), PodValidationOptions{})
	checkErrors(t, errs, []expectedError{notFound("spec.template.spec.containers[0].volumeMounts[0].name")})
}
