package deletionprotection

import (
	"errors"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

func object(value string, deleting bool) *metav1.ObjectMeta {
	meta := &metav1.ObjectMeta{Name: "x"}
	if value != "" {
		meta.Labels = map[string]string{LabelKey: value, "app": "x"}
	}
	if deleting {
		meta.DeletionTimestamp = ptr.To(metav1.Now())
	}
	return meta
}

func TestCheck(t *testing.T) {
	cases := []struct {
		name    string
		meta    *metav1.ObjectMeta
		cascade Cascade
		want    string
	}{
		{"no label", object("", false), Replicas(ptr.To[int32](3)), ""},
		{"always", object(Always, false), nil, "forbidden by ResourcesProtectionDeletion for policy.kruise.io/delete-protection=Always"},
		{"always with replicas", object(Always, false), Replicas(ptr.To[int32](0)), "forbidden by ResourcesProtectionDeletion for policy.kruise.io/delete-protection=Always"},
		{"cascading with replicas", object(Cascading, false), Replicas(ptr.To[int32](3)), "forbidden by ResourcesProtectionDeletion for policy.kruise.io/delete-protection=Cascading and replicas 3>0"},
		{"cascading scaled to zero", object(Cascading, false), Replicas(ptr.To[int32](0)), ""},
		{"cascading nil replicas", object(Cascading, false), Replicas(nil), ""},
		{"cascading unsupported", object(Cascading, false), nil, ""},
		{"unknown value", object("always", false), Replicas(ptr.To[int32](3)), ""},
		{"already deleting", object(Always, true), nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Check(tc.meta, tc.cascade)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCheckPassesCascadeErrors(t *testing.T) {
	boom := errors.New("listing pods failed")
	_, err := Check(object(Cascading, false), func() (string, error) { return "", boom })
	if !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
}

func TestValidateLabel(t *testing.T) {
	path := field.NewPath("metadata", "labels")
	for _, ok := range []map[string]string{nil, {"a": "b"}, {LabelKey: Always}, {LabelKey: Cascading}} {
		if errs := ValidateLabel(ok, path); len(errs) != 0 {
			t.Errorf("%v: %v", ok, errs)
		}
	}
	errs := ValidateLabel(map[string]string{LabelKey: "always"}, path)
	if len(errs) != 1 || errs[0].Type != field.ErrorTypeNotSupported || errs[0].Field != "metadata.labels[policy.kruise.io/delete-protection]" {
		t.Fatalf("got %v", errs)
	}
}
