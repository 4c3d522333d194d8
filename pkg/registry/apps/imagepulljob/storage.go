package imagepulljob

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/registry/protection"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/registry/status"
)

// Storage holds the REST storage of imagepulljobs and their status.
type Storage struct {
	ImagePullJob *REST
	Status       *status.REST
}

// REST is the main resource: a store whose deletes honour the protection
// label. OpenKruise gives imagepulljobs no short names.
type REST struct {
	*protection.Store
}

// Categories implements rest.CategoriesProvider: `kubectl get kruise`.
func (*REST) Categories() []string { return []string{"kruise"} }

// NewStorage returns the storage of imagepulljobs, on the given scheme and etcd options.
func NewStorage(scheme *runtime.Scheme, optsGetter generic.RESTOptionsGetter) (Storage, error) {
	strategy := NewStrategy(scheme)
	store := &genericregistry.Store{
		NewFunc:                   func() runtime.Object { return &apps.ImagePullJob{} },
		NewListFunc:               func() runtime.Object { return &apps.ImagePullJobList{} },
		DefaultQualifiedResource:  apps.Resource("imagepulljobs"),
		SingularQualifiedResource: apps.Resource("imagepulljob"),

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
		ImagePullJob: &REST{protection.Wrap(store, nil)},
		Status:       status.NewREST(store, NewStatusStrategy(strategy)),
	}, nil
}
