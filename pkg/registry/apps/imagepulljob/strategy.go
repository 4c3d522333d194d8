// Package imagepulljob is the storage of apps.kruise.io ImagePullJobs:
// strategies for the main resource and its status, and the columns of
// `kubectl get imagepulljobs`.
package imagepulljob

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

// imagePullJobStrategy implements create and update of the main resource.
type imagePullJobStrategy struct {
	runtime.ObjectTyper
	names.NameGenerator
	rest.DeclarativeValidation
}

// NewStrategy returns the strategy of the main resource.
func NewStrategy(typer *runtime.Scheme) imagePullJobStrategy {
	return imagePullJobStrategy{typer, names.SimpleNameGenerator, rest.DeclarativeValidation{Scheme: typer}}
}

func (imagePullJobStrategy) NamespaceScoped() bool { return true }

// GetResetFields says which fields the main resource ignores, so that
// server-side apply does not record them as owned.
func (imagePullJobStrategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return fieldpaths.ResetFields(apps.GroupName, fieldpath.MakePathOrDie("status"))
}

// PrepareForCreate clears the status: it is the controller's to write.
func (imagePullJobStrategy) PrepareForCreate(ctx context.Context, obj runtime.Object) {
	job := obj.(*apps.ImagePullJob)
	job.Status = apps.ImagePullJobStatus{}
	job.Generation = 1
}

// PrepareForUpdate keeps the stored status and bumps the generation when
// the spec changed.
func (imagePullJobStrategy) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	job := obj.(*apps.ImagePullJob)
	oldJob := old.(*apps.ImagePullJob)
	job.Status = oldJob.Status
	if !apiequality.Semantic.DeepEqual(job.Spec, oldJob.Spec) {
		job.Generation = oldJob.Generation + 1
	}
}

func (imagePullJobStrategy) Validate(ctx context.Context, obj runtime.Object) field.ErrorList {
	return validation.ValidateImagePullJob(obj.(*apps.ImagePullJob))
}

func (imagePullJobStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	return validation.ValidateImagePullJobUpdate(obj.(*apps.ImagePullJob), old.(*apps.ImagePullJob))
}

func (imagePullJobStrategy) WarningsOnCreate(ctx context.Context, obj runtime.Object) []string {
	return nil
}

func (imagePullJobStrategy) WarningsOnUpdate(ctx context.Context, obj, old runtime.Object) []string {
	return nil
}

func (imagePullJobStrategy) Canonicalize(obj runtime.Object)               {}
func (imagePullJobStrategy) AllowCreateOnUpdate(context.Context) bool      { return false }
func (imagePullJobStrategy) AllowUnconditionalUpdate(context.Context) bool { return true }

// imagePullJobStatusStrategy implements updates of /status.
type imagePullJobStatusStrategy struct {
	imagePullJobStrategy
}

// NewStatusStrategy returns the strategy of the status subresource.
func NewStatusStrategy(strategy imagePullJobStrategy) imagePullJobStatusStrategy {
	return imagePullJobStatusStrategy{strategy}
}

func (imagePullJobStatusStrategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return fieldpaths.ResetFields(apps.GroupName, fieldpath.MakePathOrDie("spec"), fieldpath.MakePathOrDie("metadata", "labels"))
}

// PrepareForUpdate keeps everything but the status as stored.
func (imagePullJobStatusStrategy) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	job := obj.(*apps.ImagePullJob)
	oldJob := old.(*apps.ImagePullJob)
	job.Spec = oldJob.Spec
	job.Labels = oldJob.Labels
}

func (imagePullJobStatusStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	return validation.ValidateImagePullJobStatusUpdate(obj.(*apps.ImagePullJob), old.(*apps.ImagePullJob))
}

func (imagePullJobStatusStrategy) WarningsOnUpdate(ctx context.Context, obj, old runtime.Object) []string {
	return nil
}
