package validation

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kruise-apiserver/kruise-apiserver/internal/sharedsamples"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/install"
)

// decodeSample decodes a manifest strictly (unknown and duplicate fields are
// errors, as with kubectl's default field validation), defaults it at its
// version and converts it to the hub, as the server does with a request.
func decodeSample(t *testing.T, path string) (runtime.Object, error) {
	t.Helper()
	scheme := runtime.NewScheme()
	install.Install(scheme)
	codecs := serializer.NewCodecFactory(scheme, serializer.EnableStrict)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	obj, _, err := codecs.UniversalDecoder(apps.SchemeGroupVersion).Decode(data, nil, nil)
	return obj, err
}

// validateHub validates a decoded sample as a create.
func validateHub(t *testing.T, obj runtime.Object) field.ErrorList {
	t.Helper()
	switch o := obj.(type) {
	case *apps.CloneSet:
		o.Namespace = "default"
		return ValidateCloneSet(o)
	case *apps.ImagePullJob:
		o.Namespace = "default"
		return ValidateImagePullJob(o)
	case *apps.ImageListPullJob:
		o.Namespace = "default"
		return ValidateImageListPullJob(o)
	case *apps.NodeImage:
		return ValidateNodeImage(o)
	case *apps.WorkloadSpread:
		o.Namespace = "default"
		return ValidateWorkloadSpread(o)
	case *apps.StatefulSet:
		o.Namespace = "default"
		return ValidateStatefulSet(o)
	}
	t.Fatalf("no validation for %T", obj)
	return nil
}

var sampleKinds = []string{"cloneset", "imagepulljob", "imagelistpulljob", "nodeimage", "statefulset", "workloadspread"}

func TestSharedSamplesAreValid(t *testing.T) {
	for _, kind := range sampleKinds {
		files := sharedsamples.Valid(t, kind)
		if len(files) == 0 {
			t.Fatalf("no samples for %s", kind)
		}
		for _, path := range files {
			t.Run(kind+"/"+filepath.Base(path), func(t *testing.T) {
				obj, err := decodeSample(t, path)
				if err != nil {
					t.Fatalf("decoding: %v", err)
				}
				if errs := validateHub(t, obj); len(errs) > 0 {
					t.Fatalf("rejected: %v", errs.ToAggregate())
				}
			})
		}
	}
}

func TestSharedInvalidSamplesAreRejected(t *testing.T) {
	for _, kind := range sampleKinds {
		for _, path := range sharedsamples.Invalid(t, kind) {
			t.Run(kind+"/"+filepath.Base(path), func(t *testing.T) {
				obj, err := decodeSample(t, path)
				if err != nil {
					if !strings.Contains(err.Error(), "spec.") {
						t.Fatalf("rejected without naming a field: %v", err)
					}
					return
				}
				if errs := validateHub(t, obj); len(errs) == 0 {
					t.Fatalf("accepted")
				}
			})
		}
	}
}
