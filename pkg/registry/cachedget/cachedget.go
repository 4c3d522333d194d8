// Package cachedget serves consistent GETs from the watch cache.
//
// k8s.io/apiserver v0.37 serves a LIST with resourceVersion "" from the watch
// cache (ConsistentListFromCache: it asks etcd for its current revision, waits
// for the cache to reach it, and answers from the cache), but still sends a
// GET with resourceVersion "" to etcd: a range read and a protobuf decode of
// the object per GET. This decorator gives GET the same treatment as LIST:
// the current revision from etcd (a read of no key), then the object from the
// cache once it is at least that fresh — as consistent as the etcd read, for
// a fraction of its cost. Concurrent GETs share the revision read
// (revisionBatcher). If the cache cannot catch up in time, the GET goes to
// etcd as before.
package cachedget

import (
	"context"
	"reflect"
	"strconv"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/apiserver/pkg/storage/cacher"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/apiserver/pkg/storage/storagebackend/factory"
	"k8s.io/client-go/tools/cache"
)

// Getter wraps a RESTOptionsGetter so that the storage of every resource
// with a watch cache serves consistent GETs from it.
type Getter struct {
	generic.RESTOptionsGetter
}

// GetRESTOptions implements generic.RESTOptionsGetter.
func (g Getter) GetRESTOptions(resource schema.GroupResource, example runtime.Object) (generic.RESTOptions, error) {
	opts, err := g.RESTOptionsGetter.GetRESTOptions(resource, example)
	if err != nil {
		return opts, err
	}
	decorator := opts.Decorator
	if decorator == nil {
		return opts, nil
	}
	opts.Decorator = func(config *storagebackend.ConfigForResource, resourcePrefix string, keyFunc func(obj runtime.Object) (string, error),
		newFunc func() runtime.Object, newListFunc func() runtime.Object, getAttrsFunc storage.AttrFunc,
		triggerFuncs storage.IndexerFuncs, indexers *cache.Indexers) (storage.Interface, factory.DestroyFunc, error) {
		s, destroy, err := decorator(config, resourcePrefix, keyFunc, newFunc, newListFunc, getAttrsFunc, triggerFuncs, indexers)
		if err != nil {
			return s, destroy, err
		}
		if _, cached := s.(*cacher.CacheDelegator); cached {
			s = NewStorage(s, resource)
		}
		return s, destroy, nil
	}
	return opts, nil
}

// Storage is a cached storage whose consistent GETs come from the cache.
type Storage struct {
	storage.Interface
	resource  schema.GroupResource
	revisions *revisionBatcher
}

// NewStorage returns cached, the watch-cached storage of resource, serving
// consistent GETs from its cache.
func NewStorage(cached storage.Interface, resource schema.GroupResource) *Storage {
	return &Storage{
		Interface: cached,
		resource:  resource,
		revisions: newRevisionBatcher(cached.GetCurrentResourceVersion),
	}
}

// Get implements storage.Interface.
func (s *Storage) Get(ctx context.Context, key string, opts storage.GetOptions, objPtr runtime.Object) error {
	if opts.ResourceVersion != "" {
		return s.Interface.Get(ctx, key, opts, objPtr)
	}
	rv, err := s.revisions.currentRevision(ctx)
	if err != nil {
		return s.Interface.Get(ctx, key, opts, objPtr)
	}
	cached := opts
	cached.ResourceVersion = strconv.FormatUint(rv, 10)
	err = s.Interface.Get(ctx, key, cached, objPtr)
	if storage.IsTooLargeResourceVersion(err) {
		// The cache did not catch up in time.
		return s.Interface.Get(ctx, key, opts, objPtr)
	}
	if err != nil {
		return err
	}
	if readOnlyGet(ctx, s.resource) {
		return nil
	}
	// The cache hands out a shallow copy of its object, sharing its maps,
	// slices and pointers; other callers, such as a delete, change theirs.
	if v := reflect.ValueOf(objPtr); v.Kind() == reflect.Pointer && !v.IsNil() {
		v.Elem().Set(reflect.ValueOf(objPtr.DeepCopyObject()).Elem())
	}
	return nil
}

// readOnlyGet reports whether ctx is a GET request of resource, or of its
// status or scale, whose object therefore can be the cache's shallow copy.
//
// The cacher hands the same shallow copies to every GET with a
// resourceVersion set (and LIST and WATCH encode its objects as they are),
// so the GET handler of k8s.io/apiserver only reads them: registry.Store.Get
// (our stores set no Decorator), then transformResponseObject, which encodes
// the object (the conversions to older versions copy the maps they change,
// see annotationstash) or builds a PartialObjectMetadata or Table (our
// table.Convertor and the metadata copy only read it). Our status REST is
// the store's Get; our scale REST builds a new Scale from the object's
// fields. Other subresources are not known to be read-only, and code serving
// another resource may read this one's objects without expecting them
// shared (a WorkloadSpread's validation reads its CloneSet), so both get a
// deep copy, as does every other verb.
func readOnlyGet(ctx context.Context, resource schema.GroupResource) bool {
	info, ok := request.RequestInfoFrom(ctx)
	if !ok || !info.IsResourceRequest || info.Verb != "get" ||
		info.APIGroup != resource.Group || info.Resource != resource.Resource {
		return false
	}
	switch info.Subresource {
	case "", "status", "scale":
		return true
	}
	return false
}
