package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/kruise-apiserver/kruise-apiserver/internal/sharedsamples"
	"github.com/kruise-apiserver/kruise-apiserver/test/integration/framework"
)

// sampleDirs maps each served kind to its directory under shared/samples.
func sampleDir(k kind) string { return strings.ToLower(k.name) }

// TestSharedSamplesAreAcceptedUnchanged creates every OpenKruise sample of
// a served kind exactly as written, with strict field validation as kubectl
// sends it, and reads it back at the same version: everything the manifest
// says must come back as it said it (defaults may add fields).
func TestSharedSamplesAreAcceptedUnchanged(t *testing.T) {
	s := framework.Start(t, "")
	c := s.Dynamic(t)
	ctx := context.Background()
	for _, k := range kinds {
		files := sharedsamples.Valid(t, sampleDir(k))
		if len(files) == 0 {
			t.Fatalf("no shared samples for %s", k.name)
		}
		for _, path := range files {
			t.Run(k.name+"/"+filepath.Base(path), func(t *testing.T) {
				manifest := readManifest(t, path)
				gv, err := schema.ParseGroupVersion(manifest.GetAPIVersion())
				if err != nil {
					t.Fatal(err)
				}
				client := resourceClient(c, k, gv.Version)
				if !k.namespaced {
					manifest.SetNamespace("")
				}
				created, err := client.Create(ctx, manifest.DeepCopy(), metav1.CreateOptions{FieldValidation: "Strict"})
				if err != nil {
					t.Fatalf("create: %v", err)
				}
				got, err := client.Get(ctx, created.GetName(), metav1.GetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				want := manifest.DeepCopy().Object
				if k.normalize != nil {
					k.normalize(want)
					k.normalize(got.Object)
				}
				if diff := missingFrom(want, got.Object, ""); diff != "" {
					t.Fatalf("read back differs from the manifest:\n%s", diff)
				}
				if err := client.Delete(ctx, created.GetName(), metav1.DeleteOptions{}); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// TestSharedInvalidSamplesAreRejected sends every invalid OpenKruise sample
// of a served kind and expects a 400 or 422 naming a spec field, and nothing
// stored.
func TestSharedInvalidSamplesAreRejected(t *testing.T) {
	s := framework.Start(t, "")
	c := s.Dynamic(t)
	ctx := context.Background()
	for _, k := range kinds {
		for _, path := range sharedsamples.Invalid(t, sampleDir(k)) {
			t.Run(k.name+"/"+filepath.Base(path), func(t *testing.T) {
				manifest := readManifest(t, path)
				gv, err := schema.ParseGroupVersion(manifest.GetAPIVersion())
				if err != nil {
					t.Fatal(err)
				}
				client := resourceClient(c, k, gv.Version)
				_, err = client.Create(ctx, manifest, metav1.CreateOptions{FieldValidation: "Strict"})
				if !apierrors.IsInvalid(err) && !apierrors.IsBadRequest(err) {
					t.Fatalf("got %v, want 400 or 422", err)
				}
				if !strings.Contains(err.Error(), "spec.") {
					t.Fatalf("rejection does not name a field: %v", err)
				}
				if _, err := client.Get(ctx, manifest.GetName(), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
					t.Fatalf("rejected sample was stored: %v", err)
				}
			})
		}
	}
}

func readManifest(t *testing.T, path string) *unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	obj := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(data, &obj.Object); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if obj.GetNamespace() == "" {
		obj.SetNamespace(testNamespace)
	}
	return obj
}

// missingFrom lists what want says that got does not say the same way.
// Numbers are compared by value: YAML and JSON decode them differently. An
// explicit zero value (false, 0, "") may come back absent: typed objects,
// like Kubernetes' own, omit empty optional fields, which means the same.
func missingFrom(want, got interface{}, path string) string {
	if got == nil && isZeroScalar(want) {
		return ""
	}
	switch w := want.(type) {
	case map[string]interface{}:
		g, ok := got.(map[string]interface{})
		if !ok {
			return fmt.Sprintf("%s: want an object, got %v\n", path, got)
		}
		var out strings.Builder
		for key, value := range w {
			out.WriteString(missingFrom(value, g[key], path+"."+key))
		}
		return out.String()
	case []interface{}:
		g, ok := got.([]interface{})
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s: want %v, got %v\n", path, want, got)
		}
		var out strings.Builder
		for i := range w {
			out.WriteString(missingFrom(w[i], g[i], fmt.Sprintf("%s[%d]", path, i)))
		}
		return out.String()
	case int64, float64, int:
		if fmt.Sprint(want) != fmt.Sprint(got) {
			return fmt.Sprintf("%s: want %v, got %v\n", path, want, got)
		}
		return ""
	default:
		if !reflect.DeepEqual(want, got) {
			return fmt.Sprintf("%s: want %v, got %v\n", path, want, got)
		}
		return ""
	}
}

func isZeroScalar(v interface{}) bool {
	switch x := v.(type) {
	case bool:
		return !x
	case string:
		return x == ""
	case int64:
		return x == 0
	case float64:
		return x == 0
	case int:
		return x == 0
	}
	return false
}
