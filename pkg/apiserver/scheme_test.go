package apiserver

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
)

// TestStorageCodecSharesFieldSets: two CloneSets with the same managed
// field set, read back from storage, hold one copy of it.
func TestStorageCodecSharesFieldSets(t *testing.T) {
	for _, mediaType := range []string{runtime.ContentTypeProtobuf, runtime.ContentTypeJSON} {
		codec, err := StorageCodec(mediaType)
		if err != nil {
			t.Fatal(err)
		}
		var decoded []*apps.CloneSet
		for _, name := range []string{"a", "b"} {
			cs := &apps.CloneSet{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default",
				ManagedFields: []metav1.ManagedFieldsEntry{{
					Manager: "kubectl", Operation: metav1.ManagedFieldsOperationUpdate, FieldsType: "FieldsV1",
					FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:spec":{"f:replicas":{}}}`)},
				}}}}
			data, err := runtime.Encode(codec, cs)
			if err != nil {
				t.Fatal(err)
			}
			obj, err := runtime.Decode(codec, data)
			if err != nil {
				t.Fatal(err)
			}
			decoded = append(decoded, obj.(*apps.CloneSet))
		}
		a, b := decoded[0].ManagedFields[0].FieldsV1.Raw, decoded[1].ManagedFields[0].FieldsV1.Raw
		if &a[0] != &b[0] {
			t.Errorf("%s: the two CloneSets' identical field sets are two copies", mediaType)
		}
	}
}
