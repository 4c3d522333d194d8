// Package conversiontest proves that conversions between the served versions
// of a group are lossless from a client's point of view: an object written at
// one version (and defaulted, as the server does) and then read and written
// back unchanged through another version reads back at the first version
// exactly as written.
package conversiontest

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/randfill"
)

// CrossVersionRoundTrip runs the trip for every kind of group, from every
// served version through every other one, iterations times each with fresh
// random objects from filler.
func CrossVersionRoundTrip(t *testing.T, scheme *runtime.Scheme, group string, filler *randfill.Filler, iterations int) {
	versionsByKind := map[string][]string{}
	for gvk := range scheme.AllKnownTypes() {
		if gvk.Group != group || gvk.Version == runtime.APIVersionInternal || strings.HasSuffix(gvk.Kind, "List") {
			continue
		}
		if _, err := scheme.New(gvk.GroupKind().WithVersion(runtime.APIVersionInternal)); err != nil {
			continue // option and status kinds registered in every group version
		}
		versionsByKind[gvk.Kind] = append(versionsByKind[gvk.Kind], gvk.Version)
	}
	if len(versionsByKind) == 0 {
		t.Fatalf("no kinds of group %q in the scheme", group)
	}
	kinds := make([]string, 0, len(versionsByKind))
	for kind := range versionsByKind {
		kinds = append(kinds, kind)
	}
	sort.Strings(kinds)
	for _, kind := range kinds {
		versions := versionsByKind[kind]
		sort.Strings(versions)
		for _, from := range versions {
			for _, through := range versions {
				if from == through {
					continue
				}
				written := schema.GroupVersionKind{Group: group, Version: from, Kind: kind}
				other := schema.GroupVersion{Group: group, Version: through}
				t.Run(kind+"/"+from+"-through-"+through, func(t *testing.T) {
					for i := 0; i < iterations && !t.Failed(); i++ {
						tripOnce(t, scheme, filler, written, other)
					}
				})
			}
		}
	}
}

func tripOnce(t *testing.T, scheme *runtime.Scheme, filler *randfill.Filler, written schema.GroupVersionKind, through schema.GroupVersion) {
	t.Helper()
	hubVersion := schema.GroupVersion{Group: written.Group, Version: runtime.APIVersionInternal}

	obj, err := scheme.New(written)
	if err != nil {
		t.Fatal(err)
	}
	filler.Fill(obj)
	typeMeta, err := apimeta.TypeAccessor(obj)
	if err != nil {
		t.Fatal(err)
	}
	typeMeta.SetAPIVersion("")
	typeMeta.SetKind("")
	scheme.Default(obj)
	want := obj.DeepCopyObject()

	hub := convert(t, scheme, obj, hubVersion)
	read := convert(t, scheme, hub, through)
	// The other client writes back exactly what it read, over the wire.
	writtenBack := jsonRoundTrip(t, scheme, read, through.WithKind(written.Kind))
	scheme.Default(writtenBack)
	got := convert(t, scheme, convert(t, scheme, writtenBack, hubVersion), written.GroupVersion())

	typeMeta, _ = apimeta.TypeAccessor(got)
	typeMeta.SetAPIVersion("")
	typeMeta.SetKind("")
	if !apiequality.Semantic.DeepEqual(want, got) {
		t.Fatalf("%s written at %s changed after a trip through %s (-written +read back):\n%s",
			written.Kind, written.Version, through.Version, cmp.Diff(want, got))
	}
}

func convert(t *testing.T, scheme *runtime.Scheme, obj runtime.Object, to schema.GroupVersion) runtime.Object {
	t.Helper()
	out, err := scheme.ConvertToVersion(obj.DeepCopyObject(), to)
	if err != nil {
		t.Fatalf("converting %T to %s: %v", obj, to, err)
	}
	return out
}

func jsonRoundTrip(t *testing.T, scheme *runtime.Scheme, obj runtime.Object, gvk schema.GroupVersionKind) runtime.Object {
	t.Helper()
	data, err := json.Marshal(obj)
	if err != nil {
		t.Fatalf("encoding %T: %v", obj, err)
	}
	out, err := scheme.New(gvk)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, out); err != nil {
		t.Fatalf("decoding %s into %s: %v", data, reflect.TypeOf(out), err)
	}
	return out
}
