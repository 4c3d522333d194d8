// Package fieldsetintern lets objects decoded from storage share the bytes
// of identical managed field sets.
//
// metadata.managedFields holds, per manager, the set of fields it owns as
// JSON bytes (FieldsV1): about half of a CloneSet's size, and 4 KB of each
// object in the watch cache (docs/performance.md). Objects written by the
// same client in the same shape, and the status of every object written by
// one controller, have byte-identical sets, so the cache can hold one copy.
//
// Sharing is safe because nothing writes into the bytes of a decoded
// object: objects in the watch cache are shared read-only with every reader
// already, decoding always fills a fresh object, and the field manager sets
// new slices on the objects it changes.
package fieldsetintern

import (
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// maxSets bounds the table: past it, the table starts again empty. Objects
// keep the bytes they share; only later objects stop sharing with them.
const maxSets = 4096

// Table holds one copy of each field set seen.
type Table struct {
	mu   sync.Mutex
	sets map[string][]byte
}

// NewTable returns an empty table.
func NewTable() *Table { return &Table{sets: map[string][]byte{}} }

// Intern points the managed field sets of obj at the table's copies,
// adding those it has not seen.
func (t *Table) Intern(obj runtime.Object) {
	accessor, err := meta.Accessor(obj)
	if err != nil {
		return
	}
	entries := accessor.GetManagedFields()
	if len(entries) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range entries {
		set := entries[i].FieldsV1
		if set == nil || len(set.Raw) == 0 {
			continue
		}
		if shared, ok := t.sets[string(set.Raw)]; ok {
			set.Raw = shared
			continue
		}
		if len(t.sets) >= maxSets {
			t.sets = map[string][]byte{}
		}
		// Capacity equal to length: two objects that each grew their
		// shared set with append would otherwise write into the same
		// spare capacity.
		t.sets[string(set.Raw)] = set.Raw[:len(set.Raw):len(set.Raw)]
		set.Raw = set.Raw[:len(set.Raw):len(set.Raw)]
	}
}

// Len is how many field sets the table holds.
func (t *Table) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.sets)
}

// Codec wraps a storage codec so that every object it decodes shares its
// field sets through table.
func Codec(codec runtime.Codec, table *Table) runtime.Codec {
	return internCodec{Codec: codec, table: table}
}

type internCodec struct {
	runtime.Codec
	table *Table
}

func (c internCodec) Decode(data []byte, defaults *schema.GroupVersionKind, into runtime.Object) (runtime.Object, *schema.GroupVersionKind, error) {
	obj, gvk, err := c.Codec.Decode(data, defaults, into)
	if err == nil && obj != nil {
		c.table.Intern(obj)
	}
	return obj, gvk, err
}
