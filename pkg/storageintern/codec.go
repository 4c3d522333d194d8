package storageintern

import (
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Tables hold one copy of each managed field set and resource list seen.
type Tables struct {
	mu            sync.Mutex
	fieldSets     fieldSets
	resourceLists resourceLists
}

// NewTables returns empty tables.
func NewTables() *Tables {
	return &Tables{fieldSets: fieldSets{}, resourceLists: resourceLists{}}
}

// Intern points obj's managed field sets and its Pod template's resource
// lists at the tables' copies, adding those they have not seen.
func (t *Tables) Intern(obj runtime.Object) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.fieldSets.intern(obj)
	t.resourceLists.internObject(obj)
}

// Len is how many field sets and resource lists the tables hold.
func (t *Tables) Len() (fieldSets, resourceLists int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.fieldSets), len(t.resourceLists)
}

// Codec wraps a storage codec so that every object it decodes shares what
// it can through tables.
func Codec(codec runtime.Codec, tables *Tables) runtime.Codec {
	return internCodec{Codec: codec, tables: tables}
}

type internCodec struct {
	runtime.Codec
	tables *Tables
}

func (c internCodec) Decode(data []byte, defaults *schema.GroupVersionKind, into runtime.Object) (runtime.Object, *schema.GroupVersionKind, error) {
	obj, gvk, err := c.Codec.Decode(data, defaults, into)
	if err == nil && obj != nil {
		c.tables.Intern(obj)
	}
	return obj, gvk, err
}
