// Package nodeimage is the storage of apps.kruise.io NodeImages (cluster
// scoped, one per node): strategies for the main resource and its status,
// and the columns of `kubectl get nodeimages`.
package nodeimage

import (
	"context"
	"sort"

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

// nodeImageStrategy implements create and update of the main resource.
type nodeImageStrategy struct {
	runtime.ObjectTyper
	names.NameGenerator
	rest.DeclarativeValidation
}

// NewStrategy returns the strategy of the main resource.
func NewStrategy(typer *runtime.Scheme) nodeImageStrategy {
	return nodeImageStrategy{typer, names.SimpleNameGenerator, rest.DeclarativeValidation{Scheme: typer}}
}

func (nodeImageStrategy) NamespaceScoped() bool { return false }

// GetResetFields says which fields the main resource ignores, so that
// server-side apply does not record them as owned.
func (nodeImageStrategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return fieldpaths.ResetFields(apps.GroupName, fieldpath.MakePathOrDie("status"))
}

// PrepareForCreate clears the status: it is kruise-daemon's to write.
func (nodeImageStrategy) PrepareForCreate(ctx context.Context, obj runtime.Object) {
	ni := obj.(*apps.NodeImage)
	ni.Status = apps.NodeImageStatus{}
	ni.Generation = 1
}

// PrepareForUpdate keeps the stored status and bumps the generation when
// the spec changed; tags only put in another order are no change, since
// the stored spec has them sorted (see Canonicalize).
func (nodeImageStrategy) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	ni := obj.(*apps.NodeImage)
	oldNI := old.(*apps.NodeImage)
	ni.Status = oldNI.Status
	spec := ni.Spec.DeepCopy()
	sortTags(spec)
	if !apiequality.Semantic.DeepEqual(*spec, oldNI.Spec) {
		ni.Generation = oldNI.Generation + 1
	}
}

func (nodeImageStrategy) Validate(ctx context.Context, obj runtime.Object) field.ErrorList {
	return validation.ValidateNodeImage(obj.(*apps.NodeImage))
}

func (nodeImageStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	return validation.ValidateNodeImageUpdate(obj.(*apps.NodeImage), old.(*apps.NodeImage))
}

func (nodeImageStrategy) WarningsOnCreate(ctx context.Context, obj runtime.Object) []string {
	return nil
}

func (nodeImageStrategy) WarningsOnUpdate(ctx context.Context, obj, old runtime.Object) []string {
	return nil
}

// Canonicalize stores each image's tags sorted by tag, as OpenKruise's
// mutating webhook does, so that kruise-daemon and the job controllers see
// one order whoever wrote the spec. It runs after validation, so errors
// name the tags by the positions the client sent.
func (nodeImageStrategy) Canonicalize(obj runtime.Object) {
	sortTags(&obj.(*apps.NodeImage).Spec)
}

func (nodeImageStrategy) AllowCreateOnUpdate(context.Context) bool      { return false }
func (nodeImageStrategy) AllowUnconditionalUpdate(context.Context) bool { return true }

func sortTags(spec *apps.NodeImageSpec) {
	for _, image := range spec.Images {
		sort.SliceStable(image.Tags, func(i, j int) bool { return image.Tags[i].Tag < image.Tags[j].Tag })
	}
}

// nodeImageStatusStrategy implements updates of /status.
type nodeImageStatusStrategy struct {
	nodeImageStrategy
}

// NewStatusStrategy returns the strategy of the status subresource.
func NewStatusStrategy(strategy nodeImageStrategy) nodeImageStatusStrategy {
	return nodeImageStatusStrategy{strategy}
}

func (nodeImageStatusStrategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return fieldpaths.ResetFields(apps.GroupName, fieldpath.MakePathOrDie("spec"), fieldpath.MakePathOrDie("metadata", "labels"))
}

// PrepareForUpdate keeps everything but the status as stored.
func (nodeImageStatusStrategy) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	ni := obj.(*apps.NodeImage)
	oldNI := old.(*apps.NodeImage)
	ni.Spec = oldNI.Spec
	ni.Labels = oldNI.Labels
}

func (nodeImageStatusStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	return validation.ValidateNodeImageStatusUpdate(obj.(*apps.NodeImage), old.(*apps.NodeImage))
}

func (nodeImageStatusStrategy) WarningsOnUpdate(ctx context.Context, obj, old runtime.Object) []string {
	return nil
}
