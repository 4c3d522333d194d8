package imagelistpulljob

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/registry/protection"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/registry/status"
)

// Storage holds the REST storage of imagelistpulljobs and their status.
type Storage struct {
	ImageListPullJob *REST
	Status           *status.REST
}

// REST is the main resource: a store whose deletes honour the protection
// label. OpenKruise gives imagelistpulljobs no short names.
type REST struct {
	*protection.Store
}

// Categories implements rest.CategoriesProvider: `kubectl get kruise`.
func (*REST) Categories() []string { return []string{"kruise"} }

// NewStorage returns the storage of imagelistpulljobs, on the given scheme and etcd options.
func NewStorage(scheme *runtime.Scheme, optsGetter generic.RESTOptionsGetter) (Storage, error) {
	strategy := NewStrategy(scheme)
	store := &genericregistry.Store{
		NewFunc:                   func() runtime.Object { return &apps.ImageListPullJob{} },
		NewListFunc:               func() runtime.Object { return &apps.ImageListPullJobList{} },
		DefaultQualifiedResource:  apps.Resource("imagelistpulljobs"),
		SingularQualifiedResource: apps.Resource("imagelistpulljob"),

		CreateStrategy:      strategy,
		UpdateStrategy:      strategy,
		DeleteStrategy:      strategy,
		ResetFieldsStrategy: strategy,

		TableConvertor: tableConvertor,
	}
	if err := store.CompleteWithOptions(&generic.StoreOptions{RESTOptions: optsGetter}); err != nil {
		return Storage{}, err
	}

	return Storage{
		// A job holds nothing that cascading protection guards (no
		// replicas): only the label value Always protects it.
		ImageListPullJob: &REST{protection.Wrap(store, nil)},
		Status:           status.NewREST(store, NewStatusStrategy(strategy)),
	}, nil
}
