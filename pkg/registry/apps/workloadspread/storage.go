package workloadspread

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/validation"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/registry/fieldpaths"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/registry/protection"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/registry/status"
)

// Storage holds the REST storage of workloadspreads and their status.
type Storage struct {
	WorkloadSpread *REST
	Status         *status.REST
}

// REST is the main resource: a store whose deletes honour the protection
// label and whose writes are checked against the other WorkloadSpreads of
// the namespace and, for CloneSets, against the target's Pod template.
type REST struct {
	*protection.Store
	cloneSets rest.Getter
}

// ShortNames implements rest.ShortNamesProvider: `kubectl get ws`.
func (*REST) ShortNames() []string { return []string{"ws"} }

// Categories implements rest.CategoriesProvider: `kubectl get kruise`.
func (*REST) Categories() []string { return []string{"kruise"} }

// NewStorage returns the storage of workloadspreads, on the given scheme
// and etcd options. cloneSets, if not nil, reads the CloneSets of this
// server, whose Pod templates the subsets' patches are checked against.
func NewStorage(scheme *runtime.Scheme, optsGetter generic.RESTOptionsGetter, cloneSets rest.Getter) (Storage, error) {
	strategy := NewStrategy(scheme)
	store := &genericregistry.Store{
		NewFunc:                   func() runtime.Object { return &apps.WorkloadSpread{} },
		NewListFunc:               func() runtime.Object { return &apps.WorkloadSpreadList{} },
		DefaultQualifiedResource:  apps.Resource("workloadspreads"),
		SingularQualifiedResource: apps.Resource("workloadspread"),

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
		// A WorkloadSpread holds no replicas: only Always protects it.
		WorkloadSpread: &REST{Store: protection.Wrap(store, nil), cloneSets: cloneSets},
		Status:         status.NewREST(store, NewStatusStrategy(strategy)),
	}, nil
}

// Create runs the checks that need other objects after the object's own
// validation, inside the store's create.
func (r *REST) Create(ctx context.Context, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	return r.Store.Create(ctx, obj, func(ctx context.Context, obj runtime.Object) error {
		if err := r.validateAgainstOthers(ctx, obj.(*apps.WorkloadSpread)); err != nil {
			return err
		}
		if createValidation != nil {
			return createValidation(ctx, obj)
		}
		return nil
	}, options)
}

// Update runs the same checks as Create: OpenKruise's webhook does, and
// although the target cannot change, a WorkloadSpread created in the race
// described at validateAgainstOthers is caught on its next update.
func (r *REST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc, updateValidation rest.ValidateObjectUpdateFunc, forceAllowCreate bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	return r.Store.Update(ctx, name, objInfo, createValidation, func(ctx context.Context, obj, old runtime.Object) error {
		if err := r.validateAgainstOthers(ctx, obj.(*apps.WorkloadSpread)); err != nil {
			return err
		}
		if updateValidation != nil {
			return updateValidation(ctx, obj, old)
		}
		return nil
	}, forceAllowCreate, options)
}

// validateAgainstOthers rejects a WorkloadSpread whose workload another
// WorkloadSpread of the namespace already targets, and one whose subset
// patches would break the Pods of a CloneSet it targets. Like OpenKruise's
// webhook, it reads the other WorkloadSpreads before the write, so two
// creates racing for the same workload can both succeed; the controller
// then serves one of them.
func (r *REST) validateAgainstOthers(ctx context.Context, ws *apps.WorkloadSpread) error {
	list, err := r.Store.List(ctx, &metainternalversion.ListOptions{})
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	allErrs := validation.ValidateWorkloadSpreadConflict(ws, list.(*apps.WorkloadSpreadList).Items)
	if cs := r.targetCloneSet(ctx, ws.Spec.TargetReference); cs != nil {
		allErrs = append(allErrs, validation.ValidateWorkloadSpreadPatches(ws, &cs.Spec.Template, cs.Spec.VolumeClaimTemplates)...)
	}
	if len(allErrs) == 0 {
		return nil
	}
	return apierrors.NewInvalid(apps.Kind("WorkloadSpread"), ws.Name,
		fieldpaths.ForRequestVersion(ctx, pathsByVersion(ws), allErrs))
}

// targetCloneSet returns the CloneSet ref names, if this server has it.
// A WorkloadSpread may be created before its workload; then, as upstream,
// its patches are not checked against a template.
func (r *REST) targetCloneSet(ctx context.Context, ref *apps.TargetReference) *apps.CloneSet {
	if r.cloneSets == nil || ref == nil || ref.Kind != "CloneSet" {
		return nil
	}
	if gv, err := schema.ParseGroupVersion(ref.APIVersion); err != nil || gv.Group != apps.GroupName {
		return nil
	}
	obj, err := r.cloneSets.Get(ctx, ref.Name, &metav1.GetOptions{})
	if err != nil {
		return nil
	}
	cs, _ := obj.(*apps.CloneSet)
	return cs
}
