// Package statefulset is the storage of apps.kruise.io StatefulSets
// (Advanced StatefulSets): strategies for the main resource and its status,
// the /scale subresource and the columns of `kubectl get statefulsets`.
package statefulset

import (
	"context"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage/names"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/validation"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/registry/fieldpaths"
)

// statefulSetStrategy implements create and update of the main resource.
// v1alpha1 lays out every field it has as the hub does, so errors need no
// path rewriting per version.
type statefulSetStrategy struct {
	runtime.ObjectTyper
	names.NameGenerator
	rest.DeclarativeValidation
}

// NewStrategy returns the strategy of the main resource.
func NewStrategy(typer *runtime.Scheme) statefulSetStrategy {
	return statefulSetStrategy{typer, names.SimpleNameGenerator, rest.DeclarativeValidation{Scheme: typer}}
}

func (statefulSetStrategy) NamespaceScoped() bool { return true }

// GetResetFields says which fields the main resource ignores, so that
// server-side apply does not record them as owned.
func (statefulSetStrategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return fieldpaths.ResetFields(apps.GroupName, fieldpath.MakePathOrDie("status"))
}

// PrepareForCreate clears the status: it is the controller's to write.
func (statefulSetStrategy) PrepareForCreate(ctx context.Context, obj runtime.Object) {
	sts := obj.(*apps.StatefulSet)
	sts.Status = apps.StatefulSetStatus{}
	sts.Generation = 1
}

// PrepareForUpdate keeps the stored status and bumps the generation when
// the spec changed.
func (statefulSetStrategy) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	sts := obj.(*apps.StatefulSet)
	oldSts := old.(*apps.StatefulSet)
	sts.Status = oldSts.Status
	if !apiequality.Semantic.DeepEqual(sts.Spec, oldSts.Spec) {
		sts.Generation = oldSts.Generation + 1
	}
}

func (statefulSetStrategy) Validate(ctx context.Context, obj runtime.Object) field.ErrorList {
	return validation.ValidateStatefulSet(obj.(*apps.StatefulSet))
}

func (statefulSetStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	return validation.ValidateStatefulSetUpdate(obj.(*apps.StatefulSet), old.(*apps.StatefulSet))
}

func (statefulSetStrategy) WarningsOnCreate(ctx context.Context, obj runtime.Object) []string {
	return nil
}

func (statefulSetStrategy) WarningsOnUpdate(ctx context.Context, obj, old runtime.Object) []string {
	return nil
}

func (statefulSetStrategy) Canonicalize(obj runtime.Object)               {}
func (statefulSetStrategy) AllowCreateOnUpdate(context.Context) bool      { return false }
func (statefulSetStrategy) AllowUnconditionalUpdate(context.Context) bool { return true }

// statefulSetStatusStrategy implements updates of /status.
type statefulSetStatusStrategy struct {
	statefulSetStrategy
}

// NewStatusStrategy returns the strategy of the status subresource.
func NewStatusStrategy(strategy statefulSetStrategy) statefulSetStatusStrategy {
	return statefulSetStatusStrategy{strategy}
}

func (statefulSetStatusStrategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return fieldpaths.ResetFields(apps.GroupName, fieldpath.MakePathOrDie("spec"), fieldpath.MakePathOrDie("metadata", "labels"))
}

// PrepareForUpdate keeps everything but the status as stored.
func (statefulSetStatusStrategy) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	sts := obj.(*apps.StatefulSet)
	oldSts := old.(*apps.StatefulSet)
	sts.Spec = oldSts.Spec
	sts.Labels = oldSts.Labels
}

func (statefulSetStatusStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	return validation.ValidateStatefulSetStatusUpdate(obj.(*apps.StatefulSet), old.(*apps.StatefulSet))
}

func (statefulSetStatusStrategy) WarningsOnUpdate(ctx context.Context, obj, old runtime.Object) []string {
	return nil
}
