package podunavailablebudget

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/policy"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/policy/validation"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/registry/protection"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/registry/status"
)

// Storage holds the REST storage of podunavailablebudgets and their status.
type Storage struct {
	PodUnavailableBudget *REST
	Status               *status.REST
}

// REST is the main resource: a store whose deletes honour the protection
// label and whose creates and updates refuse a budget that overlaps another.
type REST struct {
	*protection.Store
}

// ShortNames implements rest.ShortNamesProvider: `kubectl get pub`.
func (*REST) ShortNames() []string { return []string{"pub"} }

// Categories implements rest.CategoriesProvider: `kubectl get kruise`.
func (*REST) Categories() []string { return []string{"kruise"} }

// NewStorage returns the storage of podunavailablebudgets, on the given
// scheme and etcd options.
func NewStorage(scheme *runtime.Scheme, optsGetter generic.RESTOptionsGetter) (Storage, error) {
	strategy := NewStrategy(scheme)
	store := &genericregistry.Store{
		NewFunc:                   func() runtime.Object { return &policy.PodUnavailableBudget{} },
		NewListFunc:               func() runtime.Object { return &policy.PodUnavailableBudgetList{} },
		DefaultQualifiedResource:  policy.Resource("podunavailablebudgets"),
		SingularQualifiedResource: policy.Resource("podunavailablebudget"),

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
		// A budget holds nothing a delete would take with it, so only
		// Always protects it (OpenKruise ignores Cascading here too).
		PodUnavailableBudget: &REST{protection.Wrap(store, nil)},
		Status:               status.NewREST(store, NewStatusStrategy(strategy)),
	}, nil
}

// Create refuses a budget that overlaps another one of its namespace.
func (r *REST) Create(ctx context.Context, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	return r.Store.Create(ctx, obj, func(ctx context.Context, obj runtime.Object) error {
		if err := r.checkConflicts(ctx, obj.(*policy.PodUnavailableBudget)); err != nil {
			return err
		}
		if createValidation == nil {
			return nil
		}
		return createValidation(ctx, obj)
	}, options)
}

// Update refuses, like Create, a budget that overlaps another. Selector and
// targetRef cannot change, so this only matters for budgets that came to
// overlap through racing creates; OpenKruise's webhook blocks their updates
// too, leaving deleting one of them as the way out.
func (r *REST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc, updateValidation rest.ValidateObjectUpdateFunc, forceAllowCreate bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	return r.Store.Update(ctx, name, objInfo, createValidation, func(ctx context.Context, obj, old runtime.Object) error {
		if err := r.checkConflicts(ctx, obj.(*policy.PodUnavailableBudget)); err != nil {
			return err
		}
		if updateValidation == nil {
			return nil
		}
		return updateValidation(ctx, obj, old)
	}, forceAllowCreate, options)
}

// checkConflicts lists the namespace's budgets, as OpenKruise's webhook
// does, and fails with 422 Invalid when pub overlaps one of them. Like the
// webhook's, the check races with a concurrent create of an overlapping
// budget: both can pass.
func (r *REST) checkConflicts(ctx context.Context, pub *policy.PodUnavailableBudget) error {
	listCtx := genericapirequest.WithNamespace(ctx, pub.Namespace)
	list, err := r.Store.Store.List(listCtx, &metainternalversion.ListOptions{})
	if err != nil {
		return err
	}
	errs := validation.ValidatePodUnavailableBudgetConflicts(pub, list.(*policy.PodUnavailableBudgetList).Items)
	if len(errs) > 0 {
		return apierrors.NewInvalid(policy.Kind("PodUnavailableBudget"), pub.Name, errs)
	}
	return nil
}
