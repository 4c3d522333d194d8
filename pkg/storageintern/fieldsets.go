package storageintern

import (
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
)

// metadata.managedFields holds, per manager, the set of fields it owns as
// JSON bytes (FieldsV1): about half of a CloneSet's size, and 4 KB of each
// object in the watch cache. Objects written by the same client in the same
// shape, and the status of every object written by one controller, have
// byte-identical sets.

// maxEntries bounds each table: past it, the table starts again empty.
// Objects keep what they share; only later objects stop sharing with them.
const maxEntries = 4096

// fieldSets holds one copy of each managed field set seen; callers hold
// Tables.mu.
type fieldSets map[string][]byte

func (sets *fieldSets) intern(obj runtime.Object) {
	accessor, err := meta.Accessor(obj)
	if err != nil {
		return
	}
	entries := accessor.GetManagedFields()
	for i := range entries {
		set := entries[i].FieldsV1
		if set == nil || len(set.Raw) == 0 {
			continue
		}
		if shared, ok := (*sets)[string(set.Raw)]; ok {
			set.Raw = shared
			continue
		}
		if len(*sets) >= maxEntries {
			*sets = fieldSets{}
		}
		// Capacity equal to length: two objects that each grew their
		// shared set with append would otherwise write into the same
		// spare capacity.
		set.Raw = set.Raw[:len(set.Raw):len(set.Raw)]
		(*sets)[string(set.Raw)] = set.Raw
	}
}
