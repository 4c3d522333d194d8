// Package annotationstash keeps lossless the conversions between a hub type
// and a version that cannot express all of it.
//
// When the hub holds something a version has no field for (a field added in
// v1beta1, say), converting to that version writes it, as JSON, into one
// annotation; converting back reads it and removes the annotation. A client
// that reads at the older version and writes the object back, by update or by
// any kind of patch, carries the annotation along without knowing it, so
// nothing another client wrote through the newer version is lost. This is the
// approach Kubernetes took for fields that autoscaling/v1 could not express.
//
// Only what the version cannot express goes into the stash, never a copy of
// fields it can: an edit made through the older version always wins.
package annotationstash

import (
	"bytes"
	"encoding/json"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Key is the annotation that carries the stash on objects served at a
// version older than the hub.
const Key = "apiserver.kruise.io/v1beta1-fields"

// Stash records v, a struct whose fields all have omitempty JSON tags, under
// Key in meta's annotations. Nothing is written when v marshals to "{}". The
// annotation map is copied, never modified in place, because conversions
// share maps with the object they convert from.
func Stash(meta *metav1.ObjectMeta, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("stashing fields in annotation %s: %w", Key, err)
	}
	if bytes.Equal(data, []byte("{}")) {
		return nil
	}
	annotations := make(map[string]string, len(meta.Annotations)+1)
	for k, val := range meta.Annotations {
		annotations[k] = val
	}
	annotations[Key] = string(data)
	meta.Annotations = annotations
	return nil
}

// Restore decodes the stash under Key into v and removes the annotation from
// meta (copying the map). It reports whether v was filled in. A stash that
// does not decode strictly into v is left in place and reported as false:
// validation then rejects the object (see Validate) instead of the
// conversion failing with an internal error.
func Restore(meta *metav1.ObjectMeta, v any) bool {
	data, ok := meta.Annotations[Key]
	if !ok {
		return false
	}
	if err := decodeStrict([]byte(data), v); err != nil {
		return false
	}
	annotations := make(map[string]string, len(meta.Annotations))
	for k, val := range meta.Annotations {
		if k != Key {
			annotations[k] = val
		}
	}
	if len(annotations) == 0 {
		annotations = nil
	}
	meta.Annotations = annotations
	return true
}

func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the JSON object")
	}
	return nil
}

// Validate reports a stash annotation left on a hub object. A well-formed
// stash never reaches the hub (Restore removes it), so one that is still
// there was either set through the hub-shaped version, where it means
// nothing, or was not valid for the kind.
func Validate(meta *metav1.ObjectMeta, fldPath *field.Path) field.ErrorList {
	data, ok := meta.Annotations[Key]
	if !ok {
		return nil
	}
	msg := "reserved for kruise-apiserver: on objects read through an older API version it carries the fields that version cannot express, and must be passed back unchanged"
	var probe map[string]any
	if err := utiljson.Unmarshal([]byte(data), &probe); err != nil {
		msg += fmt.Sprintf(" (not a JSON object: %v)", err)
	} else {
		msg += " (it holds fields this kind and version do not have, or it was set through the version that has them)"
	}
	return field.ErrorList{field.Invalid(fldPath.Child("annotations").Key(Key), data, msg)}
}
