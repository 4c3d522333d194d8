// Package imagelistpulljob is the storage of apps.kruise.io ImageListPullJobs:
// strategies for the main resource and its status, and the columns of
// `kubectl get imagelistpulljobs`.
package imagelistpulljob

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

// imageListPullJobStrategy implements create and update of the main resource.
type imageListPullJobStrategy struct {
	runtime.ObjectTyper
	names.NameGenerator
	rest.DeclarativeValidation
}

// NewStrategy returns the strategy of the main resource.
func NewStrategy(typer *runtime.Scheme) imageListPullJobStrategy {
	return imageListPullJobStrategy{typer, names.SimpleNameGenerator, rest.DeclarativeValidation{Scheme: typer}}
}

func (imageListPullJobStrategy) NamespaceScoped() bool { return true }

// GetResetFields says which fields the main resource ignores, so that
// server-side apply does not record them as owned.
func (imageListPullJobStrategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return fieldpaths.ResetFields(apps.GroupName, fieldpath.MakePathOrDie("status"))
}

// PrepareForCreate clears the status: it is the controller's to write.
func (imageListPullJobStrategy) PrepareForCreate(ctx context.Context, obj runtime.Object) {
	job := obj.(*apps.ImageListPullJob)
	job.Status = apps.ImageListPullJobStatus{}
	job.Generation = 1
}

// PrepareForUpdate keeps the stored status and bumps the generation when
// the spec changed.
func (imageListPullJobStrategy) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	job := obj.(*apps.ImageListPullJob)
	oldJob := old.(*apps.ImageListPullJob)
	job.Status = oldJob.Status
	if !apiequality.Semantic.DeepEqual(job.Spec, oldJob.Spec) {
		job.Generation = oldJob.Generation + 1
	}
}

func (imageListPullJobStrategy) Validate(ctx context.Context, obj runtime.Object) field.ErrorList {
	return validation.ValidateImageListPullJob(obj.(*apps.ImageListPullJob))
}

func (imageListPullJobStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	return validation.ValidateImageListPullJobUpdate(obj.(*apps.ImageListPullJob), old.(*apps.ImageListPullJob))
}

func (imageListPullJobStrategy) WarningsOnCreate(ctx context.Context, obj runtime.Object) []string {
	return nil
}

func (imageListPullJobStrategy) WarningsOnUpdate(ctx context.Context, obj, old runtime.Object) []string {
	return nil
}

func (imageListPullJobStrategy) Canonicalize(obj runtime.Object)               {}
func (imageListPullJobStrategy) AllowCreateOnUpdate(context.Context) bool      { return false }
func (imageListPullJobStrategy) AllowUnconditionalUpdate(context.Context) bool { return true }

// imageListPullJobStatusStrategy implements updates of /status.
type imageListPullJobStatusStrategy struct {
	imageListPullJobStrategy
}

// NewStatusStrategy returns the strategy of the status subresource.
func NewStatusStrategy(strategy imageListPullJobStrategy) imageListPullJobStatusStrategy {
	return imageListPullJobStatusStrategy{strategy}
}

func (imageListPullJobStatusStrategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return fieldpaths.ResetFields(apps.GroupName, fieldpath.MakePathOrDie("spec"), fieldpath.MakePathOrDie("metadata", "labels"))
}

// PrepareForUpdate keeps everything but the status as stored.
func (imageListPullJobStatusStrategy) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	job := obj.(*apps.ImageListPullJob)
	oldJob := old.(*apps.ImageListPullJob)
	job.Spec = oldJob.Spec
	job.Labels = oldJob.Labels
}

func (imageListPullJobStatusStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	return validation.ValidateImageListPullJobStatusUpdate(obj.(*apps.ImageListPullJob), old.(*apps.ImageListPullJob))
}

func (imageListPullJobStatusStrategy) WarningsOnUpdate(ctx context.Context, obj, old runtime.Object) []string {
	return nil
}
