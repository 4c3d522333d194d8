package statefulset

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/deletionprotection"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/registry/protection"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/registry/scale"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/registry/status"
)

// Storage holds the REST storage of statefulsets and their subresources.
type Storage struct {
	StatefulSet *REST
	Status      *status.REST
	Scale       *scale.REST
}

// REST is the main resource: a store whose deletes honour the protection label.
type REST struct {
	*protection.Store
}

// ShortNames implements rest.ShortNamesProvider: `kubectl get asts`. "sts"
// is OpenKruise's too, although kubectl resolves it to apps/v1 StatefulSets
// when both are served.
func (*REST) ShortNames() []string { return []string{"sts", "asts"} }

// Categories implements rest.CategoriesProvider: `kubectl get kruise`.
func (*REST) Categories() []string { return []string{"kruise"} }

// NewStorage returns the storage of statefulsets, on the given scheme and etcd options.
func NewStorage(scheme *runtime.Scheme, optsGetter generic.RESTOptionsGetter) (Storage, error) {
	strategy := NewStrategy(scheme)
	store := &genericregistry.Store{
		NewFunc:                   func() runtime.Object { return &apps.StatefulSet{} },
		NewListFunc:               func() runtime.Object { return &apps.StatefulSetList{} },
		DefaultQualifiedResource:  apps.Resource("statefulsets"),
		SingularQualifiedResource: apps.Resource("statefulset"),

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
		StatefulSet: &REST{protection.Wrap(store, func(obj runtime.Object) deletionprotection.Cascade {
			return deletionprotection.Replicas(obj.(*apps.StatefulSet).Spec.Replicas)
		})},
		Status: status.NewREST(store, NewStatusStrategy(strategy)),
		Scale:  scale.NewREST(store, scaleAccessor{}),
	}, nil
}

// scaleAccessor maps a StatefulSet to and from the /scale subresource.
type scaleAccessor struct{}

func (scaleAccessor) Replicas(obj runtime.Object) *int32 {
	return obj.(*apps.StatefulSet).Spec.Replicas
}
func (scaleAccessor) SetReplicas(obj runtime.Object, replicas int32) {
	obj.(*apps.StatefulSet).Spec.Replicas = &replicas
}
func (scaleAccessor) StatusReplicas(obj runtime.Object) int32 {
	return obj.(*apps.StatefulSet).Status.Replicas
}
func (scaleAccessor) Selector(obj runtime.Object) (string, *metav1.LabelSelector) {
	sts := obj.(*apps.StatefulSet)
	return sts.Status.LabelSelector, sts.Spec.Selector
}
