package install

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
)

// decodeToHub decodes a manifest as the server does: defaulted at its
// version, then converted to the hub.
func decodeToHub(t *testing.T, manifest string) runtime.Object {
	t.Helper()
	scheme := runtime.NewScheme()
	Install(scheme)
	obj, _, err := serializer.NewCodecFactory(scheme).UniversalDecoder(apps.SchemeGroupVersion).Decode([]byte(manifest), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

func TestImagePullJobDefaults(t *testing.T) {
	for _, version := range []string{"v1alpha1", "v1beta1"} {
		job := decodeToHub(t, `{"apiVersion":"apps.kruise.io/`+version+`","kind":"ImagePullJob","metadata":{"name":"a"},
			"spec":{"image":"nginx","completionPolicy":{}}}`).(*apps.ImagePullJob)
		spec := job.Spec
		if spec.CompletionPolicy.Type != apps.Always || spec.ImagePullPolicy != apps.PullIfNotPresent ||
			*spec.PullPolicy.TimeoutSeconds != 600 || *spec.PullPolicy.BackoffLimit != 3 {
			t.Errorf("%s: defaults not applied: %+v", version, spec)
		}
		if len(job.Finalizers) != 0 {
			t.Errorf("%s: finalizers added: %v", version, job.Finalizers)
		}

		// A missing completionPolicy stays missing, for validation to report.
		job = decodeToHub(t, `{"apiVersion":"apps.kruise.io/`+version+`","kind":"ImagePullJob","metadata":{"name":"a"},
			"spec":{"image":"nginx","pullPolicy":{"timeoutSeconds":30}}}`).(*apps.ImagePullJob)
		if job.Spec.CompletionPolicy != nil || *job.Spec.PullPolicy.TimeoutSeconds != 30 || *job.Spec.PullPolicy.BackoffLimit != 3 {
			t.Errorf("%s: %+v", version, job.Spec)
		}

		list := decodeToHub(t, `{"apiVersion":"apps.kruise.io/`+version+`","kind":"ImageListPullJob","metadata":{"name":"a"},
			"spec":{"images":["nginx"],"completionPolicy":{"type":"Never"}}}`).(*apps.ImageListPullJob)
		if list.Spec.CompletionPolicy.Type != apps.Never || list.Spec.ImagePullPolicy != "" ||
			*list.Spec.PullPolicy.TimeoutSeconds != 600 || *list.Spec.PullPolicy.BackoffLimit != 3 {
			t.Errorf("%s: list job defaults: %+v", version, list.Spec)
		}
	}
}

func TestNodeImageDefaults(t *testing.T) {
	for _, version := range []string{"v1alpha1", "v1beta1"} {
		ni := decodeToHub(t, `{"apiVersion":"apps.kruise.io/`+version+`","kind":"NodeImage","metadata":{"name":"node-1"},
			"spec":{"images":{"nginx":{"tags":[{"tag":"1.25"},{"tag":"1.26","createdAt":"2024-01-01T00:00:00Z","pullPolicy":{"timeoutSeconds":60,"ttlSecondsAfterFinished":10}}]}}}}`).(*apps.NodeImage)
		tags := ni.Spec.Images["nginx"].Tags
		if tags[0].CreatedAt == nil || tags[0].CreatedAt.Nanosecond() != 0 {
			t.Errorf("%s: createdAt not defaulted to a whole second: %v", version, tags[0].CreatedAt)
		}
		if p := tags[0].PullPolicy; p == nil || *p.TimeoutSeconds != 600 || *p.BackoffLimit != 3 || p.TTLSecondsAfterFinished != nil {
			t.Errorf("%s: pullPolicy defaults: %+v", version, p)
		}
		if got := tags[1].CreatedAt.UTC().Format("2006"); got != "2024" {
			t.Errorf("%s: given createdAt replaced: %v", version, tags[1].CreatedAt)
		}
		if p := tags[1].PullPolicy; *p.TimeoutSeconds != 60 || *p.BackoffLimit != 3 || *p.TTLSecondsAfterFinished != 10 {
			t.Errorf("%s: pullPolicy defaults: %+v", version, p)
		}
	}
}
