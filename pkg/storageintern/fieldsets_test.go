package storageintern

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
)

func object(name string, sets ...string) *metav1.PartialObjectMetadata {
	obj := &metav1.PartialObjectMetadata{
		TypeMeta:   metav1.TypeMeta{APIVersion: "meta.k8s.io/v1", Kind: "PartialObjectMetadata"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
	}
	for _, set := range sets {
		obj.ManagedFields = append(obj.ManagedFields, metav1.ManagedFieldsEntry{
			Manager: "m", Operation: metav1.ManagedFieldsOperationUpdate, FieldsType: "FieldsV1",
			FieldsV1: &metav1.FieldsV1{Raw: []byte(set)},
		})
	}
	return obj
}

func sameArray(a, b []byte) bool { return len(a) > 0 && len(b) > 0 && &a[0] == &b[0] }

func TestIdenticalSetsShareTheirBytes(t *testing.T) {
	table := NewTables()
	spec, status := `{"f:spec":{"f:replicas":{}}}`, `{"f:status":{}}`
	a, b, c := object("a", spec, status), object("b", spec, status), object("c", `{"f:spec":{}}`)
	for _, obj := range []*metav1.PartialObjectMetadata{a, b, c} {
		table.Intern(obj)
	}
	for i := range a.ManagedFields {
		if !sameArray(a.ManagedFields[i].FieldsV1.Raw, b.ManagedFields[i].FieldsV1.Raw) {
			t.Errorf("entry %d: identical field sets were not shared", i)
		}
	}
	if sameArray(a.ManagedFields[0].FieldsV1.Raw, c.ManagedFields[0].FieldsV1.Raw) {
		t.Error("different field sets share bytes")
	}
	if string(b.ManagedFields[0].FieldsV1.Raw) != spec || string(c.ManagedFields[0].FieldsV1.Raw) != `{"f:spec":{}}` {
		t.Error("interning changed a field set")
	}
	if n, _ := table.Len(); n != 3 {
		t.Errorf("table holds %d sets, want 3", n)
	}

}

func TestTableIsBounded(t *testing.T) {
	table := NewTables()
	for i := 0; i < maxEntries+10; i++ {
		table.Intern(object("o", string(rune('a'+i%26))+string(rune(i))))
	}
	if n, _ := table.Len(); n > maxEntries {
		t.Fatalf("table holds %d sets, more than %d", n, maxEntries)
	}
}

func TestCodecInternsWhatItDecodes(t *testing.T) {
	scheme := runtime.NewScheme()
	metav1.AddMetaToScheme(scheme)
	codec := Codec(json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme, scheme, json.SerializerOptions{}), NewTables())

	set := `{"f:metadata":{"f:labels":{}}}`
	var decoded []*metav1.PartialObjectMetadata
	for _, name := range []string{"a", "b"} {
		data, err := runtime.Encode(codec, object(name, set))
		if err != nil {
			t.Fatal(err)
		}
		obj, err := runtime.Decode(codec, data)
		if err != nil {
			t.Fatal(err)
		}
		decoded = append(decoded, obj.(*metav1.PartialObjectMetadata))
	}
	if !sameArray(decoded[0].ManagedFields[0].FieldsV1.Raw, decoded[1].ManagedFields[0].FieldsV1.Raw) {
		t.Fatal("objects decoded through the codec do not share their field set")
	}
}
