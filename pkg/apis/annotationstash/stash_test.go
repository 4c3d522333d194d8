package annotationstash

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

type extras struct {
	Mode  string `json:"mode,omitempty"`
	Count int    `json:"count,omitempty"`
}

func TestStashAndRestore(t *testing.T) {
	shared := map[string]string{"a": "b"}
	meta := metav1.ObjectMeta{Annotations: shared}
	if err := Stash(&meta, extras{Mode: "batch", Count: 2}); err != nil {
		t.Fatal(err)
	}
	if _, ok := shared[Key]; ok {
		t.Fatalf("Stash modified the caller's annotation map")
	}
	if got := meta.Annotations[Key]; got != `{"mode":"batch","count":2}` {
		t.Fatalf("stashed %q", got)
	}

	restoredFrom := meta.Annotations
	var out extras
	if !Restore(&meta, &out) {
		t.Fatalf("Restore found nothing")
	}
	if out != (extras{Mode: "batch", Count: 2}) {
		t.Fatalf("restored %+v", out)
	}
	if _, ok := meta.Annotations[Key]; ok {
		t.Fatalf("Restore left the annotation")
	}
	if _, ok := restoredFrom[Key]; !ok {
		t.Fatalf("Restore modified the map it was given")
	}
	if meta.Annotations["a"] != "b" {
		t.Fatalf("Restore dropped other annotations: %v", meta.Annotations)
	}
}

func TestStashOfZeroValueWritesNothing(t *testing.T) {
	meta := metav1.ObjectMeta{}
	if err := Stash(&meta, extras{}); err != nil {
		t.Fatal(err)
	}
	if meta.Annotations != nil {
		t.Fatalf("zero stash wrote annotations: %v", meta.Annotations)
	}
}

func TestRestoreRemovesEmptiedMap(t *testing.T) {
	meta := metav1.ObjectMeta{Annotations: map[string]string{Key: `{"mode":"x"}`}}
	var out extras
	if !Restore(&meta, &out) || meta.Annotations != nil {
		t.Fatalf("want restored and nil annotations, got %v", meta.Annotations)
	}
}

func TestRestoreKeepsInvalidStashForValidation(t *testing.T) {
	for _, bad := range []string{`not json`, `{"unknown":1}`, `{"mode":"x"} {}`, `{"count":"two"}`} {
		meta := metav1.ObjectMeta{Annotations: map[string]string{Key: bad}}
		var out extras
		if Restore(&meta, &out) {
			t.Errorf("%q: Restore accepted it", bad)
		}
		if meta.Annotations[Key] != bad {
			t.Errorf("%q: annotation was removed", bad)
		}
		errs := Validate(&meta, nil)
		if len(errs) != 1 || errs[0].Field != "annotations[apiserver.kruise.io/v1beta1-fields]" {
			t.Errorf("%q: Validate gave %v", bad, errs)
		}
	}
}

func TestValidateAcceptsObjectsWithoutStash(t *testing.T) {
	if errs := Validate(&metav1.ObjectMeta{Annotations: map[string]string{"x": "y"}}, nil); len(errs) != 0 {
		t.Fatalf("unexpected errors: %v", errs)
	}
}
